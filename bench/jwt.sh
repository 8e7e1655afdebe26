#!/usr/bin/env bash
# The "jwt" strategy's full path against a bare jsonwebtoken::decode (time, alternating rounds),
# and the HS256 instruction count (bench/callgrind-jwt.sh). Raw outputs: bench/results/jwt.txt,
# bench/results/callgrind-jwt.txt; table: bench/results/jwt.md (embedded in the README).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p bench/results
cargo bench -p authn-tests --bench jwt 2>&1 | grep -vE "^ *(Compiling|Finished|Running) " | tee bench/results/jwt.txt
bash bench/callgrind-jwt.sh
python3 bench/tables.py jwt
