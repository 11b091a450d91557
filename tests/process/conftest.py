"""Fixtures of the process test suite.

Each test module gets its own `tokmesh-server` (module scope) started with the module's
`NODE_ARGS` (extra `--key=value` flags) and `NODE_ENV` (extra environment), so flags differ
per module and nodes are reused within one. `admin` is an emergency key from the local
socket; `issuer` and `validator` are keys created with it and already in the auth cache.
`certs` is a directory of development certificates shared by the whole session.

Environment: TOKMESH_SERVER_BIN (default .build/debug/tokmesh-server from the repository
root); TOKMESH_KEEP_TMP=1 keeps the temporary data directories and logs.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tmlib import CREATED, REPO, STARTED, Node, finish_node, run_tool, start_node


@pytest.fixture(scope="session")
def certs(tmp_path_factory):
    """A CA, a server certificate for 127.0.0.1/localhost and a client certificate
    (Scripts/dev-certs), shared by the TLS tests of every module."""
    d = tmp_path_factory.mktemp("certs")
    run_tool([str(REPO / "Scripts/dev-certs"), "--out", str(d)])
    return d


@pytest.fixture(scope="module")
def node(request):
    mod = request.module
    name = mod.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    n = start_node(name, getattr(mod, "NODE_ARGS", ()), getattr(mod, "NODE_ENV", None))
    yield n
    finish_node(n)


@pytest.fixture
def make_node():
    """Factory for extra nodes that live for one test: make_node(args=[...], env={...})."""
    mine: list[Node] = []

    def factory(args=(), env=None, name="extra"):
        n = start_node(name, args, env)
        mine.append(n)
        return n

    yield factory
    for n in mine:
        finish_node(n)


@pytest.fixture(scope="module")
def admin(node):
    key = node.emergency_key()
    node.warm(key)
    return key


# The fixture keys get the highest rate limit: bulk tests send far more than the default 1000/s.
UNLIMITED = 1_000_000


@pytest.fixture(scope="module")
def issuer(node, admin):
    key = node.create_key(admin, "issuer", description="process-test issuer", rate_limit=UNLIMITED)
    node.warm(key)
    return key


@pytest.fixture(scope="module")
def validator(node, admin):
    key = node.create_key(admin, "validator", description="process-test validator", rate_limit=UNLIMITED)
    node.warm(key)
    return key


def pytest_sessionfinish(session, exitstatus):
    """Stop every node still running and remove every node's temporary directory."""
    for n in CREATED:
        n.stop(timeout=5)
        if not os.environ.get("TOKMESH_KEEP_TMP"):
            shutil.rmtree(n.tmp, ignore_errors=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and rep.when in ("setup", "call"):
        seen = set()
        for n in list(STARTED):
            if id(n) in seen:
                continue
            seen.add(id(n))
            state = "running" if n.alive() else f"exited {n.proc.returncode if n.proc else n.returncode}"
            rep.sections.append((f"tokmesh-server {n.name} ({state}, {n.log_path}) log tail",
                                 n.log_tail(40)))
