#!/usr/bin/env bash
# Instruction counts of the "jwt" strategy's full path (verified-token cache off, then on) against a bare jsonwebtoken::decode of the
# same HS256 token (20 000 runs each, set-up included in both). callgrind counts instructions,
# so the ratio does not move with the machine's load. Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET=${CARGO_TARGET_DIR:-target}
mkdir -p bench/results
exec > >(tee bench/results/callgrind-jwt.txt)
cargo build --release -p authn-tests --example jwt_path
declare -A counts
for mode in bare strategy cached; do
    out=$(mktemp)
    valgrind --tool=callgrind --callgrind-out-file="$out" "$TARGET/release/examples/jwt_path" "$mode" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p' > "$out.count"
    counts[$mode]=$(cat "$out.count")
    rm -f "$out" "$out.count"
done
echo "instructions: bare ${counts[bare]}, strategy ${counts[strategy]}, strategy with the cache ${counts[cached]}"
python3 -c "print(f'strategy / bare = {${counts[strategy]} / ${counts[bare]}:.3f}'); print(f'cached strategy / bare = {${counts[cached]} / ${counts[bare]}:.3f}')"
