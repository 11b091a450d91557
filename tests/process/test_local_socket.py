"""The local admin socket, emergency keys, shutdown and the audit file (spec/03 §9-§10, spec/04 §10)."""

import datetime
import json
import os
import re
import stat

from tmlib import (EMERGENCY_WARNING, KEY_ID_RE, SECRET_RE, err, now_ms, ok, wait_until)


def test_socket_exists_with_mode_0660(node):
    st = os.stat(node.socket_path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660, oct(stat.S_IMODE(st.st_mode))


def test_emergency_key_created(node):
    before = now_ms()
    r = node.local("POST", "/local/v1/emergency-keys")
    data = ok(r, 201)
    assert KEY_ID_RE.match(data["key_id"]), data["key_id"]
    assert SECRET_RE.match(data["key_secret"])
    assert before - 5000 <= data["created_at"] <= now_ms() + 5000
    assert data["warning"] == EMERGENCY_WARNING
    # the key is a working, never-expiring admin key over TCP
    cred = {"Authorization": f"Bearer {data['key_id']}:{data['key_secret']}"}
    ok(node.req("GET", "/admin/v1/status/summary", headers=cred))
    key = ok(node.req("GET", f"/admin/v1/keys/{data['key_id']}", headers=cred))
    assert key["role"] == "admin"
    assert key["expires_at"] == 0
    assert key["created_by"] == "LOCAL_ADMIN"
    assert key["description"] == "Emergency Admin Key"
    assert "key_secret" not in key and "secret_hash" not in key


def test_emergency_key_with_description(node):
    data = ok(node.local("POST", "/local/v1/emergency-keys", {"description": "break glass"}), 201)
    cred = {"Authorization": f"Bearer {data['key_id']}:{data['key_secret']}"}
    key = ok(node.req("GET", f"/admin/v1/keys/{data['key_id']}", headers=cred))
    assert key["description"] == "break glass"


def test_emergency_key_strict_json(node):
    err(node.local("POST", "/local/v1/emergency-keys", {"bogus": 1}), 400, "TM-SYS-4000")


def test_emergency_key_audited_without_secret(node):
    data = ok(node.local("POST", "/local/v1/emergency-keys", {"description": "audited"}), 201)
    rec = node.wait_audit(
        lambda r: r.get("action") == "EMERGENCY_KEY_CREATED" and data["key_id"] in json.dumps(r),
        what="EMERGENCY_KEY_CREATED record")
    assert rec["operator_id"] == "LOCAL_ADMIN"
    assert rec["result"] == "SUCCESS"
    assert rec["ip_address"] == "local"
    assert rec["id"].startswith("audit-")
    assert isinstance(rec["timestamp"], int)
    text = node.audit_text()
    assert data["key_secret"] not in text
    assert "tmas_" not in text
    assert "$argon2" not in text
    # file naming and mode (spec/03 §10, spec/11 §4)
    names = [f.name for f in node.audit_files()]
    assert names and all(re.fullmatch(r"audit-\d{4}-\d{2}-\d{2}\.jsonl", n) for n in names), names
    days = {datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=d) for d in (-60, 0)}
    assert any(f"audit-{d:%Y-%m-%d}.jsonl" in names for d in days), names
    for f in node.audit_files():
        assert stat.S_IMODE(os.stat(f).st_mode) == 0o600, f


def test_local_routes_not_on_tcp(node, admin):
    err(node.req("POST", "/local/v1/emergency-keys"), 404, "TM-SYS-4040")
    err(node.req("POST", "/local/v1/emergency-keys", key=admin), 404, "TM-SYS-4040")
    err(node.req("POST", "/local/v1/shutdown", {"grace_seconds": 0}, key=admin), 404, "TM-SYS-4040")
    assert node.alive()


def test_socket_serves_whole_router_without_credentials(node):
    data = ok(node.local("GET", "/admin/v1/status/summary"))
    assert "metrics" in data
    # credentials are ignored on the socket
    ok(node.local("GET", "/admin/v1/status/summary", headers={"Authorization": "Bearer bad:bad"}))
    s = ok(node.local("POST", "/sessions", {"user_id": "socket-user"}), 201)
    got = ok(node.local("GET", f"/sessions/{s['session_id']}"))
    assert got["created_by"] == "LOCAL_ADMIN"
    r = node.local("GET", "/health")
    assert ok(r)["status"] == "healthy"
    assert r.header("X-Request-ID")


def test_socket_only_get_post(node):
    r = node.local("PUT", "/local/v1/emergency-keys")
    err(r, 405, "TM-SYS-4050")
    assert "POST" in (r.header("Allow") or "")


def test_sigterm_exits_0_and_removes_socket(make_node):
    n = make_node(name="sigterm")
    sock = n.socket_path
    assert sock.exists()
    assert n.stop(timeout=30) == 0, n.log_tail()
    assert not sock.exists()


def test_local_shutdown_route(make_node):
    n = make_node(name="shutdown")
    data = ok(n.local("POST", "/local/v1/shutdown", {"grace_seconds": 0}), 202)
    assert data["status"] == "shutting_down"
    assert data["grace_seconds"] == 0
    wait_until(lambda: not n.alive(), 30, what="the node to exit after /local/v1/shutdown")
    assert n.proc.returncode == 0
    assert not n.socket_path.exists()
    rec = [r for r in n.audit_records() if r.get("action") == "NODE_SHUTDOWN"]
    assert rec and rec[0]["operator_id"] == "LOCAL_ADMIN", n.audit_records()


def test_local_shutdown_grace_out_of_range(node):
    err(node.local("POST", "/local/v1/shutdown", {"grace_seconds": 301}), 400, "TM-ARG-1001")
    assert node.alive()
