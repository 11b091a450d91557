"""API keys: create per role, validation, roles, status, expiry, credential errors
(spec/03 §2-§4, spec/04 §5 and §8)."""

import pytest

from tmlib import (KEY_FIELDS, KEY_ID_RE, LONG_KEY_WARNING, SECRET_RE, Key, err, now_ms, ok,
                   wait_until, wrong_secret)

# This module deliberately produces many authentication failures from 127.0.0.1.
NODE_ARGS = ["--security.auth.failure_limit=10000"]

DAY_MS = 86_400_000


@pytest.mark.parametrize("role", ["admin", "issuer", "validator", "metrics"])
def test_create_key_per_role(node, admin, role):
    before = now_ms()
    r = node.req("POST", "/admin/v1/keys", {"role": role, "description": f"a {role} key"}, key=admin)
    data = ok(r, 201)
    assert KEY_FIELDS <= set(data), set(data)
    assert KEY_ID_RE.match(data["key_id"])
    assert SECRET_RE.match(data["key_secret"])
    assert data["role"] == role
    assert data["status"] == "active"
    assert data["description"] == f"a {role} key"
    assert data["allowedlist"] == []
    assert data["rate_limit"] == 1000
    assert data["expires_at"] == 0
    assert data["created_by"] == admin.key_id
    assert before - 5000 <= data["created_at"] <= now_ms() + 5000
    assert data["last_used_at"] == 0 and data["grace_period_end"] == 0
    assert data["version"] == 1
    assert data["warning"] == LONG_KEY_WARNING  # never expires
    for hidden in ("secret_hash", "old_secret_hash"):
        assert hidden not in data
    assert b"$argon2" not in r.raw
    # the secret works; it is never shown again
    key = Key(data["key_id"], data["key_secret"], data)
    node.warm(key)
    got = ok(node.req("GET", f"/admin/v1/keys/{key.key_id}", key=admin))
    assert "key_secret" not in got and "secret_hash" not in got
    assert got["role"] == role


def test_warning_only_for_long_lived_keys(node, admin):
    short = ok(node.req("POST", "/admin/v1/keys", {"role": "validator", "expires_at": now_ms() + DAY_MS},
                        key=admin), 201)
    assert not short.get("warning")
    year_plus = ok(node.req("POST", "/admin/v1/keys",
                            {"role": "validator", "expires_at": now_ms() + 366 * DAY_MS}, key=admin), 201)
    assert year_plus["warning"] == LONG_KEY_WARNING


def test_create_key_with_fields(node, admin):
    data = ok(node.req("POST", "/admin/v1/keys",
                       {"role": "issuer", "allowedlist": ["127.0.0.1", "10.0.0.0/8", "::1"], "rate_limit": 25},
                       key=admin), 201)
    assert data["rate_limit"] == 25
    assert len(data["allowedlist"]) == 3


def test_bad_role(node, admin):
    r = node.req("POST", "/admin/v1/keys", {"role": "root"}, key=admin)
    err(r, 400, "TM-ARG-1001")
    assert "Role must be one of: admin, issuer, validator, metrics" in r.json["message"]


def test_missing_role(node, admin):
    err(node.req("POST", "/admin/v1/keys", {"description": "x"}, key=admin), 400, "TM-ARG-1002")
    err(node.req("POST", "/admin/v1/keys", key=admin), 400, "TM-ARG-1002")


def test_unknown_field(node, admin):
    d = err(node.req("POST", "/admin/v1/keys", {"role": "issuer", "x": 1}, key=admin), 400, "TM-SYS-4000")
    assert d.get("field") == "x", d


def test_bad_values(node, admin):
    err(node.req("POST", "/admin/v1/keys", {"role": "issuer", "allowedlist": ["10.0.0.0/33"]}, key=admin),
        400, "TM-ARG-1001")
    err(node.req("POST", "/admin/v1/keys", {"role": "issuer", "expires_at": now_ms() - 1000}, key=admin),
        400, "TM-ARG-1001")
    err(node.req("POST", "/admin/v1/keys", {"role": "issuer", "rate_limit": 0}, key=admin), 400, "TM-ARG-1001")
    err(node.req("POST", "/admin/v1/keys", {"role": "issuer", "rate_limit": "10"}, key=admin), 400, "TM-SYS-4000")
    err(node.req("POST", "/admin/v1/keys", {"role": "issuer", "description": "d" * 257}, key=admin),
        400, "TM-ARG-1001")


def test_issuer_refused_on_admin_routes(node, issuer, validator):
    d = err(node.req("POST", "/admin/v1/keys", {"role": "issuer"}, key=issuer), 403, "TM-ADMIN-4030")
    assert d["current_role"] == "issuer"
    assert "admin" in d["required_roles"]
    err(node.req("GET", "/admin/v1/keys", key=validator), 403, "TM-ADMIN-4030")
    err(node.req("GET", "/admin/v1/status/summary", key=issuer), 403, "TM-ADMIN-4030")


