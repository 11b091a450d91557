"""The RESP front end (spec/05, issue 5) on a cleartext port and over TLS, checked with the real
redis-cli and redis-benchmark (7.0.15: one-shot, stdin, `--pipe`, `--scan`, `-x`, `-n`, `-3`,
`--no-raw`, `--stat`, `--tls`, interactive mode in a pseudo-terminal) and with raw sockets for
what the clients hide: exact reply bytes, RESP3 types, malformed input and the closes after it.
Covers spec/05 §10 items 1–11 and 13 on one node (sessions and keys come over HTTP as elsewhere)
and the cross-protocol cases of the issue: HTTP create → RESP DEL → HTTP validate TM-TOKN-4012,
TM.CREATE → HTTP validate."""

from __future__ import annotations

import fnmatch
import json
import os
import random
import re
import secrets
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

from tmlib import (REPO, SESSION_FIELDS, SESSION_ID_RE, TOKEN_RE, CROCKFORD, err, fake_session_id, free_port,
                   now_ms, ok, run_tool, uid, wait_until, well_formed_unknown_token)

RESP_PORT = free_port()
NODE_ARGS = [
    "--server.redis.enabled=true",
    f"--server.redis.address=127.0.0.1:{RESP_PORT}",
    # failed AUTHs below must not block 127.0.0.1 for the rest of the module
    "--security.auth.failure_limit=10000",
]

DEFAULT_TTL_S = 7200  # session.ttl.default
MAX_TTL_S = 720 * 3600  # session.ttl.max
NOAUTH = "NOAUTH TM-AUTH-4010 Authentication required."
SCAN_KEYS = 10_000
CREATE_FIELDS = {"session_id", "token", "user_id", "created_at", "expires_at", "version"}


# --------------------------------------------------------------------------------------------
# A small RESP2/RESP3 client


class Status(str):
    """A simple-string reply (`+OK`), told apart from a bulk string (bytes)."""


class RespError(str):
    """An error reply: its text without the leading `-`."""

    @property
    def code(self) -> str:
        parts = self.split(" ", 2)
        return parts[1] if len(parts) > 1 else ""


class Verbatim(bytes):
    """A RESP3 verbatim string (`=`), without its `txt:` prefix."""


class RespSet(list):
    """A RESP3 set (`~`)."""


def encode(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        b = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(b), b))
    return b"".join(out)


