"""docs/getting-started.md, run word for word: the page's shell blocks must work as written.

How the page maps to this test:

- Fenced blocks with the info string ```` ```sh ```` are the main path (admin key over the local
  socket, issuer key, a session over HTTP, validation over HTTP, RESP and grpcurl, revoke). They
  are concatenated, in page order, into one `bash` script (`set -euo pipefail`), so variables
  set by one block (ADMIN, ISSUER, H, TOKEN, SID, REDISCLI_AUTH) feed the next, exactly as in
  the reader's second terminal. Each block is preceded by a marker line so its output can be
  checked on its own.
- The one block with the info string ```` ```sh start ```` is the reader's first terminal:
  `Scripts/run <flags>`. Scripts/run builds and then execs `.build/release/tokmesh-server
  <flags>` from the repository root; here the flags are kept and given to the test's binary
  (TOKMESH_SERVER_BIN, default .build/debug/tokmesh-server) started by tmlib in a fresh
  temporary directory that is also the script's working directory, with `--storage.data_dir`
  = `<tmp>/data`, so the page's `data/tokmesh-server.sock` resolves there as it does at the
  repository root.
- Ports: the page uses the defaults 127.0.0.1:5080 (HTTP) and 6379 (RESP). The test takes free
  ephemeral loopback ports instead (tmlib picks the HTTP one; the RESP one is added as
  `--server.redis.address=127.0.0.1:<port>`), and rewrites every `127.0.0.1:5080` and every
  `-p 6379` of the `sh` blocks to them, so the test never collides with a node a developer runs.
  It fails if a block mentions 5080 or 6379 in any other form (the substitution would be
  incomplete).
- Everything else on the page (the README commands, output samples, the TLS steps that need
  Scripts/dev-certs and deploy/config) uses other fences and is not run here.

Needs curl, jq, redis-cli and grpcurl (Scripts/bootstrap test installs them).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess

import pytest

from tmlib import (KEY_ID_RE, REPO, SECRET_RE, SESSION_ID_RE, TOKEN_RE, finish_node, free_port, ok,
                   start_node)

DOC = REPO / "docs" / "getting-started.md"
FENCE_RE = re.compile(r"^```(.*)$")
MARK = "@@getting-started block "
VARS = ("ADMIN", "ISSUER", "TOKEN", "SID")


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced block of a Markdown text, in order."""
    blocks, info, body = [], None, []
    for line in text.splitlines():
        m = FENCE_RE.match(line)
        if info is None:
            if m:
                info, body = m.group(1).strip(), []
        elif line.strip() == "```":
            blocks.append((info, "\n".join(body) + "\n"))
            info = None
        else:
            body.append(line)
    assert info is None, "unterminated fenced block in docs/getting-started.md"
    return blocks


def tool(name):
    path = shutil.which(name)
    assert path, f"{name} not found: run Scripts/bootstrap test"
    return path


def server_flags(start_block: str) -> list[str]:
    """The flags of the page's `Scripts/run …` line."""
    words = shlex.split(start_block, comments=True)
    assert words and words[0] == "Scripts/run", f"the sh start block must be one Scripts/run line: {start_block!r}"
    flags = words[1:]
    assert all(f.startswith("--") for f in flags), flags
    assert not any(f.startswith(("--server.http.address", "--server.redis.address", "--storage.data_dir"))
                   for f in flags), "the test sets addresses and the data directory itself"
    return flags


def substitute(block: str, http_port: int, redis_port: int) -> str:
    out = block.replace("127.0.0.1:5080", f"127.0.0.1:{http_port}")
    out = re.sub(r"-p 6379\b", f"-p {redis_port}", out)
    assert not re.search(r"\b(5080|6379)\b", out), f"a default port left after substitution in:\n{block}"
    return out


@pytest.fixture(scope="module")
def page():
    blocks = fenced_blocks(DOC.read_text())
    starts = [body for info, body in blocks if info == "sh start"]
    steps = [body for info, body in blocks if info == "sh"]
    assert len(starts) == 1, "exactly one ```sh start``` block"
    assert len(steps) >= 5, "the main path is in ```sh``` blocks"
    text = "".join(steps)
    assert "127.0.0.1:5080" in text and "-p 6379" in text, "the page uses the default ports"
    return starts[0], steps


