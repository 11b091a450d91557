"""Fixtures of the artifacts suite (spec/11 §10): static and offline checks of everything under
deploy/, the Dockerfile, compose and Kubernetes manifests and the shell scripts. Nothing here
starts a server; `--check-config` and deploy/install.sh run against temporary directories only.

Environment: TOKMESH_SERVER_BIN (default .build/debug/tokmesh-server from the repository
root); tokmesh-cli is taken from the same directory.
"""

from __future__ import annotations

import shutil

import pytest

from artlib import DEPLOY, REPO, cli_bin, run, server_bin


@pytest.fixture(scope="session")
def server():
    b = server_bin()
    if not b.is_file():
        pytest.fail(f"{b} does not exist: build first (swift build) or set TOKMESH_SERVER_BIN")
    return b


@pytest.fixture(scope="session")
def cli(server):
    b = cli_bin()
    if not b.is_file():
        pytest.fail(f"{b} does not exist next to {server}")
    return b


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory, server):
    """A temporary copy of deploy/config with development certificates in certs/
    (`Scripts/dev-certs --out <copy>/certs`), so the repository's git-ignored
    deploy/config/certs is never written by the tests."""
    d = tmp_path_factory.mktemp("deploy-config") / "config"
    shutil.copytree(DEPLOY / "config", d, ignore=shutil.ignore_patterns("certs"))
    run([REPO / "Scripts/dev-certs", "--out", d / "certs"], check=True)
    return d
