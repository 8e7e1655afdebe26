#!/usr/bin/env bash
# bench/load.sh's PostgreSQL mode (`bash bench/load.sh postgres`): todo-jwt on a throwaway
# PostgreSQL server (started here: initdb into a temporary directory, pg_ctl on a free
# 127.0.0.1 port, as `nobody` when run as root) against todo-jwt on SQLite, in alternating
# rounds of the same run. Reports /whoAmI, /todos and /ping (requests/s, p50, p99, server CPU per
# request, PostgreSQL over SQLite per round with quartiles), login throughput beside SQLite's,
# and the revocation propagation latency under load: while /whoAmI is loaded on instance P, a
# token is logged out on a second instance Q and P is asked until it refuses it.
#
#   bash bench/load.sh postgres       # ROUNDS=6 DURATION=5 CONNECTIONS=32 PROPAGATION=100
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-6}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
PROPAGATION=${PROPAGATION:-100}
TARGET=${CARGO_TARGET_DIR:-target}
RESULTS=bench/results

if ! command -v wrk >/dev/null; then
    apt-get install -y wrk >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk >/dev/null; }
fi
pg_bin() {
    local dir
    for dir in "$(pg_config --bindir 2>/dev/null || true)" /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return; }
    done
}
if [ -z "$(pg_bin)" ]; then
    apt-get install -y postgresql-15 >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y postgresql-15 >/dev/null; }
fi
PG_BIN=$(pg_bin)
cargo build --release -p todo-jwt --bin todo-jwt

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
as_server_user() { if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi; }