class RespConn:
    """One connection to the RESP port; `call` sends a command and returns its parsed reply."""

    def __init__(self, port: int = None, timeout: float = 20):
        self.sock = socket.create_connection(("127.0.0.1", port or RESP_PORT), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send_raw(self, data: bytes):
        self.sock.sendall(data)

    def call(self, *args):
        self.sock.sendall(encode(*args))
        return self.read()

    def pipeline(self, commands) -> list:
        commands = list(commands)
        self.sock.sendall(b"".join(encode(*c) for c in commands))
        return [self.read() for _ in commands]

    def _fill(self):
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            raise EOFError(f"the server closed the connection (unparsed: {self.buf[:200]!r})")
        self.buf += chunk

    def _line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line, self.buf = self.buf[:i], self.buf[i + 2:]
                return line
            self._fill()

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data, end, self.buf = self.buf[:n], self.buf[n:n + 2], self.buf[n + 2:]
        assert end == b"\r\n", f"bulk not followed by CRLF: {end!r}"
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return Status(rest.decode())
        if t == b"-":
            return RespError(rest.decode("utf-8", "replace"))
        if t in (b":", b"("):
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n == -1 else self._exact(n)
        if t == b"*":
            n = int(rest)
            return None if n == -1 else [self.read() for _ in range(n)]
        if t == b"_":
            assert rest == b"", line
            return None
        if t == b"%":
            out = {}
            for _ in range(int(rest)):
                k = self.read()
                out[k.decode() if isinstance(k, bytes) else k] = self.read()
            return out
        if t == b"~":
            return RespSet(self.read() for _ in range(int(rest)))
        if t == b"=":
            data = self._exact(int(rest))
            assert data[3:4] == b":", data[:10]
            return Verbatim(data[4:])
        if t == b",":
            return float(rest)
        if t == b"#":
            assert rest in (b"t", b"f"), line
            return rest == b"t"
        raise AssertionError(f"unexpected reply type {line[:80]!r} (push, attribute and blob errors are never sent)")

    def read_to_eof(self, timeout: float = 10) -> bytes:
        """Every byte until the server closes; fails if it does not within `timeout`."""
        deadline = time.monotonic() + timeout
        data, self.buf = self.buf, b""
        while True:
            left = deadline - time.monotonic()
            assert left > 0, f"the server did not close the connection within {timeout}s (got {data[:300]!r})"
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                continue
            try:
                chunk = self.sock.recv(1 << 16)
            except ConnectionResetError:
                return data
            if not chunk:
                return data
            data += chunk

    def quiet_for(self, seconds: float) -> bytes:
        """Bytes that arrive within `seconds` (b"" when the server stays silent and open)."""
        data = b""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            r, _, _ = select.select([self.sock], [], [], left)
            if not r:
                break
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                return data + b"<EOF>"
            data += chunk
        return data


def authed(key, port: int = None) -> RespConn:
    c = RespConn(port)
    assert c.call("AUTH", key.cred) == "OK"
    return c


def s(x) -> str:
    return x.decode() if isinstance(x, bytes) else x


def is_err(reply, prefix: str) -> bool:
    return isinstance(reply, RespError) and reply.startswith(prefix)


def check_err(reply, prefix: str):
    assert isinstance(reply, RespError), f"expected an error starting {prefix!r}, got {reply!r}"
    assert reply.startswith(prefix), f"expected an error starting {prefix!r}, got {reply!r}"
    assert "\r" not in reply and "\n" not in reply and len(reply.encode()) <= 512, reply


def tm_create(c: RespConn, user: str | None = None, key: str = "*", ttl: int | None = None, **fields) -> dict:
    body = json.dumps({"user_id": user or uid(), **fields})
    args = ["TM.CREATE", key, body] + (["TTL", ttl] if ttl is not None else [])
    reply = c.call(*args)
    assert isinstance(reply, bytes), reply
    return json.loads(reply)


def exchange(data: bytes, timeout: float = 10, port: int = None) -> bytes:
    """Send raw bytes on a fresh connection; return everything up to the server's close."""
    with RespConn(port) as c:
        try:
            c.send_raw(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed before it read everything: what it answered is still there
        return c.read_to_eof(timeout)


# --------------------------------------------------------------------------------------------
# redis-cli


def cli_env(key=None, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    env["HOME"] = env.get("HOME", "/tmp")
    env["REDISCLI_HISTFILE"] = "/dev/null"
    if key is not None:
        env["REDISCLI_AUTH"] = key.cred if hasattr(key, "cred") else key
    env.update(extra)
    return env


def cli(*args, key=None, port: int = None, opts=(), input: str = "", timeout: float = 60) -> subprocess.CompletedProcess:
    """One redis-cli run (stdout not a tty: raw output); REDISCLI_AUTH is the key's credential."""
    cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(port or RESP_PORT), "--no-auth-warning", *opts, *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, errors="replace", input=input, timeout=timeout,
                          env=cli_env(key))


def out(p: subprocess.CompletedProcess) -> str:
    return p.stdout.strip()


def cli_scan(key, pattern: str | None = None, port: int = None) -> list[str]:
    p = cli(*(["--pattern", pattern] if pattern else []), key=key, port=port, opts=["--scan"], timeout=120)
    assert p.returncode == 0 and not p.stderr.strip(), p.stderr
    return p.stdout.split()


def pipe_commands(key, commands, port: int = None) -> subprocess.CompletedProcess:
    """`redis-cli --pipe` with the commands in RESP form; asserts "errors: 0, replies: N"."""
    data = b"".join(encode(*c) for c in commands)
    cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(port or RESP_PORT), "--no-auth-warning", "--pipe"]
    p = subprocess.run(cmd, capture_output=True, input=data, timeout=120, env=cli_env(key))
    text = p.stdout.decode(errors="replace") + p.stderr.decode(errors="replace")
    assert p.returncode == 0 and f"errors: 0, replies: {len(commands)}" in text, text
    return p


def random_session_id(first: str | None = None) -> str:
    return "tmss-" + (first or secrets.choice("01234567")) + "".join(secrets.choice(CROCKFORD) for _ in range(25))


def dbsize(key) -> int:
    with authed(key) as c:
        n = c.call("DBSIZE")
    assert isinstance(n, int), n
    return n


# --------------------------------------------------------------------------------------------
# Fixtures


@pytest.fixture
def ri(node, issuer):
    c = authed(issuer)
    yield c
    c.close()


@pytest.fixture
def rv(node, validator):
    c = authed(validator)
    yield c
    c.close()


@pytest.fixture(scope="module")
def stalled(node):
    """A connection that began a command and stopped (spec/05 §2: 10 s later the server answers
    TM-SYS-4000 incomplete command and closes): opened early, a thread records what arrives and
    when the server closes, test_incomplete_command_times_out checks it near the end."""
    c = RespConn()
    seen = {"data": b"", "closed_after": None}
    c.send_raw(b"*2\r\n$4\r\nECHO\r\n$5\r\nab")
    started = time.monotonic()

    def watch():
        try:
            seen["data"] = c.read_to_eof(timeout=30)
        except (AssertionError, OSError) as e:
            seen["data"] = repr(e).encode()
        seen["closed_after"] = time.monotonic() - started

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    yield t, seen
    c.close()


# --------------------------------------------------------------------------------------------
# Listeners (§1, §10 item 1)


def _refused(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def test_listeners_off_without_flags(make_node):
    plain, tls = free_port(), free_port()
    defaults_free = [p for p in (6379, 6380) if _refused(p)]  # another program may hold them
    make_node([f"--server.redis.address=127.0.0.1:{plain}", f"--server.redis_tls.address=127.0.0.1:{tls}"],
              name="resp-off")
    assert _refused(plain) and _refused(tls)
    for p in defaults_free:
        assert _refused(p), f"port {p} accepts connections though RESP is off"


# --------------------------------------------------------------------------------------------
# Authentication (§3, §10 item 1)


def test_before_auth_only_ping_quit_hello_auth(node, stalled):
    with RespConn() as c:
        assert c.call("PING") == "PONG"
        assert c.call("ping", "hi") == b"hi"
        hello = c.call("HELLO")
        assert isinstance(hello, list) and s(hello[0]) == "server" and s(hello[1]) == "tokmesh"
        sid = fake_session_id()
        for cmd in (["GET", sid], ["ECHO", "x"], ["SET", sid, "{}"], ["DEL", sid], ["EXISTS", sid], ["TTL", sid],
                    ["PTTL", sid], ["TYPE", sid], ["EXPIRE", sid, "10"], ["PEXPIRE", sid, "10"], ["SCAN", "0"],
                    ["DBSIZE"], ["INFO"], ["SELECT", "0"], ["CLIENT", "ID"], ["CLIENT", "SETNAME", "x"],
                    ["COMMAND"], ["COMMAND", "DOCS"], ["CONFIG", "GET", "save"], ["TM.CREATE", "*", "{}"],
                    ["TM.VALIDATE", well_formed_unknown_token()], ["TM.TOUCH", sid], ["TM.REVOKE_USER", "u"]):
            assert c.call(*cmd) == NOAUTH, cmd
        # unknown commands and arity are checked before the login (§6: the table is public)
        assert c.call("KEYS", "*") == "ERR TM-SYS-4040 unknown command 'KEYS'"
        assert c.call("GET") == "ERR TM-ARG-1001 wrong number of arguments for 'get' command"
        assert c.call("QUIT") == "OK"
        assert c.read_to_eof() == b""


def test_redis_cli_auth_outcomes(node, issuer):
    sid = fake_session_id()
    assert out(cli("PING")) == "PONG"
    assert out(cli("GET", sid)) == NOAUTH
    bad = cli("PING", opts=["-a", "tmak-x:tmas_y"])
    assert "AUTH failed: ERR TM-AUTH-4011" in bad.stderr, bad.stderr
    assert out(bad) == "PONG"
    n = cli("DBSIZE", opts=["--user", "default", "-a", issuer.cred])
    assert re.fullmatch(r"\d+", out(n)), n.stdout + n.stderr
    split = cli("DBSIZE", opts=["--user", issuer.key_id, "-a", issuer.secret])
    assert re.fullmatch(r"\d+", out(split)), split.stdout + split.stderr
    assert re.fullmatch(r"\d+", out(cli("DBSIZE", key=issuer)))


def test_auth_forms_switch_and_failure(node, issuer, validator):
    with RespConn() as c:
        assert c.call("AUTH", issuer.key_id, issuer.secret) == "OK"
        assert c.call("AUTH", issuer.cred) == "OK"
        assert c.call("AUTH", "default", validator.cred) == "OK"
        # the key switched: a validator may not write
        assert c.call("SET", fake_session_id(), "{}") == \
            "ERR TM-AUTH-4030 role validator may not run 'SET' (needs issuer)"
        assert c.call("AUTH") == "ERR TM-ARG-1001 wrong number of arguments for 'auth' command"
        assert c.call("AUTH", "a", "b", "c") == "ERR TM-ARG-1001 wrong number of arguments for 'auth' command"
        # a failed AUTH drops the login: the old role is not kept
        assert c.call("AUTH", issuer.cred) == "OK"
        bad_secret = "tmas_" + "A" * 43
        reply = c.call("AUTH", issuer.key_id, bad_secret)
        check_err(reply, "ERR TM-AUTH-4011")
        assert bad_secret not in reply and issuer.secret not in reply
        assert c.call("GET", fake_session_id()) == NOAUTH
        check_err(c.call("AUTH", "tmak-nope:tmas_nope"), "ERR TM-AUTH-4011")
        assert c.call("GET", fake_session_id()) == NOAUTH
        assert c.call("AUTH", validator.cred) == "OK"
        assert c.call("GET", fake_session_id()) is None


def test_hello_and_resp3(node, issuer):
    with RespConn() as c:
        h = c.call("HELLO", "3", "AUTH", "default", issuer.cred, "SETNAME", "gw1")
        assert isinstance(h, dict), h
        assert s(h["server"]) == "tokmesh" and s(h["version"]) == "7.0.0" and h["proto"] == 3
        assert s(h["mode"]) == "standalone" and s(h["role"]) == "master" and h["modules"] == []
        assert isinstance(h["id"], int) and h["id"] >= 1 and s(h["tokmesh_version"])
        assert c.call("CLIENT", "ID") == h["id"]
        assert c.call("CLIENT", "GETNAME") == b"gw1"
        assert c.call("GET", fake_session_id()) is None and c.buf == b""
        # errors leave the protocol unchanged
        assert c.call("HELLO", "4") == "NOPROTO TM-ARG-1001 unsupported protocol version"
        assert c.call("HELLO", "x") == "ERR TM-ARG-1001 Protocol version is not an integer or out of range"
        check_err(c.call("HELLO", "3", "BOGUS"), "ERR TM-ARG-1001 Syntax error in HELLO option 'BOGUS'")
        assert isinstance(c.call("HELLO"), dict)
        # RESP3 replies: `_` nil, `%` map, verbatim INFO
        c.send_raw(encode("GET", fake_session_id()))
        assert c._line() == b"_"
        assert isinstance(c.call("CONFIG", "GET", "save"), dict)
        assert isinstance(c.call("INFO", "server"), Verbatim)
        h2 = c.call("HELLO", "2")
        assert isinstance(h2, list) and h2[h2.index(b"proto") + 1] == 2
        c.send_raw(encode("GET", fake_session_id()))
        assert c._line() == b"$-1"
    shown = cli("HELLO", key=issuer, opts=["--no-raw", "-3"])
    assert '"proto" => (integer) 3' in shown.stdout and not shown.stderr.strip(), shown.stdout + shown.stderr
    nil = cli("GET", fake_session_id(), key=issuer, opts=["--no-raw", "-3"])
    assert out(nil) == "(nil)" and not nil.stderr.strip(), nil.stdout + nil.stderr
    unauthenticated = cli("PING", opts=["-3"])  # HELLO 3 before AUTH works here (Redis refuses it)
    assert out(unauthenticated) == "PONG" and not unauthenticated.stderr.strip(), unauthenticated.stderr


def test_client_select_config_command_info(ri, issuer):
    c = ri
    assert c.call("SELECT", "0") == "OK"
    assert c.call("SELECT", "1") == "ERR TM-ARG-1001 DB index is out of range"
    assert c.call("SELECT", "x") == "ERR TM-ARG-1001 value is not an integer or out of range"
    assert c.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "OK"
    assert c.call("CLIENT", "SETINFO", "LIB-VER", "5.0.1") == "OK"
    check_err(c.call("CLIENT", "SETINFO", "FOO", "x"), "ERR TM-ARG-1001 Unrecognized option 'FOO'")
    assert c.call("CLIENT", "SETNAME", "a b") == \
        "ERR TM-ARG-1001 Client names cannot contain spaces, newlines or special characters."
    assert c.call("CLIENT", "SETNAME", "conn-1") == "OK"
    info = s(c.call("CLIENT", "INFO"))
    for part in ("db=0", "resp=2", f"user={issuer.key_id}", "name=conn-1", "lib-name=redis-py", "lib-ver=5.0.1"):
        assert part in info.split(), info
    reply = c.call("CLIENT", "MAINT_NOTIFICATIONS", "ON")
    assert isinstance(reply, RespError) and re.fullmatch(
        r"ERR TM-SYS-4040 unknown subcommand 'MAINT_NOTIFICATIONS' for 'CLIENT'", reply, re.I), reply
    assert c.call("COMMAND", "COUNT") == 25
    assert c.call("COMMAND", "DOCS") in ([], {})
    entry = c.call("COMMAND", "INFO", "get", "nosuch")
    assert entry[1] is None and s(entry[0][0]) == "get" and entry[0][1] == 2
    assert [s(x) for x in c.call("CONFIG", "GET", "save")] == ["save", ""]
    assert [s(x) for x in c.call("CONFIG", "GET", "appendonly")] == ["appendonly", "yes"]
    every = [s(x) for x in c.call("CONFIG", "GET", "*")]
    conf = dict(zip(every[::2], every[1::2]))
    assert conf["databases"] == "1" and conf["timeout"] == "0" and conf["maxclients"].isdigit(), conf
    check_err(c.call("CONFIG", "SET", "save", ""), "ERR TM-SYS-4040 unknown subcommand")
    tm_create(c)  # Redis lists db0 in the keyspace section only when it holds keys
    info = s(c.call("INFO"))
    for field in ("redis_version:7.0.0", "redis_mode:standalone", "cluster_enabled:0", "blocked_clients:0",
                  "aof_rewrite_in_progress:0", f"tcp_port:{RESP_PORT}"):
        assert field in info.split("\r\n"), field
    assert re.search(r"^db0:keys=\d+,expires=\d+,avg_ttl=\d+\r$", info, re.M), info
    for name in ("KEYS", "FLUSHALL", "MULTI", "SUBSCRIBE", "MONITOR", "CLUSTER", "MGET", "SETEX"):
        assert c.call(name, "x") == f"ERR TM-SYS-4040 unknown command '{name}'", name


def test_command_entries(ri):
    def names(xs):
        return {s(x) for x in xs}

    del_entry, get_entry, ping_entry = ri.call("COMMAND", "INFO", "del", "GET", "ping")
    for entry in (del_entry, get_entry, ping_entry):
        assert len(entry) == 10 and entry[7] == [] and entry[8] == [], entry  # Redis 7 shape, tips and key specs empty
    assert del_entry[:2] == [b"del", -2] and del_entry[3:6] == [1, -1, 1], del_entry
    assert "write" in names(del_entry[2]) and {"@tokmesh", "@write"} <= names(del_entry[6]), del_entry
    assert get_entry[:2] == [b"get", 2] and get_entry[3:6] == [1, 1, 1], get_entry
    assert {"readonly", "fast"} <= names(get_entry[2]) and {"@tokmesh", "@read"} <= names(get_entry[6]), get_entry
    assert ping_entry[:2] == [b"ping", -1] and ping_entry[3:6] == [0, 0, 0], ping_entry
    assert "@connection" in names(ping_entry[6]), ping_entry
    everything = ri.call("COMMAND")
    assert len(everything) == 25 and {s(e[0]) for e in everything} >= {"tm.validate", "scan", "client"}
    # RESP3: flags and categories are sets
    assert isinstance(ri.call("HELLO", "3"), dict)
    entry = ri.call("COMMAND", "INFO", "get")[0]
    assert isinstance(entry[2], RespSet) and isinstance(entry[6], RespSet), entry


# --------------------------------------------------------------------------------------------
# Sessions (§7.2, §7.3, §10 items 2-5)


def test_create_validate_get_ttl_type(node, issuer, validator):
    created = cli("TM.CREATE", "*", '{"user_id":"alice"}', key=issuer)
    o = json.loads(created.stdout)
    assert set(o) == CREATE_FIELDS and o["user_id"] == "alice" and o["version"] == 1, o
    tok, sid = o["token"], o["session_id"]
    assert TOKEN_RE.match(tok) and SESSION_ID_RE.match(sid)
    assert o["expires_at"] == o["created_at"] + DEFAULT_TTL_S * 1000
    assert out(cli("TM.VALIDATE", tok, key=validator)) == "OK"
    got = json.loads(cli("GET", sid, key=validator).stdout)
    assert got["user_id"] == "alice" and "token_hash" not in got and set(got) == SESSION_FIELDS, got
    assert got["id"] == sid and got["created_by"] == issuer.key_id and got["ip_address"] == "127.0.0.1"
    assert out(cli("TTL", sid, key=validator)) in ("7199", "7200")
    assert 7_190_000 <= int(out(cli("PTTL", sid, key=validator))) <= 7_200_000
    assert out(cli("TYPE", sid, key=validator)) == "string"
    assert out(cli("TYPE", fake_session_id(), key=validator)) == "none"
    # keys are lowercased on input; anything else is not a session id
    assert json.loads(cli("GET", sid.upper(), key=validator).stdout)["id"] == sid
    assert out(cli("GET", "foo", key=validator)) == "ERR TM-ARG-1001 key is not a session id"


def test_validate_options(node, issuer, validator, rv):
    with authed(issuer) as ci:
        o = tm_create(ci, ip_address="198.51.100.1", user_agent="ua-1")
    tok, sid = o["token"], o["session_id"]
    assert rv.call("TM.VALIDATE", tok) == "OK"
    assert json.loads(rv.call("GET", sid))["version"] == 1  # no touch without TOUCH
    time.sleep(0.005)
    assert rv.call("TM.VALIDATE", tok, "TOUCH") == "OK"
    after = json.loads(rv.call("GET", sid))
    assert after["version"] == 2 and after["last_active"] > o["created_at"]
    assert rv.call("TM.VALIDATE", tok, "IP", "203.0.113.5") == "ERR TM-ARG-1003 IP and UA need TOUCH"
    time.sleep(0.005)
    assert rv.call("TM.VALIDATE", tok, "touch", "ip", "203.0.113.5", "ua", "gw/2") == "OK"
    touched = json.loads(rv.call("GET", sid))
    assert touched["last_access_ip"] == "203.0.113.5" and touched["last_access_ua"] == "gw/2"
    assert touched["ip_address"] == "198.51.100.1" and touched["user_agent"] == "ua-1"
    ws = rv.call("TM.VALIDATE", tok, "WITHSESSION")
    assert isinstance(ws, bytes) and json.loads(ws)["id"] == sid and b"token_hash" not in ws
    assert rv.call("TM.VALIDATE", "short") == "ERR TM-TOKN-4000 Malformed token"
    assert rv.call("TM.VALIDATE", well_formed_unknown_token()) == "ERR TM-TOKN-4010 Token invalid"
    # RESP3: WITHSESSION is a map with integer numbers and `data` a map
    assert isinstance(rv.call("HELLO", "3"), dict)
    m = rv.call("TM.VALIDATE", tok, "WITHSESSION")
    assert isinstance(m, dict) and set(m) == SESSION_FIELDS, m
    assert s(m["id"]) == sid and isinstance(m["version"], int) and isinstance(m["expires_at"], int)
    assert isinstance(m["data"], dict)
    shown = cli("TM.VALIDATE", tok, "WITHSESSION", key=validator, opts=["--no-raw", "-3"])
    assert f'"id" => "{sid}"' in shown.stdout, shown.stdout + shown.stderr
    plain = cli("TM.VALIDATE", tok, "WITHSESSION", key=validator)
    assert json.loads(plain.stdout)["id"] == sid


def test_tm_create_forms(ri, rv):
    sid = fake_session_id()
    o = tm_create(ri, key=sid, ttl=60, data={"k": "v"})
    assert o["session_id"] == sid and TOKEN_RE.match(o["token"]) and o["expires_at"] == o["created_at"] + 60_000
    check_err(ri.call("TM.CREATE", sid, json.dumps({"user_id": uid()})), "ERR TM-SESS-4090")
    tok = "client-token-" + secrets.token_hex(8)
    mine = json.loads(ri.call("TM.CREATE", "*", json.dumps({"user_id": uid(), "token": tok})))
    assert "token" not in mine and set(mine) == CREATE_FIELDS - {"token"}, mine
    assert rv.call("TM.VALIDATE", tok) == "OK"
    check_err(ri.call("TM.CREATE", "*", json.dumps({"user_id": uid()}), "TTL", "0"), "ERR TM-ARG-1001")
    assert ri.call("TM.CREATE", "*", json.dumps({"user_id": uid()}), "TTL", str(MAX_TTL_S + 1)) == \
        f"ERR TM-ARG-1001 TTL exceeds the maximum of {MAX_TTL_S} seconds"
    check_err(ri.call("TM.CREATE", "*", "[1]"), "ERR TM-SYS-4000")
    check_err(ri.call("TM.CREATE", "*", "{}"), "ERR TM-ARG-1002")
    assert rv.call("TM.CREATE", "*", "{}") == "ERR TM-AUTH-4030 role validator may not run 'TM.CREATE' (needs issuer)"
    assert ri.call("DEL", sid) == 1


def test_set_create_update(node, issuer, validator):
    s1 = fake_session_id()
    t1, t2 = (f"idp-opaque-token-{secrets.token_hex(4)}-{i}" for i in (1, 2))
    R = lambda *a, **kw: out(cli(*a, key=issuer, **kw))  # noqa: E731
    assert R("SET", s1, '{"user_id":"bob"}').startswith("ERR TM-ARG-1002")
    assert R("SET", s1, json.dumps({"user_id": "bob", "token": t1}), "EX", "60") == "OK"
    assert out(cli("TM.VALIDATE", t1, key=validator)) == "OK"
    assert R("SET", s1, json.dumps({"token": t2})).startswith("ERR TM-ARG-1003")
    assert R("SET", s1, '{"data":{"plan":"pro"}}', "XX") == "OK"
    got = json.loads(R("GET", s1))
    assert got["data"] == {"plan": "pro"} and got["version"] == 2 and got["user_id"] == "bob"
    assert 0 < int(R("TTL", s1)) <= 60
    assert R("SET", s1, json.dumps({"user_id": "bob", "token": t1}), "NX") == ""  # nil: nothing changes
    assert json.loads(R("GET", s1))["version"] == 2
    for opts in (["EX", "5", "PX", "5"], ["NX", "XX"]):
        assert R("SET", s1, '{"data":{}}', *opts) == "ERR TM-ARG-1003 syntax error", opts
    assert R("SET", s1, '{"data":{}}', "EX", "0") == "ERR TM-ARG-1001 invalid expire time in 'set' command"
    assert R("SET", s1, '{"data":{}}', "EX", "x") == "ERR TM-ARG-1001 value is not an integer or out of range"
    assert R("SET", s1, '{"data":{}}', "EX", str(MAX_TTL_S + 1)) == \
        f"ERR TM-ARG-1001 TTL exceeds the maximum of {MAX_TTL_S} seconds"
    for opts in (["GET"], ["EXAT", "1"], ["PXAT", "1"], ["EX"], ["XX", "XX"]):
        assert R("SET", s1, '{"data":{}}', *opts) == "ERR TM-ARG-1001 syntax error", opts
    for body in ('{"user_id":"mallory"}', '{"id":"' + fake_session_id() + '"}', '{"ttl_seconds":5}'):
        assert R("SET", s1, body).startswith("ERR TM-ARG-1003"), body
    assert R("SET", s1, '{"bogus":1}').startswith("ERR TM-SYS-4000")
    assert R("SET", s1, "not json").startswith("ERR TM-SYS-4000")
    assert json.loads(R("GET", s1))["version"] == 2  # none of the refused writes changed it
    # GET | edit | SET -x writes back a whole GET result (server fields ignored, trailing newline too)
    edited = json.loads(R("GET", s1))
    edited["data"]["plan"] = "max"
    assert out(cli("SET", s1, key=issuer, opts=["-x"], input=json.dumps(edited) + "\n")) == "OK"
    final = json.loads(R("GET", s1))
    assert final["data"] == {"plan": "max"} and final["version"] == 3 and final["created_at"] == got["created_at"]
    assert 0 < int(R("TTL", s1)) <= 60  # writing data never lengthens a session
    # XX on a missing key: nil; update with EX renews (may shorten)
    assert R("SET", fake_session_id(), '{"data":{}}', "XX") == ""
    assert R("SET", s1, '{"data":{"plan":"max"}}', "PX", "30000") == "OK"
    assert 0 < int(R("TTL", s1)) <= 30
    assert R("SET", s1, '{"data":{"plan":"max"}}', "KEEPTTL") == "OK"
    assert 0 < int(R("TTL", s1)) <= 30
    assert R("DEL", s1) == "1"  # no short-lived session left to expire under the SCAN tests


def test_set_create_defaults_from_connection(ri):
    sid = fake_session_id()
    assert ri.call("CLIENT", "SETINFO", "LIB-NAME", "redis-py") == "OK"
    assert ri.call("CLIENT", "SETINFO", "LIB-VER", "5.0.1") == "OK"
    tok = "client-token-" + secrets.token_hex(8)
    assert ri.call("SET", sid, json.dumps({"user_id": uid(), "token": tok})) == "OK"
    got = json.loads(ri.call("GET", sid))
    assert got["ip_address"] == "127.0.0.1" and got["user_agent"] == "redis-py/5.0.1", got
    assert got["expires_at"] == got["created_at"] + DEFAULT_TTL_S * 1000
    # expected_version: a CAS never creates, a stale one conflicts
    check_err(ri.call("SET", fake_session_id(), json.dumps({"user_id": uid(), "token": tok + "x",
                                                            "expected_version": 1})), "ERR TM-SESS-4040")
    check_err(ri.call("SET", sid, '{"data":{},"expected_version":7}'), "ERR TM-SESS-4091")
    assert ri.call("SET", sid, '{"data":{},"expected_version":1}') == "OK"
    # the token was not rotated and is never returned
    assert json.loads(ri.call("GET", sid))["version"] == 2 and tok.encode() not in ri.call("GET", sid)


def test_del_counts_real_deletions(node, issuer, validator):
    with authed(issuer) as c:
        s1 = fake_session_id()
        t1 = f"idp-opaque-token-{secrets.token_hex(4)}"
        assert c.call("SET", s1, json.dumps({"user_id": "bob", "token": t1}), "EX", "60") == "OK"
        sid = tm_create(c, "alice")["session_id"]
    assert out(cli("DEL", s1, s1, sid, fake_session_id(), key=issuer)) == "2"
    assert out(cli("DEL", s1, s1, sid, fake_session_id(), key=issuer)) == "0"
    assert out(cli("TM.VALIDATE", t1, key=validator)) == "ERR TM-TOKN-4012 Token revoked"
    assert out(cli("DEL", "foo", key=issuer)) == "ERR TM-ARG-1001 key is not a session id"
    assert out(cli("GET", sid, key=validator)) == ""
    assert out(cli("EXISTS", sid, key=validator)) == "0"


def test_del_over_1000_keys_deletes_nothing(ri, rv):
    live = tm_create(ri)
    keys = [live["session_id"]] + [fake_session_id() for _ in range(1000)]
    check_err(ri.call("DEL", *keys), "ERR TM-SESS-4002")
    assert rv.call("TM.VALIDATE", live["token"]) == "OK"
    assert ri.call("DEL", *keys[:1000]) == 1
    check_err(rv.call("DEL", live["session_id"]), "ERR TM-AUTH-4030")


def test_expired_session_does_not_exist(node, issuer, validator):
    s1 = fake_session_id()
    token = f"idp-opaque-token-{secrets.token_hex(4)}"
    body = json.dumps({"user_id": "carol", "token": token})
    with authed(issuer) as c, authed(validator) as v:
        assert c.call("SET", s1, body, "PX", "1000") == "OK"
        created = time.monotonic()
        assert v.call("TM.VALIDATE", token) == "OK"
        assert 0 < v.call("PTTL", s1) <= 1000
        wait_until(lambda: v.call("TTL", s1) == -2, 3, interval=0.05, what="TTL -2 after PX 1000")
        assert time.monotonic() - created >= 0.9
        # expired but still held (purges wait 2 s after expiry): the Redis view and the domain codes
        assert v.call("GET", s1) is None
        assert v.call("EXISTS", s1, s1) == 0
        assert v.call("PTTL", s1) == -2 and v.call("TYPE", s1) == "none"
        assert v.call("TM.VALIDATE", token) == "ERR TM-TOKN-4011 Token expired"
        assert v.call("TM.TOUCH", s1) == "ERR TM-SESS-4041 Session expired"
        assert c.call("EXPIRE", s1, "60") == 0
        assert c.call("SET", s1, '{"data":{}}', "XX") is None
        # a create over an expired key purges it first (and releases its token)
        assert c.call("SET", s1, body, "PX", "1000", "NX") == "OK"
        assert json.loads(v.call("GET", s1))["version"] == 1
        assert v.call("TM.VALIDATE", token) == "OK"
        assert c.call("DEL", s1) == 1


def test_expire_ttl_exists_touch_revoke_user(ri, rv):
    o = tm_create(ri)
    sid = o["session_id"]
    missing = fake_session_id()
    assert ri.call("EXPIRE", sid, "100") == 1 and rv.call("TTL", sid) == 100
    assert ri.call("PEXPIRE", sid, "5400") == 1 and rv.call("TTL", sid) == 5  # rounded to nearest
    assert ri.call("EXPIRE", missing, "100") == 0 and rv.call("TTL", missing) == -2
    assert ri.call("EXPIRE", sid, "100", "NX") == 0
    assert ri.call("EXPIRE", sid, "3", "GT") == 0 and ri.call("EXPIRE", sid, "100", "GT") == 1
    assert ri.call("EXPIRE", sid, "200", "LT") == 0 and ri.call("EXPIRE", sid, "50", "LT") == 1
    assert ri.call("EXPIRE", sid, "60", "XX") == 1 and rv.call("TTL", sid) == 60
    for opts in (["NX", "XX"], ["GT", "LT"], ["NX", "GT"]):
        assert ri.call("EXPIRE", sid, "60", *opts) == \
            "ERR TM-ARG-1003 NX and XX, GT or LT options at the same time are not compatible", opts
    assert ri.call("EXPIRE", sid, "0") == "ERR TM-ARG-1001 invalid expire time in 'expire' command"
    assert ri.call("PEXPIRE", sid, "-5") == "ERR TM-ARG-1001 invalid expire time in 'pexpire' command"
    assert ri.call("EXPIRE", sid, "ten") == "ERR TM-ARG-1001 value is not an integer or out of range"
    assert ri.call("EXPIRE", sid, str(MAX_TTL_S + 1)) == f"ERR TM-ARG-1001 TTL exceeds the maximum of {MAX_TTL_S} seconds"
    assert rv.call("TTL", sid) == 60  # refused options changed nothing
    check_err(rv.call("EXPIRE", sid, "60"), "ERR TM-AUTH-4030")
    # EXISTS counts repeats
    assert rv.call("EXISTS", sid, sid, missing, sid) == 3
    # TM.TOUCH returns last_active
    before = now_ms()
    time.sleep(0.005)
    touched = rv.call("TM.TOUCH", sid)
    assert isinstance(touched, int) and before <= touched <= now_ms() + 1000
    assert json.loads(rv.call("GET", sid))["last_active"] == touched
    assert rv.call("TM.TOUCH", missing) == "ERR TM-SESS-4040 Session not found"
    # TM.REVOKE_USER
    user = uid()
    mine = [tm_create(ri, user) for _ in range(3)]
    check_err(rv.call("TM.REVOKE_USER", user), "ERR TM-AUTH-4030")
    assert ri.call("TM.REVOKE_USER", user) == 3
    for m in mine:
        assert rv.call("TM.VALIDATE", m["token"]) == "ERR TM-TOKN-4012 Token revoked"
    assert ri.call("TM.REVOKE_USER", user) == 0
    check_err(ri.call("TM.REVOKE_USER", "u" * 129), "ERR TM-SESS-4001")
    assert rv.call("TM.VALIDATE", o["token"]) == "OK"
    assert ri.call("DEL", sid) == 1


def test_cross_protocol_http_and_resp(node, issuer, validator, ri, rv):
    h = node.create_session(issuer)
    assert rv.call("TM.VALIDATE", h["token"]) == "OK"
    assert ri.call("DEL", h["session_id"]) == 1
    err(node.req("POST", "/tokens/validate", {"token": h["token"]}, key=validator), 401, "TM-TOKN-4012")
    err(node.req("GET", f"/sessions/{h['session_id']}", key=validator), 404, "TM-SESS-4040")
    r = tm_create(ri, "cross-user", data={"via": "resp"})
    v = ok(node.req("POST", "/tokens/validate", {"token": r["token"]}, key=validator))
    assert v["valid"] is True and v["session"]["id"] == r["session_id"] and v["session"]["data"] == {"via": "resp"}
    # one encoder: the RESP GET equals the HTTP session object
    assert json.loads(rv.call("GET", r["session_id"])) == ok(node.req("GET", f"/sessions/{r['session_id']}", key=validator))


# --------------------------------------------------------------------------------------------
# SCAN (§7.2, §10 item 6, issue item 2)


def test_scan_basics(node, issuer):
    users = [uid(f"u{i}") for i in range(300)]
    lines = "".join(f"TM.CREATE * '{json.dumps({'user_id': u})}'\n" for u in users)
    p = cli(key=issuer, input=lines)
    made = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    assert len(made) == 300 and all(SESSION_ID_RE.match(m["session_id"]) for m in made), p.stdout[-500:] + p.stderr
    ids = {m["session_id"] for m in made}

    def listing():
        # DBSIZE also counts expired sessions not purged yet: wait until the two agree
        keys = cli_scan(issuer)
        return keys if len(keys) == dbsize(issuer) else None

    keys = wait_until(listing, 10, what="--scan listing DBSIZE keys")
    assert len(keys) == len(set(keys)), "duplicates in --scan"
    assert ids <= set(keys)
    matching = cli_scan(issuer, "tmss-0*")
    assert matching and all(k.startswith("tmss-0") for k in matching)
    assert sorted(matching) == sorted(k for k in keys if fnmatch.fnmatchcase(k, "tmss-0*"))
    classes = cli_scan(issuer, "tmss-??[a-m]*[xyz]")
    assert sorted(classes) == sorted(k for k in keys if fnmatch.fnmatchcase(k, "tmss-??[a-m]*[xyz]"))
    with authed(issuer) as c:
        cursor, batch = c.call("SCAN", "0", "COUNT", "5000")
        assert min(len(keys), 1000) <= len(batch) <= 1000, (cursor, len(batch))
        assert c.call("SCAN", "4294967296") == "ERR TM-ARG-1001 invalid cursor"
        assert c.call("SCAN", "-1") == "ERR TM-ARG-1001 invalid cursor"
        assert c.call("SCAN", "abc") == "ERR TM-ARG-1001 invalid cursor"
        assert c.call("SCAN", "0", "COUNT", "0") == "ERR TM-ARG-1001 syntax error"
        cursor, batch = c.call("SCAN", "0", "TYPE", "hash", "COUNT", "50")
        assert batch == [] and cursor != b"0"
        cursor, batch = c.call("SCAN", "0", "TYPE", "string", "COUNT", "50")
        assert len(batch) == 50


@pytest.fixture(scope="module")
def scan_keys(node, issuer):
    """SCAN_KEYS sessions with known ids (first characters spread over 0-7), created through
    `redis-cli --pipe`."""
    ids = [random_session_id() for _ in range(SCAN_KEYS)]
    commands = [("TM.CREATE", sid, json.dumps({"user_id": f"scan-{i // 40}"})) for i, sid in enumerate(ids)]
    pipe_commands(issuer, commands)
    return ids


def test_scan_10k_exactly_once(node, issuer, scan_keys):
    keys = cli_scan(issuer, "tmss-*")
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    dups = [k for k, n in counts.items() if n > 1]
    missing = [k for k in scan_keys if k not in counts]
    assert not dups, f"{len(dups)} keys listed more than once, e.g. {dups[:3]}"
    assert not missing, f"{len(missing)} of {len(scan_keys)} keys not listed, e.g. {missing[:3]}"
    if len(keys) != dbsize(issuer):  # an expired session not purged yet: DBSIZE counts it
        wait_until(lambda: len(cli_scan(issuer, "tmss-*")) == dbsize(issuer), 10, what="--scan count == DBSIZE")


def test_scan_under_concurrent_writes(node, issuer, scan_keys):
    stable = set(scan_keys)
    # keys revoked before the scan starts must never appear
    with authed(issuer) as c:
        gone = [random_session_id() for _ in range(200)]
        replies = c.pipeline([("TM.CREATE", k, json.dumps({"user_id": f"gone-{i // 40}"})) for i, k in enumerate(gone)])
        assert all(isinstance(r, bytes) for r in replies), [r for r in replies if not isinstance(r, bytes)][:3]
        assert c.call("DEL", *gone) == len(gone)

    stop = threading.Event()
    churn = {"rounds": 0, "created": set(), "errors": []}

    def writer():
        try:
            with authed(issuer) as w:
                while not stop.is_set():
                    batch = [random_session_id() for _ in range(20)]
                    replies = w.pipeline([("TM.CREATE", k, '{"user_id":"churn"}') for k in batch])
                    bad = [r for r in replies if not isinstance(r, bytes)]
                    if bad:
                        churn["errors"].append(bad[0])
                        return
                    churn["created"].update(batch)
                    if w.call("DEL", *batch) != len(batch):
                        churn["errors"].append("DEL did not delete the batch")
                        return
                    churn["rounds"] += 1
                    stop.wait(0.02)  # steady churn without starving the scan of the 2 cores
        except Exception as e:  # noqa: BLE001 - reported by the test
            churn["errors"].append(repr(e))

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    try:
        wait_until(lambda: churn["rounds"] > 0 or churn["errors"], 10, what="the writer's first round")
        rounds_before = churn["rounds"]
        keys = cli_scan(issuer, "tmss-*")
        rounds_during = churn["rounds"] - rounds_before
    finally:
        stop.set()
        t.join(20)
    assert not churn["errors"], churn["errors"][:3]
    assert rounds_during > 0, "no writes happened while the scan ran"
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    missing = [k for k in stable if k not in counts]
    twice = [k for k, n in counts.items() if n > 1]
    assert not missing, f"{len(missing)} keys live throughout the scan were not listed, e.g. {missing[:3]}"
    assert not twice, f"{len(twice)} keys listed more than once, e.g. {twice[:3]}"
    assert not set(gone) & set(keys), "keys revoked before the scan were listed"


# --------------------------------------------------------------------------------------------
# Pipelining, inline commands, --pipe (§5, §6, §10 item 8)


def test_pipe_10000_validates(node, issuer, validator):
    with authed(issuer) as c:
        tok = tm_create(c)["token"]
    lines = f"TM.VALIDATE {tok}\r\n" * 10_000
    cmd = ["redis-cli", "-h", "127.0.0.1", "-p", str(RESP_PORT), "--no-auth-warning", "--pipe"]
    p = subprocess.run(cmd, capture_output=True, text=True, input=lines, timeout=120, env=cli_env(validator))
    assert "errors: 0, replies: 10000" in p.stdout, p.stdout + p.stderr
    assert p.returncode == 0


def test_inline_and_pipelining(node, issuer):
    with RespConn() as c:
        c.send_raw(b"PING\r\n\r\nPING\r\n")
        assert c._line() == b"+PONG" and c._line() == b"+PONG"
        c.send_raw(b"*0\r\n*-1\r\n\n  \r\nPING\n")  # ignored without a reply
        assert c._line() == b"+PONG"
        assert c.quiet_for(0.2) == b""
        c.send_raw(b"AUTH " + issuer.cred.encode() + b"\r\n")
        assert c.read() == "OK"
        c.send_raw(b'ECHO "a b\\x41\\n\\t\\"\\\\"\r\n')
        assert c.read() == b'a bA\n\t"\\'
        c.send_raw(b"ECHO 'it\\'s'\r\n")
        assert c.read() == b"it's"
        c.send_raw(b"echo \"\"\r\n")
        assert c.read() == b""
        # binary-safe multibulk arguments
        assert c.call("ECHO", b"\x00\r\n\xff") == b"\x00\r\n\xff"
        # a pipelined SET then GET reads its own write; replies in order
        sid = fake_session_id()
        tok = "client-token-" + secrets.token_hex(8)
        got = c.pipeline([("SET", sid, json.dumps({"user_id": uid(), "token": tok})), ("GET", sid),
                          ("EXISTS", sid), ("DEL", sid), ("GET", sid), ("PING",)])
        assert got[0] == "OK" and json.loads(got[1])["id"] == sid and got[2:] == [1, 1, None, "PONG"]
    # AUTH sent together with the requests applies to them (redis-benchmark)
    with RespConn() as c:
        replies = c.pipeline([("AUTH", issuer.cred), ("DBSIZE",), ("SELECT", "0"), ("AUTH", "tmak-x:tmas_y"), ("DBSIZE",)])
        assert replies[0] == "OK" and isinstance(replies[1], int) and replies[2] == "OK", replies
        assert is_err(replies[3], "ERR TM-AUTH-4011") and replies[4] == NOAUTH, replies


def test_quit_discards_later_commands(node):
    assert exchange(b"PING\r\nQUIT\r\nPING\r\n") == b"+PONG\r\n+OK\r\n"
    assert exchange(encode("QUIT") + encode("PING")) == b"+OK\r\n"


# --------------------------------------------------------------------------------------------
# Malformed input (§5, §10 item 9, issue item 5)

E4130 = b"-ERR TM-SYS-4130 Protocol error: "
E4000 = b"-ERR TM-SYS-4000 Protocol error: "

MALFORMED = [
    # (input, exact bytes before the close)
    (b"*5000\r\n", E4130 + b"invalid multibulk length\r\n"),
    (b"*4097\r\n", E4130 + b"invalid multibulk length\r\n"),
    (b"*999999999999999999\r\n", E4130 + b"invalid multibulk length\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n$2000000\r\n", E4130 + b"invalid bulk length\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n$1048577\r\n", E4130 + b"invalid bulk length\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n$999999999999999999\r\n", E4130 + b"invalid bulk length\r\n"),
    (b"a" * 70_000, E4130 + b"too big inline request\r\n"),
    (b"ECHO " + b"a" * 70_000 + b"\r\n", E4130 + b"too big inline request\r\n"),
    (b"PING" + b" a" * 4096 + b"\r\n", E4130 + b"invalid multibulk length\r\n"),
    (b"*1\r\n$4\r\nPINGxx", E4000 + b"bulk not terminated by CRLF\r\n"),
    (b"*1\r\n$4\r\nPING\n\r\n", E4000 + b"bulk not terminated by CRLF\r\n"),
    (b"*1\r\n:4\r\n", E4000 + b"expected '$', got ':'\r\n"),
    (b"*1\r\n+PING\r\n", E4000 + b"expected '$', got '+'\r\n"),
    (b"*2\r\n$4\r\nECHO\r\n*1\r\n", E4000 + b"expected '$', got '*'\r\n"),
    # $-1 inside an array: Redis answers "invalid bulk length" (spec/05 §5 groups it loosely)
    (b"*1\r\n$-1\r\n", E4000 + b"invalid bulk length\r\n"),
    (b"*1\r\n$-5\r\n", E4000 + b"invalid bulk length\r\n"),
    (b"*-5\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"*01\r\n$4\r\nPING\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"*+1\r\n$4\r\nPING\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"* 1\r\n$4\r\nPING\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"*1 \r\n$4\r\nPING\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"*1\n$4\r\nPING\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"*\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"*\xff\xfe\r\n", E4000 + b"invalid multibulk length\r\n"),
    (b"*1" + b" " * 40, E4000 + b"invalid multibulk length\r\n"),  # no CRLF within 32 bytes
    (b"*1\r\n$04\r\nPING\r\n", E4000 + b"invalid bulk length\r\n"),
    (b"*1\r\n$4x\r\nPING\r\n", E4000 + b"invalid bulk length\r\n"),
    (b"*1\r\n$\r\n", E4000 + b"invalid bulk length\r\n"),
    (b'ECHO "abc\r\n', E4000 + b"unbalanced quotes in request\r\n"),
    (b"ECHO 'abc\r\n", E4000 + b"unbalanced quotes in request\r\n"),
    (b'ECHO "a"b\r\n', E4000 + b"unbalanced quotes in request\r\n"),
    (b"ECHO 'a'b\r\n", E4000 + b"unbalanced quotes in request\r\n"),
    # commands parsed before the violation are answered in order, then the error
    (b"PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n:x\r\n", b"+PONG\r\n+PONG\r\n" + E4000 + b"expected '$', got ':'\r\n"),
    (b"PING\r\n*1\r\n$4\r\nPINGxxPING\r\n", b"+PONG\r\n" + E4000 + b"bulk not terminated by CRLF\r\n"),
    # cross-protocol requests close silently (a WARN in the log)
    (b"POST / HTTP/1.1\r\nHost: x\r\n\r\n", b""),
    (b"Host: x\r\n", b""),
    (b"PING\r\nPOST /x HTTP/1.1\r\n", b"+PONG\r\n"),
    (b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03" + bytes(32), b""),  # a TLS ClientHello
]


@pytest.mark.parametrize("data,expected", MALFORMED, ids=[f"{i}:{d[:20]!r}" for i, (d, _) in enumerate(MALFORMED)])
def test_malformed_input_error_then_close(node, data, expected):
    assert exchange(data) == expected


def test_cross_protocol_request_logs_a_warning(node):
    assert exchange(b"POST /sessions HTTP/1.1\r\nHost: resp-warn-test\r\n\r\n") == b""

    def warned():
        for line in node.log_text().splitlines():
            if '"level":"WARN"' in line and '"logger":"tokmesh.resp"' in line and "cross-protocol" in line:
                return line
        return None

    wait_until(warned, 5, what="a WARN about the cross-protocol request")


def test_command_too_large(node, validator):
    mib = 1 << 20
    with authed(validator) as c:
        # one argument of exactly 1 MiB, two arguments of 1 MiB together: fine
        assert c.call("ECHO", b"x" * mib) == b"x" * mib
        assert c.call("EXISTS", b"y" * (mib - 100), b"z" * (mib - 100)) == "ERR TM-ARG-1001 key is not a session id"
    with RespConn() as c:
        c.send_raw(b"*3\r\n$4\r\nECHO\r\n$%d\r\n" % mib + b"x" * mib + b"\r\n$%d\r\n" % mib)
        assert c.read_to_eof() == E4130 + b"command too large\r\n"


def test_huge_20_digit_lengths(node):
    """A length beyond 64 bits: "invalid multibulk/bulk length" and a close. Decision taken
    here: either code is accepted (it is both malformed and too large)."""
    for data, message in ((b"*99999999999999999999\r\n", b"invalid multibulk length\r\n"),
                          (b"*1\r\n$99999999999999999999\r\n", b"invalid bulk length\r\n")):
        got = exchange(data)
        assert got in (E4000 + message, E4130 + message), (data, got)


def test_garbage_keeps_server_serving(node, issuer, validator):
    keeper = authed(validator)
    with authed(issuer) as c:
        tok = tm_create(c)["token"]
    rng = random.Random(5)
    try:
        for i in range(40):
            garbage = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 7, 64, 500, 4000])))
            if i % 2:
                garbage = b"*" + garbage
            with RespConn() as g:
                try:
                    g.send_raw(garbage + b"\r\n")
                    got = g.quiet_for(0.3)
                except (ConnectionResetError, BrokenPipeError):
                    got = b"<reset>"
                # whatever it was, every answer is an error line and nothing else
                for line in got.replace(b"<EOF>", b"").split(b"\r\n"):
                    assert line == b"" or line.startswith(b"-") or line == b"<reset>", (garbage[:100], got[:300])
        assert keeper.call("TM.VALIDATE", tok) == "OK"
        with authed(validator) as fresh:
            assert fresh.call("TM.VALIDATE", tok) == "OK"
        assert node.req("GET", "/health").status == 200
    finally:
        keeper.close()


