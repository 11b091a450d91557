"""Session lifecycle over HTTP: create, get, validate, touch, renew, revoke, revoke-by-user
(spec/01 §5, spec/04 §7)."""

import time

from tmlib import (SESSION_FIELDS, SESSION_ID_RE, TOKEN_RE, client_token, err, fake_session_id, now_ms,
                   ok, uid, well_formed_unknown_token)

HOUR_MS = 3_600_000


def test_create_generated_token(node, issuer):
    user = uid()
    before = now_ms()
    r = node.req("POST", "/sessions", {"user_id": user}, key=issuer)
    data = ok(r, 201)
    assert set(data) >= {"session_id", "token", "user_id", "created_at", "expires_at", "version"}
    assert SESSION_ID_RE.match(data["session_id"]) and len(data["session_id"]) == 31
    assert TOKEN_RE.match(data["token"]) and len(data["token"]) == 48
    assert data["user_id"] == user
    assert data["version"] == 1
    assert before - 5000 <= data["created_at"] <= now_ms() + 5000
    assert data["expires_at"] == data["created_at"] + 2 * HOUR_MS  # session.ttl.default
    assert "token_hash" not in data


def test_create_client_token_echoed(node, issuer, validator):
    token = client_token()
    data = ok(node.req("POST", "/sessions", {"user_id": uid(), "token": token, "ttl_seconds": 60}, key=issuer), 201)
    assert data["token"] == token
    assert data["expires_at"] == data["created_at"] + 60_000
    v = ok(node.req("POST", "/tokens/validate", {"token": token}, key=validator))
    assert v["valid"] is True and v["session"]["id"] == data["session_id"]
    # 16 characters is the minimum; 15, an inner space or 1025 bytes are malformed
    ok(node.req("POST", "/sessions", {"user_id": uid(), "token": "A" * 8 + client_token()[-8:]}, key=issuer), 201)
    for bad in ("x" * 15, "has inner space 123", "y" * 1025):
        err(node.req("POST", "/sessions", {"user_id": uid(), "token": bad}, key=issuer), 400, "TM-TOKN-4000")


def test_reused_token_conflict(node, issuer):
    token = client_token()
    node.create_session(issuer, token=token)
    err(node.req("POST", "/sessions", {"user_id": uid(), "token": token}, key=issuer), 409, "TM-TOKN-4090")


def test_client_session_id(node, issuer, validator):
    sid = fake_session_id()
    data = node.create_session(issuer, session_id=sid)
    assert data["session_id"] == sid
    err(node.req("POST", "/sessions", {"user_id": uid(), "session_id": sid}, key=issuer), 409, "TM-SESS-4090")
    err(node.req("POST", "/sessions", {"user_id": uid(), "session_id": "tmss-bad"}, key=issuer), 400, "TM-ARG-1001")
    # upper case finds it (ids are lowercased on input)
    ok(node.req("GET", f"/sessions/{sid.upper().replace('TMSS-', 'tmss-')}", key=validator))
    ok(node.req("GET", f"/sessions/{sid.upper()}", key=validator))


def test_validate_returns_session(node, issuer, validator):
    user, device = uid(), uid("dev")
    s = node.create_session(issuer, user, device_id=device, data={"k": "v"},
                            ip_address="203.0.113.7", user_agent="agent/1.0")
    r = node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator)
    v = ok(r)
    assert v["valid"] is True
    sess = v["session"]
    assert set(sess) == SESSION_FIELDS, set(sess) ^ SESSION_FIELDS
    assert sess["id"] == s["session_id"] and sess["user_id"] == user and sess["device_id"] == device
    assert sess["ip_address"] == "203.0.113.7" and sess["user_agent"] == "agent/1.0"
    assert sess["last_access_ip"] == "203.0.113.7" and sess["last_access_ua"] == "agent/1.0"
    assert sess["created_by"] == issuer.key_id
    assert sess["data"] == {"k": "v"}
    assert sess["status"] == "active"
    assert sess["version"] == 1
    assert sess["last_active"] == sess["created_at"]
    assert b"token_hash" not in r.raw and s["token"].encode() not in r.raw


def test_defaults_from_transport(node, issuer):
    s = node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers={"User-Agent": "pytest-agent/7"})
    sid = ok(s, 201)["session_id"]
    got = ok(node.req("GET", f"/sessions/{sid}", key=issuer))
    assert got["ip_address"] == "127.0.0.1"
    assert got["user_agent"] == "pytest-agent/7"
    assert got["device_id"] == "" and got["data"] == {}


def test_validator_cannot_create(node, validator):
    d = err(node.req("POST", "/sessions", {"user_id": uid()}, key=validator), 403, "TM-AUTH-4030")
    assert d["current_role"] == "validator"
    assert "issuer" in d["required_roles"]


