"""SessionService through the Python `connectrpc` sync client (spec/06 §11.8, issue 4 acceptance 7).

Stubs are generated from proto/ at test time: `python -m grpc_tools.protoc --python_out` for the
google.protobuf messages and `--connectrpc_out` (protoc-gen-connectrpc, option `protobuf=google`,
`io=sync`) for the client. Every SessionService method is called over HTTP/1.1 Connect
(`http://127.0.0.1:<port>`, pyqwest pinned to HTTP/1) with the binary codec and gzip'd requests
(the client's defaults); GetSession and ListSessions, NO_SIDE_EFFECTS, go as GET (`use_get=True`),
which a recording transport checks along with the HTTP version. The JSON codec works too, and
errors come back as `ConnectError` with the right code and a `tokmesh.v1.ErrorDetail`."""

import shutil
import subprocess
import sys

import pytest

from tmlib import REPO

SERVICE = "tokmesh.v1.SessionService"


@pytest.fixture(scope="module")
def connect_stubs(tmp_path_factory):
    plugin = shutil.which("protoc-gen-connectrpc")
    assert plugin, "protoc-gen-connectrpc not found: run Scripts/bootstrap test (pip installs it from Scripts/requirements-test.txt)"
    out = tmp_path_factory.mktemp("connect-stubs")
    cmd = [sys.executable, "-m", "grpc_tools.protoc", "-I", str(REPO / "proto"), f"--plugin=protoc-gen-connectrpc={plugin}",
           f"--python_out={out}", f"--connectrpc_out={out}", "--connectrpc_opt=protobuf=google,io=sync",
           str(REPO / "proto/tokmesh/v1/session.proto")]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, f"grpc_tools.protoc exited {p.returncode}: {p.stderr}"
    assert (out / "tokmesh/v1/session_connect.py").exists(), sorted(str(f) for f in out.rglob("*"))
    sys.path.insert(0, str(out))
    yield out
    sys.path.remove(str(out))


class Recorder:
    """A pyqwest SyncTransport that records (method, path and query, HTTP version, status) of each call."""

    def __init__(self, inner):
        self.inner = inner
        self.calls = []

    def execute_sync(self, request):
        response = self.inner.execute_sync(request)
        self.calls.append((request.method, request.url, response.http_version, response.status))
        return response


@pytest.fixture
def connect(node, connect_stubs):
    """factory(**client options) -> (SessionServiceClientSync over HTTP/1.1, Recorder)."""
    from pyqwest import HTTPVersion, SyncClient, SyncHTTPTransport
    from tokmesh.v1.session_connect import SessionServiceClientSync

    made = []

    def factory(**options):
        recorder = Recorder(SyncHTTPTransport(http_version=HTTPVersion.HTTP1))
        client = SessionServiceClientSync(f"http://127.0.0.1:{node.port}", http_client=SyncClient(recorder), **options)
        made.append(client)
        return client, recorder

    yield factory
    for client in made:
        client.close()


def bearer(key):
    return {"authorization": f"Bearer {key.cred}"}


def test_connect_every_method_over_http1(connect, issuer, validator):
    from pyqwest import HTTPVersion
    from tokmesh.v1 import session_pb2 as pb

    client, recorder = connect()
    iss, val = bearer(issuer), bearer(validator)

    created = client.create_session(pb.CreateSessionRequest(user_id="connect-a", ttl_seconds=600, data={"k": "v"}), headers=iss)
    assert created.token.startswith("tmtk_") and len(created.token) == 48
    assert created.session_id.startswith("tmss-") and created.user_id == "connect-a"
    assert created.expires_at > created.created_at > 0

    got = client.get_session(pb.GetSessionRequest(session_id=created.session_id), headers=val, use_get=True)
    assert got.session.id == created.session_id and got.session.user_id == "connect-a"
    assert got.session.status == "active" and dict(got.session.data) == {"k": "v"}

    valid = client.validate_token(pb.ValidateTokenRequest(token=created.token, touch=True), headers=val)
    assert valid.valid and valid.session.id == created.session_id and not valid.error_code

    touched = client.touch_session(pb.TouchSessionRequest(session_id=created.session_id), headers=val)
    assert touched.session.id == created.session_id and touched.session.last_active > 0

    renewed = client.renew_session(pb.RenewSessionRequest(session_id=created.session_id, ttl_seconds=1200), headers=iss)
    assert renewed.session_id == created.session_id and renewed.new_expires_at > renewed.previous_expires_at
    assert renewed.version > created.version

    listed = client.list_sessions(pb.ListSessionsRequest(user_id="connect-a"), headers=iss, use_get=True)
    assert [s.id for s in listed.items] == [created.session_id] and listed.pagination.total == 1

    revoked = client.revoke_session(pb.RevokeSessionRequest(session_id=created.session_id), headers=iss)
    assert revoked.revoked and revoked.session_id == created.session_id and revoked.revoked_at > 0
    verdict = client.validate_token(pb.ValidateTokenRequest(token=created.token), headers=val)
    assert not verdict.valid and verdict.error_code == "TM-TOKN-4012" and verdict.revoked_at > 0

    for user in ("connect-b", "connect-b"):
        client.create_session(pb.CreateSessionRequest(user_id=user), headers=iss)
    revoked_user = client.revoke_user_sessions(pb.RevokeUserSessionsRequest(user_id="connect-b"), headers=iss)
    assert revoked_user.revoked_count == 2 and revoked_user.user_id == "connect-b"

    # Every call went over HTTP/1.1 and succeeded; the NO_SIDE_EFFECTS ones as GET with the message in the query.
    assert len(recorder.calls) == 11
    assert all(version == HTTPVersion.HTTP1 and status == 200 for _, _, version, status in recorder.calls), recorder.calls
    methods = {url.split("?")[0].rsplit("/", 1)[1]: method for method, url, _, _ in recorder.calls}
    assert methods == {"CreateSession": "POST", "GetSession": "GET", "ValidateToken": "POST", "TouchSession": "POST",
                       "RenewSession": "POST", "ListSessions": "GET", "RevokeSession": "POST", "RevokeUserSessions": "POST"}
    get_url = next(url for method, url, _, _ in recorder.calls if method == "GET")
    assert f"/{SERVICE}/GetSession?" in get_url and "encoding=proto" in get_url and "message=" in get_url, get_url
    assert "compression=gzip" in get_url, get_url  # the client's default: the query message is gzip'd too


