#!/usr/bin/env bash
# Load benchmark of the todo-jwt server against what a user would write instead: a minimal
# actix-web + jsonwebtoken server in its own process (examples/todo-jwt/examples/minimal_whoami.rs),
# and the hand-written handler inside todo-jwt (--bench-baseline, behind the same middleware).
# todo-jwt runs twice: with its verified-token cache (the default) and without (TOKEN_CACHE_BYTES=0).
# Paths run in alternating rounds of the same run. Prints requests/s, p50 and p99 per path
# (medians over the rounds), ratios to the minimal server (median of per-round ratios, with
# quartiles), each server's CPU time per request read from /proc (the steadier figure on a noisy
# machine), authentication's own cost (a server's /whoAmI minus its /ping), and peak RSS.
#
#   bash bench/load.sh                 # ROUNDS=6 DURATION=5 CONNECTIONS=32 by default
#   bash bench/load.sh postgres        # todo-jwt on PostgreSQL beside SQLite: bench/load-postgres.sh
#
# Needs wrk (installed from Debian's packages when missing) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = postgres ]; then
    exec bash bench/load-postgres.sh
fi

ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-3999}
TARGET=${CARGO_TARGET_DIR:-target}
RESULTS=bench/results

if ! command -v wrk >/dev/null; then
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
cargo build --release -p todo-jwt --bin todo-jwt --example minimal_whoami --example minimal_authn

DATA=$(mktemp -d)
DATA_UNCACHED=$(mktemp -d)
OUT=$(mktemp -d)
export JWT_SECRET=load-bench-secret-load-bench-secret-0123456789
# One worker per server and one wrk thread: the machine has two cores. Only one server is under
# load at a time; the others idle. (Pinning them to one core each was tried: it starves the
# server's SQLite threads and moved the figures more, not less.)
# A: todo-jwt with its verified-token cache (the default) and the in-binary baseline route.
RUST_LOG=warn DATA_DIR="$DATA" PORT="$PORT" WORKERS=1 "$TARGET/release/todo-jwt" --bench-baseline &
SERVER=$!
# B: the same server verifying every token in full.
RUST_LOG=warn DATA_DIR="$DATA_UNCACHED" PORT=$((PORT + 2)) WORKERS=1 TOKEN_CACHE_BYTES=0 "$TARGET/release/todo-jwt" &
UNCACHED=$!
# M: what a user would write instead, in its own process (examples/todo-jwt/examples/minimal_whoami.rs).
PORT=$((PORT + 1)) WORKERS=1 "$TARGET/release/examples/minimal_whoami" &
MINIMAL=$!
# N: the same minimal server written with authn (examples/todo-jwt/examples/minimal_authn.rs),
# with its cache, and without (O).
PORT=$((PORT + 3)) WORKERS=1 "$TARGET/release/examples/minimal_authn" &
MINIMAL_AUTHN=$!
PORT=$((PORT + 4)) WORKERS=1 TOKEN_CACHE_BYTES=0 "$TARGET/release/examples/minimal_authn" &
MINIMAL_UNCACHED=$!
trap 'kill $SERVER $UNCACHED $MINIMAL $MINIMAL_AUTHN $MINIMAL_UNCACHED 2>/dev/null; wait 2>/dev/null; rm -rf "$DATA" "$DATA_UNCACHED" "$OUT"' EXIT
BASE="http://127.0.0.1:$PORT"
for port in "$PORT" $((PORT + 1)) $((PORT + 2)) $((PORT + 3)) $((PORT + 4)); do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.1; done
done

