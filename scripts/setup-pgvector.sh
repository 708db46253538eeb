#!/usr/bin/env bash
# Builds and installs pgvector into the local PostgreSQL when it is missing.
# Debian bookworm has no pgvector binary package; trixie's *source* package builds
# against bookworm's postgresql-server-dev. Idempotent: exits at once when installed.
set -euo pipefail

PG_MAJOR="${PG_MAJOR:-$(ls /etc/postgresql 2>/dev/null | sort -n | tail -n 1)}"
if [ -z "$PG_MAJOR" ]; then
  echo "setup-pgvector: no PostgreSQL found under /etc/postgresql; install PostgreSQL first." >&2
  exit 1
fi
SHAREDIR="$(/usr/lib/postgresql/"$PG_MAJOR"/bin/pg_config --sharedir 2>/dev/null || echo /usr/share/postgresql/"$PG_MAJOR")"

if [ -f "$SHAREDIR/extension/vector.control" ]; then
  echo "setup-pgvector: pgvector already installed for PostgreSQL $PG_MAJOR"
  exit 0
fi

export DEBIAN_FRONTEND=noninteractive
SRC_LIST=/etc/apt/sources.list.d/pgvector-trixie-src.sources
if [ ! -f "$SRC_LIST" ]; then
  cat > "$SRC_LIST" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-$PG_MAJOR" make gcc >/dev/null

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source --download-only -qq pgvector
tar xf pgvector_*.orig.tar.*
cd "$(find . -maxdepth 1 -type d -name 'pgvector-*' | head -n 1)"
make -s PG_CONFIG=/usr/lib/postgresql/"$PG_MAJOR"/bin/pg_config OPTFLAGS="" >/dev/null
make -s PG_CONFIG=/usr/lib/postgresql/"$PG_MAJOR"/bin/pg_config install >/dev/null
echo "setup-pgvector: installed pgvector $(grep default_version "$SHAREDIR/extension/vector.control" | cut -d"'" -f2) for PostgreSQL $PG_MAJOR"