def test_incomplete_command_times_out(node, stalled):
    watcher, seen = stalled
    watcher.join(30)
    assert seen["data"] == E4000 + b"incomplete command\r\n", seen
    assert 9.0 <= seen["closed_after"] <= 13.0, f"closed after {seen['closed_after']:.1f}s (the timer is 10 s)"


# --------------------------------------------------------------------------------------------
# Roles and errors, redis-cli -n (§6, §7.1, §10 item 10)


def test_role_unknown_command_select(node, issuer, validator):
    with authed(issuer) as c:
        tok = tm_create(c)["token"]
    assert out(cli("SET", fake_session_id(), "{}", key=validator)) == \
        "ERR TM-AUTH-4030 role validator may not run 'SET' (needs issuer)"
    typo = cli("TM.VALIDAT", tok, key=validator)
    assert out(typo) == "ERR TM-SYS-4040 unknown command 'TM.VALIDAT'"
    assert tok not in typo.stdout + typo.stderr
    assert out(cli("SELECT", "1", key=validator)) == "ERR TM-ARG-1001 DB index is out of range"
    n1 = cli("PING", key=validator, opts=["-n", "1"])
    assert "SELECT 1 failed: ERR TM-ARG-1001 DB index is out of range" in n1.stderr, n1.stderr
    assert out(n1) == "PONG"
    assert out(cli("GET", key=validator)) == "ERR TM-ARG-1001 wrong number of arguments for 'get' command"
    long_name = "X" * 300
    reply = out(cli(long_name, "arg", key=validator))
    assert reply.startswith("ERR TM-SYS-4040 unknown command '") and len(reply) < 150, reply


