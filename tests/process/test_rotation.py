"""Key rotation with a grace period (spec/03 §2.2, spec/04 §8)."""

from tmlib import SECRET_RE, err, now_ms, ok, wait_until

NODE_ARGS = ["--security.auth.rotation_grace=1s", "--security.auth.failure_limit=10000"]

PROBE = "/sessions/tmss-01" + "0" * 24  # a validator request that ends in 404 once authenticated


def works(node, key) -> bool:
    r = node.req("GET", PROBE, key=key)
    assert r.status in (404, 401), r
    return r.status == 404


def refused(node, key):
    err(node.req("GET", PROBE, key=key), 401, "TM-AUTH-4011")


def test_rotate_default_grace(node, admin):
    k = node.create_key(admin, "validator")
    node.warm(k)
    before = now_ms()
    d = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/rotate", key=admin))
    assert d["key_id"] == k.key_id
    assert SECRET_RE.match(d["new_key_secret"]) and d["new_key_secret"] != k.secret
    until = d["old_secret_valid_until"]
    assert before + 1000 - 2000 <= until <= now_ms() + 1000 + 2000  # rotation_grace = 1s
    new = k.with_secret(d["new_key_secret"])
    # right after rotate both secrets work
    if now_ms() < until - 300:
        assert works(node, k), "old secret refused during the grace period"
    assert works(node, new)
    got = ok(node.req("GET", f"/admin/v1/keys/{k.key_id}", key=admin))
    assert got["grace_period_end"] == until
    assert got["version"] > k.data["version"]
    # 2 s later the old one fails, the new one still works
    wait_until(lambda: now_ms() >= until + 1000, 5, what="2 s after the rotation")
    refused(node, k)
    assert works(node, new)


def test_rotate_grace_zero_cuts_at_once(node, admin):
    k = node.create_key(admin, "validator")
    node.warm(k)
    d = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/rotate", {"grace_seconds": 0}, key=admin))
    refused(node, k)
    assert works(node, k.with_secret(d["new_key_secret"]))


def test_rotate_grace_override_and_second_rotation(node, admin):
    k = node.create_key(admin, "validator")
    before = now_ms()
    d1 = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/rotate", {"grace_seconds": 600}, key=admin))
    assert before + 600_000 - 2000 <= d1["old_secret_valid_until"] <= now_ms() + 600_000 + 2000
    s1 = k.with_secret(d1["new_key_secret"])
    assert works(node, k) and works(node, s1)
    # a second rotation keeps only the secret it replaces
    d2 = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/rotate", {"grace_seconds": 600}, key=admin))
    s2 = k.with_secret(d2["new_key_secret"])
    refused(node, k)
    assert works(node, s1) and works(node, s2)


def test_rotate_errors(node, admin, validator):
    err(node.req("POST", "/admin/v1/keys/tmak-01" + "0" * 24 + "/rotate", key=admin), 404, "TM-ADMIN-4041")
    err(node.req("POST", f"/admin/v1/keys/{validator.key_id}/rotate", {"grace_seconds": 86401}, key=admin),
        400, "TM-ARG-1001")
    err(node.req("POST", f"/admin/v1/keys/{validator.key_id}/rotate", {"grace_seconds": -1}, key=admin),
        400, "TM-ARG-1001")
    err(node.req("POST", f"/admin/v1/keys/{validator.key_id}/rotate", {"grace": 5}, key=admin), 400, "TM-SYS-4000")
    err(node.req("POST", f"/admin/v1/keys/{validator.key_id}/rotate", key=validator), 403, "TM-ADMIN-4030")


def test_rotate_audited(node, admin):
    k = node.create_key(admin, "validator")
    d = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/rotate", {"grace_seconds": 0}, key=admin))

    def found():
        data = ok(node.req("GET", "/admin/v1/audit/logs", key=admin, query={"action": "KEY_ROTATED"}))
        hits = [r for r in data["items"] if k.key_id in str(r.get("resource", "")) or k.key_id in str(r)]
        return hits[0] if hits else None

    rec = wait_until(found, 10, interval=0.2, what="a KEY_ROTATED audit record")
    assert rec["operator_id"] == admin.key_id
    assert rec["result"] == "SUCCESS"
    assert d["new_key_secret"] not in str(rec)
    assert d["new_key_secret"] not in node.audit_text()
