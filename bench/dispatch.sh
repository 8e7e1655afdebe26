#!/usr/bin/env bash
# authn's per-request dispatch against a bare handler (criterion, then alternating rounds in
# process and over loopback TCP). Raw output: bench/results/dispatch.txt; table:
# bench/results/dispatch.md (embedded in the README).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
cargo bench -p authn-tests --bench dispatch 2>&1 | grep -vE "^ *(Compiling|Finished|Running) " | tee bench/results/dispatch.txt
python3 bench/tables.py dispatch
