"""schemathesis hooks for the contract run (SCHEMATHESIS_HOOKS=hooks, from this directory).

Every operation gets the run's token, except POST /users/logout: each of its cases gets a session
of its own (access and refresh token, from a login made for it), so the fuzzer's logouts can
succeed without revoking the token every other operation is tested with.
"""
import json
import os
import urllib.request

import schemathesis

BASE = os.environ["CONTRACT_BASE"]
TOKEN = os.environ["CONTRACT_TOKEN"]
SESSIONS = os.environ["CONTRACT_SESSIONS"]

# Logged in before the fuzzer starts: its failed logins soon throttle this address.
with open(SESSIONS) as sessions:
    _pool = [json.loads(line) for line in sessions if line.strip()]


def _fresh_session():
    if _pool:
        return _pool.pop()
    raise RuntimeError("the contract run ran out of sessions for POST /users/logout; make more")


@schemathesis.auth(refresh_interval=None).skip_for(method="POST", path="/users/logout")
class RunToken:
    def get(self, case, ctx):
        return TOKEN

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schemathesis.auth(refresh_interval=None).apply_to(method="POST", path="/users/logout")
class OwnSession:
    def get(self, case, ctx):
        return _fresh_session()

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data['accessToken']}"}
        # A body the schema accepts logs this very session out; others stay as generated.
        token = case.body.get("refreshToken") if isinstance(case.body, dict) else None
        if isinstance(token, str) and token and len(case.body) == 1:
            case.body = {"refreshToken": data["refreshToken"]}
