"""spec/11 §10 item 3: `systemd-analyze verify` on a temporary copy of
deploy/systemd/tokmesh-server.service whose binary paths point at the build directory (skipped
where systemd-analyze is absent); ExecReload contains -HUP after a --check-config; the
directives of spec/11 §5 that the other checks rely on are present."""

from __future__ import annotations

import shutil

import pytest

from artlib import DEPLOY, run, server_bin

UNIT = DEPLOY / "systemd/tokmesh-server.service"


def directives():
    """[(section, key, value)] in file order (repeated keys kept, as systemd does)."""
    out, section = [], None
    for line in UNIT.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        out.append((section, key, value))
    return out


def values(section, key):
    return [v for s, k, v in directives() if s == section and k == key]


def test_reload_checks_then_sends_hup():
    reload = values("Service", "ExecReload")
    assert len(reload) == 2
    assert reload[0] == "/usr/local/bin/tokmesh-server --check-config /etc/tokmesh-server/config.yaml"
    assert "-HUP" in reload[1] and "$MAINPID" in reload[1]


def test_spec_directives():
    d = {(s, k): v for s, k, v in directives()}
    assert d[("Service", "ExecStartPre")] == "/usr/local/bin/tokmesh-server --check-config /etc/tokmesh-server/config.yaml"
    assert d[("Service", "ExecStart")] == "/usr/local/bin/tokmesh-server --config /etc/tokmesh-server/config.yaml"
    expected = {
        "Type": "simple", "User": "tokmesh", "Group": "tokmesh",
        "EnvironmentFile": "-/etc/tokmesh-server/environment", "Restart": "on-failure",
        "RestartPreventExitStatus": "78", "TimeoutStopSec": "45",
        "StateDirectory": "tokmesh-server", "StateDirectoryMode": "0750",
        "RuntimeDirectory": "tokmesh-server", "RuntimeDirectoryMode": "0750",
        "WorkingDirectory": "/var/lib/tokmesh-server", "UMask": "0077", "NoNewPrivileges": "yes",
        "CapabilityBoundingSet": "", "ProtectSystem": "strict",
        "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
        "SystemCallFilter": "@system-service",
    }
    assert {k: d.get(("Service", k)) for k in expected} == expected
    assert d[("Unit", "StartLimitBurst")] == "5"
    assert d[("Install", "WantedBy")] == "multi-user.target"
    assert len(directives()) == len(set((s, k) for s, k, _ in directives())) + 1  # only ExecReload repeats


def test_systemd_analyze_verify(tmp_path, server):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    bin_dir = server_bin().parent
    unit = tmp_path / "tokmesh-server.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/", f"{bin_dir}/"))
    p = run([tool, "verify", unit], timeout=60)
    # verify exits 0 even for directives it ignores ("Failed to parse …, ignoring"), so any
    # line about this unit fails the test too. Lines about other units of the host are noise.
    ours = [l for l in (p.stdout + p.stderr).splitlines() if "tokmesh" in l or str(unit) in l]
    assert p.returncode == 0 and ours == [], f"exit {p.returncode}\n{p.stdout}{p.stderr}"


def test_systemd_analyze_verify_catches_errors(tmp_path):
    """The verify check above is not vacuous: a bad value in a copy is reported."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed (Debian package systemd)")
    unit = tmp_path / "tokmesh-server.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/", "/nonexistent/bin/"))
    p = run([tool, "verify", unit], timeout=60)
    assert p.returncode != 0 or "tokmesh" in p.stdout + p.stderr
