"""spec/11 §10 item 1 (and spec/08 §10 item 5): after `Scripts/dev-certs --out <copy>/certs`,
`tokmesh-server --check-config` exits 0 with `Configuration is valid.` for every
deploy/config/*.yaml and 78 (TM-CFG-1002) for a copy with port 99999; nothing is created on
disk; `git ls-files` lists no certificate or private key. The data directory and the socket
path are pointed into an empty temporary directory (by env), so the check never needs
/var/lib/tokmesh-server; that directory, the working directory and the copy stay unchanged."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from artlib import DEPLOY, REPO, SAMPLES, clean_env, git_ls_files, run, tree_state

SYSTEM_DIRS = ("/var/lib/tokmesh-server", "/run/tokmesh-server", "/etc/tokmesh-server")


def test_every_sample_is_listed():
    found = sorted(p.stem for p in (DEPLOY / "config").glob("*.yaml"))
    assert found == sorted(SAMPLES)


def check(server, config: Path, tmp: Path):
    data = tmp / "data"
    data.mkdir(exist_ok=True)
    cwd = tmp / "cwd"
    cwd.mkdir(exist_ok=True)
    env = clean_env(TOKMESH_STORAGE_DATA_DIR=str(data),
                    TOKMESH_SERVER_LOCAL_SOCKET_PATH=str(data / "tokmesh-server.sock"))
    return run([server, "--check-config", config], env=env, cwd=cwd)


@pytest.mark.parametrize("name", SAMPLES)
def test_check_config_valid(server, sample_dir, tmp_path, name):
    system_before = {d: os.path.exists(d) for d in SYSTEM_DIRS}
    before = tree_state(sample_dir)
    p = check(server, sample_dir / f"{name}.yaml", tmp_path)
    assert p.returncode == 0, f"{name}.yaml: exit {p.returncode}\n{p.stdout}{p.stderr}"
    assert "Configuration is valid." in p.stdout
    # Nothing created on disk: not in the copy (config + certs), not in the data directory or
    # the working directory, not in the system directories, not in the repository's deploy/.
    assert tree_state(sample_dir) == before
    assert list((tmp_path / "data").iterdir()) == []
    assert list((tmp_path / "cwd").iterdir()) == []
    assert {d: os.path.exists(d) for d in SYSTEM_DIRS} == system_before
    assert not (DEPLOY / "config" / "data").exists()


@pytest.mark.parametrize("name", SAMPLES)
def test_check_config_port_99999(server, sample_dir, tmp_path, name):
    text = (sample_dir / f"{name}.yaml").read_text()
    assert "127.0.0.1:5080" in text or "0.0.0.0:5080" in text
    bad = sample_dir / f"bad-{name}.yaml"  # beside the original: relative cert paths still resolve
    bad.write_text(text.replace(":5080", ":99999"))
    try:
        p = check(server, bad, tmp_path)
    finally:
        bad.unlink()
    assert p.returncode == 78, p.stdout + p.stderr
    out = p.stdout + p.stderr
    assert "[TM-CFG-1002] server.http.address" in out and "99999" in out, out


def test_no_certificate_or_key_is_tracked():
    bad = []
    for f in git_ls_files(untracked=True):  # tracked, and new files a commit would add
        path = REPO / f
        if f.lower().endswith((".crt", ".pem", ".key", ".csr", ".der", ".p12", ".pfx", ".jks")):
            bad.append(f)
            continue
        try:
            head = path.read_bytes()[:4096].lstrip()
        except (FileNotFoundError, IsADirectoryError):
            continue
        if head.startswith(b"-----BEGIN"):
            bad.append(f)
    assert bad == [], f"certificates or keys are tracked: {bad}"


def test_cert_dirs_are_ignored():
    for p in ("deploy/config/certs/ca.key", "dev-certs/ca.key"):
        assert run(["git", "-C", REPO, "check-ignore", "-q", p]).returncode == 0, p
    assert run(["git", "-C", REPO, "check-ignore", "-q", "Scripts/dev-certs"]).returncode == 1


UNCOMMENT = __import__("re").compile(r"^(\s*)# ?(\s*[a-z_]+:(?: .*)?|\s*- .*)$")
LEAF = __import__("re").compile(r"^\s*[a-z_0-9]+:(\s*(?P<value>[^#\s].*))?$")


@pytest.mark.parametrize("name", SAMPLES)
def test_commented_line_by_line(name):
    """spec/11 §8 "commented line by line": every key that sets a value (a scalar or a list)
    has a comment on the line above or at its end."""
    lines = (DEPLOY / "config" / f"{name}.yaml").read_text().splitlines()
    assert lines[0].startswith("#"), "the file starts with a comment saying what it is"
    missing = []
    for i, line in enumerate(lines):
        m = LEAF.match(line)
        if not m:
            continue
        nxt = next((l for l in lines[i + 1:] if l.strip() and not l.lstrip().startswith("#")), "")
        if not m.group("value") and not nxt.lstrip().startswith("- "):
            continue  # a section header
        prev = next((l for l in reversed(lines[:i]) if l.strip()), "")
        if not prev.lstrip().startswith("#") and " #" not in line:
            missing.append(f"{name}.yaml:{i + 1}: {line.strip()}")
    assert missing == [], "keys without a comment:\n" + "\n".join(missing)


@pytest.mark.parametrize("name", ["https", "redis-tls"])
def test_commented_examples_are_valid(server, sample_dir, tmp_path, name):
    """(beyond) The commented examples (client CA, allow-list, trusted proxies), uncommented,
    still pass --check-config: an operator who enables them gets a working file."""
    out = []
    changed = 0
    for line in (sample_dir / f"{name}.yaml").read_text().splitlines():
        m = UNCOMMENT.match(line)
        if m:
            changed += 1
            line = m.group(1) + m.group(2)
        out.append(line)
    assert changed > 0
    f = sample_dir / f"uncommented-{name}.yaml"
    f.write_text("\n".join(out) + "\n")
    try:
        p = check(server, f, tmp_path)
    finally:
        f.unlink()
    assert p.returncode == 0, p.stdout + p.stderr
