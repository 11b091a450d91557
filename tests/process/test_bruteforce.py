"""Brute-force protection per client IP (spec/03 §6): after `security.auth.failure_limit` (10)
failures a minute, uncached attempts get 429 while cached keys keep working."""

from tmlib import err, ok, wrong_secret

PROBE = "/sessions/tmss-01" + "0" * 24


def test_block_after_failures(node, admin, issuer, validator):
    fresh_key = node.create_key(admin, "validator")  # never used: not in the cache
    s = node.create_session(issuer)
    bad = validator.with_secret(wrong_secret())
    statuses = []
    for _ in range(11):
        r = node.req("GET", PROBE, key=bad)
        statuses.append(r.status)
        if r.status == 401:
            err(r, 401, "TM-AUTH-4011")
    assert statuses[:10] == [401] * 10, statuses
    # the IP is now blocked for everything that is not a cache hit
    for attempt in (bad, fresh_key, fresh_key.with_secret(wrong_secret())):
        r = node.req("GET", PROBE, key=attempt)
        err(r, 429, "TM-SYS-4290")
        retry = int(r.header("Retry-After"))
        assert 1 <= retry <= 60
    assert statuses[10] == 429, statuses
    # cached keys from the same IP still work
    err(node.req("GET", PROBE, key=validator), 404, "TM-SESS-4040")
    ok(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator))
    node.summary(admin)
    ok(node.req("POST", "/sessions", {"user_id": "after-block"}, key=issuer), 201)
    # requests without credentials are not blocked: they fail at step 1
    err(node.req("GET", PROBE), 401, "TM-AUTH-4010")
    # the local socket is never blocked
    ok(node.local("GET", "/admin/v1/status/summary"))
    # audited: AUTH_FAILED (at most 10 per IP per minute) and one BRUTE_FORCE_BLOCKED
    node.wait_audit(lambda rec: rec.get("action") == "BRUTE_FORCE_BLOCKED", what="BRUTE_FORCE_BLOCKED")
    failed = [rec for rec in node.audit_records() if rec.get("action") == "AUTH_FAILED"]
    assert 1 <= len(failed) <= 10, len(failed)
    assert all(rec["result"] == "FAILURE" and rec.get("error_code") for rec in failed)
    assert "tmas_" not in node.audit_text()
