#!/usr/bin/env bash
# Load benchmark of the todo-jwt server: GET /whoAmI and GET /todos with a valid token, GET
# /whoAmI with a forged token and GET /ping, against a hand-written actix-web + jsonwebtoken
# /whoAmI served by the same binary (--bench-baseline), in alternating rounds of the same run.
# Prints requests/s, p50 and p99 per path (medians over the rounds), the throughput ratio to
# the hand-written handler (median of per-round ratios, with quartiles), and the server's CPU
# time per request read from /proc (the steadier figure on a noisy machine: it is what a request
# costs, whatever else the machine does meanwhile).
#
#   bash bench/load.sh                 # ROUNDS=6 DURATION=5 CONNECTIONS=32 by default
#
# Needs wrk (installed from Debian's packages when missing) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-3999}
TARGET=${CARGO_TARGET_DIR:-target}
RESULTS=bench/results

if ! command -v wrk >/dev/null; then
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
cargo build --release -p todo-jwt

DATA=$(mktemp -d)
OUT=$(mktemp -d)
# One server worker and one wrk thread: the machine has two cores. (Pinning them to one core
# each was tried: it starves the server's SQLite threads and moved the figures more, not less.)
RUST_LOG=warn DATA_DIR="$DATA" PORT="$PORT" WORKERS=1 "$TARGET/release/todo-jwt" --bench-baseline &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA" "$OUT"' EXIT
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 100); do curl -sf "$BASE/ping" >/dev/null && break; sleep 0.1; done

BODY='{"email":"load@bench.io","password":"load-bench-pass"}'
curl -sf -X POST "$BASE/signup" -H 'content-type: application/json' -d "$BODY" >/dev/null
TOKEN=$(curl -sf -X POST "$BASE/users/login" -H 'content-type: application/json' -d "$BODY" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
for i in $(seq 20); do
    curl -sf -X POST "$BASE/todos" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\"title\":\"todo $i\"}" >/dev/null
done
# The same token with its signature altered: a forgery that costs a full verification.
FORGED="${TOKEN%?????}AAAAA"

run() { # name path token
    local name=$1 path=$2 token=$3 round=$4
    local header=()
    [ -n "$token" ] && header=(-H "Authorization: Bearer $token")
    local before after
    before=$(cpu_ticks)
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${header[@]}" "$BASE$path" > "$OUT/$name.$round"
    after=$(cpu_ticks)
    echo $(( after - before )) > "$OUT/$name.$round.ticks"
}

# The server's CPU time (user + system, all its threads) in clock ticks: what a request costs
# the server, which the machine's noise moves far less than requests per second.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$SERVER/stat"
}

# Counterbalanced order (ABBA): odd rounds run the paths forwards, even rounds backwards, so no
# path always runs right after another (a warm-up or a neighbour's burst favours no one).
paths=("baseline /baseline/whoAmI $TOKEN" "whoami /whoAmI $TOKEN" "todos /todos $TOKEN" "forged /whoAmI $FORGED" "ping /ping")
for round in $(seq "$ROUNDS"); do
    order=("${paths[@]}")
    if (( round % 2 == 0 )); then
        order=()
        for (( i=${#paths[@]}-1; i>=0; i-- )); do order+=("${paths[$i]}"); done
    fi
    for entry in "${order[@]}"; do
        read -r name path token <<< "$entry"
        run "$name" "$path" "${token:-}" "$round"
    done
done

# The raw wrk outputs and tick counts stay beside the script; the table goes to load.md.
mkdir -p "$RESULTS/load"
rm -f "$RESULTS/load/"*
cp "$OUT"/* "$RESULTS/load/"
python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" "$RESULTS/load.md" <<'PY'
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
def quartiles(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return q[0], statistics.median(values), q[2]
names = ["baseline", "whoami", "todos", "forged", "ping"]
rps, rows = {}, {}
for name in names:
    rps[name], p50, p99, codes = [], [], [], set()
    for r in range(1, rounds + 1):
        text = open(f"{out}/{name}.{r}").read()
        rps[name].append(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))
        # The distribution lines start with the percentile ("Req/Sec ... 75.50%" must not match).
        p50.append(ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)))
        p99.append(ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)))
        codes.add("non-2xx" if "Non-2xx" in text else "2xx")
    rows[name] = (statistics.median(rps[name]), statistics.median(p50), statistics.median(p99), "/".join(sorted(codes)))
# Ratios per round (each against the baseline of the same round), then their median: a slow
# minute of the machine moves both sides of a round's ratio.
def ratio(name, against="baseline"):
    return quartiles([a / b for a, b in zip(rps[name], rps[against])])
labels = {
    "baseline": "GET /whoAmI, hand-written actix-web + jsonwebtoken",
    "whoami": "GET /whoAmI, authn (valid token)",
    "todos": "GET /todos, authn + SQLite (valid token)",
    "forged": "GET /whoAmI, authn (forged token, 401)",
    "ping": "GET /ping (public)",
}
# Server CPU per request, from /proc ticks and wrk's request count.
hz = int(sys.argv[3])
cpu = {}
for name in names:
    cpu[name] = []
    for r in range(1, rounds + 1):
        text = open(f"{out}/{name}.{r}").read()
        requests = int(re.search(r"(\d+) requests in", text).group(1))
        ticks = int(open(f"{out}/{name}.{r}.ticks").read())
        cpu[name].append(ticks / hz * 1e6 / max(requests, 1))
def cpu_ratio(name):
    return quartiles([a / b for a, b in zip(cpu[name], cpu["baseline"])])
lines = [
    "| path | requests/s | p50 ms | p99 ms | answers | throughput vs hand-written | server CPU µs/request | CPU vs hand-written |",
    "|---|---|---|---|---|---|---|---|",
]
for name, (r, a, b, codes) in rows.items():
    low, mid, high = ratio(name)
    clow, cmid, chigh = cpu_ratio(name)
    lines.append(
        f"| {labels[name]} | {r:,.0f} | {a:.2f} | {b:.2f} | {codes} | {mid:.2f} ({low:.2f}–{high:.2f}) "
        f"| {statistics.median(cpu[name]):.1f} | {cmid:.2f} ({clow:.2f}–{chigh:.2f}) |"
    )
low, mid, high = ratio("forged", "whoami")
lines.append("")
lines.append(f"Forged / valid token, per round: {mid:.2f} ({low:.2f}–{high:.2f}); {rounds} rounds.")
table = "\n".join(lines) + "\n"
open(sys.argv[4], "w").write(table)
print(table)
PY
