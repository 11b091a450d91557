"""Concurrent creates and renews (spec/01 §6)."""

from collections import Counter

from tmlib import client_token, err, fake_session_id, ok, uid


def test_concurrent_creates_same_token(node, issuer, validator):
    token = client_token()

    def create(conn, _i):
        return conn.req("POST", "/sessions", {"user_id": uid(), "token": token}, key=issuer)

    results = node.burst(64, create)
    statuses = Counter(r.status for r in results)
    assert statuses == {201: 1, 409: 63}, statuses
    for r in results:
        if r.status == 409:
            err(r, 409, "TM-TOKN-4090")
        else:
            winner = ok(r, 201)
    v = ok(node.req("POST", "/tokens/validate", {"token": token}, key=validator))
    assert v["session"]["id"] == winner["session_id"]


def test_concurrent_creates_same_session_id(node, issuer):
    sid = fake_session_id()

    def create(conn, _i):
        return conn.req("POST", "/sessions", {"user_id": uid(), "session_id": sid}, key=issuer)

    results = node.burst(64, create)
    statuses = Counter(r.status for r in results)
    assert statuses == {201: 1, 409: 63}, statuses
    for r in results:
        if r.status == 409:
            err(r, 409, "TM-SESS-4090")


def test_concurrent_creates_same_user_respect_quota(node, issuer):
    user = uid()

    def create(conn, _i):
        return conn.req("POST", "/sessions", {"user_id": user}, key=issuer)

    results = node.burst(80, create)
    statuses = Counter(r.status for r in results)
    assert statuses == {201: 50, 429: 30}, statuses
    for r in results:
        if r.status == 429:
            err(r, 429, "TM-SESS-4002")


def test_concurrent_renews_same_expected_version(node, issuer, validator):
    s = node.create_session(issuer)
    sid = s["session_id"]

    def renew(conn, i):
        return conn.req("POST", f"/sessions/{sid}/renew", {"ttl_seconds": 600 + i, "expected_version": 1},
                        key=issuer)

    results = node.burst(100, renew)
    statuses = Counter(r.status for r in results)
    assert statuses == {200: 1, 409: 99}, statuses
    winner = None
    for r in results:
        if r.status == 409:
            d = err(r, 409, "TM-SESS-4091")
            assert d["expected_version"] == 1 and d["current_version"] == 2
        else:
            winner = ok(r)
    assert winner["version"] == 2
    got = ok(node.req("GET", f"/sessions/{sid}", key=validator))
    assert got["version"] == 2 and got["expires_at"] == winner["new_expires_at"]


def test_concurrent_touches_keep_versions_consistent(node, issuer, validator):
    s = node.create_session(issuer)
    sid = s["session_id"]

    def touch(conn, _i):
        return conn.req("POST", f"/sessions/{sid}/touch", key=validator)

    results = node.burst(50, touch)
    assert all(r.status == 200 for r in results), [r for r in results if r.status != 200][:2]
    versions = [r.data["version"] for r in results]
    got = ok(node.req("GET", f"/sessions/{sid}", key=validator))
    assert got["version"] == max(versions)
    assert got["last_active"] == max(r.data["last_active"] for r in results)
    # +1 per touch that moved last_active, so at most one bump per distinct millisecond
    assert got["version"] - 1 <= len({r.data["last_active"] for r in results})


def test_concurrent_revokes(node, issuer, validator):
    s = node.create_session(issuer)

    def revoke(conn, _i):
        return conn.req("POST", f"/sessions/{s['session_id']}/revoke", key=issuer)

    results = node.burst(32, revoke)
    flags = Counter(ok(r)["revoked"] for r in results)
    assert flags == {True: 1, False: 31}, flags
    err(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator), 401, "TM-TOKN-4012")
