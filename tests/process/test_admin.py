"""Admin routes: status/summary, gc/trigger, audit/logs (spec/04 §8, spec/03 §10)."""

import hashlib
import json

from tmlib import NODE_ID_RE, err, now_ms, ok, uid, wait_until


def test_status_summary(node, admin, issuer):
    node.create_session(issuer)
    d = node.summary(admin)
    for field in ("uptime_seconds", "version", "build_time", "node_id", "ready", "cluster_state", "metrics"):
        assert field in d, field
    assert isinstance(d["uptime_seconds"], (int, float)) and d["uptime_seconds"] >= 0
    assert NODE_ID_RE.match(d["node_id"]), d["node_id"]
    assert d["ready"] is True
    assert d["cluster_state"] == "standalone"
    m = d["metrics"]
    for field in ("total_sessions", "active_sessions", "tombstones", "memory_usage_mb", "current_qps",
                  "connections", "threads"):
        assert field in m, field
    assert m["total_sessions"] >= m["active_sessions"] >= 0
    wait_until(lambda: node.summary(admin)["metrics"]["total_sessions"] >= 1, 3, interval=0.2,
               what="the summary to count the session")
    assert (node.data_dir / "node-id").read_text().strip() == d["node_id"]


def test_gc_trigger_rate(node, admin):
    first = ok(node.req("POST", "/admin/v1/gc/trigger", {"type": "expired_sessions"}, key=admin))
    assert first["type"] == "expired_sessions"
    for field in ("cleaned_count", "duration_ms", "freed_memory_mb"):
        assert field in first, field
    r = node.req("POST", "/admin/v1/gc/trigger", key=admin)  # default type = expired_sessions
    err(r, 429, "TM-ADMIN-4291")
    retry = int(r.header("Retry-After"))
    assert 1 <= retry <= 60
    mem = ok(node.req("POST", "/admin/v1/gc/trigger", {"type": "memory"}, key=admin))
    assert mem["type"] == "memory"
    err(node.req("POST", "/admin/v1/gc/trigger", {"type": "all"}, key=admin), 429, "TM-ADMIN-4291")
    err(node.req("POST", "/admin/v1/gc/trigger", {"type": "everything"}, key=admin), 400, "TM-ARG-1001")


def test_gc_all_counts_as_both(make_node):
    n = make_node(name="gcall")
    a = n.emergency_key()
    ok(n.req("POST", "/admin/v1/gc/trigger", {"type": "all"}, key=a))
    err(n.req("POST", "/admin/v1/gc/trigger", {"type": "memory"}, key=a), 429, "TM-ADMIN-4291")
    err(n.req("POST", "/admin/v1/gc/trigger", {"type": "expired_sessions"}, key=a), 429, "TM-ADMIN-4291")


def _audit(node, admin, **query):
    return ok(node.req("GET", "/admin/v1/audit/logs", key=admin, query=query))


def _wait_action(node, admin, action, pred=lambda r: True):
    def find():
        items = _audit(node, admin, action=action, size=500)["items"]
        hits = [r for r in items if r["action"] == action and pred(r)]
        return hits or None
    return wait_until(find, 10, interval=0.2, what=f"an audit record {action}")


def test_audit_logs_query(node, admin):
    k = node.create_key(admin, "validator", description="audited key")
    ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/status", {"status": "disabled"}, key=admin))
    ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/status", {"status": "active"}, key=admin))
    rot = ok(node.req("POST", f"/admin/v1/keys/{k.key_id}/rotate", {"grace_seconds": 0}, key=admin))
    mentions = lambda r: k.key_id in json.dumps(r)  # noqa: E731
    for action in ("KEY_CREATED", "KEY_DISABLED", "KEY_ENABLED", "KEY_ROTATED"):
        rec = _wait_action(node, admin, action, mentions)[0]
        assert rec["operator_id"] == admin.key_id
        assert rec["result"] == "SUCCESS"
        assert rec["id"].startswith("audit-")
        for field in ("timestamp", "node_id", "resource", "ip_address", "request_id"):
            assert field in rec, field
        assert rec["ip_address"] == "127.0.0.1"
    _wait_action(node, admin, "EMERGENCY_KEY_CREATED")
    _wait_action(node, admin, "GC_TRIGGERED")
    page = _audit(node, admin)
    assert page["pagination"]["page"] == 1 and page["pagination"]["size"] == 50
    stamps = [r["timestamp"] for r in page["items"]]
    assert stamps == sorted(stamps, reverse=True), "audit records are listed newest first"
    mine = _audit(node, admin, operator_id=admin.key_id, size=500)["items"]
    assert mine and all(r["operator_id"] == admin.key_id for r in mine)
    text = json.dumps(_audit(node, admin, size=500))
    assert rot["new_key_secret"] not in text and "tmas_" not in text and "$argon2" not in text
    assert "tmas_" not in node.audit_text()


def test_audit_failures_and_filters(node, admin, issuer):
    r = node.req("POST", "/admin/v1/keys", {"role": "root"}, key=admin)
    err(r, 400, "TM-ARG-1001")
    recs = _wait_action(node, admin, "KEY_CREATED", lambda rec: rec["result"] == "FAILURE")
    assert recs[0]["error_code"] == "TM-ARG-1001"
    failures = _audit(node, admin, result="FAILURE", size=500)["items"]
    assert failures and all(rec["result"] == "FAILURE" for rec in failures)
    # a role refusal is audited as ACCESS_DENIED
    err(node.req("POST", "/admin/v1/keys", {"role": "validator"}, key=issuer), 403, "TM-ADMIN-4030")
    _wait_action(node, admin, "ACCESS_DENIED", lambda rec: rec["operator_id"] == issuer.key_id)
    # time window
    assert _audit(node, admin, start_time=now_ms() + 60_000, end_time=now_ms() + 120_000)["items"] == []
    err(node.req("GET", "/admin/v1/audit/logs", key=admin, query={"size": 501}), 400, "TM-ARG-1001")
    err(node.req("GET", "/admin/v1/audit/logs", key=admin, query={"bogus": 1}), 400, "TM-ARG-1001")


def test_user_sessions_revoked_hides_user(node, admin, issuer):
    user = uid("private")
    node.create_session(issuer, user)
    assert ok(node.req("POST", f"/users/{user}/sessions/revoke", key=issuer))["revoked_count"] == 1
    recs = _wait_action(node, admin, "USER_SESSIONS_REVOKED")
    digest = hashlib.sha256(user.encode()).hexdigest()
    assert any(r["resource"] == f"user:sha256:{digest}" for r in recs), recs
    assert user not in node.audit_text()


def test_audit_query_extreme_times_refused(node, admin):
    for q in ("start_time=-9223372036854775808", "end_time=-9223372036854775808", "end_time=9223372036854775807"):
        err(node.req("GET", f"/admin/v1/audit/logs?{q}", key=admin), 400, "TM-ARG-1001")
    assert node.alive()
