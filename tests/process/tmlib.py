"""Helpers for the black-box process tests of tokmesh-server.

A `Node` is one real `tokmesh-server` process on an ephemeral loopback port with a fresh
temporary data directory. Every request helper returns a `Resp`, which unpacks as
`(status, headers, body)`; `body` is the parsed JSON object when the answer is JSON, else the
raw bytes. Standard library only (plus pytest in the test files).
"""

from __future__ import annotations

import base64
import glob
import http.client
import io
import json
import os
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable

REPO = Path(__file__).resolve().parents[2]
DEFAULT_BIN = ".build/debug/tokmesh-server"

# Formats from spec/01 §1.
CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"
SESSION_ID_RE = re.compile(r"^tmss-[0-7][0-9abcdefghjkmnpqrstvwxyz]{25}$")
KEY_ID_RE = re.compile(r"^tmak-[0-7][0-9abcdefghjkmnpqrstvwxyz]{25}$")
TOKEN_RE = re.compile(r"^tmtk_[A-Za-z0-9_-]{43}$")
SECRET_RE = re.compile(r"^tmas_[0-9A-Za-z]{43}$")
REQUEST_ID_RE = re.compile(r"^req-[0-9abcdefghjkmnpqrstvwxyz]{16}$")
NODE_ID_RE = re.compile(r"^tmnd-[a-z0-9][a-z0-9-]{0,58}[a-z0-9]$")

EMERGENCY_WARNING = (
    "This key was created via emergency channel. Please rotate it after normal access is restored."
)
LONG_KEY_WARNING = (
    "Security Warning: This key is valid for more than 1 year. "
    "Please consider a shorter rotation cycle."
)