def test_validate_errors(node, validator):
    err(node.req("POST", "/tokens/validate", {"token": well_formed_unknown_token()}, key=validator),
        401, "TM-TOKN-4010")
    err(node.req("POST", "/tokens/validate", {"token": "short"}, key=validator), 400, "TM-TOKN-4000")
    err(node.req("POST", "/tokens/validate", {}, key=validator), 400, "TM-ARG-1002")


def test_get_has_no_side_effect(node, issuer, validator):
    s = node.create_session(issuer)
    a = ok(node.req("GET", f"/sessions/{s['session_id']}", key=validator))
    time.sleep(0.01)
    b = ok(node.req("GET", f"/sessions/{s['session_id']}", key=validator))
    assert a == b
    assert a["version"] == 1


def test_get_fields_projection(node, issuer, validator):
    s = node.create_session(issuer)
    got = ok(node.req("GET", f"/sessions/{s['session_id']}", key=validator, query={"fields": "user_id,expires_at"}))
    assert set(got) == {"id", "user_id", "expires_at"}
    err(node.req("GET", f"/sessions/{s['session_id']}", key=validator, query={"fields": "nope"}), 400, "TM-ARG-1001")


def test_touch_monotonic(node, issuer, validator):
    s = node.create_session(issuer)
    sid = s["session_id"]
    last, version = s["created_at"], 1
    for _ in range(3):
        time.sleep(0.005)
        t = ok(node.req("POST", f"/sessions/{sid}/touch", key=validator))
        assert t["last_active"] >= last
        assert t["version"] in (version, version + 1)
        if t["last_active"] > last:
            assert t["version"] == version + 1
        last, version = t["last_active"], t["version"]
        assert t["expires_at"] == s["expires_at"]  # touch moves last_active only
    assert version > 1
    got = ok(node.req("GET", f"/sessions/{sid}", key=validator))
    assert got["last_active"] == last and got["version"] == version
    t = ok(node.req("POST", f"/sessions/{sid}/touch", {}, key=validator, query={"fields": "data"}))
    assert {"id", "user_id", "expires_at", "last_active", "version", "data"} == set(t)


def test_touch_unknown(node, validator):
    err(node.req("POST", f"/sessions/{fake_session_id()}/touch", key=validator), 404, "TM-SESS-4040")


def test_validate_with_touch(node, issuer, validator):
    s = node.create_session(issuer, ip_address="198.51.100.1", user_agent="ua-1")
    time.sleep(0.005)
    v = ok(node.req("POST", "/tokens/validate",
                    {"token": s["token"], "touch": True, "ip_address": "198.51.100.2", "user_agent": "ua-2"},
                    key=validator))["session"]
    assert v["last_access_ip"] == "198.51.100.2" and v["last_access_ua"] == "ua-2"
    assert v["ip_address"] == "198.51.100.1" and v["user_agent"] == "ua-1"
    assert v["version"] == 2
    assert v["last_active"] > s["created_at"]
    # touch:false (the default) changes nothing
    again = ok(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator))["session"]
    assert again["version"] == 2


def test_renew(node, issuer, validator):
    s = node.create_session(issuer, ip_address="203.0.113.9", user_agent="orig-agent", ttl_seconds=600)
    sid = s["session_id"]
    before = now_ms()
    r = ok(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 7200}, key=issuer,
                    headers={"User-Agent": "other-agent"}))
    assert r["session_id"] == sid
    assert r["previous_expires_at"] == s["expires_at"]
    assert before + 7_200_000 - 5000 <= r["new_expires_at"] <= now_ms() + 7_200_000 + 5000
    assert r["version"] == 2
    got = ok(node.req("GET", f"/sessions/{sid}", key=validator))
    assert got["expires_at"] == r["new_expires_at"]
    assert got["ip_address"] == "203.0.113.9" and got["user_agent"] == "orig-agent"
    assert got["last_active"] >= s["created_at"]
    # renew may shorten a session
    r2 = ok(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 60}, key=issuer))
    assert r2["new_expires_at"] < r["new_expires_at"] and r2["version"] == 3


def test_renew_errors(node, issuer, validator):
    s = node.create_session(issuer)
    sid = s["session_id"]
    err(node.req("POST", f"/sessions/{sid}/renew", {}, key=issuer), 400, "TM-ARG-1002")
    err(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 0}, key=issuer), 400, "TM-ARG-1001")
    err(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 720 * 3600 + 1}, key=issuer), 400, "TM-ARG-1001")
    err(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 60}, key=validator), 403, "TM-AUTH-4030")
    err(node.req("POST", f"/sessions/{fake_session_id()}/renew", {"ttl_seconds": 60}, key=issuer),
        404, "TM-SESS-4040")


def test_renew_expected_version(node, issuer):
    s = node.create_session(issuer)
    sid = s["session_id"]
    r = ok(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 60, "expected_version": 1}, key=issuer))
    assert r["version"] == 2
    d = err(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 60, "expected_version": 1}, key=issuer),
            409, "TM-SESS-4091")
    assert d["current_version"] == 2 and d["expected_version"] == 1
    err(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 60, "expected_version": 0}, key=issuer),
        400, "TM-ARG-1001")


