#!/usr/bin/env bash
# Every benchmark behind the README's tables, in one run: results in bench/results/.
#   bash bench/all.sh        # then copy nothing: the README embeds bench/results/*.md, checked by a test
set -euo pipefail
cd "$(dirname "$0")/.."
bash bench/dispatch.sh
bash bench/jwt.sh
bash bench/callgrind-whoami.sh
ROUNDS=${ROUNDS:-10} bash bench/load.sh
ROUNDS=${ROUNDS:-10} bash bench/load.sh postgres
