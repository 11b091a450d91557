"""Limits and strict request rules: data size, quota, strict JSON, methods, paging, body size,
revoke-by-user over 1000 (spec/01 §4, spec/04 §4)."""

import pytest

from tmlib import (err, fake_session_id, finish_node, ok, raw_exchange, start_node, uid)

MB = 1024 * 1024


def test_data_limits(node, issuer, validator):
    exact = {f"k{i}": "v" * 1022 for i in range(4)}  # 4 x (2 + 1022) = 4096 bytes
    s = node.create_session(issuer, data=exact)
    assert ok(node.req("GET", f"/sessions/{s['session_id']}", key=validator))["data"] == exact
    over = dict(exact, k4="x")  # 4096 + 3
    d = err(node.req("POST", "/sessions", {"user_id": uid(), "data": over}, key=issuer), 400, "TM-SESS-4001")
    assert d.get("field") is not None
    big = {f"key{i}": "x" * 1000 for i in range(5)}  # over 4 KB
    err(node.req("POST", "/sessions", {"user_id": uid(), "data": big}, key=issuer), 400, "TM-SESS-4001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "data": {"k": "v" * 1025}}, key=issuer), 400,
        "TM-SESS-4001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "data": {"k" * 65: "v"}}, key=issuer), 400, "TM-SESS-4001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "data": {"": "v"}}, key=issuer), 400, "TM-SESS-4001")
    err(node.req("POST", "/sessions", {"user_id": uid(), "data": {"k": 1}}, key=issuer), 400, "TM-SYS-4000")


def test_user_quota(node, issuer):
    user = uid()

    def create(conn, _i):
        r = conn.req("POST", "/sessions", {"user_id": user}, key=issuer)
        return r.status

    statuses = node.bulk(range(50), create, workers=4)
    assert statuses == [201] * 50
    r = node.req("POST", "/sessions", {"user_id": user}, key=issuer)
    d = err(r, 429, "TM-SESS-4002")
    assert r.header("Retry-After") is None
    assert d["limit"] == 50 and d["current"] == 50
    # other users are not affected
    node.create_session(issuer)


@pytest.mark.parametrize("body, field", [
    (b'{"user_id":"u-x","bogus":1}', "bogus"),
    (b'{"user_id":"u-x","user_id":"u-y"}', "user_id"),
    (b'{"user_id":5}', "user_id"),
    (b'{"user_id":"u-x","ttl_seconds":1.5}', "ttl_seconds"),
    (b'{"user_id":"u-x","ttl_seconds":"60"}', "ttl_seconds"),
    (b'{"user_id":"u-x","ttl_seconds":99999999999999999999999}', "ttl_seconds"),
    (b'{"user_id":"u-x"} {}', None),
    (b'{"user_id":"u-x"', None),
    (b'["u-x"]', None),
    (b'{"user_id":"u-x","data":[]}', "data"),
    (b'\xff\xfe{}', None),
])
def test_strict_json(node, issuer, body, field):
    d = err(node.req("POST", "/sessions", body, key=issuer), 400, "TM-SYS-4000")
    if field is not None:
        assert d.get("field") == field, d


def test_json_depth_limit(node, issuer):
    deep = b'{"user_id":"u-x","data":' + b'{"a":' * 40 + b'"v"' + b"}" * 40 + b"}"
    err(node.req("POST", "/sessions", deep, key=issuer), 400, "TM-SYS-4000")


def test_null_is_absent_and_empty_body_is_empty_object(node, issuer):
    ok(node.req("POST", "/sessions", {"user_id": uid(), "device_id": None, "data": None}, key=issuer), 201)
    err(node.req("POST", "/sessions", b"", key=issuer), 400, "TM-ARG-1002")
    err(node.req("POST", "/sessions", {"user_id": None}, key=issuer), 400, "TM-ARG-1002")


def test_content_type_not_checked(node, issuer):
    r = node.req("POST", "/sessions", {"user_id": uid()}, key=issuer,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    ok(r, 201)


def test_content_encoding_refused(node, issuer):
    err(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer, headers={"Content-Encoding": "gzip"}),
        400, "TM-SYS-4000")


def test_patch_405(node, issuer):
    s = node.create_session(issuer)
    r = node.req("PATCH", f"/sessions/{s['session_id']}", {"x": 1}, key=issuer)
    err(r, 405, "TM-SYS-4050")
    allow = [m.strip() for m in (r.header("Allow") or "").split(",")]
    assert "GET" in allow and "PATCH" not in allow, r.header("Allow")
    r = node.req("DELETE", "/sessions", key=issuer)
    err(r, 405, "TM-SYS-4050")
    allow = {m.strip() for m in (r.header("Allow") or "").split(",")}
    assert {"GET", "POST"} <= allow, r.header("Allow")
    err(node.req("PUT", "/tokens/validate", key=issuer), 405, "TM-SYS-4050")


