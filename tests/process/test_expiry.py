"""Expiry: exact lazy expiry of a TTL=1 s session and the background purge of 10,000 of them
(spec/01 §5.10, spec/02 in-memory engine). The node is this module's alone, so
`status/summary` counts only the sessions made here."""

import time

from tmlib import err, ok, uid, wait_until

BULK = 10_000
USERS = 200  # 50 sessions each: the default per-user quota


def _sleep_until(t: float):
    delay = t - time.monotonic()
    if delay > 0:
        time.sleep(delay)


def test_ttl_one_second(node, issuer, validator):
    r = node.req("POST", "/sessions", {"user_id": uid(), "ttl_seconds": 1}, key=issuer)
    t0 = time.monotonic()  # the create response has arrived: created_at <= now
    s = ok(r, 201)
    assert s["expires_at"] == s["created_at"] + 1000
    _sleep_until(t0 + 0.5)
    v = ok(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator))
    assert v["valid"] is True
    assert time.monotonic() - t0 < 0.9, "validation at 0.5 s took too long to be meaningful"
    _sleep_until(t0 + 1.5)
    err(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator), 401, "TM-TOKN-4011")


def test_expired_session_get_and_touch(node, issuer, validator):
    r = node.req("POST", "/sessions", {"user_id": uid(), "ttl_seconds": 1}, key=issuer)
    t0 = time.monotonic()
    s = ok(r, 201)
    _sleep_until(t0 + 1.2)
    # expired but possibly not purged yet: 4041 while held, 4040 once purged
    g = node.req("GET", f"/sessions/{s['session_id']}", key=validator)
    assert g.status == 404 and g.code in ("TM-SESS-4041", "TM-SESS-4040"), g
    t = node.req("POST", f"/sessions/{s['session_id']}/touch", key=validator)
    assert t.status == 404 and t.code in ("TM-SESS-4041", "TM-SESS-4040"), t
    rn = node.req("POST", f"/sessions/{s['session_id']}/renew", {"ttl_seconds": 60}, key=issuer)
    assert rn.status == 404 and rn.code in ("TM-SESS-4041", "TM-SESS-4040"), rn  # never revived


def test_bulk_ttl_sessions_purged(node, admin, issuer):
    users = [uid("bulk") for _ in range(USERS)]

    def create(conn, i):
        r = conn.req("POST", "/sessions", {"user_id": users[i % USERS], "ttl_seconds": 1}, key=issuer)
        return r.status, r.code

    started = time.monotonic()
    results = node.bulk(range(BULK), create, workers=8)
    done = time.monotonic()
    failures = [r for r in results if r[0] != 201]
    assert not failures, f"{len(failures)} creates failed, e.g. {failures[:3]}"

    _sleep_until(done + 5.0)
    total = node.summary(admin)["metrics"]["total_sessions"]
    assert total < 2000, f"{total} of {BULK} TTL=1s sessions still held 5 s after creation " \
                         f"(creation took {done - started:.1f} s)"
    # and eventually every one of them goes
    wait_until(lambda: node.summary(admin)["metrics"]["total_sessions"] <= 5, 30, interval=0.5,
               what="all expired sessions to be purged")


def test_gc_trigger_sweeps(node, admin, issuer):
    for _ in range(20):
        node.create_session(issuer, ttl_seconds=1)
    time.sleep(1.1)
    d = ok(node.req("POST", "/admin/v1/gc/trigger", {"type": "expired_sessions"}, key=admin))
    assert d["type"] == "expired_sessions"
    assert isinstance(d["cleaned_count"], int) and d["cleaned_count"] >= 0
    assert isinstance(d["duration_ms"], (int, float))
    wait_until(lambda: node.summary(admin)["metrics"]["total_sessions"] <= 5, 5, interval=0.25,
               what="the full sweep")
