"""Where the configuration comes from (spec/08 §1-§2; issue 7 item 1): with no file only
127.0.0.1:5080 listens (plus the local socket) and a WARN says no file was found; a file's
`:5080` is replaced by `TOKMESH_SERVER_HTTP_ADDRESS`, and a `--server.http.address` flag
replaces both; a key with underscores in its name (`TOKMESH_SESSION_QUOTA_MAX_PER_USER`) maps
to `session.quota.max_per_user`."""

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from tmlib import Node, free_port, wait_until


def listening(pid):
    """TCP (host, port) pairs the process listens on, from its socket inodes."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = set()
    for table, v6 in (("/proc/net/tcp", False), ("/proc/net/tcp6", True)):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if f[3] != "0A" or f[9] not in inodes:
                continue
            host_hex, port_hex = f[1].split(":")
            if v6:
                host = "::" if int(host_hex, 16) == 0 else host_hex
            else:
                host = ".".join(str(b) for b in reversed(bytes.fromhex(host_hex)))
            found.add((host, int(port_hex, 16)))
    return found


class Bare:
    """tokmesh-server with only the flags given (no --server.http.address of Node)."""

    def __init__(self, tmp_path, args=(), env=None):
        tmp_path.mkdir(exist_ok=True)
        self.data = tmp_path / "data"
        self.log = tmp_path / "server.log"
        environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), **(env or {})}
        self.proc = subprocess.Popen([str(Node.binary()), f"--storage.data_dir={self.data}", "--server.shutdown.grace_period=0s", *args],
                                     stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, env=environment, cwd=tmp_path)

    def wait_listening(self, port):
        wait_until(lambda: ("127.0.0.1", port) in listening(self.proc.pid), 30, what=f"a listener on {port}")
        return listening(self.proc.pid)

    def get(self, port, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(30)


def can_bind(port):
    import socket
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def test_no_file_only_the_default_listener(tmp_path):
    if not can_bind(5080):
        pytest.skip("127.0.0.1:5080 is taken on this machine")
    node = Bare(tmp_path)
    try:
        assert node.wait_listening(5080) == {("127.0.0.1", 5080)}
        assert node.get(5080, "/health")["data"]["status"] == "healthy"
        warns = [json.loads(line) for line in node.log.read_text().splitlines() if "No configuration file found" in line]
        assert warns and warns[0]["level"] == "WARN", node.log.read_text()[:2000]
    finally:
        node.stop()


def test_file_env_flag_precedence(tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text('server:\n  http:\n    address: ":5080"\n')
    p1, p2 = free_port(), free_port()
    env = {"TOKMESH_SERVER_HTTP_ADDRESS": f"127.0.0.1:{p1}", "TOKMESH_SESSION_QUOTA_MAX_PER_USER": "7"}
    node = Bare(tmp_path / "a", ["--config", str(cfg)], env)
    try:
        assert node.wait_listening(p1) == {("127.0.0.1", p1)}
    finally:
        node.stop()
    node = Bare(tmp_path / "b", ["--config", str(cfg), f"--server.http.address=127.0.0.1:{p2}"], env)
    try:
        assert node.wait_listening(p2) == {("127.0.0.1", p2)}
        # the snake_case key from the environment is in effect
        loaded = [json.loads(line) for line in node.log.read_text().splitlines() if '"config_loaded"' in line][0]
        assert "TOKMESH_SESSION_QUOTA_MAX_PER_USER" in loaded["config_source"]["env_overrides"]
        assert "--server.http.address" in loaded["config_source"]["cli_overrides"]
        sock = node.data / "tokmesh-server.sock"
        out = subprocess.run(["curl", "-s", "--unix-socket", str(sock), "http://local/admin/v1/config?merged=true"],
                             capture_output=True, text=True, timeout=10).stdout
        assert json.loads(out)["data"]["session"]["quota"]["max_per_user"] == 7, out
    finally:
        node.stop()
