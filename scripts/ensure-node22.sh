#!/usr/bin/env bash
# Prints a directory holding a Node >= 22 `node` binary: the machine's own when new enough,
# otherwise Node 22 from the npm registry (the `node` package), installed once into a cache.
# Usage: export PATH="$(bash scripts/ensure-node22.sh):$PATH"
set -euo pipefail

required=22
if command -v node >/dev/null 2>&1; then
  # 22.18 runs TypeScript natively (type stripping on by default).
  if node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 22 || (a === 22 && b >= 18) ? 0 : 1)'; then
    dirname "$(command -v node)"
    exit 0
  fi
fi

prefix="${NODE22_PREFIX:-$HOME/.cache/lightrag-serverless/node22}"
bin="$prefix/node_modules/node/bin"
if [ ! -x "$bin/node" ] || [ "$("$bin/node" -p 'process.versions.node.split(".")[0]')" -lt "$required" ]; then
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-save --no-audit --no-fund --loglevel=error "node@$required" >&2
fi
"$bin/node" --version >&2
echo "$bin"
