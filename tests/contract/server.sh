# Sourced by the contract scripts: builds todo-jwt, starts it on a port it picks itself with a
# fresh data directory, and sets BASE (http://127.0.0.1:PORT) and SERVER (its pid). Stopped on
# exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TARGET=${CARGO_TARGET_DIR:-target}
cargo build -q -p todo-jwt
DATA=$(mktemp -d)
LOG="$DATA/server.log"
RUST_LOG=info NO_COLOR=1 DATA_DIR="$DATA" HOST=127.0.0.1 PORT=0 "$TARGET/debug/todo-jwt" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 600); do
    BASE=$(sed -n 's/.*listening on \(http:\/\/127\.0\.0\.1:[0-9]*\).*/\1/p' "$LOG" | head -1)
    [ -n "$BASE" ] && break
    kill -0 $SERVER 2>/dev/null || { cat "$LOG" >&2; echo "todo-jwt did not start" >&2; exit 1; }
    sleep 0.1
done
[ -n "$BASE" ] || { echo "todo-jwt did not report its address" >&2; exit 1; }
export BASE
