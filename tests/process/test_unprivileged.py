"""The node as the services run it: an unprivileged user (systemd `User=tokmesh`, the image's
UID 10001). A root-only socket option on accepted connections once closed every TCP connection
of such a node while the root-run suite saw nothing, so this starts the server as `nobody`
(setpriv; skipped unless the suite runs as root, as CI does) and speaks HTTP/1.1, h2c gRPC and
RESP to it over TCP, then stops it with SIGTERM."""

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from tmlib import Node, free_port, run_tool, wait_until

NOBODY = 65534


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root and setpriv to drop to nobody")
def test_served_as_an_unprivileged_user(tmp_path):
    # pytest's own temporary directories are root's (0700): nobody gets one of its own.
    home = Path(tempfile.mkdtemp(prefix="tm-nobody-"))
    home.chmod(0o777)
    http, resp = free_port(), free_port()
    cmd = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", str(Node.binary()),
           f"--server.http.address=127.0.0.1:{http}", f"--storage.data_dir={home / 'data'}",
           "--server.redis.enabled=true", f"--server.redis.address=127.0.0.1:{resp}", "--server.shutdown.grace_period=0s"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOKMESH_")}
    env["XDG_CONFIG_HOME"] = str(home / "xdg")
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=home, env=env, start_new_session=True)
    try:
        def healthy():
            p = subprocess.run(["curl", "-s", "-m", "2", f"http://127.0.0.1:{http}/health"], capture_output=True, text=True)
            return p.stdout if p.returncode == 0 and p.stdout else None
        body = wait_until(healthy, 30, what="GET /health over TCP from a node run as nobody")
        assert json.loads(body)["data"]["status"] == "healthy"
        assert os.stat(home / "data").st_uid == NOBODY
        check = json.loads(run_tool([shutil.which("grpcurl"), "-plaintext", f"127.0.0.1:{http}", "grpc.health.v1.Health/Check"]).stdout)
        assert check["status"] == "SERVING"
        with socket.create_connection(("127.0.0.1", resp), timeout=10) as s:
            s.sendall(b"*1\r\n$4\r\nPING\r\n")
            assert s.recv(64) == b"+PONG\r\n"
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(30)
        log.close()
        shutil.rmtree(home, ignore_errors=True)
    assert rc == 0, (tmp_path / "server.log").read_text()[-3000:]
