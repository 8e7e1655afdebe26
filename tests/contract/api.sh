#!/usr/bin/env bash
# The API contract, checked by a third party: schemathesis (pinned, in a virtual environment made
# here) runs every check against todo-jwt's /openapi.json with a real token, and every secured
# operation must have been exercised with it (answered 2xx at least once).
#
#   bash tests/contract/api.sh          # MAX_EXAMPLES=100 SEED=... to change the run
set -euo pipefail
source "$(dirname "$0")/server.sh"
VENV=$TARGET/contract/venv
if [ ! -x "$VENV/bin/st" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==4.32.5"
fi

EMAIL="contract-$$@example.com"
PASSWORD="contract-password"
BODY="{\"email\":\"$EMAIL\",\"password\":\"$PASSWORD\"}"
curl -sf -X POST "$BASE/signup" -H 'content-type: application/json' -d "$BODY" >/dev/null
TOKEN=$(curl -sf -X POST "$BASE/users/login" -H 'content-type: application/json' -d "$BODY" \
    | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')

# Sessions of their own for the fuzzer's logouts (see hooks.py), made before it starts.
SESSIONS="$DATA/sessions.ndjson"
for _ in $(seq "${LOGOUT_SESSIONS:-300}"); do
    curl -sf -X POST "$BASE/users/refresh-login" -H 'content-type: application/json' -d "$BODY"
    echo
done > "$SESSIONS"

REPORTS=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"; [ -n "${KEEP_REPORTS:-}" ] || rm -rf "$REPORTS"' EXIT
# A fixed seed by default: CI reruns the same cases; set SEED=random (or a number) for others.
SEED=${SEED:-20261202}
seed=()
[ "$SEED" != random ] && seed=(--seed "$SEED")
CONTRACT_BASE=$BASE CONTRACT_TOKEN=$TOKEN CONTRACT_SESSIONS=$SESSIONS \
PYTHONPATH="$(pwd)/tests/contract" SCHEMATHESIS_HOOKS=hooks \
"$VENV/bin/st" run "$BASE/openapi.json" \
    --checks all \
    --max-examples "${MAX_EXAMPLES:-100}" \
    "${seed[@]}" \
    --report ndjson --report-dir "$REPORTS" \
    --no-color

# Every secured operation answered 2xx at least once: none went untested because its token was
# revoked or missing. And the token is still good.
python3 - "$REPORTS" "$BASE" <<'PY'
import glob, json, re, sys, urllib.parse, urllib.request
reports, base = sys.argv[1], sys.argv[2]
doc = json.load(urllib.request.urlopen(f"{base}/openapi.json"))
secured = {
    (method.upper(), path)
    for path, item in doc["paths"].items()
    for method, op in item.items()
    if any(requirement for requirement in op.get("security", []))
}
# Documented paths as patterns, literal ones first (/todos/count before /todos/{id}).
templates = sorted(doc["paths"], key=lambda p: (p.count("{"), p))
patterns = [(t, re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(t)) + "$")) for t in templates]
def template(uri):
    path = urllib.parse.urlsplit(uri).path
    return next((t for t, pattern in patterns if pattern.match(path)), None)
answered = {}
for line in open(glob.glob(f"{reports}/*.ndjson")[0]):
    finished = json.loads(line).get("ScenarioFinished")
    if not finished:
        continue
    for interaction in finished.get("recorder", {}).get("interactions", {}).values():
        request, response = interaction.get("request", {}), interaction.get("response") or {}
        status = response.get("status_code")
        if status is not None and 200 <= status < 300:
            label = (request.get("method"), template(request.get("uri", "")))
            answered[label] = answered.get(label, 0) + 1
for op in sorted(secured):
    print(f"  {op[0]:6} {op[1]:16} {answered.get(op, 0):5} answers 2xx with a valid token")
missing = sorted(op for op in secured if not answered.get(op))
if missing:
    sys.exit(f"secured operations never exercised with a valid token: {missing}")
print(f"all {len(secured)} secured operations exercised with a valid token")
PY
curl -sf "$BASE/whoAmI" -H "authorization: Bearer $TOKEN" >/dev/null || { echo "the run's token was revoked" >&2; exit 1; }
