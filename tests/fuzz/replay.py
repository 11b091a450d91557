#!/usr/bin/env python3
"""Scripts/fuzz replay FILE|HEX [--port P] [--timeout S]: send one saved fuzz input to a server.

The input is what a FUZZ FAILURE report printed (hex) or saved (.bin): an HTTP/1.1 request
(sent as is), a whole HTTP/2 connection from `fuzz h2` (starts with the preface; sent as is),
or the frames of one `fuzz proto` exchange (sent after the client preface, SETTINGS and a
connection WINDOW_UPDATE, as the proto fuzzer's connection does). Without --port a fresh
tokmesh-server is started with the fuzzers' flags (tests/process/tmlib.py) and stopped after;
the replay prints every frame or the HTTP/1.1 answer, then whether the process survived and
both health checks answer. The credentials in a saved input belong to the server that ran the
fuzzer; an input that needs a valid key shows its unauthenticated path here.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import fuzzlib as fl


def load(arg: str) -> bytes:
    p = Path(arg)
    if p.exists():
        return p.read_bytes()
    return bytes.fromhex("".join(arg.split()))


def replay(port: int, data: bytes, timeout: float) -> str:
    if data[:4] in (b"GET ", b"POST", b"PUT ", b"HEAD", b"DELE", b"OPTI", b"PATC"):
        r = fl.http1_exchange(port, data, timeout=timeout)
        return f"HTTP/1.1 answer: {r!r}"
    raw = data.startswith(fl.PREFACE)
    c = fl.H2Conn(port, timeout=timeout, preface=not raw, auto=not raw)
    lines = []
    try:
        c.send(data)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not c.eof:
            if not c.read_some(min(deadline, time.monotonic() + 2)):
                break
        for sid, s in sorted(c.streams.items()):
            lines.append(f"  {s!r}")
        lines.insert(0, f"frames received by type: { {fl.FRAME_NAMES[t] if t < 10 else t: n for t, n in c.frames_seen.items()} }"
                        f" goaway={c.goaway} eof={c.eof}")
    except (fl.Failure, fl.HPACKError) as e:
        lines.append(f"  the server's answer is malformed: {e}")
    finally:
        c.close()
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="Scripts/fuzz replay")
    p.add_argument("input", help="a saved .bin file or the hex of the input")
    p.add_argument("--port", type=int, help="an already running server (default: start one)")
    p.add_argument("--timeout", type=float, default=5.0)
    args = p.parse_args(argv)
    data = load(args.input)
    h = None
    port = args.port
    if port is None:
        h = fl.Harness("replay", args)
        h.node = fl.tmlib.start_node("fuzz-replay", fl.Harness.NODE_ARGS)
        port = h.node.port
    try:
        print(f"replaying {len(data)} bytes to 127.0.0.1:{port}")
        print(replay(port, data, args.timeout))
        if h is None:
            return 0
        time.sleep(0.5)
        problem = h.liveness(args.timeout)
        print("server: " + ("alive, /health and Health/Check answer" if problem is None else problem))
        if problem:
            log = h.node.log_text().splitlines()
            start = next((i for i, line in enumerate(log) if any(m in line for m in fl.CRASH_MARKERS)), None)
            if start is not None:
                print("\n".join(log[max(0, start - 2):start + 40]))
        return 0 if problem is None else 1
    finally:
        if h is not None:
            h.stop()


if __name__ == "__main__":
    sys.exit(main())
