#!/usr/bin/env bash
# Instructions per GET /whoAmI through authn (verified-token cache on and off), through the
# hand-written actix-web + jsonwebtoken handler of the load benchmark, and per GET /ping, in process (the todo-jwt app, in-memory stores,
# actix's test harness): the difference between N requests and none, so set-up cancels out.
# callgrind counts instructions, so the ratio does not move with the machine's load.
# Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-5000}
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p bench/results
exec > >(tee bench/results/callgrind-whoami.txt)
cargo build --release -p todo-jwt --example whoami_path
count() { # mode requests
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$TARGET/release/examples/whoami_path" "$1" "$2" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
declare -A per_request
for mode in ping baseline authn authn-uncached forged; do
    empty=$(count "$mode" 0)
    full=$(count "$mode" "$N")
    per_request[$mode]=$(( (full - empty) / N ))
    echo "$mode: ${per_request[$mode]} instructions per request"
done
python3 - "${per_request[ping]}" "${per_request[baseline]}" "${per_request[authn]}" "${per_request[authn-uncached]}" "${per_request[forged]}" <<'PY'
import sys
ping, baseline, cached, uncached, forged = map(int, sys.argv[1:])
print(f"authn / hand-written = {cached / baseline:.3f}")
print(f"authn without cache / hand-written = {uncached / baseline:.3f}")
hand = baseline - ping
print(f"authentication's own instructions (path minus /ping): hand-written {hand}, authn {cached - ping} "
      f"({(cached - ping) / hand:.2f}x), authn without cache {uncached - ping} ({(uncached - ping) / hand:.2f}x)")
# Under valgrind, sha2 finds no SHA extensions and hashes in software: the forged path's HMAC
# counts several times what it costs on a CPU that has them (load.sh measures that).
print(f"forged token (401) / valid token without cache = {forged / uncached:.3f}; / with cache = {forged / cached:.3f}")
PY
