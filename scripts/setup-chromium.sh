#!/usr/bin/env bash
# Debian's Chromium for the browser tests (test/browser/*.test.ts drive it with puppeteer-core).
# Idempotent: does nothing when a chromium binary is already on the machine.
set -euo pipefail
for bin in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$bin" ]; then
    echo "setup-chromium: $("$bin" --version 2>/dev/null || echo "$bin") already installed"
    exit 0
  fi
done
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
echo "setup-chromium: installed $(/usr/bin/chromium --version)"