def test_getting_started_runs_as_written(page):
    for name in ("curl", "jq", "redis-cli", "grpcurl"):
        tool(name)
    start, steps = page
    redis_port = free_port()
    node = start_node("getting-started", [*server_flags(start), f"--server.redis.address=127.0.0.1:{redis_port}"])
    try:
        script = ["set -euo pipefail"]
        for i, body in enumerate(steps):
            script.append(f"printf '%s\\n' '{MARK}{i}'")
            script.append(substitute(body, node.port, redis_port))
        script.append(f"printf '%s\\n' '{MARK}end'")
        for v in VARS:
            script.append(f"printf '@@var {v}=%s\\n' \"${{{v}-}}\"")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TOKMESH_", "REDISCLI_"))}
        env["XDG_CONFIG_HOME"] = str(node.tmp / "xdg")
        p = subprocess.run(["bash", "-c", "\n".join(script)], cwd=node.tmp, env=env, stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", timeout=180)
        out = p.stdout
        assert p.returncode == 0 and f"{MARK}end" in out, f"the page's sh blocks failed (exit {p.returncode}):\n{out}"

        # Output of each block, by position.
        parts = out.split(f"{MARK}")
        outputs: dict[int, str] = {}
        for part in parts[1:]:
            head, _, rest = part.partition("\n")
            if head.isdigit():
                outputs[int(head)] = rest
        assert sorted(outputs) == list(range(len(steps))), out
        values = dict(m.groups() for m in re.finditer(r"^@@var (\w+)=(.*)$", out, re.M))

        def output_of(*needles: str) -> str:
            found = [i for i, body in enumerate(steps) if all(n in body for n in needles)]
            assert len(found) == 1, f"expected one sh block with {needles}, found {len(found)}"
            return outputs[found[0]]

        def lines(text: str) -> list[str]:
            return [line.strip() for line in text.splitlines() if line.strip()]

        # The node answers and the admin key works.
        admin_id, _, admin_secret = values["ADMIN"].partition(":")
        assert KEY_ID_RE.match(admin_id) and SECRET_RE.match(admin_secret), "ADMIN is not <key_id>:<secret>"
        assert node.summary(values["ADMIN"])

        # The issuer key exists with role issuer.
        key_id, _, secret = values["ISSUER"].partition(":")
        assert KEY_ID_RE.match(key_id) and SECRET_RE.match(secret), "ISSUER is not <key_id>:<secret>"
        key = ok(node.req("GET", f"/admin/v1/keys/{key_id}", key=values["ADMIN"]))
        assert key["role"] == "issuer" and key["status"] == "active", key

        # A session created over HTTP for alice.
        assert TOKEN_RE.match(values["TOKEN"]), "TOKEN is not a server token"
        assert SESSION_ID_RE.match(values["SID"]), "SID is not a session id"
        created = json.loads(output_of("$H/sessions)", "jq .data"))
        assert created["session_id"] == values["SID"] and created["user_id"] == "alice", created

        # Validated over HTTP, RESP and gRPC before the revoke.
        assert lines(output_of("/tokens/validate")) == ["true"]
        resp = lines(output_of("redis-cli", "GET"))
        assert resp[0] == "OK" and resp[1] == '"alice"' and 3590 <= int(resp[2]) <= 3600, resp
        verdict = json.loads(output_of("SessionService/ValidateToken"))
        assert verdict["valid"] is True and verdict["session"]["id"] == values["SID"], verdict
        assert verdict["session"]["userId"] == "alice", verdict

        # The revoke holds at once over RESP.
        revoked = lines(output_of("/revoke"))
        assert revoked[0] == "true" and "TM-TOKN-4012" in revoked[1], revoked
        r = node.req("POST", "/tokens/validate", {"token": values["TOKEN"]}, key=values["ISSUER"])
        assert r.status == 401 and r.code == "TM-TOKN-4012", r
    finally:
        finish_node(node)
