"""Tracing (spec/10 §5, §8 acceptance 6; issue 7 item 5): with tracing on and a local OTLP/HTTP
receiver, a request carrying `traceparent: 00-<t>-<s>-01` produces a server span with trace id
<t>, parent <s> and the attributes of §5, and internal child spans; the JSON API, Connect and
RESP are covered; `-00` (not sampled) produces nothing; with tracing off the receiver gets
nothing; no span carries a token or secret. Tracing on without an endpoint is TM-CFG-1006."""

import http.server
import secrets
import subprocess
import threading
import time

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest, ExportTraceServiceResponse

from tmlib import Node, free_port, ok, wait_until


class Receiver:
    """An OTLP/HTTP collector stub that keeps every span it is sent."""

    def __init__(self):
        self.spans = []
        self.bodies = []
        self.resources = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                assert self.path == "/v1/traces" and self.headers["Content-Type"] == "application/x-protobuf"
                request = ExportTraceServiceRequest.FromString(body)
                receiver.bodies.append(body)
                for rs in request.resource_spans:
                    receiver.resources.append({a.key: a.value.string_value for a in rs.resource.attributes})
                    for ss in rs.scope_spans:
                        receiver.spans.extend(ss.spans)
                reply = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trace(self, trace_hex):
        return [s for s in self.spans if s.trace_id.hex() == trace_hex]

    def close(self):
        self.server.shutdown()


def attrs(span):
    out = {}
    for a in span.attributes:
        v = a.value
        out[a.key] = v.string_value if v.HasField("string_value") else v.int_value if v.HasField("int_value") else v.bool_value
    return out


@pytest.fixture
def receivers():
    made = [Receiver(), Receiver()]
    yield made
    for r in made:
        r.close()


def test_spans_exported(make_node, receivers):
    on, off = receivers
    n = make_node(["--telemetry.tracing.enabled=true", f"--telemetry.tracing.endpoint={on.url}",
                   "--telemetry.tracing.sampling_ratio=0"], name="tracing")
    quiet = make_node(["--telemetry.tracing.enabled=false", f"--telemetry.tracing.endpoint={off.url}"], name="tracing-off")
    admin = n.emergency_key()
    issuer = n.create_key(admin, "issuer")
    validator = n.create_key(admin, "validator")
    session = ok(n.req("POST", "/sessions", {"user_id": "trace-user"}, key=issuer), 201)

    t, s = secrets.token_hex(16), secrets.token_hex(8)
    r = n.req("POST", "/tokens/validate", {"token": session["token"]}, key=validator, headers={"traceparent": f"00-{t}-{s}-01"})
    ok(r)
    unsampled = secrets.token_hex(16)
    ok(n.req("POST", "/tokens/validate", {"token": session["token"]}, key=validator,
             headers={"traceparent": f"00-{unsampled}-{secrets.token_hex(8)}-00"}))
    rpc_trace = secrets.token_hex(16)
    rpc = n.req("POST", "/tokmesh.v1.SessionService/ValidateToken", {"token": session["token"]}, key=validator,
                headers={"traceparent": f"00-{rpc_trace}-{secrets.token_hex(8)}-01", "Content-Type": "application/json"})
    assert rpc.status == 200, rpc
    quiet_admin = quiet.emergency_key()
    quiet.req("GET", "/admin/v1/status/summary", key=quiet_admin, headers={"traceparent": f"00-{t}-{s}-01"})
    sent = time.monotonic()

    spans = wait_until(lambda: len(on.trace(t)) >= 3 and on.trace(rpc_trace) and on.trace(t), 15, interval=0.2,
                       what="the spans of the sampled requests")
    spans = on.trace(t)
    server = [x for x in spans if x.name == "POST /tokens/validate"]
    assert len(server) == 1, [x.name for x in spans]
    server = server[0]
    assert server.parent_span_id.hex() == s and server.kind == 2  # SPAN_KIND_SERVER
    a = attrs(server)
    assert a["http.request.method"] == "POST" and a["http.route"] == "/tokens/validate" and a["http.response.status_code"] == 200
    assert a["tokmesh.request_id"] == r.header("X-Request-ID") and a["tokmesh.api_key_id"] == validator.key_id
    assert a["network.protocol.version"] == "1.1" and a["client.address"] == "127.0.0.1"
    children = {x.name: x for x in spans if x.parent_span_id == server.span_id}
    assert set(children) >= {"auth.verify", "token.validate"}, list(children)
    assert attrs(children["token.validate"])["tokmesh.token.valid"] is True
    assert children["token.validate"].kind == 1  # SPAN_KIND_INTERNAL
    assert server.start_time_unix_nano <= children["token.validate"].start_time_unix_nano <= server.end_time_unix_nano

    rpc_span = [x for x in on.trace(rpc_trace) if x.name == "tokmesh.v1.SessionService/ValidateToken"]
    assert rpc_span, [x.name for x in on.trace(rpc_trace)]
    ra = attrs(rpc_span[0])
    assert ra["rpc.system"] == "connect_rpc" and ra["rpc.service"] == "tokmesh.v1.SessionService" and ra["rpc.method"] == "ValidateToken"

    resource = on.resources[0]
    assert resource["service.name"] == "tokmesh-server" and resource["service.instance.id"].startswith("tmnd-")

    # not sampled: nothing; tracing off: nothing; never a token or secret
    assert on.trace(unsampled) == []
    while time.monotonic() - sent < 6:
        time.sleep(0.2)
    assert off.spans == [] and off.bodies == []
    for body in on.bodies:
        for secret in (session["token"], validator.secret, issuer.secret, admin.secret):
            assert secret.encode() not in body


def test_resp_commands_are_root_spans(make_node, receivers):
    on, _ = receivers
    n = make_node(["--telemetry.tracing.enabled=true", f"--telemetry.tracing.endpoint={on.url}",
                   "--telemetry.tracing.sampling_ratio=1", "--server.redis.enabled=true",
                   f"--server.redis.address=127.0.0.1:{free_port()}"], name="tracing-resp")
    admin = n.emergency_key()
    validator = n.create_key(admin, "validator")
    port = int([a for a in n.args if a.startswith("--server.redis.address=")][0].rsplit(":", 1)[1])
    out = subprocess.run(["redis-cli", "-p", str(port), "--no-auth-warning", "AUTH", validator.key_id, validator.secret],
                         capture_output=True, text=True, timeout=10).stdout
    assert "OK" in out
    script = f"AUTH {validator.key_id} {validator.secret}\nTM.VALIDATE tmtk_{'A' * 43}\n"
    subprocess.run(["redis-cli", "-p", str(port)], input=script, capture_output=True, text=True, timeout=10)
    span = wait_until(lambda: [x for x in on.spans if x.name == "TM.VALIDATE"], 15, interval=0.2, what="a TM.VALIDATE span")[0]
    a = attrs(span)
    assert span.parent_span_id == b"" and a["tokmesh.resp.command"] == "TM.VALIDATE"
    assert a["tokmesh.error_code"] == "TM-TOKN-4010" and a["tokmesh.api_key_id"] == validator.key_id
    for body in on.bodies:
        assert validator.secret.encode() not in body


def test_tracing_needs_an_endpoint(tmp_path):
    node = Node([], name="tracing-config")
    node.port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text("telemetry:\n  tracing:\n    enabled: true\n")
    p = subprocess.run(node.command() + ["--check-config", str(cfg)], capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}, cwd=tmp_path)
    assert p.returncode == 78 and "[TM-CFG-1006] telemetry.tracing.endpoint:" in p.stdout + p.stderr, p.stdout + p.stderr