SESSION_FIELDS = {
    "id", "user_id", "device_id", "ip_address", "user_agent", "last_access_ip",
    "last_access_ua", "created_by", "created_at", "expires_at", "last_active", "version",
    "data", "status",
}
KEY_FIELDS = {
    "key_id", "role", "status", "description", "allowedlist", "rate_limit", "expires_at",
    "created_at", "created_by", "last_used_at", "grace_period_end", "version",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def uid(prefix: str = "u") -> str:
    """A unique user/device id for one test."""
    return f"{prefix}-{secrets.token_hex(6)}"


def fake_session_id() -> str:
    """A well-formed session id that no server generated."""
    return "tmss-0" + "".join(secrets.choice(CROCKFORD) for _ in range(25))


def client_token() -> str:
    """A client-supplied token: printable ASCII, 16..1024 chars, no tmtk_ prefix."""
    return "client." + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode()


def well_formed_unknown_token() -> str:
    return "tmtk_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def run_tool(cmd, check=True, timeout=30, input=None):
    """Runs a client tool (grpcurl, buf, curl, openssl…) and returns the CompletedProcess (text);
    with `check`, a non-zero exit fails the test with both outputs. Without `input`, stdin is empty."""
    p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=timeout, input=input if input is not None else "")
    if check and p.returncode != 0:
        raise AssertionError(f"{cmd[0]} exited {p.returncode}\nstdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def wait_until(pred: Callable[[], Any], timeout: float, interval: float = 0.05, what: str = "condition"):
    """Poll `pred` until it returns a truthy value; return it, or raise after `timeout` s."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = pred()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------------------------
# Responses and envelope assertions


class Resp:
    """One HTTP answer. Unpacks as (status, headers, body)."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, raw: bytes, elapsed: float):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.elapsed = elapsed
        self.body: Any = raw
        ctype = headers.get("Content-Type", "") or ""
        if raw and ("json" in ctype or raw[:1] == b"{"):
            try:
                self.body = json.loads(raw)
            except ValueError:
                self.body = raw

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    @property
    def json(self) -> dict:
        assert isinstance(self.body, dict), f"not a JSON object: {self!r}"
        return self.body

    @property
    def code(self):
        return self.body.get("code") if isinstance(self.body, dict) else None

    @property
    def data(self) -> dict:
        return self.json["data"]

    @property
    def details(self) -> dict:
        return self.json["details"]

    def header(self, name: str):
        return self.headers.get(name)

    def __repr__(self) -> str:
        text = self.raw[:600].decode("utf-8", "replace")
        return f"<Resp {self.status} {text}>"


def _check_common(resp: Resp):
    body = resp.json
    for field in ("code", "message", "request_id", "timestamp"):
        assert field in body, f"envelope lacks {field}: {resp!r}"
    assert isinstance(body["message"], str) and body["message"], resp
    assert isinstance(body["request_id"], str) and body["request_id"], resp
    assert isinstance(body["timestamp"], int) and abs(body["timestamp"] - now_ms()) < 120_000, resp
    assert resp.header("X-Request-ID") == body["request_id"], resp
    assert "\n" not in body["message"]
    for secret_marker in ("tmas_", "tmtk_", "tmth_", "$argon2"):
        assert secret_marker not in body["message"], resp


def ok(resp: Resp, status: int = 200) -> dict:
    """Assert a success envelope with `status`; return `data`."""
    assert resp.status == status, f"expected {status}, got {resp!r}"
    _check_common(resp)
    body = resp.json
    assert body["code"] == "OK", resp
    assert "details" not in body, resp
    assert isinstance(body.get("data"), dict), resp
    assert resp.header("X-Error-Code") is None, resp
    return body["data"]


def err(resp: Resp, status: int, code: str) -> dict:
    """Assert an error envelope with `status` and `code` (body and X-Error-Code); return details."""
    assert resp.status == status and resp.code == code, f"expected {status} {code}, got {resp!r}"
    _check_common(resp)
    body = resp.json
    assert resp.header("X-Error-Code") == code, resp
    assert "data" not in body, resp
    assert isinstance(body.get("details"), dict), resp
    return body["details"]


# --------------------------------------------------------------------------------------------
# Keys


class Key:
    """An API key as returned by create/emergency create: id, secret, and the full data."""

    def __init__(self, key_id: str, secret: str, data: dict | None = None):
        self.key_id = key_id
        self.secret = secret
        self.data = data or {}

    @property
    def cred(self) -> str:
        return f"{self.key_id}:{self.secret}"

    @property
    def role(self):
        return self.data.get("role")

    def with_secret(self, secret: str) -> "Key":
        return Key(self.key_id, secret, self.data)

    def __repr__(self) -> str:  # never print the secret
        return f"<Key {self.key_id} {self.role}>"


def cred_of(key) -> str:
    if isinstance(key, Key):
        return key.cred
    return str(key)


def wrong_secret() -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "tmas_" + "".join(secrets.choice(alphabet) for _ in range(43))


# --------------------------------------------------------------------------------------------
# Connections


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP/1.1 over an AF_UNIX stream socket (the local admin channel)."""

    def __init__(self, path: str, timeout: float = 30):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.unix_path)
        self.sock = sock


def _encode_body(body) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray)):
        return bytes(body)
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":")).encode()


def with_query(path: str, query: dict | None) -> str:
    if not query:
        return path
    return path + "?" + urllib.parse.urlencode(query)


class Conn:
    """A keep-alive connection to a node (TCP, or the Unix socket with unix=True)."""

    def __init__(self, node: "Node", unix: bool = False, timeout: float = 30):
        self.node = node
        self.unix = unix
        self.timeout = timeout
        self._c: http.client.HTTPConnection | None = None
        self._used = False

    def _new(self) -> http.client.HTTPConnection:
        if self.unix:
            return UnixHTTPConnection(str(self.node.socket_path), timeout=self.timeout)
        return http.client.HTTPConnection("127.0.0.1", self.node.port, timeout=self.timeout)

    def connect(self):
        if self._c is None:
            self._c = self._new()
            self._used = False
        if self._c.sock is None:
            self._c.connect()

    def close(self):
        if self._c is not None:
            self._c.close()
        self._c = None
        self._used = False

    def req(self, method: str, path: str, body=None, key=None, headers: dict | None = None,
            query: dict | None = None) -> Resp:
        hdrs: dict[str, str] = {}
        if key is not None:
            hdrs["Authorization"] = "Bearer " + cred_of(key)
        if headers:
            for k, v in headers.items():
                if v is None:
                    hdrs.pop(k, None)
                else:
                    hdrs[k] = v
        payload = _encode_body(body)
        if isinstance(body, dict) and isinstance(body.get("token"), str) and len(body["token"]) >= 16 \
                and not body["token"].startswith("tmtk_"):
            CLIENT_TOKENS.add(body["token"])  # client-supplied tokens have no prefix for the marker scan
        target = with_query(path, query)
        for attempt in (0, 1):
            if self._c is None:
                self._c = self._new()
                self._used = False
            reused = self._used
            started = time.monotonic()
            try:
                self._c.request(method, target, body=payload, headers=hdrs)
                r = self._c.getresponse()
                raw = r.read()
            except (ConnectionResetError, BrokenPipeError, http.client.BadStatusLine):
                self.close()
                if reused and attempt == 0:
                    continue  # the server closed an idle keep-alive connection: retry once
                raise
            resp = Resp(r.status, r.headers, raw, time.monotonic() - started)
            self._used = True
            if r.will_close:
                self.close()
            return resp
        raise AssertionError("unreachable")


# --------------------------------------------------------------------------------------------
# The server process


# Every Node made in this session: the session-finish hook stops what still runs and removes
# the temporary directories of nodes that a test made but never finished (configuration-error
# checks that only run `command()`, say).
CREATED: list["Node"] = []


class Node:
    """One tokmesh-server process with its own temporary data directory."""

    def __init__(self, args: Iterable[str] = (), env: dict | None = None, name: str = "node"):
        self.args = list(args)
        self.env = dict(env or {})
        self.name = name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"tm-{name}-"))
        CREATED.append(self)
        self.data_dir = self.tmp / "data"
        self.socket_path = self.data_dir / "tokmesh-server.sock"
        self.log_path = self.tmp / "server.log"
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.returncode: int | None = None
        self._log = None

    # -- process control

    @staticmethod
    def binary() -> Path:
        p = Path(os.environ.get("TOKMESH_SERVER_BIN") or DEFAULT_BIN)
        if not p.is_absolute():
            p = (REPO / p) if not p.exists() else p.resolve()
        return p

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(self.binary()),
            f"--server.http.address=127.0.0.1:{self.port}",
            f"--storage.data_dir={self.data_dir}",
            # Stop at once on SIGTERM (spec/11 §6 grace 0); tests set other values explicitly.
            "--server.shutdown.grace_period=0s",
            *self.args,
        ]

    def start(self, ready_timeout: float = 60) -> "Node":
        binary = self.binary()
        if not binary.exists():
            raise RuntimeError(
                f"server binary {binary} not found: build it (swift build) or set TOKMESH_SERVER_BIN")
        self.data_dir.mkdir(mode=0o750, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TOKMESH_")}
        env["XDG_CONFIG_HOME"] = str(self.tmp / "xdg")  # never pick up a user's config file
        env.update(self.env)
        last_error = ""
        for _attempt in range(3):
            self.port = free_port()
            self._log = open(self.log_path, "ab")
            self.proc = subprocess.Popen(
                self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, cwd=self.tmp, start_new_session=True)
            try:
                self._wait_ready(ready_timeout)
                return self
            except _StartFailure as e:
                last_error = str(e)
                self._reap()
                if "in use" not in last_error.lower():
                    break  # not a port race: do not retry
        raise RuntimeError(f"{self.name} did not start: {last_error}\n--- log tail ---\n{self.log_tail()}")

    def _wait_ready(self, timeout: float):
        deadline = time.monotonic() + timeout
        for path in ("/health", "/ready"):
            while True:
                if self.proc.poll() is not None:
                    raise _StartFailure(f"exited with {self.proc.returncode}: {self.log_tail(20)}")
                try:
                    c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                    c.request("GET", path)
                    r = c.getresponse()
                    r.read()
                    c.close()
                    if r.status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() >= deadline:
                    raise _StartFailure(f"GET {path} not 200 within {timeout}s")
                time.sleep(0.05)

    def stop(self, timeout: float = 15) -> int | None:
        """SIGTERM, then SIGKILL after `timeout` s. Returns the exit code."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._reap()
        return self.returncode

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        self._reap()

    def _reap(self):
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.returncode = self.proc.wait(10)
            self.proc = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])

    # -- requests

    def conn(self, unix: bool = False) -> Conn:
        return Conn(self, unix=unix)

    def req(self, method: str, path: str, body=None, key=None, headers: dict | None = None,
            query: dict | None = None) -> Resp:
        c = Conn(self)
        try:
            return c.req(method, path, body=body, key=key, headers=headers, query=query)
        finally:
            c.close()

    def local(self, method: str, path: str, body=None, headers: dict | None = None,
              query: dict | None = None) -> Resp:
        """A request over the local admin socket (no credentials)."""
        wait_until(self.socket_path.exists, 10, what="the local admin socket")
        c = Conn(self, unix=True)
        try:
            return c.req(method, path, body=body, headers=headers, query=query)
        finally:
            c.close()

    def emergency_key(self, description: str | None = None) -> Key:
        body = {"description": description} if description is not None else None
        data = ok(self.local("POST", "/local/v1/emergency-keys", body), 201)
        return Key(data["key_id"], data["key_secret"], dict(data, role="admin"))

    def create_key(self, admin, role: str, **fields) -> Key:
        """Create a key with the admin key `admin`, or over the local socket when it is None."""
        body = {"role": role, **fields}
        if admin is None:
            r = self.local("POST", "/admin/v1/keys", body)
        else:
            r = self.req("POST", "/admin/v1/keys", body, key=admin)
        data = ok(r, 201)
        return Key(data["key_id"], data["key_secret"], data)

    def fresh_keys(self) -> tuple[Key, Key, Key]:
        """An emergency admin key, plus issuer and validator keys with the highest rate limit,
        both already in the auth cache. API keys live in memory until the control plane exists,
        so tests that restart a node call this again after each start."""
        admin = self.emergency_key()
        issuer = self.create_key(admin, "issuer", rate_limit=1_000_000)
        validator = self.create_key(admin, "validator", rate_limit=1_000_000)
        self.warm(issuer)
        self.warm(validator)
        return admin, issuer, validator

    def warm(self, key: Key) -> Resp:
        """One successful authentication, so the key sits in the validation cache."""
        role = key.role
        if role == "admin":
            r = self.req("GET", "/admin/v1/status/summary", key=key)
            assert r.status == 200, r
        elif role == "metrics":
            # authenticated (and so cached), then refused for its role
            r = self.req("GET", f"/sessions/{fake_session_id()}", key=key)
            assert r.status == 403 and r.code == "TM-AUTH-4030", r
        else:
            r = self.req("GET", f"/sessions/{fake_session_id()}", key=key)
            assert r.status == 404 and r.code == "TM-SESS-4040", r
        return r

    def create_session(self, key, user_id: str | None = None, conn: Conn | None = None, **fields) -> dict:
        body = {"user_id": user_id or uid(), **fields}
        r = (conn or self).req("POST", "/sessions", body, key=key)
        return ok(r, 201)

    def summary(self, admin) -> dict:
        return ok(self.req("GET", "/admin/v1/status/summary", key=admin))

    # -- audit

    def audit_files(self) -> list[Path]:
        return sorted(Path(p) for p in glob.glob(str(self.data_dir / "audit" / "audit-*.jsonl")))

    def audit_records(self) -> list[dict]:
        out = []
        for f in self.audit_files():
            for line in f.read_text(errors="replace").splitlines():
                line = line.strip()
                if line:
                    out.append(json.loads(line))
        return out

    def audit_text(self) -> str:
        return "".join(f.read_text(errors="replace") for f in self.audit_files())

    def wait_audit(self, pred: Callable[[dict], bool], timeout: float = 10, what: str = "audit record") -> dict:
        """Wait (the writer flushes each second) for a record in the audit files matching pred."""
        def find():
            for rec in self.audit_records():
                if pred(rec):
                    return rec
            return None
        return wait_until(find, timeout, interval=0.1, what=what)

    # -- bulk and bursts

    def bulk(self, items: Iterable, fn: Callable[[Conn, Any], Any], workers: int = 8) -> list:
        """Run fn(conn, item) for every item on a pool of keep-alive connections."""
        local = threading.local()
        conns: list[Conn] = []
        lock = threading.Lock()

        def run(item):
            c = getattr(local, "c", None)
            if c is None:
                c = Conn(self)
                local.c = c
                with lock:
                    conns.append(c)
            return fn(c, item)

        try:
            with ThreadPoolExecutor(max_workers=workers) as ex:
                return list(ex.map(run, items))
        finally:
            for c in conns:
                c.close()

    def burst(self, n: int, fn: Callable[[Conn, int], Any], timeout: float = 60) -> list:
        """n threads, each with its own pre-connected connection, released together (the
        release time is left in `last_burst_released`, time.monotonic())."""
        conns = [Conn(self) for _ in range(n)]
        for c in conns:
            c.connect()
        released: list[float] = []
        barrier = threading.Barrier(n, action=lambda: released.append(time.monotonic()))
        results: list = [None] * n
        errors: list = []

        def run(i):
            try:
                barrier.wait(timeout)
                results[i] = fn(conns[i], i)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout)
        for c in conns:
            c.close()
        if errors:
            raise errors[0]
        assert all(not t.is_alive() for t in threads), "burst threads did not finish"
        self.last_burst_released = released[0]
        return results


