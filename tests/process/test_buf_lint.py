"""`buf lint` over proto/ (spec/06 §1): proto/buf.yaml (v2) applies the STANDARD rules to our files and
ignores grpc/ (the upstream health and reflection files keep their upstream names). buf comes from the
pinned pip package buf-bin (Scripts/requirements-test.txt). No server is needed."""

import re
import shutil
import subprocess

from tmlib import REPO


def buf():
    path = shutil.which("buf")
    assert path, "buf not found: run Scripts/bootstrap test (pip installs buf-bin from Scripts/requirements-test.txt)"
    return path


def lint(root):
    return subprocess.run([buf(), "lint", str(root)], capture_output=True, text=True, timeout=120)


def test_buf_is_the_pinned_version():
    pinned = re.search(r"^buf-bin==(\S+)$", (REPO / "Scripts/requirements-test.txt").read_text(), re.M)
    assert pinned, "buf-bin is not pinned in Scripts/requirements-test.txt"
    version = subprocess.run([buf(), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    assert version == pinned.group(1), f"buf {version} found, {pinned.group(1)} pinned: run Scripts/bootstrap test"


def test_buf_lint_standard_passes():
    p = lint(REPO / "proto")
    assert p.returncode == 0 and not p.stdout.strip(), f"buf lint proto failed ({p.returncode}):\n{p.stdout}{p.stderr}"


def test_lint_is_standard_and_ignores_only_grpc(tmp_path):
    copy = tmp_path / "proto"
    shutil.copytree(REPO / "proto", copy)
    # A STANDARD violation in grpc/ is ignored.
    health = copy / "grpc/health/v1/health.proto"
    health.write_text(health.read_text() + "\nmessage lower_case_grpc {}\n")
    assert lint(copy).returncode == 0, lint(copy).stdout
    # The same in our files fails, as do other STANDARD rules (enum zero value, service suffix).
    session = copy / "tokmesh/v1/session.proto"
    session.write_text(session.read_text() + "\nmessage lower_case_tokmesh {}\nenum Colour { RED = 0; }\nservice Plain { }\n")
    p = lint(copy)
    assert p.returncode != 0, p.stdout
    assert "lower_case_tokmesh" in p.stdout and "lower_case_grpc" not in p.stdout, p.stdout
    assert "UNSPECIFIED" in p.stdout and "should be suffixed with \"Service\"" in p.stdout, p.stdout