PG_DIR=$(mktemp -d)
DATA=$(mktemp -d)
OUT=$(mktemp -d)
PIDS=()
cleanup() {
    kill "${PIDS[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    as_server_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR" "$DATA" "$OUT"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown nobody:nogroup "$PG_DIR"
as_server_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U authn --auth=trust -E UTF8 --no-instructions >/dev/null
PG_PORT=$(free_port)
as_server_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -w -l "$PG_DIR/log" \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U authn bench
DATABASE_URL="postgres://authn@127.0.0.1:$PG_PORT/bench"

export JWT_SECRET=load-bench-secret-load-bench-secret-0123456789
# One worker per server and one wrk thread (two cores). S: SQLite; P and Q: two instances on
# the same PostgreSQL database (Q only serves the logouts of the propagation measurement).
S_PORT=$(free_port)
RUST_LOG=warn DATA_DIR="$DATA" PORT="$S_PORT" WORKERS=1 "$TARGET/release/todo-jwt" &
S=$!
P_PORT=$(free_port)
RUST_LOG=warn DATA_DIR="$DATA" PORT="$P_PORT" WORKERS=1 DATABASE_URL="$DATABASE_URL" "$TARGET/release/todo-jwt" &
P=$!
Q_PORT=$(free_port)
RUST_LOG=warn DATA_DIR="$DATA" PORT="$Q_PORT" WORKERS=1 DATABASE_URL="$DATABASE_URL" "$TARGET/release/todo-jwt" &
Q=$!
PIDS=("$S" "$P" "$Q")
for port in "$S_PORT" "$P_PORT" "$Q_PORT"; do
    for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/ping" >/dev/null && break; sleep 0.1; done
done

BODY='{"email":"load@bench.io","password":"load-bench-pass"}'
declare -A TOKENS
for port in "$S_PORT" "$P_PORT"; do
    base="http://127.0.0.1:$port"
    curl -sf -X POST "$base/signup" -H 'content-type: application/json' -d "$BODY" >/dev/null
    TOKENS[$port]=$(curl -sf -X POST "$base/users/login" -H 'content-type: application/json' -d "$BODY" | python3 -c 'import sys, json; print(json.load(sys.stdin)["token"])')
    for i in $(seq 20); do
        curl -sf -X POST "$base/todos" -H "authorization: Bearer ${TOKENS[$port]}" -H 'content-type: application/json' -d "{\"title\":\"todo $i\"}" >/dev/null
    done
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() { # name pid port path token round
    local name=$1 pid=$2 port=$3 path=$4 token=$5 round=$6 before after
    before=$(cpu_ticks "$pid")
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path" > "$OUT/$name.$round"
    after=$(cpu_ticks "$pid")
    echo $(( after - before )) > "$OUT/$name.$round.ticks"
}
paths=(
    "whoami-sqlite $S $S_PORT /whoAmI ${TOKENS[$S_PORT]}"
    "whoami-postgres $P $P_PORT /whoAmI ${TOKENS[$P_PORT]}"
    "todos-sqlite $S $S_PORT /todos ${TOKENS[$S_PORT]}"
    "todos-postgres $P $P_PORT /todos ${TOKENS[$P_PORT]}"
    "ping-sqlite $S $S_PORT /ping -"
    "ping-postgres $P $P_PORT /ping -"
)
for round in $(seq "$ROUNDS"); do
    order=("${paths[@]}")
    if (( round % 2 == 0 )); then  # counterbalanced (ABBA), as bench/load.sh
        order=()
        for (( i=${#paths[@]}-1; i>=0; i-- )); do order+=("${paths[$i]}"); done
    fi
    for entry in "${order[@]}"; do
        read -r name pid port path token <<< "$entry"
        run "$name" "$pid" "$port" "$path" "$token" "$round"
    done
done

cat > "$OUT/login.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
LUA
for round in $(seq "$ROUNDS"); do
    for backend in sqlite postgres; do
        port=$S_PORT; [ "$backend" = postgres ] && port=$P_PORT
        sleep 2  # the previous round's queued logins finish hashing (see bench/load.sh)
        wrk -t1 -c16 -d"${DURATION}s" --latency -s "$OUT/login.lua" "http://127.0.0.1:$port/users/login" > "$OUT/login-$backend.$round"
    done
done

# Propagation under load: token pairs made first (logins hash), then, with /whoAmI loaded on P,
# each is logged out on Q and P is asked until it refuses the access token.
python3 - "$Q_PORT" "$PROPAGATION" "$OUT/pairs.json" <<'PY'
import http.client, json, sys
port, n, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
conn = http.client.HTTPConnection("127.0.0.1", port)
body = json.dumps({"email": "load@bench.io", "password": "load-bench-pass"})
pairs = []
for _ in range(n):
    conn.request("POST", "/users/refresh-login", body, {"content-type": "application/json"})
    pairs.append(json.loads(conn.getresponse().read()))
json.dump(pairs, open(path, "w"))
PY
wrk -t1 -c"$CONNECTIONS" -d$(( PROPAGATION / 10 + 20 ))s -H "Authorization: Bearer ${TOKENS[$P_PORT]}" "http://127.0.0.1:$P_PORT/whoAmI" > "$OUT/propagation-load" &
LOAD=$!
PIDS+=("$LOAD")
sleep 2
python3 - "$P_PORT" "$Q_PORT" "$OUT/pairs.json" "$OUT/propagation" <<'PY'
import http.client, json, sys, time
p_port, q_port, pairs, out = int(sys.argv[1]), int(sys.argv[2]), json.load(open(sys.argv[3])), sys.argv[4]
p, q = http.client.HTTPConnection("127.0.0.1", p_port), http.client.HTTPConnection("127.0.0.1", q_port)
def call(conn, method, path, token, body=None):
    headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
    conn.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = conn.getresponse()
    response.read()
    return response.status
samples = []
for pair in pairs:
    access = pair["accessToken"]
    assert call(p, "GET", "/whoAmI", access) == 200
    assert call(q, "POST", "/users/logout", access, {"refreshToken": pair["refreshToken"]}) == 204
    acknowledged = time.monotonic()
    while True:
        status = call(p, "GET", "/whoAmI", access)
        if status == 401:
            samples.append((time.monotonic() - acknowledged) * 1000)
            break
        assert status == 200, status
        assert time.monotonic() - acknowledged < 10, "never refused"
open(out, "w").write("\n".join(f"{s:.3f}" for s in samples) + "\n")
PY
wait "$LOAD" || true

mkdir -p "$RESULTS/load-postgres"
rm -f "$RESULTS/load-postgres/"*
cp "$OUT"/* "$RESULTS/load-postgres/"
python3 - "$OUT" "$ROUNDS" "$(getconf CLK_TCK)" "$RESULTS/load-postgres.md" <<'PY'
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
def read(name, r):
    text = open(f"{out}/{name}.{r}").read()
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1)),
        "p50": ms(re.search(r"^\s+50%\s+(\S+)", text, re.M).group(1)),
        "p99": ms(re.search(r"^\s+99%\s+(\S+)", text, re.M).group(1)),
        "requests": int(re.search(r"(\d+) requests in", text).group(1)),
        "bad": int(bad.group(1)) if bad else 0,
    }
runs = {}
for path in ["whoami", "todos", "ping", "login"]:
    for backend in ["sqlite", "postgres"]:
        name = f"{path}-{backend}"
        runs[name] = [read(name, r) for r in range(1, rounds + 1)]
        if path != "login":
            for r, run in enumerate(runs[name], 1):
                run["cpu"] = int(open(f"{out}/{name}.{r}.ticks").read()) / hz * 1e6 / max(run["requests"], 1)
labels = {"whoami": "GET /whoAmI (valid token)", "todos": "GET /todos (20 todos)", "ping": "GET /ping (public)",
          "login": "POST /users/login (16 clients, argon2id)"}
lines = [
    "| path | SQLite requests/s | PostgreSQL requests/s | PostgreSQL / SQLite throughput | p50 ms SQLite / PostgreSQL | p99 ms SQLite / PostgreSQL | CPU µs/request SQLite / PostgreSQL | non-2xx |",
    "|---|---|---|---|---|---|---|---|",
]
for path, label in labels.items():
    s, p = runs[f"{path}-sqlite"], runs[f"{path}-postgres"]
    med = lambda runs, key: statistics.median(x[key] for x in runs)
    ratio = quartiles([p[i]["rps"] / s[i]["rps"] for i in range(rounds)])
    cpu = f"{med(s, 'cpu'):.1f} / {med(p, 'cpu'):.1f}" if "cpu" in s[0] else "–"
    bad = sum(x["bad"] for x in s + p)
    lines.append(f"| {label} | {med(s, 'rps'):,.0f} | {med(p, 'rps'):,.0f} | {fmt(ratio)} | "
                 f"{med(s, 'p50'):.2f} / {med(p, 'p50'):.2f} | {med(s, 'p99'):.2f} / {med(p, 'p99'):.2f} | {cpu} | {bad} |")
samples = sorted(float(x) for x in open(f"{out}/propagation").read().split())
pct = lambda q: samples[round((len(samples) - 1) * q)]
lines.append("")
lines.append(
    f"Revocation propagation under load (logout on instance Q, then instance P, serving /whoAmI to "
    f"32 connections, asked until it refuses the token; {len(samples)} logouts): p50 {pct(0.5):.2f} ms, "
    f"p99 {pct(0.99):.2f} ms, max {samples[-1]:.2f} ms (the guarantee: at most max_staleness, 1 s); "
    f"{rounds} rounds of {len(labels) - 1} paths and login."
)
table = "\n".join(lines) + "\n"
open(sys.argv[4], "w").write(table)
print(table)
PY