BODY='{"email":"load@bench.io","password":"load-bench-pass"}'
curl -sf -X POST "$BASE/signup" -H 'content-type: application/json' -d "$BODY" >/dev/null
TOKEN=$(curl -sf -X POST "$BASE/users/login" -H 'content-type: application/json' -d "$BODY" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
for i in $(seq 20); do
    curl -sf -X POST "$BASE/todos" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' -d "{\"title\":\"todo $i\"}" >/dev/null
done
# The same token with its signature altered: a forgery that costs a full verification.
FORGED="${TOKEN%?????}AAAAA"

run() { # name pid port path token round
    local name=$1 pid=$2 port=$3 path=$4 token=$5 round=$6
    local header=()
    [ -n "$token" ] && header=(-H "Authorization: Bearer $token")
    local before after
    before=$(cpu_ticks "$pid")
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${header[@]}" "http://127.0.0.1:$port$path" > "$OUT/$name.$round"
    after=$(cpu_ticks "$pid")
    echo $(( after - before )) > "$OUT/$name.$round.ticks"
    # Resident memory right after the load (what the process holds serving it).
    awk '/VmRSS/ {print $2}' "/proc/$pid/status" > "$OUT/$name.$round.rss"
}

# A server's CPU time (user + system, all its threads) in clock ticks: what a request costs
# the server, which the machine's noise moves far less than requests per second.
cpu_ticks() {
    awk '{print $14 + $15}' "/proc/$1/stat"
}

# Counterbalanced order (ABBA): odd rounds run the paths forwards, even rounds backwards, so no
# path always runs right after another (a warm-up or a neighbour's burst favours no one).
paths=(
    "minimal $MINIMAL $((PORT + 1)) /whoAmI $TOKEN"
    "minimal-ping $MINIMAL $((PORT + 1)) /ping"
    "minimal-authn $MINIMAL_AUTHN $((PORT + 3)) /whoAmI $TOKEN"
    "minimal-authn-uncached $MINIMAL_UNCACHED $((PORT + 4)) /whoAmI $TOKEN"
    "minimal-authn-ping $MINIMAL_AUTHN $((PORT + 3)) /ping"
    "baseline $SERVER $PORT /baseline/whoAmI $TOKEN"
    "whoami $SERVER $PORT /whoAmI $TOKEN"
    "uncached $UNCACHED $((PORT + 2)) /whoAmI $TOKEN"
    "todos $SERVER $PORT /todos $TOKEN"
    "forged $SERVER $PORT /whoAmI $FORGED"
    "ping $SERVER $PORT /ping"
)
for round in $(seq "$ROUNDS"); do
    order=("${paths[@]}")
    if (( round % 2 == 0 )); then
        order=()
        for (( i=${#paths[@]}-1; i>=0; i-- )); do order+=("${paths[$i]}"); done
    fi
    for entry in "${order[@]}"; do
        read -r name pid port path token <<< "$entry"
        run "$name" "$pid" "$port" "$path" "${token:-}" "$round"
    done
done
# Login: 16 concurrent clients posting valid credentials, argon2id at OWASP's parameters
# (m=19 MiB, t=2, p=1) with the hashing bound (one per core) and its queue.
cat > "$OUT/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
for round in $(seq "$ROUNDS"); do
    # wrk stops by closing its connections, but the logins it left queued still hash: without a
    # pause they hold the queue's places and the next round's first requests are refused (503).
    sleep 2
    wrk -t1 -c16 -d"${DURATION}s" --latency -s "$OUT/login.lua" "$BASE/users/login" > "$OUT/login.$round"
done

# The raw wrk outputs and tick counts stay beside the script; the table goes to load.md.
mkdir -p "$RESULTS/load"
rm -f "$RESULTS/load/"*
cp "$OUT"/* "$RESULTS/load/"
python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" "$RESULTS/load.md" <<'PY'
import re, statistics, sys
out, rounds, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def ms(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]
def quartiles(values):
    q = statistics.quantiles(values, n=4) if len(values) > 1 else [values[0]] * 3
    return q[0], statistics.median(values), q[2]
def fmt(q):
    return f"{q[1]:.2f} ({q[0]:.2f}–{q[2]:.2f})"
labels = {
    "minimal": "GET /whoAmI, minimal hand-written server (own process)",
    "minimal-ping": "GET /ping, minimal hand-written server (own process)",
    "minimal-authn": "GET /whoAmI, the same minimal server on authn (cache on)",
    "minimal-authn-uncached": "GET /whoAmI, the same minimal server on authn (cache off)",
    "minimal-authn-ping": "GET /ping, the same minimal server on authn",
    "baseline": "GET /baseline/whoAmI, hand-written handler inside todo-jwt",
    "whoami": "GET /whoAmI, todo-jwt on authn (valid token, cache on)",
    "uncached": "GET /whoAmI, todo-jwt on authn (valid token, cache off)",
    "todos": "GET /todos, todo-jwt on authn + SQLite",
    "forged": "GET /whoAmI, todo-jwt on authn (forged token, 401)",
    "ping": "GET /ping, todo-jwt (public)",
}
rps, cpu, rows = {}, {}, {}
for name in labels:
    rps[name], cpu[name], p50, p99, codes = [], [], [], [], set()
    for r in range(1, rounds + 1):
        text = open(f"{out}/{name}.{r}").read()
        rps[name].append(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))
        # The distribution lines start with the percentile ("Req/Sec ... 75.50%" must not match).
        p50.append(ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)))
        p99.append(ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)))
        codes.add("non-2xx" if "Non-2xx" in text else "2xx")
        requests = int(re.search(r"(\d+) requests in", text).group(1))
        ticks = int(open(f"{out}/{name}.{r}.ticks").read())
        cpu[name].append(ticks / hz * 1e6 / max(requests, 1))
    rows[name] = (statistics.median(rps[name]), statistics.median(p50), statistics.median(p99), "/".join(sorted(codes)))
# Ratios per round (each against the same round's other side), then their median and quartiles:
# a slow minute of the machine moves both sides of a round's ratio.
def per_round(f):
    return quartiles([f(r) for r in range(rounds)])
lines = [
    "| path | requests/s | p50 ms | p99 ms | answers | throughput vs minimal server | server CPU µs/request | CPU vs minimal server |",
    "|---|---|---|---|---|---|---|---|",
]
for name, (r, a, b, codes) in rows.items():
    thr = per_round(lambda i: rps[name][i] / rps["minimal"][i])
    c = per_round(lambda i: cpu[name][i] / cpu["minimal"][i])
    lines.append(f"| {labels[name]} | {r:,.0f} | {a:.2f} | {b:.2f} | {codes} | {fmt(thr)} | {statistics.median(cpu[name]):.1f} | {fmt(c)} |")
lines.append("")
# Authentication's own cost: a server's /whoAmI minus its /ping, CPU per request.
hand = lambda i: cpu["minimal"][i] - cpu["minimal-ping"][i]
cost = {
    "hand-written, own process (minimal /whoAmI − /ping)": hand,
    "hand-written, inside todo-jwt (/baseline/whoAmI − /ping)": lambda i: cpu["baseline"][i] - cpu["ping"][i],
    "authn in the minimal server, cache on (/whoAmI − /ping)": lambda i: cpu["minimal-authn"][i] - cpu["minimal-authn-ping"][i],
    "authn in the minimal server, cache off (/whoAmI − /ping)": lambda i: cpu["minimal-authn-uncached"][i] - cpu["minimal-authn-ping"][i],
    "authn in todo-jwt, cache on (/whoAmI − /ping)": lambda i: cpu["whoami"][i] - cpu["ping"][i],
    "authn in todo-jwt, cache off (/whoAmI − /ping)": lambda i: cpu["uncached"][i] - cpu["ping"][i],
}
lines.append("| authentication's cost | CPU µs/request | vs hand-written (own process) |")
lines.append("|---|---|---|")
for label, f in cost.items():
    q = per_round(f)
    ratio = per_round(lambda i: f(i) / hand(i))
    lines.append(f"| {label} | {q[1]:.2f} ({q[0]:.2f}–{q[2]:.2f}) | {fmt(ratio)} |")
lines.append("")
def rss(name):  # MiB, the largest over the rounds, right after each load
    return max(int(open(f"{out}/{name}.{r}.rss").read()) for r in range(1, rounds + 1)) / 1024
lines.append(
    f"RSS under load: minimal hand-written server {rss('minimal'):.1f} MiB; the same on authn {rss('minimal-authn'):.1f} MiB "
    f"({rss('minimal-authn') / rss('minimal'):.2f}×), cache off {rss('minimal-authn-uncached'):.1f} MiB; "
    f"todo-jwt {rss('whoami'):.1f} MiB (SQLite, Swagger UI and all; {rss('whoami') / rss('minimal'):.2f}×)."
)
lines.append(
    f"Forged (401) / valid token, CPU per request, per round: vs cache off {fmt(per_round(lambda i: cpu['forged'][i] / cpu['uncached'][i]))}, "
    f"vs cache on {fmt(per_round(lambda i: cpu['forged'][i] / cpu['whoami'][i]))}; {rounds} rounds."
)
login_rps, login_p50, login_p99, login_bad = [], [], [], 0
for r in range(1, rounds + 1):
    text = open(f"{out}/login.{r}").read()
    login_rps.append(float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)))
    login_p50.append(ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)))
    login_p99.append(ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    login_bad += int(bad.group(1)) if bad else 0
lines.append(
    f"Login (POST /users/login, 16 concurrent clients, argon2id m=19 MiB t=2 p=1, one hash per core): "
    f"{statistics.median(login_rps):.0f} logins/s, p50 {statistics.median(login_p50):.0f} ms, "
    f"p99 {statistics.median(login_p99):.0f} ms, {login_bad} non-2xx."
)
table = "\n".join(lines) + "\n"
open(sys.argv[4], "w").write(table)
print(table)
PY