class _StartFailure(Exception):
    pass


# Nodes started through start_node and not yet finished (the failure hook prints their logs).
STARTED: list[Node] = []


def start_node(name: str, args=(), env=None) -> Node:
    node = Node(args=args, env=env, name=name)
    STARTED.append(node)
    try:
        node.start()
    except Exception:
        finish_node(node)
        raise
    return node


SECRET_MARKERS = ("tmas_", "tmtk_", "tmth_", "$argon2")
# Tokens the suite sent in request bodies (client-supplied tokens carry no tmtk_ prefix).
CLIENT_TOKENS: set[str] = set()


def secret_leaks(node: Node) -> list[str]:
    """Files of the node (its log and everything under its data directory) that hold a secret
    marker: API secrets, server tokens, token hashes or Argon2 hashes (spec/03 §11)."""
    leaks = []
    for path in [node.log_path, *sorted(p for p in node.data_dir.rglob("*") if p.is_file())]:
        try:
            text = path.read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        for marker in SECRET_MARKERS:
            if marker in text:
                leaks.append(f"{path.name}: {marker}")
    # spec/10 §8 item 2: no client-supplied token and no encryption key in what the server printed
    if node.log_path.exists():
        text = node.log_path.read_bytes().decode("utf-8", "replace")
        keys = [a.split("=", 1)[1] for a in node.args if a.startswith("--security.storage.encryption_key=")]
        keys += [v for k, v in node.env.items() if k == "TOKMESH_SECURITY_STORAGE_ENCRYPTION_KEY"]
        for needle in [*keys, *CLIENT_TOKENS]:
            if needle and needle in text:
                leaks.append(f"{node.log_path.name}: a client token or encryption key")
    return leaks


