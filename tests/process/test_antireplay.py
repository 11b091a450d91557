"""Anti-replay headers (spec/03 §8, spec/04 §5)."""

import secrets

import pytest

from tmlib import err, finish_node, now_ms, ok, start_node, uid


def fresh(nonce=None, ts=None) -> dict:
    return {"X-Timestamp": str(now_ms() if ts is None else ts), "X-Nonce": nonce or secrets.token_hex(12)}


def test_headers_accepted(node, issuer):
    ok(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=fresh()), 201)


def test_repeated_nonce(node, issuer):
    h = fresh()
    ok(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=h), 201)
    h2 = fresh(nonce=h["X-Nonce"])
    err(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=h2), 401, "TM-AUTH-4015")


def test_nonce_is_per_key(node, admin, issuer):
    other = node.create_key(admin, "issuer")
    h = fresh()
    ok(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=h), 201)
    ok(node.req("POST", "/sessions", {"user_id": uid()}, key=other, headers=fresh(nonce=h["X-Nonce"])), 201)


def test_old_timestamp(node, issuer):
    d = err(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=fresh(ts=now_ms() - 60_000)),
            401, "TM-AUTH-4014")
    assert abs(d["server_time"] - now_ms()) < 60_000
    err(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=fresh(ts=now_ms() + 60_000)),
        401, "TM-AUTH-4014")


def test_one_header_requires_the_other(node, issuer):
    err(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers={"X-Timestamp": str(now_ms())}),
        401, "TM-AUTH-4015")
    err(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers={"X-Nonce": secrets.token_hex(8)}),
        401, "TM-AUTH-4014")


def test_malformed_nonce(node, issuer):
    err(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=fresh(nonce="n" * 257)),
        400, "TM-ARG-1001")
    ok(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=fresh(nonce="n" + secrets.token_hex(127))),
       201)  # 255 chars


def test_not_checked_on_get(node, validator):
    h = fresh(ts=now_ms() - 60_000)
    err(node.req("GET", "/sessions/tmss-01" + "0" * 24, key=validator, headers=h), 404, "TM-SESS-4040")


def test_anonymous_requests_record_no_nonce(node, issuer):
    h = fresh()
    err(node.req("POST", "/sessions", {"user_id": uid()}, headers=h), 401, "TM-AUTH-4010")
    ok(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=h), 201)


@pytest.fixture(scope="module")
def required_node():
    n = start_node("replay-required", env={"TOKMESH_SECURITY_ANTI_REPLAY_REQUIRED": "true"})
    yield n
    finish_node(n)


def test_required(required_node):
    n = required_node
    admin = n.emergency_key()
    issuer = n.create_key(None, "issuer")  # over the local socket, which needs no headers
    validator = n.create_key(None, "validator")
    # POST without headers refused; with them accepted
    err(n.req("POST", "/sessions", {"user_id": uid()}, key=issuer), 401, "TM-AUTH-4014")
    s = ok(n.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers=fresh()), 201)
    # validation is exempt
    v = ok(n.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator))
    assert v["valid"] is True
    # GETs are not checked; the local socket is exempt
    ok(n.req("GET", f"/sessions/{s['session_id']}", key=validator))
    ok(n.local("POST", "/sessions", {"user_id": uid()}), 201)
    # admin POSTs need them too
    err(n.req("POST", "/admin/v1/keys", {"role": "validator"}, key=admin), 401, "TM-AUTH-4014")
    ok(n.req("POST", "/admin/v1/keys", {"role": "validator"}, key=admin, headers=fresh()), 201)
    h = fresh()
    ok(n.req("POST", f"/sessions/{s['session_id']}/touch", key=issuer, headers=h))
    err(n.req("POST", f"/sessions/{s['session_id']}/touch", key=issuer, headers=h), 401, "TM-AUTH-4015")


def test_extreme_timestamp_refused_not_crashing(node, issuer):
    for ts in ("-9223372036854775808", "9223372036854775807"):
        r = node.req("POST", "/sessions", {"user_id": "edge"}, key=issuer, headers={"X-Timestamp": ts, "X-Nonce": "n-" + ts})
        err(r, 401, "TM-AUTH-4014")
    assert node.alive()
