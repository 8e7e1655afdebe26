#!/usr/bin/env bash
# The explorer (Swagger UI at /explorer) in a real browser: Debian's chromium driven by
# playwright-core (pinned in tests/contract/explorer/package-lock.json, installed with npm ci
# when missing). The screenshot is kept in target/contract/explorer.png.
set -euo pipefail
source "$(dirname "$0")/server.sh"
command -v chromium >/dev/null || { echo "chromium is missing: apt-get install chromium" >&2; exit 1; }
EXPLORER=tests/contract/explorer
[ -d "$EXPLORER/node_modules/playwright-core" ] || (cd "$EXPLORER" && npm ci --no-audit --no-fund --silent)
mkdir -p "$TARGET/contract"
BASE=$BASE SCREENSHOT="$(pwd)/$TARGET/contract/explorer.png" node "$EXPLORER/explorer.mjs"
