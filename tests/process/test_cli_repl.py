"""The tokmesh-cli REPL driven through tmux (spec/09 §7; issue 8 item 5): banner and
`tokmesh> `, the Not-connected block, `connect local` → `tokmesh:local> `, Tab completing
`sess` → `session` and a listed ID, Ctrl+C clearing a typed line and cancelling a
confirmation, history that survives a restart with no secret in ~/.tokmesh/history, and
Ctrl+D → `Goodbye!` with exit code 0; Ctrl+C in direct mode exits 2."""

import os
import shutil
import subprocess
import uuid

import pytest

from tmlib import Node, wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


class Screen:
    def __init__(self, command, env):
        self.socket = "tm-" + uuid.uuid4().hex[:8]
        self.env = env
        exports = " ".join(f"{k}='{v}'" for k, v in env.items())
        subprocess.run(["tmux", "-L", self.socket, "new", "-d", "-s", "cli", "-x", "160", "-y", "50",
                        f"env {exports} {command}; echo EXIT=$?; sleep 60"], check=True)

    def keys(self, *keys):
        subprocess.run(["tmux", "-L", self.socket, "send-keys", "-t", "cli", *keys], check=True)

    def text(self):
        return subprocess.run(["tmux", "-L", self.socket, "capture-pane", "-p", "-t", "cli", "-S", "-200"],
                              capture_output=True, text=True, check=True).stdout

    def wait(self, needle, timeout=15):
        needle = needle.rstrip()  # capture-pane drops trailing spaces
        return wait_until(lambda: needle in self.text(), timeout, interval=0.1, what=f"{needle!r} on the screen")

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


def test_repl(node, tmp_path):
    cli = Node.binary().parent / "tokmesh-cli"
    home = tmp_path / "home"
    (tmp_path / "xdg" / "tokmesh-cli").mkdir(parents=True)
    (tmp_path / "xdg" / "tokmesh-cli" / "cli.yaml").write_text(f"targets:\n  local:\n    socket: {node.socket_path}\n")
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "PATH": os.environ["PATH"], "TERM": "xterm"}
    home.mkdir()
    issuer = subprocess.run([str(cli), "-t", "local", "apikey", "create", "-r", "issuer", "-q"], capture_output=True, text=True,
                            env=env, check=True).stdout.strip()
    subprocess.run([str(cli), "-t", f"http://127.0.0.1:{node.port}", "-k", issuer, "session", "create", "-u", "repluser"],
                   capture_output=True, env=env, check=True)
    s = Screen(str(cli), env)
    try:
        s.wait("tokmesh> ")
        assert "TokMesh CLI v" in s.text() and "Type 'help' for available commands, 'exit' to quit." in s.text()
        s.keys("session list", "Enter")
        s.wait("Error: Not connected.")
        assert "  - local" in s.text()
        s.keys("connect local", "Enter")
        s.wait("tokmesh:local> ")
        s.keys("sess", "Tab")
        s.wait("tokmesh:local> session ")
        s.keys("list -u repluser", "Enter")
        s.wait("Total: 1 sessions")
        s.keys("session get tmss", "Tab")
        wait_until(lambda: [line for line in s.text().splitlines() if line.startswith("tokmesh:local> session get tmss-") and len(line.split()[-1]) == 31],
                   10, interval=0.1, what="a completed session ID")
        s.keys("C-u", "some typed text")
        s.wait("some typed text")
        s.keys("C-c")
        s.wait("some typed text^C")
        snap = subprocess.run([str(cli), "-t", "local", "backup", "snapshot", "-q"], capture_output=True, text=True, env=env, check=True).stdout.strip()
        s.keys(f"backup restore --id {snap}", "Enter")
        s.wait("Type 'RESTORE' to confirm: ")
        s.keys("C-c")
        s.wait("Cancelled.")
        s.keys(f"connect http://127.0.0.1:{node.port} -k {issuer}", "Enter")
        s.wait(f"tokmesh:127.0.0.1:{node.port}> ")
        s.keys("C-d")
        s.wait("EXIT=0")
        assert "Goodbye!" in s.text()
    finally:
        s.close()
    history = (home / ".tokmesh" / "history").read_text().replace("\\040", " ")  # libedit escapes spaces
    assert "connect local" in history and "tmas_" not in history and issuer.split(":")[1] not in history
    assert oct((home / ".tokmesh" / "history").stat().st_mode & 0o777) == "0o600"
    assert oct((home / ".tokmesh").stat().st_mode & 0o777) == "0o700"
    # the history survives a restart: Up brings back the last line
    s = Screen(str(cli), env)
    try:
        s.wait("tokmesh> ")
        s.keys("Up")
        s.wait(f"tokmesh> connect http://127.0.0.1:{node.port} -k ***")
    finally:
        s.close()


def test_ctrl_c_in_direct_mode_exits_2(node, tmp_path):
    cli = Node.binary().parent / "tokmesh-cli"
    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "none"), "PATH": os.environ["PATH"], "TERM": "xterm"}
    s = Screen(f"{cli} -t unix:{node.socket_path} backup restore --id snap-20260101-000000", env)
    try:
        s.wait("Type 'RESTORE' to confirm: ")
        s.keys("C-c")
        s.wait("EXIT=2")
    finally:
        s.close()
