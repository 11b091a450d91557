"""spec/11 §10 item 8 (the shell part): shellcheck reports nothing (every severity, style
included) for the shell scripts in Scripts/ (files whose shebang names sh or bash; data files
such as requirements-test.txt are skipped) and deploy/*.sh; the deploy scripts are executable
and use `set -euo pipefail`."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from artlib import DEPLOY, REPO, run

SHEBANG = re.compile(rb"^#!\s*(/usr/bin/env\s+)?(/bin/|/usr/bin/)?(ba)?sh\b")


def shell_scripts():
    scripts = []
    for p in sorted((REPO / "Scripts").iterdir()):
        if p.is_file() and SHEBANG.match(p.read_bytes()[:64]):
            scripts.append(p)
    return scripts + sorted(DEPLOY.glob("*.sh"))


def test_found_the_scripts():
    names = {str(p.relative_to(REPO)) for p in shell_scripts()}
    assert {"Scripts/dev-certs", "Scripts/test", "Scripts/run", "Scripts/bootstrap",
            "deploy/install.sh", "deploy/uninstall.sh"} <= names
    assert "Scripts/requirements-test.txt" not in names


def test_shellcheck():
    tool = shutil.which("shellcheck")
    if tool is None:
        pytest.fail("shellcheck is not installed (Debian package shellcheck; Scripts/bootstrap test installs it)")
    files = [str(p.relative_to(REPO)) for p in shell_scripts()]
    p = run([tool, "--format=gcc", "--external-sources", *files], cwd=REPO, timeout=120)
    assert p.returncode == 0 and p.stdout == "", "shellcheck findings:\n" + p.stdout + p.stderr


@pytest.mark.parametrize("name", ["install.sh", "uninstall.sh"])
def test_deploy_scripts(name):
    path = DEPLOY / name
    assert os.access(path, os.X_OK), f"{name} is not executable"
    text = path.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in text
    assert run(["bash", "-n", path]).returncode == 0