# --------------------------------------------------------------------------------------------
# Interactive redis-cli (§8, §10 item 11, issue item 1)


class PtyCli:
    """redis-cli with a pseudo-terminal as stdin, stdout and stderr (as in tmux): interactive
    mode, formatted output, unbuffered --stat. TERM=dumb, so linenoise reads plain lines."""

    def __init__(self, args=(), key=None):
        self.master, slave = os.openpty()
        self.prompt = f"127.0.0.1:{RESP_PORT}>"
        self.proc = subprocess.Popen(["redis-cli", "-h", "127.0.0.1", "-p", str(RESP_PORT), "--no-auth-warning", *args],
                                     stdin=slave, stdout=slave, stderr=slave, env=cli_env(key, TERM="dumb"),
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.pending = b""

    def read_until(self, pred, timeout: float = 10) -> str:
        """Output up to the point where pred(text so far) holds."""
        deadline = time.monotonic() + timeout
        while not pred(self.pending.decode(errors="replace")):
            left = deadline - time.monotonic()
            assert left > 0, f"redis-cli: timed out after {timeout}s; got {self.pending!r}"
            r, _, _ = select.select([self.master], [], [], left)
            if r:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                assert chunk, f"redis-cli exited; got {self.pending!r}"
                self.pending += chunk
        text, self.pending = self.pending.decode(errors="replace"), b""
        return text.replace("\r", "")

    def until_prompt(self) -> str:
        """The output before the next prompt."""
        text = self.read_until(lambda t: t.rstrip().endswith(self.prompt))
        return text.rstrip()[:-len(self.prompt)]

    def run(self, line: str) -> str:
        os.write(self.master, line.encode() + b"\n")
        text = self.until_prompt()
        echoed, _, output = text.partition("\n")
        assert echoed == line, text
        return output.rstrip("\n")

    def close(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        os.close(self.master)


def test_interactive_redis_cli(node, issuer, validator):
    with authed(issuer) as c:
        sid = tm_create(c, "interactive")["session_id"]
    r = PtyCli()
    try:
        assert r.until_prompt() == "", "redis-cli printed something before its first prompt"
        outputs = [r.run(f"GET {sid}")]
        assert outputs[-1] == f"(error) {NOAUTH}"
        outputs.append(r.run(f"AUTH {issuer.key_id} {issuer.secret}"))
        assert outputs[-1] == "OK"
        outputs.append(r.run(f"AUTH {validator.cred}"))
        assert outputs[-1] == "OK"
        outputs.append(r.run(f"SET {sid} {{}}"))
        assert outputs[-1] == "(error) ERR TM-AUTH-4030 role validator may not run 'SET' (needs issuer)"
        outputs.append(r.run(f"GET {sid}"))
        assert json.loads(json.loads(outputs[-1]))["id"] == sid, outputs[-1]
        outputs.append(r.run("PING"))
        assert outputs[-1] == "PONG"
        outputs.append(r.run("HELLO 3"))
        assert '"proto" => (integer) 3' in outputs[-1], outputs[-1]
    finally:
        r.close()
    errors = [line for o in outputs for line in o.splitlines() if "rror" in line or "ERR" in line]
    assert errors == [f"(error) {NOAUTH}", outputs[3]], errors


@pytest.mark.parametrize("with_key", [False, True], ids=["unauthenticated", "authenticated"])
def test_interactive_resp3_starts_clean(node, validator, with_key):
    r = PtyCli(["-3"], key=validator if with_key else None)
    try:
        assert r.until_prompt() == "", "redis-cli -3 printed something before its first prompt"
        hello = r.run("HELLO")
        assert '"proto" => (integer) 3' in hello and '"server" => "tokmesh"' in hello, hello
        if with_key:
            assert r.run(f"TYPE {fake_session_id()}") == "none"
            assert r.run(f"GET {fake_session_id()}") == "(nil)"
    finally:
        r.close()


def test_stat_keys_match_info_keyspace(node, validator):
    def stat_keys() -> int:
        r = PtyCli(["--stat", "-i", "0.2"], key=validator)
        try:
            text = r.read_until(lambda t: re.search(r"^\d+ .*\n", t, re.M) is not None)
        finally:
            r.close()
        assert "keys" in text and "clients" in text, text
        return int(re.search(r"^(\d+) ", text, re.M).group(1))

    def info_keys() -> int:
        info = out(cli("INFO", "keyspace", key=validator))
        m = re.search(r"^db0:keys=(\d+),", info, re.M)
        assert m, info
        return int(m.group(1))

    wait_until(lambda: stat_keys() == info_keys(), 10, what="--stat keys equal to INFO keyspace")


# --------------------------------------------------------------------------------------------
# redis-benchmark (§8, §10 item 12: correctness only; rates are Scripts/bench resp)


@pytest.mark.parametrize("opts", [[], ["-P", "16"], ["-3"], ["--user", "default"]],
                         ids=["P1", "P16", "resp3", "user-default"])
def test_redis_benchmark_validate(node, issuer, validator, opts):
    with authed(issuer) as c:
        tok = tm_create(c)["token"]
    auth = ["-a", validator.cred]
    p = run_tool(["redis-benchmark", "-h", "127.0.0.1", "-p", str(RESP_PORT), *auth, *opts, "-c", "50", "-n", "5000",
                  "-q", "TM.VALIDATE", tok], check=False, timeout=120)
    text = p.stdout.replace("\r", "\n") + p.stderr
    assert p.returncode == 0, text[-2000:]
    assert "Could not fetch server CONFIG" not in text and "Error from server" not in text, text[-2000:]
    rates = [line for line in text.splitlines() if re.search(r": [\d.]+ requests per second", line)]
    assert len(rates) == 1, text[-2000:]


@pytest.mark.parametrize("args,lines", [(["-t", "ping_inline,ping_mbulk"], 2),
                                        (["-r", "100000", "EXISTS", "tmss-00000000000000__rand_int__"], 1)],
                         ids=["ping", "exists-rand"])
def test_redis_benchmark_builtin_and_rand(node, validator, args, lines):
    p = run_tool(["redis-benchmark", "-h", "127.0.0.1", "-p", str(RESP_PORT), "-a", validator.cred, "-c", "50",
                  "-n", "5000", "-q", *args], check=False, timeout=120)
    text = p.stdout.replace("\r", "\n") + p.stderr
    assert p.returncode == 0, text[-2000:]
    assert "Could not fetch server CONFIG" not in text and "Error from server" not in text, text[-2000:]
    assert len([line for line in text.splitlines() if re.search(r": [\d.]+ requests per second", line)]) == lines, text


# --------------------------------------------------------------------------------------------
# TLS (§1, §10 item 13, issue item 3)


def tls_args(certs, port, client_ca=False):
    args = ["--server.redis_tls.enabled=true", f"--server.redis_tls.address=127.0.0.1:{port}",
            f"--server.redis_tls.tls.cert_file={certs / 'server.crt'}",
            f"--server.redis_tls.tls.key_file={certs / 'server.key'}"]
    if client_ca:
        args.append(f"--server.redis_tls.tls.client_ca_file={certs / 'ca.crt'}")
    return args


def test_tls_listener(make_node, certs):
    port = free_port()
    n = make_node(tls_args(certs, port), name="resp-tls")
    _, issuer, validator = n.fresh_keys()
    tok = n.create_session(issuer)["token"]
    tls = ["--tls", "--cacert", str(certs / "ca.crt")]
    assert out(cli("TM.VALIDATE", tok, key=validator, port=port, opts=tls)) == "OK"
    assert out(cli("PING", port=port, opts=tls)) == "PONG"
    assert out(cli("GET", fake_session_id(), port=port, opts=tls)) == NOAUTH  # AUTH still applies
    # cleartext on the TLS port is refused
    plain = cli("PING", port=port)
    assert "PONG" not in plain.stdout, plain.stdout
    with RespConn(port) as c:
        c.send_raw(encode("PING"))
        assert b"+PONG" not in c.read_to_eof()
    # TLS 1.2 works too, and no SNI or ALPN is needed
    s12 = run_tool(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_2", "-noservername",
                    "-CAfile", str(certs / "ca.crt")], check=False, input="")
    assert "Verify return code: 0 (ok)" in s12.stdout, s12.stdout[-1500:] + s12.stderr[-500:]
    bench = run_tool(["redis-benchmark", *tls, "-h", "127.0.0.1", "-p", str(port), "-a", validator.cred, "-n", "20000",
                      "-q", "TM.VALIDATE", tok], check=False, timeout=180)
    text = bench.stdout.replace("\r", "\n") + bench.stderr
    assert bench.returncode == 0 and "Error from server" not in text and "requests per second" in text, text[-2000:]


def test_tls_client_certificate_required_with_client_ca(make_node, certs):
    port = free_port()
    n = make_node(tls_args(certs, port, client_ca=True), name="resp-mtls")
    _, _, validator = n.fresh_keys()
    tls = ["--tls", "--cacert", str(certs / "ca.crt")]
    refused = cli("PING", port=port, opts=tls)
    assert "PONG" not in refused.stdout, refused.stdout
    mine = tls + ["--cert", str(certs / "client.crt"), "--key", str(certs / "client.key")]
    assert out(cli("PING", port=port, opts=mine)) == "PONG"
    assert out(cli("GET", fake_session_id(), port=port, opts=mine)) == NOAUTH  # the certificate is no login
    assert out(cli("GET", fake_session_id(), key=validator, port=port, opts=mine)) == ""


# --------------------------------------------------------------------------------------------
# Connection limit (§1)


def test_max_connections(make_node):
    port = free_port()
    n = make_node(["--server.redis.enabled=true", f"--server.redis.address=127.0.0.1:{port}",
                   "--server.max_connections=4"], name="resp-maxconn")
    _, _, validator = n.fresh_keys()  # over HTTP, before the RESP connections fill the limit

    def pong():
        c = RespConn(port)
        try:
            if c.call("PING") == "PONG":
                return c
        except (EOFError, ConnectionResetError):
            pass
        c.close()  # a closed HTTP connection not released yet: try again
        return None

    conns = [wait_until(pong, 10, what=f"RESP connection {i + 1} of 4") for i in range(4)]
    try:
        assert exchange(encode("PING"), timeout=5, port=port) == b"-ERR TM-SYS-4290 max number of clients reached\r\n"
        assert conns[0].call("AUTH", validator.cred) == "OK"
        info = s(conns[0].call("INFO"))
        assert "connected_clients:4" in info.split("\r\n") and "maxclients:4" in info.split("\r\n"), info
        assert int(re.search(r"^rejected_connections:(\d+)", info, re.M).group(1)) >= 1, info
        assert [s(x) for x in conns[0].call("CONFIG", "GET", "maxclients")] == ["maxclients", "4"]
        conns.pop().close()
        conns.append(wait_until(pong, 10, what="a connection after one closed"))
    finally:
        for c in conns:
            c.close()


def test_auth_failures_and_revoke_user_are_audited(make_node):
    """spec/03 §10 over RESP as over HTTP: a failed AUTH is AUTH_FAILED under the key ID it named
    (never the secret), TM.REVOKE_USER is USER_SESSIONS_REVOKED with the user ID hashed and the
    count."""
    port = free_port()
    n = make_node(["--server.redis.enabled=true", f"--server.redis.address=127.0.0.1:{port}"], name="resp-audit")
    admin = n.emergency_key()
    issuer = n.create_key(admin, "issuer")
    bad_secret = "tmas_" + "B" * 43
    user = uid()
    with RespConn(port) as c:
        check_err(c.call("AUTH", issuer.key_id, bad_secret), "ERR TM-AUTH-4011")
        assert c.call("AUTH", issuer.cred) == "OK"
        for _ in range(2):
            tm_create(c, user)
        assert c.call("TM.REVOKE_USER", user) == 2

    def records(action):
        items = ok(n.req("GET", "/admin/v1/audit/logs", key=admin, query={"action": action, "size": 100}))["items"]
        return [r for r in items if r["action"] == action] or None

    failed = wait_until(lambda: records("AUTH_FAILED"), 10, interval=0.2, what="AUTH_FAILED")
    assert failed[0]["operator_id"] == issuer.key_id and failed[0]["error_code"] == "TM-AUTH-4011"
    assert failed[0]["details"]["protocol"] == "resp" and failed[0]["result"] == "FAILURE"
    revoked = wait_until(lambda: records("USER_SESSIONS_REVOKED"), 10, interval=0.2, what="USER_SESSIONS_REVOKED")
    assert revoked[0]["operator_id"] == issuer.key_id and revoked[0]["details"]["revoked_count"] == 2
    assert revoked[0]["resource"].startswith("user:sha256:") and user not in json.dumps(revoked)
    assert bad_secret not in json.dumps(failed) and issuer.secret not in json.dumps(failed)


def test_max_connections_over_tls(make_node, certs):
    """spec/05 §1: over TLS too, a connection past `server.max_connections` is answered
    `-ERR TM-SYS-4290 …` (after the handshake) and closed."""
    import ssl
    port = free_port()
    n = make_node(tls_args(certs, port) + ["--server.max_connections=3"], name="resp-tls-maxconn")
    ctx = ssl.create_default_context(cafile=str(certs / "ca.crt"))

    def connect():
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        return ctx.wrap_socket(raw, server_hostname="localhost")

    def read_line(sock):
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                break
            data += chunk
        return data

    def pong():
        try:
            c = connect()
            c.sendall(encode("PING"))
            if read_line(c) == b"+PONG\r\n":
                return c
            c.close()
        except (OSError, ssl.SSLError):
            pass
        return None  # a closed HTTP connection not released yet: try again

    held = [wait_until(pong, 10, what=f"TLS connection {i + 1} of 3") for i in range(3)]
    try:
        extra = connect()
        assert read_line(extra) == b"-ERR TM-SYS-4290 max number of clients reached\r\n"
        extra.close()
    finally:
        for c in held:
            c.close()
    assert n.alive()


def test_access_lines(make_node):
    """spec/05 §9, spec/10 §1: every command leaves an access line (`event: request`, `protocol:
    resp`, the lowercase command as route, the TM code or OK) — DEBUG normally, WARN for the
    401/403/429 classes — and never its arguments."""
    port = free_port()
    n = make_node(["--server.redis.enabled=true", f"--server.redis.address=127.0.0.1:{port}",
                   "--telemetry.logging.level=debug"], name="resp-access")
    admin = n.emergency_key()
    issuer = n.create_key(admin, "issuer")
    token = "tmtk_" + "Q" * 43
    with RespConn(port) as c:
        assert c.call("PING") == "PONG"
        check_err(c.call("AUTH", issuer.key_id, "tmas_" + "C" * 43), "ERR TM-AUTH-4011")
        assert c.call("AUTH", issuer.cred) == "OK"
        check_err(c.call("TM.VALIDATE", token), "ERR TM-TOKN-4010")
        assert c.call("GET", fake_session_id()) is None

    def lines():
        found = [json.loads(l) for l in n.log_text().splitlines() if '"protocol":"resp"' in l and '"event":"request"' in l]
        return found if len(found) >= 5 else None

    found = wait_until(lines, 10, what="five RESP access lines")
    by_route = {(l["route"], l["code"]): l for l in found}
    assert by_route[("ping", "OK")]["level"] == "DEBUG"
    assert by_route[("auth", "TM-AUTH-4011")]["level"] == "WARN"
    assert by_route[("tm.validate", "TM-TOKN-4010")]["level"] == "WARN"
    assert by_route[("get", "OK")]["api_key_id"] == issuer.key_id
    assert all(re.match(r"^req-[0-9a-z]{16}$", l["request_id"]) for l in found), found
    text = "\n".join(json.dumps(l) for l in found)
    assert token not in text and issuer.secret not in text
