"""Connect and gRPC on the public port (spec/06 §5, §11), checked with the real clients: grpcurl
(reflection v1/v1alpha over gRPC), buf curl (Connect over h2c and HTTP/1.1, reflection over
Connect), curl (Connect unary JSON, GET, protocol errors), and grpcio stubs generated from
proto/ at test time."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from tmlib import run_tool as run, REPO, wait_until

SERVICE = "tokmesh.v1.SessionService"




def tool(name):
    path = shutil.which(name)
    assert path, f"{name} not found: run Scripts/bootstrap test (pip installs it from Scripts/requirements-test.txt)"
    return path


def hostport(node):
    return f"127.0.0.1:{node.port}"


def test_grpcurl_list_and_describe(node):
    out = run([tool("grpcurl"), "-plaintext", hostport(node), "list"]).stdout.split()
    assert out == ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                   "grpc.reflection.v1alpha.ServerReflection", SERVICE]
    described = run([tool("grpcurl"), "-plaintext", hostport(node), "describe", SERVICE]).stdout
    rpcs = [line for line in described.splitlines() if line.strip().startswith("rpc ")]
    assert len(rpcs) == 8, described
    message = run([tool("grpcurl"), "-plaintext", hostport(node), "describe", "tokmesh.v1.Session"]).stdout
    assert "map<string, string> data = 12;" in message


def test_grpcurl_create_validate_revoke(node, issuer, validator):
    created = json.loads(run([tool("grpcurl"), "-plaintext", "-H", f"authorization: Bearer {issuer.cred}",
                              "-d", '{"userId":"grpc-a","data":{"k":"v"}}', hostport(node), f"{SERVICE}/CreateSession"]).stdout)
    token = created["token"]
    assert token.startswith("tmtk_") and len(token) == 48
    assert created["userId"] == "grpc-a" and created["sessionId"].startswith("tmss-")
    assert int(created["expiresAt"]) > int(created["createdAt"]) > 0  # int64 as JSON strings

    valid = json.loads(run([tool("grpcurl"), "-plaintext", "-H", f"authorization: Bearer {validator.cred}",
                            "-d", json.dumps({"token": token}), hostport(node), f"{SERVICE}/ValidateToken"]).stdout)
    assert valid["valid"] is True
    assert valid["session"]["id"] == created["sessionId"] and valid["session"]["data"] == {"k": "v"}

    anonymous = run([tool("grpcurl"), "-plaintext", "-d", json.dumps({"token": token}), hostport(node),
                     f"{SERVICE}/ValidateToken"], check=False)
    assert anonymous.returncode != 0
    assert "Unauthenticated" in anonymous.stderr and "TM-AUTH-4010" in anonymous.stderr, anonymous.stderr

    revoked = json.loads(run([tool("grpcurl"), "-plaintext", "-H", f"authorization: Bearer {issuer.cred}",
                              "-d", json.dumps({"sessionId": created["sessionId"]}), hostport(node),
                              f"{SERVICE}/RevokeSession"]).stdout)
    assert revoked["revoked"] is True
    verdict = json.loads(run([tool("grpcurl"), "-plaintext", "-H", f"authorization: Bearer {validator.cred}",
                              "-d", json.dumps({"token": token}), hostport(node), f"{SERVICE}/ValidateToken"]).stdout)
    assert verdict.get("valid", False) is False
    assert verdict["errorCode"] == "TM-TOKN-4012" and int(verdict["revokedAt"]) > 0


def test_grpcurl_errors_and_deadline(node, issuer):
    missing = run([tool("grpcurl"), "-plaintext", "-H", f"authorization: Bearer {issuer.cred}", "-d", '{"sessionId":"tmss-nope"}',
                   hostport(node), f"{SERVICE}/GetSession"], check=False)
    assert missing.returncode != 0 and ("NotFound" in missing.stderr or "InvalidArgument" in missing.stderr), missing.stderr
    # A 1 µs budget runs out before the dial completes, every time (1 ms once let a fast
    # loopback `list` finish); the server's own deadline handling is RPCChannelTests' job.
    late = run([tool("grpcurl"), "-plaintext", "-max-time", "0.000001", hostport(node), "list"], check=False)
    assert late.returncode != 0 and ("DeadlineExceeded" in late.stderr or "deadline" in late.stderr.lower()), late.stderr


def test_health_check_and_unknown(node):
    serving = json.loads(run([tool("grpcurl"), "-plaintext", "-d", '{"service":""}', hostport(node),
                              "grpc.health.v1.Health/Check"]).stdout)
    assert serving["status"] == "SERVING"
    named = json.loads(run([tool("grpcurl"), "-plaintext", "-d", json.dumps({"service": SERVICE}), hostport(node),
                            "grpc.health.v1.Health/Check"]).stdout)
    assert named["status"] == "SERVING"
    nope = run([tool("grpcurl"), "-plaintext", "-d", '{"service":"nope"}', hostport(node), "grpc.health.v1.Health/Check"], check=False)
    assert nope.returncode != 0 and "NotFound" in nope.stderr, nope.stderr


def test_buf_curl_connect_grpc_and_http1(node, issuer, validator):
    buf = tool("buf")
    created = json.loads(run([buf, "curl", "--http2-prior-knowledge", "-H", f"authorization: Bearer {issuer.cred}",
                              "-d", '{"userId":"buf-a"}', f"http://{hostport(node)}/{SERVICE}/CreateSession"]).stdout)
    token = created["token"]
    for extra in ([], ["--protocol", "grpc"], ["--reflect-protocol", "grpc-v1alpha"]):
        out = json.loads(run([buf, "curl", "--http2-prior-knowledge", *extra, "-H", f"authorization: Bearer {validator.cred}",
                              "-d", json.dumps({"token": token}), f"http://{hostport(node)}/{SERVICE}/ValidateToken"]).stdout)
        assert out["valid"] is True, extra
    services = run([buf, "curl", "--http2-prior-knowledge", "--list-services", f"http://{hostport(node)}"]).stdout.split()
    assert SERVICE in services and "grpc.health.v1.Health" in services
    # Connect unary over HTTP/1.1 with the schema from the proto files.
    out = json.loads(run([buf, "curl", "--schema", str(REPO / "proto"), "-H", f"authorization: Bearer {validator.cred}",
                          "-d", json.dumps({"token": token}), f"http://{hostport(node)}/{SERVICE}/ValidateToken"]).stdout)
    assert out["valid"] is True


def curl(*args):
    return run([tool("curl"), "-s", "-o", "-", "-w", "\n%{http_code}", *args])


def split(p):
    body, _, status = p.stdout.rpartition("\n")
    return int(status), body


def test_curl_connect_json_and_protocol_errors(node, issuer, validator):
    url = f"http://{hostport(node)}/{SERVICE}"
    status, body = split(curl("-H", "content-type: application/json", "-H", f"authorization: Bearer {issuer.cred}",
                              "-d", '{"user_id":"curl-a"}', f"{url}/CreateSession"))
    assert status == 200, body
    created = json.loads(body)
    status, body = split(curl("-H", "content-type: application/json", "-H", f"authorization: Bearer {validator.cred}",
                              "-d", json.dumps({"token": created["token"]}), f"{url}/ValidateToken"))
    assert status == 200 and json.loads(body)["valid"] is True, body

    status, body = split(curl("-H", "content-type: application/json", "-d", json.dumps({"token": created["token"]}), f"{url}/ValidateToken"))
    error = json.loads(body)
    assert status == 401 and error["code"] == "unauthenticated", body
    assert error["details"][0]["type"] == "tokmesh.v1.ErrorDetail"
    assert error["details"][0]["debug"]["code"] == "TM-AUTH-4010"

    message = json.dumps({"sessionId": created["sessionId"]})
    status, body = split(curl("-G", "-H", f"authorization: Bearer {validator.cred}", "--data-urlencode", "encoding=json",
                              "--data-urlencode", f"message={message}", f"{url}/GetSession"))
    assert status == 200 and json.loads(body)["session"]["userId"] == "curl-a", body

    status, _ = split(curl("-G", "--data-urlencode", "encoding=json", "--data-urlencode", "message={}", f"{url}/CreateSession"))
    assert status == 405
    status, _ = split(curl("-H", "content-type: text/plain", "-d", "x", f"{url}/ValidateToken"))
    assert status == 415
    status, _ = split(curl("--http1.1", "-H", "content-type: application/connect+proto", "--data-binary", "x",
                           f"http://{hostport(node)}/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"))
    assert status == 505
    status, body = split(curl("-H", "content-type: application/json", "-d", "{}", f"{url}/NoSuchMethod"))
    assert status == 501 and json.loads(body)["code"] == "unimplemented"
    # The JSON API still answers on the same port, over HTTP/1.1 and h2c.
    for flag in ("--http1.1", "--http2-prior-knowledge"):
        status, body = split(curl(flag, f"http://{hostport(node)}/health"))
        assert status == 200 and json.loads(body)["data"]["status"] == "healthy"


def test_grpc_trailers_only_without_key(node, tmp_path):
    hc = tmp_path / "hc.bin"
    hc.write_bytes(b"\x00\x00\x00\x00\x00")
    p = run([tool("curl"), "-s", "-v", "--http2-prior-knowledge", "-H", "content-type: application/grpc", "--data-binary", f"@{hc}",
             f"http://{hostport(node)}/{SERVICE}/ValidateToken"])
    assert "grpc-status: 16" in p.stderr, p.stderr
    assert "x-error-code: TM-AUTH-4010" in p.stderr


@pytest.fixture(scope="module")
def stubs(tmp_path_factory):
    out = tmp_path_factory.mktemp("stubs")
    run([sys.executable, "-m", "grpc_tools.protoc", "-I", str(REPO / "proto"), f"--python_out={out}", f"--grpc_python_out={out}",
         str(REPO / "proto/tokmesh/v1/session.proto")])
    sys.path.insert(0, str(out))
    yield out
    sys.path.remove(str(out))


def test_grpcio_every_method_and_limits(node, issuer, validator, stubs):
    import grpc
    from tokmesh.v1 import session_pb2 as pb, session_pb2_grpc as pbg

    with grpc.insecure_channel(hostport(node)) as channel:
        stub = pbg.SessionServiceStub(channel)
        iss = [("authorization", f"Bearer {issuer.cred}")]
        val = [("authorization", f"Bearer {validator.cred}")]
        created = stub.CreateSession(pb.CreateSessionRequest(user_id="grpcio-a", ttl_seconds=600), metadata=iss)
        assert created.token.startswith("tmtk_")
        got = stub.GetSession(pb.GetSessionRequest(session_id=created.session_id), metadata=val)
        assert got.session.user_id == "grpcio-a" and got.session.status == "active"
        assert stub.ValidateToken(pb.ValidateTokenRequest(token=created.token, touch=True), metadata=val).valid
        assert stub.TouchSession(pb.TouchSessionRequest(session_id=created.session_id), metadata=val).session.id == created.session_id
        renewed = stub.RenewSession(pb.RenewSessionRequest(session_id=created.session_id, ttl_seconds=1200), metadata=iss)
        assert renewed.new_expires_at > renewed.previous_expires_at
        listed = stub.ListSessions(pb.ListSessionsRequest(user_id="grpcio-a"), metadata=iss)
        assert [s.id for s in listed.items] == [created.session_id] and listed.pagination.total == 1
        assert stub.RevokeSession(pb.RevokeSessionRequest(session_id=created.session_id), metadata=iss).revoked
        stub.CreateSession(pb.CreateSessionRequest(user_id="grpcio-b"), metadata=iss)
        assert stub.RevokeUserSessions(pb.RevokeUserSessionsRequest(user_id="grpcio-b"), metadata=iss).revoked_count == 1

        with pytest.raises(grpc.RpcError) as e:
            stub.CreateSession(pb.CreateSessionRequest(user_id="x", data={"k": "v" * (5 << 20)}), metadata=iss)
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        with pytest.raises(grpc.RpcError) as e:
            stub.ListSessions(pb.ListSessionsRequest(), metadata=iss)
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert dict(e.value.trailing_metadata()).get("x-error-code") == "TM-AUTH-4030"


def test_health_watch_stream(node):
    import grpc

    identity = lambda b: b  # noqa: E731 - raw protobuf bytes: HealthCheckRequest{service}, HealthCheckResponse{status}
    with grpc.insecure_channel(hostport(node)) as channel:
        watch = channel.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=identity, response_deserializer=identity)
        stream = watch(b"")
        assert next(stream) == b"\x08\x01"  # SERVING
        stream.cancel()
        unknown = watch(b"\x0a\x04nope")
        assert next(unknown) == b"\x08\x03"  # SERVICE_UNKNOWN, stream kept open
        unknown.cancel()


def test_gzip_both_directions(node, issuer, admin, stubs):
    import grpc
    from tokmesh.v1 import session_pb2 as pb, session_pb2_grpc as pbg

    iss = [("authorization", f"Bearer {issuer.cred}")]
    with grpc.insecure_channel(hostport(node), compression=grpc.Compression.Gzip) as channel:
        stub = pbg.SessionServiceStub(channel)
        for i in range(100):
            stub.CreateSession(pb.CreateSessionRequest(user_id=f"gzip-u{i}", device_id="gzip-dev", data={"pad": "p" * 50}), metadata=iss)
        listed = stub.ListSessions(pb.ListSessionsRequest(device_id="gzip-dev", size=100),
                                   metadata=[("authorization", f"Bearer {admin.cred}")])
        assert len(listed.items) == 100
    # The same 100-item reply over Connect: gzip'd when the client accepts it.
    body = json.dumps({"deviceId": "gzip-dev", "size": 100})
    p = run([tool("curl"), "-s", "-D", "-", "-o", "/dev/null", "-H", "content-type: application/json", "-H", "accept-encoding: gzip",
             "-H", f"authorization: Bearer {admin.cred}", "-d", body, f"http://{hostport(node)}/{SERVICE}/ListSessions"])
    assert "content-encoding: gzip" in p.stdout.lower(), p.stdout
    p = run([tool("curl"), "-s", "--compressed", "-H", "content-type: application/json", "-H", f"authorization: Bearer {admin.cred}",
             "-d", body, f"http://{hostport(node)}/{SERVICE}/ListSessions"])
    assert len(json.loads(p.stdout)["items"]) == 100
    # gRPC replies are gzip'd for a client that accepts gzip: grpc-encoding on the response head.
    msg = bytes([0x12, len("gzip-dev")]) + b"gzip-dev" + bytes([0x60, 100])
    frame = b"\x00" + len(msg).to_bytes(4, "big") + msg
    path = Path(stubs) / "list.bin"
    path.write_bytes(frame)
    p = run([tool("curl"), "-s", "-v", "-o", "/dev/null", "--http2-prior-knowledge", "-H", "content-type: application/grpc",
             "-H", "grpc-accept-encoding: gzip", "-H", f"authorization: Bearer {admin.cred}", "--data-binary", f"@{path}",
             f"http://{hostport(node)}/{SERVICE}/ListSessions"])
    assert "grpc-encoding: gzip" in p.stderr and "grpc-status: 0" in p.stderr, p.stderr


def test_cancelled_streams_free_their_handlers(node, admin):
    """10k Watch streams cancelled mid-stream by the client: every handler is released (the open
    HTTP/2 stream count returns to 0) and memory stays bounded."""
    import grpc

    from tmlib import wait_until

    def summary():
        return node.req("GET", "/admin/v1/status/summary", key=admin).json["data"]["metrics"]

    identity = lambda b: b  # noqa: E731
    rss_before = summary()["memory_usage_mb"]
    # 500 cancels per connection: more in a burst would trip nghttp2's rapid-reset guard (a
    # burst of 1000 RST_STREAMs, then 33/s), which closes the connection by design.
    for _ in range(20):
        # A local subchannel pool: grpcio would otherwise share one connection between channels.
        with grpc.insecure_channel(hostport(node), options=[("grpc.use_local_subchannel_pool", 1)]) as channel:
            watch = channel.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=identity, response_deserializer=identity)
            for _ in range(10):
                streams = [watch(b"") for _ in range(50)]
                for s in streams:
                    assert next(s) == b"\x08\x01"
                for s in streams:
                    s.cancel()
    wait_until(lambda: summary()["http2_streams"] == 0, 10, what="every cancelled stream to be released")
    assert summary()["memory_usage_mb"] < rss_before + 64


def test_health_watch_reports_not_serving_on_sigterm(make_node):
    import signal

    import grpc

    node = make_node(["--server.shutdown.grace_period=2s"], name="rpc-stop")
    identity = lambda b: b  # noqa: E731
    with grpc.insecure_channel(hostport(node)) as channel:
        watch = channel.unary_stream("/grpc.health.v1.Health/Watch", request_serializer=identity, response_deserializer=identity)
        stream = watch(b"", timeout=20)
        assert next(stream) == b"\x08\x01"  # SERVING
        node.proc.send_signal(signal.SIGTERM)
        assert next(stream) == b"\x08\x02"  # NOT_SERVING, while the process still serves its grace period
        assert node.proc.poll() is None
        stream.cancel()


def test_fuzz_findings_stay_fixed(node, issuer, tmp_path):
    """Regressions found by Scripts/fuzz proto: a bad connect-timeout-ms is refused before the
    method runs; a huge echoed name cannot block a gRPC answer; a large data map is not quadratic."""
    import time

    import grpc

    url = f"http://{hostport(node)}/{SERVICE}"
    status, _ = split(curl("-H", "content-type: application/json", "-H", "connect-timeout-ms: x", "-H", f"authorization: Bearer {issuer.cred}",
                           "-d", '{"userId":"fuzz-timeout"}', f"{url}/CreateSession"))
    assert status == 400
    status, body = split(curl("-H", "content-type: application/json", "-H", f"authorization: Bearer {issuer.cred}",
                              "-d", '{"userId":"fuzz-timeout"}', f"{url}/ListSessions"))
    assert status == 200 and json.loads(body).get("items", []) == [], body  # the refused call created nothing

    identity = lambda b: b  # noqa: E731
    name = b"%" * 30000
    request = b"\x0a" + bytes([(len(name) & 0x7F) | 0x80, (len(name) >> 7) & 0x7F, len(name) >> 14]) + name
    with grpc.insecure_channel(hostport(node)) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check", request_serializer=identity, response_deserializer=identity)
        with pytest.raises(grpc.RpcError) as e:
            check(request, timeout=5)
        assert e.value.code() == grpc.StatusCode.NOT_FOUND and len(e.value.details()) < 2048

    big = tmp_path / "big.json"
    big.write_text(json.dumps({"userId": "u", "data": {f"k{i}": "v" for i in range(20000)}}))
    started = time.monotonic()
    status, _ = split(curl("-H", "content-type: application/json", "--data-binary", f"@{big}", f"{url}/CreateSession"))
    assert status == 401 and time.monotonic() - started < 5
