"""spec/11 §10 item 4: deploy/install.sh --destdir T twice, then deploy/uninstall.sh --destdir
T -y twice: after install the paths and modes of spec/11 §4 exist (no chown, user, apt or
systemctl under a destdir: each skipped step is printed) and the manifest lists exactly what
was created; after uninstall exactly the manifest's files and (empty) directories are gone,
configuration and data stay; the second uninstall says `nothing to remove`. Also: pre-existing
paths are not in the manifest and survive, an existing config.yaml is never overwritten, a
failing --check-config aborts before the service steps, and uninstall refuses without -y when
stdin is not a terminal."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from artlib import DEPLOY, clean_env, run, server_bin

MANIFEST = "/usr/local/share/tokmesh/install-manifest.txt"

# spec/11 §4 (the parts install.sh creates; /run/tokmesh-server is systemd's RuntimeDirectory
# and the data subdirectories are the server's).
MODES = {
    "/usr/local/bin/tokmesh-server": 0o755,
    "/usr/local/bin/tokmesh-cli": 0o755,
    "/etc/systemd/system/tokmesh-server.service": 0o644,
    "/etc/tokmesh-server": 0o750,
    "/etc/tokmesh-server/config.yaml": 0o640,
    "/etc/tokmesh-server/environment": 0o640,
    "/etc/tokmesh-server/certs": 0o750,
    "/var/lib/tokmesh-server": 0o750,
    MANIFEST: 0o644,
}


def install(dest: Path, *args, **env):
    return run(["bash", DEPLOY / "install.sh", "--bin-dir", server_bin().parent, "--destdir", dest, *args],
               env=clean_env(**env), timeout=120)


def uninstall(dest: Path, *args, input=""):
    return run(["bash", DEPLOY / "uninstall.sh", "--destdir", dest, *args], env=clean_env(), input=input)


def tree(dest: Path) -> set[str]:
    return {"/" + str(p.relative_to(dest)) for p in dest.rglob("*")}


def manifest(dest: Path) -> list[tuple[str, str]]:
    lines = (dest / MANIFEST.lstrip("/")).read_text().splitlines()
    entries = [tuple(l.split(" ", 1)) for l in lines]
    assert all(k in ("file", "dir", "config", "data") for k, _ in entries), lines
    assert len(entries) == len(set(entries)), "duplicate manifest entries"
    return entries


def mode(dest: Path, path: str) -> int:
    return stat.S_IMODE((dest / path.lstrip("/")).lstat().st_mode)


def ancestors(path: str) -> set[str]:
    parts = path.strip("/").split("/")
    return {"/" + "/".join(parts[:i]) for i in range(1, len(parts))}


@pytest.fixture
def dest(tmp_path):
    d = tmp_path / "root"
    d.mkdir()
    return d


def test_install_twice_uninstall_twice(dest, server):
    first = install(dest)
    assert first.returncode == 0, first.stdout + first.stderr
    for step in ("create group and user tokmesh", "apt", "systemctl daemon-reload",
                 "systemctl enable", "systemctl restart/start"):
        assert any("skipped (destdir)" in l and step in l for l in first.stdout.splitlines()), step
    assert "Configuration is valid." in first.stdout
    assert "tokmesh-cli -t local apikey create-emergency" in first.stdout

    for path, m in MODES.items():
        assert (dest / path.lstrip("/")).exists(), path
        assert mode(dest, path) == m, f"{path}: {oct(mode(dest, path))} != {oct(m)}"
    assert (dest / "etc/tokmesh-server/config.yaml").read_text() == (DEPLOY / "config/minimal.yaml").read_text()
    assert (dest / "etc/systemd/system/tokmesh-server.service").read_text() == \
        (DEPLOY / "systemd/tokmesh-server.service").read_text()
    env_lines = (dest / "etc/tokmesh-server/environment").read_text().splitlines()
    assert env_lines and all(l.startswith("#") or not l.strip() for l in env_lines)
    assert (dest / "usr/local/bin/tokmesh-server").read_bytes() == server.read_bytes()
    assert list((dest / "var/lib/tokmesh-server").iterdir()) == [], "the check created files in the data dir"

    entries = manifest(dest)
    created = tree(dest)
    assert {p for _, p in entries} == created, "the manifest lists exactly what install.sh created"
    kinds = dict((p, k) for k, p in entries)
    assert kinds["/etc/tokmesh-server/config.yaml"] == "config"
    assert kinds["/var/lib/tokmesh-server"] == "data"
    assert kinds["/usr/local/bin/tokmesh-server"] == "file" and kinds[MANIFEST] == "file"

    # Idempotent: nothing new, same manifest, same modes.
    second = install(dest)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "unchanged /usr/local/bin/tokmesh-server" in second.stdout
    assert tree(dest) == created
    assert manifest(dest) == entries
    assert all(mode(dest, p) == m for p, m in MODES.items())

    # Without -y and without a terminal: refuses, removes nothing.
    refused = uninstall(dest)
    assert refused.returncode != 0 and "-y" in refused.stderr
    assert tree(dest) == created

    gone = uninstall(dest, "-y")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    kept = {p for k, p in entries if k in ("config", "data")}
    expected = kept | set().union(*(ancestors(p) for p in kept))
    assert tree(dest) == expected, "exactly the manifest's files and emptied directories are removed"
    assert (dest / "etc/tokmesh-server/config.yaml").read_text() == (DEPLOY / "config/minimal.yaml").read_text()
    assert "skipped (destdir): systemctl daemon-reload" in gone.stdout

    again = uninstall(dest, "-y")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "nothing to remove" in again.stdout
    assert tree(dest) == expected


def test_preexisting_paths_are_not_in_the_manifest(dest):
    (dest / "usr/local/bin").mkdir(parents=True)
    (dest / "usr/local/bin/other-tool").write_text("#!/bin/sh\n")
    (dest / "etc/tokmesh-server").mkdir(parents=True)
    mine = (DEPLOY / "config/minimal.yaml").read_text() + "# the operator's edit\n"
    (dest / "etc/tokmesh-server/config.yaml").write_text(mine)

    p = install(dest)
    assert p.returncode == 0, p.stdout + p.stderr
    paths = {path for _, path in manifest(dest)}
    assert not paths & {"/usr", "/usr/local", "/usr/local/bin", "/etc", "/etc/tokmesh-server",
                        "/etc/tokmesh-server/config.yaml"}
    assert (dest / "etc/tokmesh-server/config.yaml").read_text() == mine, "config.yaml was overwritten"
    assert (dest / "etc/tokmesh-server/config.yaml.dist").read_text() == (DEPLOY / "config/minimal.yaml").read_text()
    assert mode(dest, "/etc/tokmesh-server") == 0o750

    p = uninstall(dest, "-y")
    assert p.returncode == 0, p.stdout + p.stderr
    assert (dest / "usr/local/bin/other-tool").exists()
    assert not (dest / "usr/local/bin/tokmesh-server").exists()
    assert (dest / "etc/tokmesh-server/config.yaml").read_text() == mine


def test_failing_check_aborts_before_the_service(dest, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DEPLOY / "config/minimal.yaml").read_text().replace(":5080", ":99999"))
    p = install(dest, "--config", bad)
    assert p.returncode == 78, p.stdout + p.stderr
    assert "TM-CFG-1002" in p.stdout + p.stderr
    assert "configuration check failed" in p.stderr
    assert "systemctl" not in p.stdout.split("checking", 1)[1]


def test_purge(dest):
    assert install(dest).returncode == 0
    p = uninstall(dest, "--purge", "-y")
    assert p.returncode == 0, p.stdout + p.stderr
    assert not (dest / "etc/tokmesh-server").exists() and not (dest / "var/lib/tokmesh-server").exists()
    assert "skipped (destdir): userdel tokmesh" in p.stdout
    assert tree(dest) == set(), tree(dest)


REAL_PATHS = ("/etc/tokmesh-server", "/var/lib/tokmesh-server", "/usr/local/bin/tokmesh-server", "/usr/local/share/tokmesh")


def _real_install_possible() -> str | None:
    """Why the real install cannot run here (None when it can): it changes the machine, so
    only a disposable CI machine (root, CI set, nothing of TokMesh's there, no systemd running)."""
    import os
    import pwd
    if os.geteuid() != 0 or not os.environ.get("CI"):
        return "the real install runs only as root on CI (CI set)"
    try:
        pwd.getpwnam("tokmesh")
        return "a user tokmesh exists already"
    except KeyError:
        pass
    if any(Path(p).exists() for p in REAL_PATHS):
        return "TokMesh is installed on this machine already"
    if Path("/run/systemd/system").is_dir():
        return "systemd is running here: the real install would enable a service"
    return None


@pytest.mark.skipif(_real_install_possible() is not None, reason=str(_real_install_possible()))
def test_real_install_runs_as_tokmesh_then_purge(tmp_path):
    """Without a destdir, on a machine without systemd: install.sh creates the user and the
    spec/11 §4 owners and modes, checks the configuration as that user and skips the service;
    the server then runs as `tokmesh` the way the unit starts it, answers over TCP and hands an
    emergency key to `tokmesh-cli -t local` on the default socket; `uninstall.sh -y --purge`
    removes the files, the data and the user."""
    import grp
    import json
    import os
    import pwd
    import shutil
    import signal
    import socket
    import subprocess
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = tmp_path / "config.yaml"
    config.write_text((DEPLOY / "config/minimal.yaml").read_text().replace("127.0.0.1:5080", f"127.0.0.1:{port}"))
    server = None
    try:
        p = run(["bash", DEPLOY / "install.sh", "--bin-dir", server_bin().parent, "--config", config], env=clean_env(), timeout=300)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "systemd is not running on this host" in p.stdout, p.stdout
        user = pwd.getpwnam("tokmesh")
        for path, mode, owner, group in (("/etc/tokmesh-server", 0o750, "root", "tokmesh"),
                                         ("/etc/tokmesh-server/config.yaml", 0o640, "root", "tokmesh"),
                                         ("/var/lib/tokmesh-server", 0o750, "tokmesh", "tokmesh"),
                                         ("/usr/local/bin/tokmesh-server", 0o755, "root", "root")):
            st = os.stat(path)
            assert (stat.S_IMODE(st.st_mode), pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name) == (mode, owner, group), path

        # As the unit runs it: RuntimeDirectory, User=tokmesh, WorkingDirectory, UMask=0077
        # (setpriv execs the server itself, so SIGTERM reaches it as systemd's would).
        os.makedirs("/run/tokmesh-server", mode=0o750, exist_ok=True)
        os.chown("/run/tokmesh-server", user.pw_uid, user.pw_gid)
        server = subprocess.Popen(["setpriv", "--reuid=tokmesh", "--regid=tokmesh", "--init-groups", "/usr/local/bin/tokmesh-server", "--config",
                                   "/etc/tokmesh-server/config.yaml"], cwd="/var/lib/tokmesh-server", env=clean_env(),
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
                                  preexec_fn=lambda: os.umask(0o077))
        deadline = time.monotonic() + 60
        while True:
            h = run(["curl", "-s", "-m", "2", f"http://127.0.0.1:{port}/health"])
            if h.returncode == 0 and h.stdout:
                break
            assert server.poll() is None and time.monotonic() < deadline, "the node run as tokmesh never answered /health over TCP"
            time.sleep(0.1)
        assert json.loads(h.stdout)["data"]["status"] == "healthy"
        sock = Path("/run/tokmesh-server/tokmesh-server.sock")
        assert stat.S_IMODE(sock.stat().st_mode) == 0o660 and pwd.getpwuid(sock.stat().st_uid).pw_name == "tokmesh"
        key = run(["/usr/local/bin/tokmesh-cli", "-t", "local", "apikey", "create-emergency", "-q"], env=clean_env(HOME=str(tmp_path)))
        assert key.returncode == 0 and key.stdout.startswith("tmak-"), key.stdout + key.stderr
        server.send_signal(signal.SIGTERM)
        assert server.wait(60) == 0
        assert not sock.exists()
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)
        u = run(["bash", DEPLOY / "uninstall.sh", "-y", "--purge"], env=clean_env(), timeout=120)
        shutil.rmtree("/run/tokmesh-server", ignore_errors=True)
    assert u.returncode == 0, u.stdout + u.stderr
    assert not any(Path(p).exists() for p in REAL_PATHS)
    with pytest.raises(KeyError):
        pwd.getpwnam("tokmesh")
