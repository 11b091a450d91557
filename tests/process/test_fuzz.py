"""The short CI pass of the wire fuzzers (issues 4 and 5): `Scripts/fuzz proto`, `Scripts/fuzz h2`
and `Scripts/fuzz resp` with a fixed seed and few iterations, each against its own server.
Malformed envelopes, truncated protobuf, broken HTTP/2 framing, malformed RESP and random bytes
on the ports must never crash or hang the server, and every answer must be well formed. Longer
passes: Scripts/fuzz proto|h2|resp --iterations 20000 [--seed S]."""

import os
import subprocess
import sys

import pytest

from tmlib import REPO

FUZZ_SEED = os.environ.get("TOKMESH_FUZZ_SEED", "2")
# (target, iterations): about 10 s each on 2 cores with the debug build.
PASSES = [("proto", int(os.environ.get("TOKMESH_FUZZ_PROTO_ITERATIONS", "2000"))),
          ("h2", int(os.environ.get("TOKMESH_FUZZ_H2_ITERATIONS", "1000"))),
          ("resp", int(os.environ.get("TOKMESH_FUZZ_RESP_ITERATIONS", "600")))]


@pytest.mark.parametrize("target,iterations", PASSES, ids=[t for t, _ in PASSES])
def test_fuzz_short_pass(target, iterations):
    cmd = [sys.executable, str(REPO / "tests" / "fuzz" / f"fuzz_{target}.py"), "--seed", FUZZ_SEED,
           "--iterations", str(iterations), "--check-every", "250", "--quiet"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=240, stdin=subprocess.DEVNULL)
    out = p.stdout + p.stderr
    assert p.returncode == 0, f"Scripts/fuzz {target} --seed {FUZZ_SEED} exited {p.returncode}:\n{out[-20000:]}"
    assert f"fuzz {target}: ok: seed={FUZZ_SEED} iterations={iterations} findings=0" in p.stdout, out[-5000:]