def test_connect_json_codec_and_plain_requests(connect, issuer, validator):
    from connectrpc.compat import google_protobuf_json_codec
    from tokmesh.v1 import session_pb2 as pb

    client, recorder = connect(codec=google_protobuf_json_codec(), send_compression=None)
    created = client.create_session(pb.CreateSessionRequest(user_id="connect-json", device_id="d1"), headers=bearer(issuer))
    assert created.token.startswith("tmtk_")
    got = client.get_session(pb.GetSessionRequest(session_id=created.session_id), headers=bearer(validator), use_get=True)
    assert got.session.device_id == "d1" and got.session.created_at == created.created_at  # int64 as JSON strings
    assert client.validate_token(pb.ValidateTokenRequest(token=created.token), headers=bearer(validator)).valid
    get_url = recorder.calls[1][1]
    assert recorder.calls[1][0] == "GET" and "encoding=json" in get_url and "compression=gzip" not in get_url, get_url


def test_connect_errors_are_connect_errors(connect, issuer, validator):
    from connectrpc.code import Code
    from connectrpc.errors import ConnectError
    from tokmesh.v1 import session_pb2 as pb

    client, _ = connect()

    def failure(call, *args, **kwargs):
        with pytest.raises(ConnectError) as e:
            call(*args, **kwargs)
        details = [d for d in e.value.details if d.type_name == "tokmesh.v1.ErrorDetail"]
        assert details, f"{e.value.code}: {e.value.message} has no tokmesh.v1.ErrorDetail: {[d.type_name for d in e.value.details]}"
        return e.value.code, pb.ErrorDetail.FromString(details[0].message_bytes)

    code, detail = failure(client.validate_token, pb.ValidateTokenRequest(token="tmtk_x"))
    assert code == Code.UNAUTHENTICATED and detail.code == "TM-AUTH-4010", detail
    code, detail = failure(client.get_session, pb.GetSessionRequest(session_id="tmss-x"), use_get=True,
                           headers={"authorization": "Bearer tmak_nope:wrong"})
    assert code == Code.UNAUTHENTICATED and detail.code.startswith("TM-AUTH-401"), detail
    code, detail = failure(client.create_session, pb.CreateSessionRequest(user_id="x"), headers=bearer(validator))
    assert code == Code.PERMISSION_DENIED and detail.code == "TM-AUTH-4030", detail
    code, detail = failure(client.list_sessions, pb.ListSessionsRequest(), headers=bearer(issuer), use_get=True)
    assert code == Code.PERMISSION_DENIED and detail.code == "TM-AUTH-4030", detail
    code, detail = failure(client.get_session, pb.GetSessionRequest(session_id="tmss-nope"), headers=bearer(validator), use_get=True)
    assert code == Code.INVALID_ARGUMENT and detail.code == "TM-ARG-1001" and detail.details["field"] == '"session_id"', detail
    missing = "tmss-01m8e6q3gtv74wpeb5d0xfz0qy"
    code, detail = failure(client.get_session, pb.GetSessionRequest(session_id=missing), headers=bearer(validator), use_get=True)
    assert code == Code.NOT_FOUND and detail.code == "TM-SESS-4040" and detail.details["session_id"] == f'"{missing}"', detail
    code, detail = failure(client.create_session, pb.CreateSessionRequest(user_id=""), headers=bearer(issuer))
    assert code == Code.INVALID_ARGUMENT and detail.code == "TM-ARG-1002", detail