def finish_node(node: Node):
    """Stop the node, check that its log and data directory hold no secret, and remove its
    temporary directory (kept with TOKMESH_KEEP_TMP=1)."""
    node.stop()
    leaks = secret_leaks(node) if node.log_path.exists() else []
    assert not leaks, f"secrets written by tokmesh-server {node.name}: {leaks}"
    if not os.environ.get("TOKMESH_KEEP_TMP"):
        shutil.rmtree(node.tmp, ignore_errors=True)
    if node in STARTED:
        STARTED.remove(node)


# --------------------------------------------------------------------------------------------
# Raw exchanges (oversized bodies, pipelining)


def raw_exchange(port: int, head: bytes, body_chunks: Iterable[bytes] = (), timeout: float = 20) -> Resp:
    """Send `head` then the body chunks on a fresh TCP connection, stopping as soon as the
    server starts answering (a server may answer 413 and close before reading the body), and
    return the first response."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        sock.sendall(head)
        for chunk in body_chunks:
            r, _, _ = select.select([sock], [], [], 0)
            if r:
                break
            try:
                sock.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        started = time.monotonic()
        resp = http.client.HTTPResponse(sock, method="POST")
        resp.begin()
        raw = resp.read()
        return Resp(resp.status, resp.headers, raw, time.monotonic() - started)
    finally:
        sock.close()


def read_responses(sock: socket.socket, count: int) -> list[Resp]:
    """Read `count` pipelined HTTP/1.1 responses (Content-Length framed) from one socket."""
    out = []
    f = sock.makefile("rb")
    try:
        for _ in range(count):
            status_line = f.readline()
            assert status_line.startswith(b"HTTP/1."), status_line
            status = int(status_line.split()[1])
            head = b""
            while True:
                line = f.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                head += line
            headers = http.client.parse_headers(io.BytesIO(head + b"\r\n"))
            length = int(headers.get("Content-Length") or 0)
            out.append(Resp(status, headers, f.read(length) if length else b"", 0.0))
    finally:
        f.close()
    return out