def test_revoke_idempotent(node, issuer, validator):
    s = node.create_session(issuer)
    sid = s["session_id"]
    before = now_ms()
    first = ok(node.req("POST", f"/sessions/{sid}/revoke", key=issuer))
    assert first["session_id"] == sid and first["revoked"] is True
    assert before - 5000 <= first["revoked_at"] <= now_ms() + 5000
    second = ok(node.req("POST", f"/sessions/{sid}/revoke", {}, key=issuer))
    assert second["session_id"] == sid and second["revoked"] is False
    unknown = ok(node.req("POST", f"/sessions/{fake_session_id()}/revoke", key=issuer))
    assert unknown["revoked"] is False
    # after revoke
    r = node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator)
    d = err(r, 401, "TM-TOKN-4012")
    assert d["revoked_at"] == first["revoked_at"]
    assert s["token"].encode() not in r.raw
    err(node.req("GET", f"/sessions/{sid}", key=validator), 404, "TM-SESS-4040")
    err(node.req("POST", f"/sessions/{sid}/touch", key=validator), 404, "TM-SESS-4040")
    err(node.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 60}, key=issuer), 404, "TM-SESS-4040")
    # the revoked token cannot be reused while its tombstone lives
    err(node.req("POST", "/sessions", {"user_id": uid(), "token": s["token"]}, key=issuer), 409, "TM-TOKN-4090")


def test_revoke_by_user(node, issuer, validator):
    user = uid()
    other = node.create_session(issuer)
    mine = [node.create_session(issuer, user) for _ in range(3)]
    r = ok(node.req("POST", f"/users/{user}/sessions/revoke", key=issuer))
    assert r["user_id"] == user and r["revoked_count"] == 3
    for s in mine:
        err(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator), 401, "TM-TOKN-4012")
    ok(node.req("POST", "/tokens/validate", {"token": other["token"]}, key=validator))
    again = ok(node.req("POST", f"/users/{user}/sessions/revoke", {"sync": True}, key=issuer))
    assert again["revoked_count"] == 0
    err(node.req("POST", f"/users/{user}/sessions/revoke", key=validator), 403, "TM-AUTH-4030")
    err(node.req("POST", f"/users/{'u' * 129}/sessions/revoke", key=issuer), 400, "TM-SESS-4001")


def test_revoke_sync(node, issuer):
    s = node.create_session(issuer)
    r = ok(node.req("POST", f"/sessions/{s['session_id']}/revoke", {"sync": True}, key=issuer))
    assert r["revoked"] is True


def test_create_field_limits(node, issuer):
    err(node.req("POST", "/sessions", {}, key=issuer), 400, "TM-ARG-1002")
    err(node.req("POST", "/sessions", {"user_id": ""}, key=issuer), 400, "TM-ARG-1002")
    err(node.req("POST", "/sessions", {"user_id": "u" * 129}, key=issuer), 400, "TM-SESS-4001")
    ok(node.req("POST", "/sessions", {"user_id": uid() + "u" * 100}, key=issuer), 201)
    err(node.req("POST", "/sessions", {"user_id": "bad\u0001id"}, key=issuer), 400, "TM-SESS-4001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "device_id": "d" * 129}, key=issuer), 400, "TM-SESS-4001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "ip_address": "999.1.1.1"}, key=issuer), 400,
        "TM-SESS-4001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "ttl_seconds": 720 * 3600 + 1}, key=issuer), 400,
        "TM-ARG-1001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "ttl_seconds": 0}, key=issuer), 400, "TM-ARG-1001")
    ok(node.req("POST", "/sessions", {"user_id": uid(), "ttl_seconds": 720 * 3600}, key=issuer), 201)


def test_user_agent_truncated(node, issuer, validator):
    s = node.create_session(issuer, user_agent="a" * 600)
    got = ok(node.req("GET", f"/sessions/{s['session_id']}", key=validator))
    assert got["user_agent"] == "a" * 512


def test_ipv6_canonical(node, issuer, validator):
    s = node.create_session(issuer, ip_address="2001:DB8:0:0:0:0:0:1")
    got = ok(node.req("GET", f"/sessions/{s['session_id']}", key=validator))
    assert got["ip_address"] == "2001:db8::1"
    s = node.create_session(issuer, ip_address="::ffff:192.0.2.1")
    assert ok(node.req("GET", f"/sessions/{s['session_id']}", key=validator))["ip_address"] == "192.0.2.1"


def test_malformed_session_id(node, validator):
    err(node.req("GET", "/sessions/not-a-session", key=validator), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions/tmss-" + "i" * 26, key=validator), 400, "TM-ARG-1001")


def test_missing_session_404(node, validator):
    sid = fake_session_id()
    r = node.req("GET", f"/sessions/{sid}", key=validator)
    d = err(r, 404, "TM-SESS-4040")
    assert r.json["request_id"]
    assert d.get("session_id", sid) == sid
