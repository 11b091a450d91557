"""/health, /ready, the envelope, request IDs and HTTP/1.1 basics (spec/04 §1-§4, §9)."""

import signal
import socket
import time

from tmlib import REQUEST_ID_RE, err, now_ms, ok, read_responses, wait_until


def test_health_envelope_and_headers(node):
    r = node.req("GET", "/health")
    data = ok(r)
    assert data["status"] == "healthy"
    assert isinstance(data["timestamp"], int) and abs(data["timestamp"] - now_ms()) < 60_000
    assert set(r.json) == {"code", "message", "request_id", "timestamp", "data"}
    assert r.json["message"]
    assert REQUEST_ID_RE.match(r.header("X-Request-ID")), r.header("X-Request-ID")
    assert r.header("Cache-Control") == "no-store"
    assert r.header("X-Content-Type-Options") == "nosniff"
    assert "json" in (r.header("Content-Type") or "")


def test_ready(node):
    data = ok(node.req("GET", "/ready"))
    assert data["status"] == "ready"
    assert isinstance(data.get("checks"), dict) and data["checks"]["lifecycle"] == "running"


def test_ready_reports_shutting_down_during_the_grace_period(make_node):
    # spec/11 §6 step 1: /ready turns 503 with lifecycle=shutting_down; everything is still served.
    n = make_node(["--server.shutdown.grace_period=3s"], name="grace")
    n.proc.send_signal(signal.SIGTERM)
    r = wait_until(lambda: (lambda r: r if r.status == 503 else None)(n.req("GET", "/ready")), 5, what="/ready 503")
    assert r.code == "TM-SYS-5030" and r.details["checks"]["lifecycle"] == "shutting_down"
    assert ok(n.req("GET", "/health"))["status"] == "healthy"
    wait_until(lambda: not n.alive(), 30, what="the node to exit")
    assert n.proc.returncode == 0


def test_health_ignores_credentials(node):
    r = node.req("GET", "/health", headers={"Authorization": "Bearer junk:junk"})
    assert ok(r)["status"] == "healthy"


def test_request_id_kept(node):
    r = node.req("GET", "/ready", headers={"X-Request-ID": "abc.1"})
    ok(r)
    assert r.header("X-Request-ID") == "abc.1"
    assert r.json["request_id"] == "abc.1"
    longest = "A-z.0:_" * 18 + "xy"  # 128 chars of [A-Za-z0-9._:-]
    assert len(longest) == 128
    r = node.req("GET", "/health", headers={"X-Request-ID": longest})
    assert r.json["request_id"] == longest


def test_bad_request_id_replaced(node):
    for bad in ("has space", "x" * 129, "semi;colon", "slash/no"):
        r = node.req("GET", "/health", headers={"X-Request-ID": bad})
        assert r.status == 200
        rid = r.json["request_id"]
        assert REQUEST_ID_RE.match(rid), (bad, rid)
        assert r.header("X-Request-ID") == rid


def test_request_ids_unique(node):
    ids = {node.req("GET", "/health").json["request_id"] for _ in range(20)}
    assert len(ids) == 20


def test_unknown_path_404(node):
    r = node.req("GET", "/no/such/route")
    details = err(r, 404, "TM-SYS-4040")
    assert isinstance(details, dict)
    assert set(r.json) == {"code", "message", "request_id", "timestamp", "details"}
    assert r.header("Cache-Control") == "no-store"
    # exact match: no trailing-slash or case redirects
    err(node.req("GET", "/health/"), 404, "TM-SYS-4040")
    err(node.req("GET", "/HEALTH"), 404, "TM-SYS-4040")


def test_head_health(node):
    r = node.req("HEAD", "/health")
    assert r.status == 200
    assert r.raw == b""
    assert r.header("X-Request-ID")


def test_other_method_on_health_405(node):
    r = node.req("DELETE", "/health")
    err(r, 405, "TM-SYS-4050")
    allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
    assert "GET" in allow, r.header("Allow")


def test_keep_alive(node):
    c = node.conn()
    try:
        c.connect()
        sock = c._c.sock
        for _ in range(5):
            assert c.req("GET", "/health").status == 200
        assert c._c is not None and c._c.sock is sock, "connection was not kept alive"
    finally:
        c.close()


def test_pipelined_requests_answered_in_order(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        reqs = b"".join(
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: pipe-%d\r\n\r\n" % i for i in range(3))
        s.sendall(reqs)
        resps = read_responses(s, 3)
    assert [r.status for r in resps] == [200, 200, 200]
    assert [r.header("X-Request-ID") for r in resps] == ["pipe-0", "pipe-1", "pipe-2"]


def test_connection_close_honoured(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        else:
            raise AssertionError("server kept the connection open after Connection: close")
    assert data.startswith(b"HTTP/1.1 200")


def test_http10_accepted(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    assert data.split(b" ")[1] == b"200", data[:200]


def test_malformed_http_400(node):
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(b"GARBAGE\r\n\r\n")
        resps = read_responses(s, 1)
    assert resps[0].status == 400
    assert resps[0].header("X-Error-Code") == "TM-SYS-4000"


def test_pipelined_behind_off_loop_work_answered_in_order(node, admin):
    """A request that needs Argon2 (a key create runs off the event loop) followed by pipelined
    quick ones: the answers still come back in request order."""
    body = b'{"role":"metrics"}'
    create = (b"POST /admin/v1/keys HTTP/1.1\r\nHost: x\r\nX-Request-ID: pipe-slow\r\n"
              b"Authorization: Bearer " + f"{admin.key_id}:{admin.secret}".encode() + b"\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    quick = b"".join(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: pipe-q%d\r\n\r\n" % i for i in range(2))
    with socket.create_connection(("127.0.0.1", node.port), timeout=10) as s:
        s.sendall(create + quick)
        resps = read_responses(s, 3)
    assert [r.status for r in resps] == [201, 200, 200]
    assert [r.header("X-Request-ID") for r in resps] == ["pipe-slow", "pipe-q0", "pipe-q1"]