def test_list_keys(node, admin):
    made = node.create_key(admin, "metrics", description="listed")
    data = ok(node.req("GET", "/admin/v1/keys", key=admin, query={"role": "metrics", "size": 100}))
    assert set(data) >= {"items", "pagination"}
    ids = [k["key_id"] for k in data["items"]]
    assert made.key_id in ids
    assert all(k["role"] == "metrics" for k in data["items"])
    for k in data["items"]:
        assert "key_secret" not in k and "secret_hash" not in k and "old_secret_hash" not in k
    created = [k["created_at"] for k in data["items"]]
    assert created == sorted(created, reverse=True), "keys are listed newest first"
    p = data["pagination"]
    assert p["page"] == 1 and p["size"] == 100 and p["total"] >= 1
    everything = ok(node.req("GET", "/admin/v1/keys", key=admin))
    assert everything["pagination"]["size"] == 20


def test_get_unknown_and_malformed_key(node, admin):
    err(node.req("GET", "/admin/v1/keys/tmak-01" + "0" * 24, key=admin), 404, "TM-ADMIN-4041")
    err(node.req("GET", "/admin/v1/keys/not-a-key", key=admin), 400, "TM-ARG-1001")
    err(node.req("POST", "/admin/v1/keys/tmak-01" + "0" * 24 + "/status", {"status": "disabled"}, key=admin),
        404, "TM-ADMIN-4041")


def test_no_credentials(node):
    err(node.req("GET", "/sessions/tmss-01" + "0" * 24), 401, "TM-AUTH-4010")
    err(node.req("GET", "/admin/v1/keys"), 401, "TM-AUTH-4010")
    # another Authorization scheme is ignored
    err(node.req("GET", "/admin/v1/keys", headers={"Authorization": "Basic dXNlcjpwYXNz"}), 401, "TM-AUTH-4010")


def test_wrong_secret_and_malformed(node, validator):
    path = "/sessions/tmss-01" + "0" * 24
    err(node.req("GET", path, key=validator.with_secret(wrong_secret())), 401, "TM-AUTH-4011")
    err(node.req("GET", path, key="garbage"), 401, "TM-AUTH-4011")
    err(node.req("GET", path, key=f"{validator.key_id}:short"), 401, "TM-AUTH-4011")
    err(node.req("GET", path, key="tmak-01" + "0" * 24 + ":" + wrong_secret()), 401, "TM-AUTH-4011")
    # the right secret still works
    err(node.req("GET", path, key=validator), 404, "TM-SESS-4040")


def test_x_api_key_header(node, validator):
    path = "/sessions/tmss-01" + "0" * 24
    err(node.req("GET", path, headers={"X-API-Key": validator.cred}), 404, "TM-SESS-4040")
    # Authorization wins when both are sent
    err(node.req("GET", path, key=validator.with_secret(wrong_secret()), headers={"X-API-Key": validator.cred}),
        401, "TM-AUTH-4011")


def test_disable_and_enable(node, admin):
    k = node.create_key(admin, "validator")
    node.warm(k)  # cached: disabling must still take effect at once
    d = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/status", {"status": "disabled"}, key=admin))
    assert d["key_id"] == k.key_id and d["status"] == "disabled" and isinstance(d["updated_at"], int)
    err(node.req("GET", "/sessions/tmss-01" + "0" * 24, key=k), 401, "TM-AUTH-4012")
    got = ok(node.req("GET", f"/admin/v1/keys/{k.key_id}", key=admin))
    assert got["status"] == "disabled"
    d = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/status", {"status": "active"}, key=admin))
    assert d["status"] == "active"
    node.warm(k)
    err(node.req("POST", f"/admin/v1/keys/{k.key_id}/status", {"status": "paused"}, key=admin), 400, "TM-ARG-1001")
    err(node.req("POST", f"/admin/v1/keys/{k.key_id}/status", {}, key=admin), 400, "TM-ARG-1002")


def test_disable_last_admin_warns(make_node):
    n = make_node(name="lastadmin")
    a = n.emergency_key()
    d = ok(n.req("POST", f"/admin/v1/keys/{a.key_id}/status", {"status": "disabled"}, key=a))
    assert d["warning"] == "No active admin key remains; create one through the local admin socket."
    err(n.req("GET", "/admin/v1/status/summary", key=a), 401, "TM-AUTH-4012")
    n.emergency_key()  # the socket still gives a way back in


def test_expired_key(node, admin):
    expires_at = now_ms() + 1500
    k = node.create_key(admin, "validator", expires_at=expires_at)
    assert not k.data.get("warning")
    path = "/sessions/tmss-01" + "0" * 24
    if now_ms() < expires_at - 300:
        err(node.req("GET", path, key=k), 404, "TM-SESS-4040")  # works before expiry
    wait_until(lambda: now_ms() > expires_at + 20, 5, what="the key's expiry")
    r = wait_until(lambda: (lambda r: r if r.status == 401 else None)(node.req("GET", path, key=k)), 5,
                   interval=0.1, what="an expired key to be refused")
    err(r, 401, "TM-AUTH-4011")
    assert now_ms() >= expires_at