def test_options_405_without_cors(node):
    r = node.req("OPTIONS", f"/sessions/{fake_session_id()}",
                 headers={"Origin": "https://example.com", "Access-Control-Request-Method": "GET"})
    err(r, 405, "TM-SYS-4050")
    assert not [h for h in r.headers.keys() if h.lower().startswith("access-control-")], dict(r.headers)
    r = node.req("GET", "/health", headers={"Origin": "https://example.com"})
    assert not [h for h in r.headers.keys() if h.lower().startswith("access-control-")], dict(r.headers)


def test_list_paging_limits(node, admin, issuer):
    d = err(node.req("GET", "/sessions", key=issuer, query={"user_id": "x", "size": 1000}), 400, "TM-ARG-1001")
    assert d.get("max") == 100, d
    err(node.req("GET", "/sessions", key=issuer, query={"user_id": "x", "size": 101}), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions", key=issuer, query={"user_id": "x", "size": 0}), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions", key=issuer, query={"user_id": "x", "page": 0}), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions", key=issuer, query={"user_id": "x", "page": "one"}), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions", key=admin, query={"userid": "x"}), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions?user_id=x&user_id=y", key=admin), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions", key=admin, query={"user_id": "x", "size": 1000}), 400, "TM-ARG-1001")
    data = ok(node.req("GET", "/sessions", key=issuer, query={"user_id": "x", "size": 100}))
    assert data["pagination"]["size"] == 100


def test_missing_session(node, validator):
    r = node.req("GET", f"/sessions/{fake_session_id()}", key=validator)
    err(r, 404, "TM-SESS-4040")
    assert r.json["request_id"] and r.header("X-Request-ID") == r.json["request_id"]


def _auth_header(key) -> bytes:
    return f"Authorization: Bearer {key.cred}\r\n".encode()


def test_body_too_large_content_length(node, issuer):
    size = 2 * MB
    head = (b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + _auth_header(issuer) + b"Content-Length: %d\r\n\r\n" % size)
    prefix, suffix = b'{"user_id":"u-big","data":{"k":"', b'"}}'
    body = prefix + b"x" * (size - len(prefix) - len(suffix)) + suffix
    assert len(body) == size
    r = raw_exchange(node.port, head, (body[i:i + 65536] for i in range(0, size, 65536)))
    err(r, 413, "TM-SYS-4130")
    # declared length is checked before authentication
    head = b"POST /sessions HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size
    err(raw_exchange(node.port, head, (body[i:i + 65536] for i in range(0, size, 65536))), 413, "TM-SYS-4130")


def test_body_too_large_chunked(node, issuer):
    head = (b"POST /sessions HTTP/1.1\r\nHost: x\r\n" + _auth_header(issuer)
            + b"Transfer-Encoding: chunked\r\n\r\n")
    piece = b"x" * 65536
    chunks = [b'{"user_id":"u-big","data":{"k":"'] + [piece] * 32 + [b'"}}']
    framed = (b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    r = raw_exchange(node.port, head, framed)
    err(r, 413, "TM-SYS-4130")


def test_chunked_body_accepted(node, issuer):
    head = (b"POST /sessions HTTP/1.1\r\nHost: x\r\n" + _auth_header(issuer)
            + b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    parts = [b'{"user_id":', b'"u-chunked-%s"}' % uid().encode()]
    framed = [b"%x\r\n%s\r\n" % (len(c), c) for c in parts] + [b"0\r\n\r\n"]
    ok(raw_exchange(node.port, head, framed), 201)


@pytest.fixture(scope="module")
def big_quota_node():
    n = start_node("bigquota", ["--session.quota.max_per_user=2000"])
    yield n
    finish_node(n)


def test_revoke_by_user_over_1000(big_quota_node):
    n = big_quota_node
    admin = n.emergency_key()
    issuer = n.create_key(admin, "issuer", rate_limit=1_000_000)
    validator = n.create_key(admin, "validator", rate_limit=1_000_000)
    n.warm(issuer)
    n.warm(validator)
    user = uid("many")

    def create(conn, _i):
        r = conn.req("POST", "/sessions", {"user_id": user}, key=issuer)
        assert r.status == 201, r
        return r.data

    sessions = n.bulk(range(1001), create, workers=6)
    r = n.req("POST", f"/users/{user}/sessions/revoke", key=issuer)
    d = err(r, 429, "TM-SESS-4002")
    assert d["limit"] == 1000 and d["found"] == 1001
    assert r.header("Retry-After") is None

    def validate(conn, s):
        return conn.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator).status

    statuses = n.bulk(sessions, validate, workers=6)
    assert statuses.count(200) == 1001, f"{statuses.count(200)} of 1001 still validate"
    # at 1000 held sessions revoke-by-user goes through
    ok(n.req("POST", f"/sessions/{sessions[0]['session_id']}/revoke", key=issuer))
    done = ok(n.req("POST", f"/users/{user}/sessions/revoke", key=issuer))
    assert done["revoked_count"] == 1000
    err(n.req("POST", "/tokens/validate", {"token": sessions[-1]["token"]}, key=validator), 401, "TM-TOKN-4012")
