"""Shared pieces of the wire fuzzers (`Scripts/fuzz proto`, `Scripts/fuzz h2`).

Standard library only: HTTP/2 frames are written by hand (HPACK literals without indexing, no
Huffman), server header blocks are decoded with libnghttp2's HPACK inflater through ctypes (the
library the server links, always installed by Scripts/bootstrap), protobuf is encoded by hand.

Every iteration draws from its own `random.Random(f"{seed}:{iteration}")`, so one iteration can
be replayed alone with `--seed S --start I --iterations 1`. The harness (`run_fuzzer`) starts one
tokmesh-server through tests/process/tmlib.py, checks after every iteration that the process is
alive and every `--check-every` iterations (and at the end) that `GET /health` over HTTP/1.1 and
grpc.health.v1.Health/Check over h2c still answer; on a crash, a hang or a malformed answer it
prints the seed, the iteration and the input (hex) and exits 1. The server is always stopped.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import gzip
import http.client
import json
import os
import random
import re
import select
import socket
import struct
import sys
import time
import traceback
import zlib
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "process"))

import tmlib  # noqa: E402

# --------------------------------------------------------------------------------------------
# HTTP/2 frames (RFC 9113 §4, §6)

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FRAME_NAMES = ["DATA", "HEADERS", "PRIORITY", "RST_STREAM", "SETTINGS", "PUSH_PROMISE", "PING", "GOAWAY",
               "WINDOW_UPDATE", "CONTINUATION"]
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

S_HEADER_TABLE_SIZE, S_ENABLE_PUSH, S_MAX_CONCURRENT_STREAMS, S_INITIAL_WINDOW_SIZE, S_MAX_FRAME_SIZE, \
    S_MAX_HEADER_LIST_SIZE = range(1, 7)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
MAX_WINDOW = (1 << 31) - 1
MAX_FRAME = 16384


def frame(ftype: int, flags: int, sid: int, payload: bytes = b"", length: int | None = None) -> bytes:
    """One frame; `length` overrides the 24-bit length field (a lie about the payload)."""
    n = len(payload) if length is None else length
    return struct.pack(">I", n & 0xFFFFFF)[1:] + bytes([ftype & 0xFF, flags & 0xFF]) + struct.pack(">I", sid & 0xFFFFFFFF) + payload


def settings_frame(pairs=(), ack: bool = False) -> bytes:
    return frame(SETTINGS, ACK if ack else 0, 0, b"".join(struct.pack(">HI", k & 0xFFFF, v & 0xFFFFFFFF) for k, v in pairs))


def window_update(sid: int, increment: int) -> bytes:
    return frame(WINDOW_UPDATE, 0, sid, struct.pack(">I", increment & 0xFFFFFFFF))


def rst_stream(sid: int, code: int = 8) -> bytes:
    return frame(RST_STREAM, 0, sid, struct.pack(">I", code & 0xFFFFFFFF))


def ping_frame(data: bytes = b"fuzzping", ack: bool = False) -> bytes:
    return frame(PING, ACK if ack else 0, 0, data)


def goaway_frame(last: int, code: int, debug: bytes = b"") -> bytes:
    return frame(GOAWAY, 0, 0, struct.pack(">II", last & 0xFFFFFFFF, code & 0xFFFFFFFF) + debug)


def priority_payload(dep: int, weight: int, exclusive: bool = False) -> bytes:
    return struct.pack(">I", (dep & 0x7FFFFFFF) | (0x80000000 if exclusive else 0)) + bytes([weight & 0xFF])


def headers_frame(sid: int, block: bytes, end_stream: bool, end_headers: bool = True, pad: int | None = None,
                  priority: bytes | None = None) -> bytes:
    """HEADERS, followed by CONTINUATION frames when the block does not fit in one frame."""
    room = MAX_FRAME - (0 if pad is None else pad + 1) - (0 if priority is None else 5)
    if len(block) > room:
        first = headers_frame(sid, block[:room], end_stream, end_headers=False, pad=pad, priority=priority)
        rest = block[room:]
        chunks = [rest[i:i + MAX_FRAME] for i in range(0, len(rest), MAX_FRAME)]
        return first + b"".join(frame(CONTINUATION, END_HEADERS if (k == len(chunks) - 1 and end_headers) else 0, sid, c)
                                for k, c in enumerate(chunks))
    flags = (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
    payload = block
    if priority is not None:
        flags |= PRIORITY_FLAG
        payload = priority + payload
    if pad is not None:
        flags |= PADDED
        payload = bytes([pad]) + payload + b"\0" * pad
    return frame(HEADERS, flags, sid, payload)


def continuation_frames(sid: int, block: bytes, end_headers: bool = True) -> bytes:
    chunks = [block[i:i + MAX_FRAME] for i in range(0, len(block), MAX_FRAME)] or [b""]
    return b"".join(frame(CONTINUATION, END_HEADERS if (k == len(chunks) - 1 and end_headers) else 0, sid, c)
                    for k, c in enumerate(chunks))


def malformed_field(pairs) -> bool:
    """A field nghttp2 rejects on receipt (RFC 9113 §8.2.1): leading or trailing whitespace, or
    NUL, CR, LF in a value; then a reset stream without a status is the right answer."""
    for n, v in pairs:
        v = _b(v)
        if v[:1] in (b" ", b"\t") or v[-1:] in (b" ", b"\t") or any(c in v for c in (b"\0", b"\r", b"\n")):
            return True
        if n == ":path" and not v.startswith(b"/"):  # "*" only with OPTIONS
            return True
    return False


def header_list_size(pairs) -> int:
    """The size SETTINGS_MAX_HEADER_LIST_SIZE counts (RFC 9113 §6.5.2)."""
    return sum(len(_b(n)) + len(_b(v)) + 32 for n, v in pairs)


def data_frame(sid: int, payload: bytes, end_stream: bool, pad: int | None = None) -> bytes:
    flags = END_STREAM if end_stream else 0
    if pad is not None:
        flags |= PADDED
        payload = bytes([pad]) + payload + b"\0" * pad
    return frame(DATA, flags, sid, payload)


def split_frames(data: bytes) -> tuple[list[tuple[int, int, int, bytes]], bytes]:
    """Whole frames at the start of `data` and the rest (an incomplete frame)."""
    out = []
    pos = 0
    while len(data) - pos >= 9:
        length = int.from_bytes(data[pos:pos + 3], "big")
        if len(data) - pos - 9 < length:
            break
        ftype, flags = data[pos + 3], data[pos + 4]
        sid = int.from_bytes(data[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        out.append((ftype, flags, sid, data[pos + 9:pos + 9 + length]))
        pos += 9 + length
    return out, data[pos:]


def describe_frames(data: bytes, limit: int = 40) -> str:
    """A one-line-per-frame summary of a byte stream (after the preface), for reports."""
    lines = []
    if data.startswith(PREFACE):
        lines.append("PREFACE")
        data = data[len(PREFACE):]
    frames, rest = split_frames(data)
    for ftype, flags, sid, payload in frames[:limit]:
        name = FRAME_NAMES[ftype] if ftype < len(FRAME_NAMES) else f"type{ftype}"
        lines.append(f"{name} flags=0x{flags:02x} stream={sid} len={len(payload)} {payload[:48].hex()}")
    if len(frames) > limit:
        lines.append(f"... {len(frames) - limit} more frames")
    if rest:
        lines.append(f"(incomplete frame: {len(rest)} bytes {rest[:48].hex()})")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# HPACK (RFC 7541): literal encoding by hand, decoding through libnghttp2


def hpack_int(value: int, prefix_bits: int, first: int = 0) -> bytes:
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = bytearray([first | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_str(raw: bytes) -> bytes:
    return hpack_int(len(raw), 7) + raw


def _b(x) -> bytes:
    return x if isinstance(x, bytes) else str(x).encode()


def hpack_literal(name, value) -> bytes:
    """Literal header field without indexing, new name, no Huffman (RFC 7541 §6.2.2)."""
    return b"\x00" + hpack_str(_b(name)) + hpack_str(_b(value))


def encode_headers(pairs) -> bytes:
    return b"".join(hpack_literal(n, v) for n, v in pairs)


class HPACKError(Exception):
    pass


class _NV(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("value", ctypes.c_void_p), ("namelen", ctypes.c_size_t),
                ("valuelen", ctypes.c_size_t), ("flags", ctypes.c_uint8)]


_LIB = None


def _nghttp2():
    global _LIB
    if _LIB is None:
        name = ctypes.util.find_library("nghttp2") or "libnghttp2.so.14"
        try:
            lib = ctypes.CDLL(name)
        except OSError as e:
            raise RuntimeError(f"libnghttp2 not found ({e}): run Scripts/bootstrap run") from e
        lib.nghttp2_hd_inflate_new.argtypes = [ctypes.POINTER(ctypes.c_void_p)]
        lib.nghttp2_hd_inflate_new.restype = ctypes.c_int
        lib.nghttp2_hd_inflate_del.argtypes = [ctypes.c_void_p]
        lib.nghttp2_hd_inflate_del.restype = None
        lib.nghttp2_hd_inflate_hd2.argtypes = [ctypes.c_void_p, ctypes.POINTER(_NV), ctypes.POINTER(ctypes.c_int),
                                               ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        lib.nghttp2_hd_inflate_hd2.restype = ctypes.c_ssize_t
        lib.nghttp2_hd_inflate_end_headers.argtypes = [ctypes.c_void_p]
        lib.nghttp2_hd_inflate_end_headers.restype = ctypes.c_int
        _LIB = lib
    return _LIB


class Inflater:
    """One connection's HPACK decoder for the server's header blocks."""

    EMIT, FINAL = 0x02, 0x01

    def __init__(self):
        self.lib = _nghttp2()
        self.ptr = ctypes.c_void_p()
        if self.lib.nghttp2_hd_inflate_new(ctypes.byref(self.ptr)) != 0:
            raise RuntimeError("nghttp2_hd_inflate_new failed")

    def decode(self, block: bytes) -> list[tuple[str, str]]:
        buf = ctypes.create_string_buffer(block, len(block) or 1)
        base = ctypes.addressof(buf)
        out = []
        offset = 0
        while True:
            nv = _NV()
            flags = ctypes.c_int(0)
            rv = self.lib.nghttp2_hd_inflate_hd2(self.ptr, ctypes.byref(nv), ctypes.byref(flags), base + offset,
                                                 len(block) - offset, 1)
            if rv < 0:
                raise HPACKError(f"nghttp2_hd_inflate_hd2 returned {rv} on block {block.hex()}")
            offset += rv
            if flags.value & self.EMIT:
                out.append((ctypes.string_at(nv.name, nv.namelen).decode("latin-1"),
                            ctypes.string_at(nv.value, nv.valuelen).decode("latin-1")))
            if flags.value & self.FINAL:
                self.lib.nghttp2_hd_inflate_end_headers(self.ptr)
                return out
            if rv == 0 and offset >= len(block) and not flags.value & self.EMIT:
                raise HPACKError(f"header block did not end: {block.hex()}")

    def close(self):
        if self.ptr:
            self.lib.nghttp2_hd_inflate_del(self.ptr)
            self.ptr = ctypes.c_void_p()

    def __del__(self):
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


# --------------------------------------------------------------------------------------------
# An HTTP/2 client connection that writes whatever it is given


class Hang(Exception):
    """No answer within the deadline."""


class StreamResult:
    """What the server did with one stream."""

    def __init__(self, sid: int):
        self.sid = sid
        self.headers: list[tuple[str, str]] | None = None
        self.trailers: list[tuple[str, str]] | None = None
        self.informational: list[list[tuple[str, str]]] = []
        self.data = bytearray()
        self.ended = False
        self.reset: int | None = None

    @property
    def status(self) -> int | None:
        for n, v in self.headers or []:
            if n == ":status":
                return int(v)
        return None

    def header(self, name: str, trailers_too: bool = True) -> str | None:
        for block in (self.headers or [], self.trailers or [] if trailers_too else []):
            for n, v in block:
                if n == name:
                    return v
        return None

    def grpc_status(self) -> str | None:
        """grpc-status from a trailers-only answer or the trailers."""
        if self.trailers is not None:
            return dict(self.trailers).get("grpc-status")
        return dict(self.headers or []).get("grpc-status")

    def __repr__(self) -> str:
        return (f"<stream {self.sid} headers={self.headers} trailers={self.trailers} data={bytes(self.data[:200]).hex()}"
                f"{'...' if len(self.data) > 200 else ''} ({len(self.data)} bytes) ended={self.ended} reset={self.reset}>")


class H2Conn:
    """An h2c connection with prior knowledge. It acknowledges SETTINGS and PING, decodes every
    header block (HEADERS + CONTINUATION) with one HPACK inflater, replenishes its own receive
    windows and tracks the server's send windows."""

    def __init__(self, port: int, timeout: float = 10.0, preface: bool = True, settings=None, window: bool = True,
                 auto: bool = True):
        self.auto = auto  # acknowledge SETTINGS and PING, replenish windows
        self.frames_seen: dict[int, int] = {}
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.inflater = Inflater()
        self.streams: dict[int, StreamResult] = {}
        self.next_id = 1
        self.goaway: tuple[int, int, bytes] | None = None
        self.eof = False
        self.ping_acks: list[bytes] = []
        self.send_conn_window = 65535
        self.send_initial_window = 65535
        self.send_stream_windows: dict[int, int] = {}
        self.server_settings: dict[int, int] = {}
        self.settings_acked = False
        self._continuing: tuple[int, int, bytearray] | None = None  # (sid, flags of HEADERS, block)
        if preface:
            out = PREFACE + settings_frame(settings if settings is not None else
                                           [(S_INITIAL_WINDOW_SIZE, MAX_WINDOW), (S_ENABLE_PUSH, 0)])
            if window:
                out += window_update(0, MAX_WINDOW - 65535)
            self.send(out)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
        self.inflater.close()

    @property
    def usable(self) -> bool:
        return not self.eof and self.goaway is None and self.next_id < (1 << 31) - 2

    def new_stream_id(self) -> int:
        sid = self.next_id
        self.next_id += 2
        return sid

    def send(self, data: bytes):
        try:
            self.sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            self.eof = True

    def send_data_respecting_windows(self, sid: int, frames: list[bytes], deadline: float):
        """Sends frames in order; before each DATA frame waits (reading) until the server's
        connection and stream windows allow it. Raises Hang when they never do."""
        pending = b""
        for f in frames:
            if f[3] == DATA and len(f) >= 9:
                size = len(f) - 9
                fsid = int.from_bytes(f[5:9], "big") & 0x7FFFFFFF
                while size > 0 and not self.eof and (self.send_conn_window < size or
                                                     self.send_stream_windows.get(fsid, self.send_initial_window) < size):
                    if pending:
                        self.send(pending)
                        pending = b""
                    if fsid in self.streams and (self.streams[fsid].ended or self.streams[fsid].reset is not None):
                        break  # answered already: the rest would be ignored anyway
                    if not self.read_some(deadline):
                        raise Hang(f"flow control: stream {fsid} needs {size} bytes, windows conn={self.send_conn_window} "
                                   f"stream={self.send_stream_windows.get(fsid, self.send_initial_window)}")
                self.send_conn_window -= size
                self.send_stream_windows[fsid] = self.send_stream_windows.get(fsid, self.send_initial_window) - size
            pending += f
        if pending:
            self.send(pending)

    def stream(self, sid: int) -> StreamResult:
        if sid not in self.streams:
            self.streams[sid] = StreamResult(sid)
        return self.streams[sid]

    def read_some(self, deadline: float) -> bool:
        """Reads once (until the deadline) and handles every whole frame. False on EOF or timeout."""
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.eof:
            return False
        r, _, _ = select.select([self.sock], [], [], remaining)
        if not r:
            return False
        try:
            chunk = self.sock.recv(1 << 16)
        except (ConnectionResetError, TimeoutError, OSError):
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        frames, self.buf = split_frames(self.buf)
        for f in frames:
            self._handle(*f)
        return True

    def _handle(self, ftype: int, flags: int, sid: int, payload: bytes):
        self.frames_seen[ftype] = self.frames_seen.get(ftype, 0) + 1
        if sid and sid % 2 == 0 and ftype in (HEADERS, DATA, CONTINUATION):
            raise Failure(f"the server sent {FRAME_NAMES[ftype]} on even stream {sid}")
        if ftype < len(FRAME_NAMES) and ftype not in (DATA, HEADERS, CONTINUATION, PRIORITY, RST_STREAM, WINDOW_UPDATE) and sid != 0:
            raise Failure(f"the server sent {FRAME_NAMES[ftype]} on stream {sid}")
        if ftype in (HEADERS, DATA, RST_STREAM, CONTINUATION) and sid == 0:
            raise Failure(f"the server sent {FRAME_NAMES[ftype]} on stream 0")
        if self._continuing is not None and ftype != CONTINUATION:
            raise HPACKError(f"server sent {ftype} inside a header block")
        if ftype == SETTINGS:
            if flags & ACK:
                self.settings_acked = True
                return
            for i in range(0, len(payload) - 5, 6):
                key, value = struct.unpack(">HI", payload[i:i + 6])
                self.server_settings[key] = value
                if key == S_INITIAL_WINDOW_SIZE:
                    delta = value - self.send_initial_window
                    self.send_initial_window = value
                    for k in self.send_stream_windows:
                        self.send_stream_windows[k] += delta
            if self.auto:
                self.send(settings_frame(ack=True))
        elif ftype == PING:
            if flags & ACK:
                self.ping_acks.append(payload)
            elif self.auto:
                self.send(ping_frame(payload, ack=True))
        elif ftype == GOAWAY:
            last, code = struct.unpack(">II", payload[:8])
            self.goaway = (last & 0x7FFFFFFF, code, payload[8:])
        elif ftype == WINDOW_UPDATE:
            inc = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            if sid == 0:
                self.send_conn_window += inc
            else:
                self.send_stream_windows[sid] = self.send_stream_windows.get(sid, self.send_initial_window) + inc
        elif ftype == RST_STREAM:
            self.stream(sid).reset = struct.unpack(">I", payload[:4])[0]
        elif ftype == DATA:
            body = payload
            if flags & PADDED:
                body = payload[1:len(payload) - payload[0]]
            s = self.stream(sid)
            s.data += body
            if payload and self.auto:
                self.send(window_update(sid, len(payload)) + window_update(0, len(payload)))
            if flags & END_STREAM:
                s.ended = True
        elif ftype == HEADERS:
            block = payload
            if flags & PADDED:
                block = block[1:len(block) - block[0]]
            if flags & PRIORITY_FLAG:
                block = block[5:]
            if flags & END_HEADERS:
                self._headers_done(sid, flags, bytes(block))
            else:
                self._continuing = (sid, flags, bytearray(block))
        elif ftype == CONTINUATION:
            if self._continuing is None:
                raise HPACKError("CONTINUATION from the server without HEADERS")
            csid, cflags, block = self._continuing
            block += payload
            if flags & END_HEADERS:
                self._continuing = None
                self._headers_done(csid, cflags, bytes(block))
        elif ftype == PUSH_PROMISE:
            raise HPACKError("the server sent PUSH_PROMISE although push is disabled")

    def _headers_done(self, sid: int, flags: int, block: bytes):
        fields = self.inflater.decode(block)
        s = self.stream(sid)
        status = dict(fields).get(":status")
        if s.headers is None and status is not None and status.startswith("1"):
            s.informational.append(fields)
        elif s.headers is None:
            s.headers = fields
        else:
            s.trailers = fields
        if flags & END_STREAM:
            s.ended = True

    def wait_stream(self, sid: int, deadline: float, enough: Callable[[StreamResult], bool] | None = None) -> StreamResult:
        """Reads until the stream ended, was reset, the connection went away, or `enough`."""
        s = self.stream(sid)
        while True:
            if s.ended or s.reset is not None:
                return s
            if enough is not None and enough(s):
                return s
            if self.eof:
                return s
            if self.goaway is not None and sid > self.goaway[0]:
                return s
            if not self.read_some(deadline):
                if self.eof:
                    return s
                if time.monotonic() >= deadline:
                    raise Hang(f"no end of stream {sid} in time: {s!r}")

    def ping_roundtrip(self, deadline: float, data: bytes = b"livecheck") -> str:
        """'ack', 'goaway', 'closed', or raises Hang."""
        data = (data + b"\0" * 8)[:8]
        self.send(ping_frame(data))
        while True:
            if data in self.ping_acks:
                return "ack"
            if self.eof:
                return "closed"
            if not self.read_some(deadline):
                if self.eof:
                    return "closed"
                if time.monotonic() >= deadline:
                    if self.goaway is not None:
                        return "goaway"
                    raise Hang("no PING ACK, GOAWAY or close in time")


def grpc_envelope(message: bytes, flags: int = 0) -> bytes:
    return bytes([flags & 0xFF]) + struct.pack(">I", len(message) & 0xFFFFFFFF) + message


def request_headers(path: str, content_type: str | None, extra=(), method: str = "POST", authority: str = "127.0.0.1") -> list:
    pairs = [(":method", method), (":scheme", "http"), (":authority", authority), (":path", path)]
    if content_type is not None:
        pairs.append(("content-type", content_type))
    pairs.extend(extra)
    return pairs


def grpc_call(conn: H2Conn, path: str, message: bytes, extra=(), timeout: float = 10) -> StreamResult:
    sid = conn.new_stream_id()
    block = encode_headers(request_headers(path, "application/grpc", [("te", "trailers"), *extra]))
    body = grpc_envelope(message)
    pieces = [body[i:i + MAX_FRAME] for i in range(0, len(body), MAX_FRAME)]
    frames = [headers_frame(sid, block, False)] + [data_frame(sid, p, k == len(pieces) - 1) for k, p in enumerate(pieces)]
    conn.send_data_respecting_windows(sid, frames, time.monotonic() + timeout)
    return conn.wait_stream(sid, time.monotonic() + timeout)


# --------------------------------------------------------------------------------------------
# HTTP/1.1 exchanges on a raw socket


class H1Result:
    def __init__(self, status=None, headers=None, body=b"", note=""):
        self.status = status
        self.headers = headers
        self.body = body
        self.note = note

    def __repr__(self):
        return f"<h1 {self.status} {self.note} {self.body[:300]!r}>"


def http1_exchange(port: int, raw: bytes, timeout: float = 10, half_close: bool = False, method: str = "POST") -> H1Result:
    """Sends `raw` on a fresh connection (then shuts down writing when `half_close`) and reads
    one response. status None: the server closed without answering. Raises Hang on timeout."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        try:
            # in pieces, stopping once the server answers (it may answer 413 and stop reading)
            for pos in range(0, len(raw), 1 << 16):
                if pos and select.select([sock], [], [], 0)[0]:
                    break
                sock.sendall(raw[pos:pos + (1 << 16)])
            else:
                if half_close:
                    sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        resp = http.client.HTTPResponse(sock, method=method)
        try:
            resp.begin()
            body = resp.read()
        except TimeoutError as e:
            raise Hang(f"HTTP/1.1: no complete answer within {timeout}s") from e
        except (http.client.RemoteDisconnected, ConnectionResetError):
            return H1Result(None, None, b"", "closed without an answer")
        except http.client.IncompleteRead as e:
            return H1Result(resp.status, resp.headers, e.partial, "incomplete body")
        except http.client.HTTPException as e:
            return H1Result(None, None, b"", f"unparseable answer: {e!r}")
        return H1Result(resp.status, resp.headers, body)
    finally:
        sock.close()


# --------------------------------------------------------------------------------------------
# Protobuf by hand


def varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def tag(field: int, wire: int) -> bytes:
    return varint((field << 3) | wire)


def pb_string(field: int, value) -> bytes:
    raw = _b(value)
    return tag(field, 2) + varint(len(raw)) + raw


def pb_varint(field: int, value: int) -> bytes:
    return tag(field, 0) + varint(value)


def pb_message(field: int, body: bytes) -> bytes:
    return tag(field, 2) + varint(len(body)) + body


# Request messages: field number → (kind, json name). Kinds: str, int64, uint64, uint32, int32,
# bool, map (map<string,string>), msg:<name>.
SCHEMAS: dict[str, dict[int, tuple[str, str]]] = {
    "CreateSessionRequest": {1: ("str", "userId"), 2: ("str", "deviceId"), 3: ("int64", "ttlSeconds"), 4: ("map", "data"),
                             5: ("str", "token"), 6: ("str", "sessionId"), 7: ("str", "ipAddress"), 8: ("str", "userAgent")},
    "GetSessionRequest": {1: ("str", "sessionId")},
    "ValidateTokenRequest": {1: ("str", "token"), 2: ("bool", "touch"), 3: ("str", "ipAddress"), 4: ("str", "userAgent")},
    "TouchSessionRequest": {1: ("str", "sessionId")},
    "RenewSessionRequest": {1: ("str", "sessionId"), 2: ("int64", "ttlSeconds"), 3: ("uint64", "expectedVersion")},
    "RevokeSessionRequest": {1: ("str", "sessionId"), 2: ("bool", "sync")},
    "RevokeUserSessionsRequest": {1: ("str", "userId"), 2: ("bool", "sync")},
    "ListSessionsRequest": {1: ("str", "userId"), 2: ("str", "deviceId"), 3: ("str", "keyId"), 4: ("str", "ipAddress"),
                            5: ("str", "status"), 6: ("int64", "createdAfter"), 7: ("int64", "createdBefore"),
                            8: ("int64", "activeAfter"), 9: ("str", "sortBy"), 10: ("str", "sortOrder"), 11: ("uint32", "page"),
                            12: ("uint32", "size")},
    "HealthCheckRequest": {1: ("str", "service")},
    "HealthListRequest": {},
    "ServerReflectionRequest": {1: ("str", "host"), 3: ("str", "fileByFilename"), 4: ("str", "fileContainingSymbol"),
                                5: ("msg:ExtensionRequest", "fileContainingExtension"), 6: ("str", "allExtensionNumbersOfType"),
                                7: ("str", "listServices")},
    "ExtensionRequest": {1: ("str", "containingType"), 2: ("int32", "extensionNumber")},
}
ONEOFS = {"ServerReflectionRequest": [3, 4, 5, 6, 7]}

# path → (request message, kind: unary | server | bidi)
METHODS: dict[str, tuple[str, str]] = {
    "/tokmesh.v1.SessionService/CreateSession": ("CreateSessionRequest", "unary"),
    "/tokmesh.v1.SessionService/GetSession": ("GetSessionRequest", "unary"),
    "/tokmesh.v1.SessionService/ValidateToken": ("ValidateTokenRequest", "unary"),
    "/tokmesh.v1.SessionService/TouchSession": ("TouchSessionRequest", "unary"),
    "/tokmesh.v1.SessionService/RenewSession": ("RenewSessionRequest", "unary"),
    "/tokmesh.v1.SessionService/RevokeSession": ("RevokeSessionRequest", "unary"),
    "/tokmesh.v1.SessionService/RevokeUserSessions": ("RevokeUserSessionsRequest", "unary"),
    "/tokmesh.v1.SessionService/ListSessions": ("ListSessionsRequest", "unary"),
    "/grpc.health.v1.Health/Check": ("HealthCheckRequest", "unary"),
    "/grpc.health.v1.Health/List": ("HealthListRequest", "unary"),
    "/grpc.health.v1.Health/Watch": ("HealthCheckRequest", "server"),
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo": ("ServerReflectionRequest", "bidi"),
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo": ("ServerReflectionRequest", "bidi"),
}


class Corpus:
    """Values worth putting in fields: real ids and tokens from the node, and edge cases."""

    def __init__(self):
        self.session_ids: list[str] = []
        self.tokens: list[str] = []
        self.user_ids: list[str] = ["fuzz-user"]
        self.key_ids: list[str] = []

    def string(self, rng: random.Random, kind_hint: str) -> str | bytes:
        r = rng.random()
        if r < 0.35:
            pools = {"sessionId": self.session_ids or [tmlib.fake_session_id()], "token": self.tokens or ["x" * 20],
                     "userId": self.user_ids, "keyId": self.key_ids or ["tmak-0" + "0" * 25]}
            pool = pools.get(kind_hint)
            if pool:
                return rng.choice(pool)
        if kind_hint == "token" and r < 0.45:
            # secret-looking values only where a secret belongs: the harness fails a run whose
            # server log or data directory ends up holding one
            return rng.choice([tmlib.well_formed_unknown_token(), "tmtk_", "tmtk_" + "A" * 42, "tmtk_" + "A" * 44, "tmtk_\u00e9" * 9])
        if r < 0.55:
            return rng.choice([
                "", "a", tmlib.fake_session_id(), tmlib.client_token(), "127.0.0.1", "::1",
                "999.1.1.1", "fe80::1%eth0", "active", "expired", "all", "created_at", "last_active", "expires_at", "asc", "desc",
                "tokmesh.v1.SessionService", "tokmesh.v1.Session", "tokmesh/v1/session.proto", "grpc/health/v1/health.proto",
                "grpc.health.v1.Health", "grpc.health.v1.Health.Check", "tokmesh.v1.SessionService.CreateSession",
                "grpc.reflection.v1.ServerReflection", "google.protobuf.Empty", "*", ".", "..", "../../etc/passwd", "%00", "%",
                "a/b", "tmss-", "tmak-", "\u00e9\u4e2d\U0001f600", "\u202e", " ", "\t", "a b",
            ])
        if r < 0.7:
            return "".join(rng.choice("abcdefghjkmnpqrstvwxyz0123456789-_./%:") for _ in range(rng.randint(0, 80)))
        if r < 0.8:
            return rng.choice(["x", "\u00e9", "%", "/"]) * rng.choice([255, 256, 1024, 1025, 4096, 16384, 70000])
        if r < 0.9:
            return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40)))  # maybe invalid UTF-8
        return rng.choice([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"a\x00b", b"\xe2\x82"])

    @staticmethod
    def integer(rng: random.Random, kind: str) -> int:
        edges = [0, 1, -1, 2, 59, 60, 61, 3600, 86400, 2_592_000, 31_536_000, 31_536_001, 2**31 - 1, 2**31, -2**31,
                 2**32 - 1, 2**32, 2**53, 2**62, 2**63 - 1, -2**63, 2**64 - 1, 1_700_000_000_000, int(time.time() * 1000)]
        v = rng.choice(edges) if rng.random() < 0.7 else rng.getrandbits(rng.choice([7, 14, 32, 64]))
        if kind in ("uint32", "uint64"):
            return v & ((1 << 64) - 1)
        return v


def gen_value(rng: random.Random, corpus: Corpus, kind: str, hint: str):
    if kind == "str":
        return corpus.string(rng, hint)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "map":
        return {_s(corpus.string(rng, "")): _s(corpus.string(rng, "")) for _ in range(rng.choice([0, 1, 1, 2, 5, 40]))}
    if kind.startswith("msg:"):
        return gen_fields(rng, corpus, kind[4:])
    return Corpus.integer(rng, kind)


def _s(v) -> str:
    return v if isinstance(v, str) else v.decode("utf-8", "replace")


def gen_fields(rng: random.Random, corpus: Corpus, name: str) -> dict:
    """A random field assignment for message `name` (field number → value)."""
    schema = SCHEMAS[name]
    out = {}
    oneof = ONEOFS.get(name, [])
    chosen = rng.choice(oneof) if oneof else None
    for num, (kind, hint) in schema.items():
        if num in oneof and num != chosen:
            continue
        if rng.random() < (0.9 if num == chosen or hint in ("sessionId", "token", "userId") else 0.5):
            out[num] = gen_value(rng, corpus, kind, hint)
    return out


def encode_fields(name: str, fields: dict) -> bytes:
    schema = SCHEMAS[name]
    out = bytearray()
    for num, value in fields.items():
        kind = schema[num][0]
        if kind == "str":
            out += pb_string(num, value)
        elif kind == "bool":
            out += pb_varint(num, 1 if value else 0)
        elif kind == "map":
            for k, v in value.items():
                out += pb_message(num, pb_string(1, k) + pb_string(2, v))
        elif kind.startswith("msg:"):
            out += pb_message(num, encode_fields(kind[4:], value))
        else:
            out += pb_varint(num, value)
    return bytes(out)


def fields_to_json(name: str, fields: dict, rng: random.Random) -> dict:
    schema = SCHEMAS[name]
    out = {}
    for num, value in fields.items():
        kind, json_name = schema[num]
        key = json_name if rng.random() < 0.7 else "".join("_" + c.lower() if c.isupper() else c for c in json_name)
        if kind == "str":
            value = _s(value)
        elif kind.startswith("msg:"):
            value = fields_to_json(kind[4:], value, rng)
        elif kind in ("int64", "uint64") and rng.random() < 0.6:
            value = str(value)  # proto3 JSON writes 64-bit integers as strings
        out[key] = value
    return out


# --------------------------------------------------------------------------------------------
# Mutators


def pb_field_spans(data: bytes) -> list[tuple[int, int, int, int, int]]:
    """Top-level fields that parse: (start, tag_end, wire, len_start, len_end) where len_* is
    the length varint of a length-delimited field (else the value's span)."""
    spans = []
    pos = 0
    n = len(data)

    def read_varint(p):
        v = 0
        shift = 0
        for _ in range(10):
            if p >= n:
                return None, p
            b = data[p]
            p += 1
            v |= (b & 0x7F) << shift
            if not b & 0x80:
                return v, p
            shift += 7
        return None, p

    while pos < n:
        start = pos
        t, pos = read_varint(pos)
        if t is None:
            break
        wire = t & 7
        if wire == 0:
            v, end = read_varint(pos)
            if v is None:
                break
            spans.append((start, pos, 0, pos, end))
            pos = end
        elif wire == 2:
            ln, end = read_varint(pos)
            if ln is None or end + ln > n:
                break
            spans.append((start, pos, 2, pos, end))
            pos = end + ln
        elif wire == 1:
            spans.append((start, pos, 1, pos, pos + 8))
            pos += 8
        elif wire == 5:
            spans.append((start, pos, 5, pos, pos + 4))
            pos += 4
        else:
            break
    return spans


# The largest key or map entry count generated (--max-entries).
MAX_ENTRIES = [2000]

INTERESTING_BYTES = [0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x0A, 0x0D, 0x22, 0x5C, 0x25]


def rbytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


def mutate_bytes(rng: random.Random, out: bytearray, start: int = 0, alphabet: bytes | None = None) -> None:
    """One to four byte-level mutations of out[start:] in place: a bit flip, 1-20 random bytes
    inserted, 1-20 bytes deleted, or one byte replaced (by any byte, or one of `alphabet`)."""
    for _ in range(rng.randint(1, 4)):
        if len(out) <= start:
            break
        i = rng.randrange(start, len(out))
        op = rng.randrange(4)
        if op == 0:
            out[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            out[i:i] = rbytes(rng, rng.randint(1, 20))
        elif op == 2:
            del out[i:i + rng.randint(1, 20)]
        else:
            out[i] = rng.choice(alphabet) if alphabet else rng.getrandbits(8)


def overlong_varint(rng: random.Random) -> bytes:
    return rng.choice([
        b"\xff" * 10 + b"\x01",                 # 11 bytes
        b"\xff" * 9 + b"\x02",                  # 10th byte > 1
        b"\x80" * 9 + b"\x01",                  # 2^63
        b"\xff" * 9 + b"\x01",                  # 2^64-1
        b"\x80" * rng.randint(1, 12),           # never ends
        b"\x80\x00",                            # padded zero
        varint(rng.getrandbits(64)),
    ])


def mutate_proto(rng: random.Random, data: bytes, fields: dict[int, tuple[str, str]]) -> tuple[bytes, str]:
    """One to four mutations of a protobuf message; returns the bytes and what was done."""
    buf = bytearray(data)
    done = []
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        op = rng.randrange(19)
        if op == 0 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
            done.append(f"flip@{i}")
        elif op == 1 and buf:
            i = rng.randrange(len(buf))
            buf[i] = rng.choice(INTERESTING_BYTES) if rng.random() < 0.5 else rng.getrandbits(8)
            done.append(f"set@{i}")
        elif op == 2:
            cut = rng.randrange(len(buf) + 1)
            del buf[cut:]
            done.append(f"truncate@{cut}")
        elif op == 3:
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 16)))
            done.append(f"insert@{i}")
        elif op == 4 and buf:
            i = rng.randrange(len(buf))
            j = min(len(buf), i + rng.randint(1, 16))
            del buf[i:j]
            done.append(f"delete@{i}:{j}")
        elif op in (5, 6, 7):  # length-field corruption
            spans = [s for s in pb_field_spans(bytes(buf)) if s[2] == 2]
            if spans:
                start, tag_end, _, ls, le = rng.choice(spans)
                old = bytes(buf[ls:le])
                cur = 0
                for k, b in enumerate(old):
                    cur |= (b & 0x7F) << (7 * k)
                new = rng.choice([cur + 1, cur + rng.randint(2, 100), max(cur - 1, 0), 0, 2**31 - 1, 2**32, 2**63, 2**64 - 1,
                                  len(buf) * 2, 0x7FFFFFFF, rng.getrandbits(32)])
                enc = varint(new) if rng.random() < 0.8 else overlong_varint(rng)
                buf[ls:le] = enc
                done.append(f"length@{ls}:{cur}->{new}")
        elif op == 8:  # random varint field
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = tag(rng.choice(list(fields) or [1]) if rng.random() < 0.7 else rng.randint(1, 64), 0) + overlong_varint(rng)
            done.append(f"varint@{i}")
        elif op == 9:  # huge length
            num = rng.choice(list(fields) or [1]) if rng.random() < 0.7 else rng.randint(1, 2000)
            buf += tag(num, 2) + varint(rng.choice([2**31, 2**32 + 5, 2**63, 0xFFFFFFFFFF, 1 << 20])) + b"abc"
            done.append(f"hugelen:{num}")
        elif op == 10:  # nested garbage
            depth = rng.choice([1, 2, 10, 63, 64, 65, 100, 500])
            inner = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 12)))
            nums = list(fields) or [1]
            for _ in range(depth):
                inner = pb_message(rng.choice(nums) if rng.random() < 0.5 else rng.randint(1, 30), inner)
            buf += inner
            done.append(f"nest:{depth}")
        elif op == 11:  # wrong wire type for a known field
            num = rng.choice(list(fields) or [1])
            wire = rng.choice([0, 1, 2, 5])
            payload = {0: varint(rng.getrandbits(64)), 1: rbytes(rng, 8), 5: rbytes(rng, 4)}.get(wire)
            if payload is None:
                raw = rbytes(rng, rng.randint(0, 8))
                payload = varint(len(raw)) + raw
            buf += tag(num, wire) + payload
            done.append(f"wire:{num}/{wire}")
        elif op == 12:  # invalid field numbers and wire types
            bad = rng.choice([tag(0, 0) + b"\x01", tag(19000, 0) + b"\x01", tag(19999, 2) + b"\x00", tag(1 << 29, 0) + b"\x01",
                              varint(((1 << 29) << 3) | 0) + b"\x01", tag(1, 3) + tag(1, 4), tag(1, 4), tag(2, 6), tag(3, 7) + b"\x00",
                              varint(rng.getrandbits(64)) + b"\x00"])
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = bad
            done.append(f"badtag@{i}")
        elif op == 13:  # invalid UTF-8 in a string field
            strs = [n for n, (k, _) in fields.items() if k == "str"]
            if strs:
                buf += pb_string(rng.choice(strs), rng.choice([b"\xff", b"\xc0\x80", b"\xed\xa0\x80", b"\xf4\x90\x80\x80",
                                                               b"abc\xe2\x82", b"\x00", b"\xf8\x88\x80\x80\x80"]))
                done.append("utf8")
        elif op == 14:  # odd map entries
            maps = [n for n, (k, _) in fields.items() if k == "map"]
            if maps:
                entry = rng.choice([b"", pb_string(1, "k"), pb_string(2, "v"), pb_varint(1, 5), pb_string(1, "k") + pb_varint(2, 7),
                                    pb_string(3, "x") + pb_string(1, "k"), pb_string(1, "k") * 3, pb_message(1, b"\x0a\x00"),
                                    pb_string(1, b"\xff") + pb_string(2, "v")])
                buf += pb_message(rng.choice(maps), entry) * rng.choice([1, 2, 1000])
                done.append("mapentry")
                if rng.random() < 0.3:  # many distinct keys
                    n = min(rng.choice([100, 1000, 2000, 20000]), MAX_ENTRIES[0])
                    buf += b"".join(pb_message(rng.choice(maps), pb_string(1, f"k{i}") + pb_string(2, "v")) for i in range(n))
                    done.append(f"mapentries:{n}")
        elif op == 15:  # duplicate a range
            if buf:
                i = rng.randrange(len(buf))
                j = min(len(buf), i + rng.randint(1, 64))
                buf[j:j] = buf[i:j] * rng.randint(1, 8)
                done.append(f"dup@{i}:{j}")
        elif op == 16:  # unknown fields, many of them
            for _ in range(rng.choice([1, 10, 1000])):
                buf += pb_string(rng.randint(20, 5000), b"u" * rng.randint(0, 5))
            done.append("unknown")
        elif op == 17:  # all random
            buf = bytearray(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 2, 5, 16, 64, 300])))
            done.append("random")
        elif op == 18:  # fixed-width value for a known field
            num = rng.choice(list(fields) or [1])
            buf += tag(num, rng.choice([1, 5])) + rbytes(rng, rng.choice([3, 4, 7, 8]))
            done.append(f"fixed:{num}")
    return bytes(buf), ",".join(done) or "none"


def mutate_text(rng: random.Random, text: bytes) -> tuple[bytes, str]:
    """Mutations of a JSON document."""
    buf = bytearray(text)
    done = []
    for _ in range(rng.choice([1, 1, 2, 3])):
        op = rng.randrange(12)
        if op == 0:
            cut = rng.randrange(len(buf) + 1)
            del buf[cut:]
            done.append(f"truncate@{cut}")
        elif op == 1 and buf:
            i = rng.randrange(len(buf))
            buf[i] = rng.choice(b'{}[]",:\\0-+eE.tfn \x00\xff\x80')
            done.append(f"set@{i}")
        elif op == 2:
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = rng.choice([b"{", b"}", b"[", b"]", b",", b":", b'"', b"\\", b"\\u", b"\\ud800", b"\\udc00\\ud800", b"\\uZZZZ",
                                   b"1e999999", b"-0", b"123456789012345678901234567890", b"NaN", b"Infinity", b"null", b"true",
                                   b"\xff\xfe", b"\xed\xa0\x80", b"\x00", b"/*", b"\xef\xbb\xbf"])
            done.append(f"insert@{i}")
        elif op == 3:  # deep nesting
            depth = rng.choice([31, 32, 33, 64, 65, 1000, 100000])
            ch = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
            inner = ch[0] * depth + b"1" + ch[1] * (depth if rng.random() < 0.7 else depth // 2)
            if rng.random() < 0.5:
                buf = bytearray(inner)
            else:
                buf = bytearray(b'{"userId":"u","data":' + inner + b"}")
            done.append(f"nest:{depth}")
        elif op == 4:  # wrong types for fields
            key = rng.choice(["userId", "user_id", "ttlSeconds", "ttl_seconds", "data", "token", "sessionId", "touch", "page",
                              "size", "service", "listServices", "fileContainingExtension", "expectedVersion", "createdAfter"])
            val = rng.choice(['"x"', "1", "-1", "1.5", "1e3", '"1e3"', '"-9223372036854775809"', '"18446744073709551616"',
                              "18446744073709551616", "true", "null", "[]", "{}", '{"a":1}', '[1,2]', '"\\u0000"',
                              '{"containingType":"x","extensionNumber":"2147483648"}', '"0x10"', '" 1"', '"NaN"'])
            buf = bytearray(("{" + f'"{key}":{val}' + "}").encode())
            done.append(f"type:{key}={val}")
        elif op == 5:  # duplicate keys
            buf = bytearray(b'{"userId":"a","userId":"b","user_id":"c"}')
            done.append("dupkey")
        elif op == 6:  # random bytes
            buf = bytearray(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
            done.append("random")
        elif op == 7:  # not an object
            buf = bytearray(rng.choice([b"[]", b"1", b'"x"', b"null", b"", b" ", b"true", b"{}", b"{}{}", b"{} x"]))
            done.append("notobject")
        elif op == 8 and buf:
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
            done.append(f"flip@{i}")
        elif op == 9:  # many keys
            n = min(rng.choice([100, 1000, 2000, 20000, 100000]), MAX_ENTRIES[0])
            buf = bytearray(b'{"data":{' + b",".join(b'"k%d":"v"' % i for i in range(n)) + b'},"userId":"u"}')
            done.append(f"manykeys:{n}")
        elif op == 10:
            i = rng.randrange(len(buf) + 1)
            buf[i:i] = b" \t\r\n" * rng.randint(1, 100)
            done.append("whitespace")
        elif op == 11:  # unknown fields
            buf = bytearray(b'{"nope":1,' + bytes(buf[1:]) if buf.startswith(b"{") else buf + b'{"nope":1}')
            done.append("unknownkey")
    return bytes(buf), ",".join(done) or "none"


def mutate_envelope(rng: random.Random, message: bytes, connect: bool, flags: int = 0) -> tuple[bytes, str]:
    """A length-prefixed message stream (gRPC or Connect streaming) with mutations; `flags` 1
    for a compressed message."""
    r = rng.random()
    if r < 0.45:
        return grpc_envelope(message, flags), "ok" if not flags else f"flags={flags}"
    choice = rng.randrange(10)
    if choice == 0:
        flags = rng.choice([0x01, 0x02, 0x03, 0x04, 0x80, 0xFF, rng.getrandbits(8)])
        return grpc_envelope(message, flags), f"flags={flags:#x}"
    if choice == 1:
        delta = rng.choice([1, 2, 5, 100, 1 << 20])
        body = bytes([0]) + struct.pack(">I", len(message) + delta) + message
        return body, f"length+{delta}"
    if choice == 2 and message:
        delta = rng.randint(1, len(message))
        body = bytes([0]) + struct.pack(">I", len(message) - delta) + message
        return body, f"length-{delta}"
    if choice == 3:
        length = rng.choice([0xFFFFFFFF, 0x80000000, (4 << 20) + 1, 4 << 20, 0x7FFFFFFF])
        return bytes([0]) + struct.pack(">I", length) + message, f"length={length}"
    if choice == 4:
        n = rng.choice([0, 2, 3, 10])
        return grpc_envelope(message) * n, f"messages={n}"
    if choice == 5:
        cut = rng.randrange(0, 5)
        return grpc_envelope(message)[:cut], f"prefix[:{cut}]"
    if choice == 6:
        return grpc_envelope(message) + bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 8))), "trailing"
    if choice == 7:
        return grpc_envelope(message) + grpc_envelope(b"{}" if connect else b"", 0x02), "end-of-stream flag"
    if choice == 8:
        return b"", "empty"
    return bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 32))), "random"


_BOMBS: dict[int, bytes] = {}


def gzip_bomb(size: int) -> bytes:
    """gzip of `size` zero bytes (cached: the big ones take a moment to build)."""
    if size not in _BOMBS:
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        chunk = b"\0" * (1 << 20)
        out = bytearray()
        left = size
        while left > 0:
            out += c.compress(chunk[:min(left, len(chunk))])
            left -= min(left, len(chunk))
        out += c.flush()
        _BOMBS[size] = bytes(out)
    return _BOMBS[size]


def gzip_mutate(rng: random.Random, payload: bytes) -> tuple[bytes, str]:
    """A gzip body for `payload`: valid, or broken in one of many ways."""
    valid = gzip.compress(payload, mtime=0)
    r = rng.random()
    if r < 0.4:
        return valid, "gzip"
    choice = rng.randrange(14)
    if choice == 0:
        cut = rng.randrange(len(valid))
        return valid[:cut], f"gzip[:{cut}]"
    if choice == 1:
        buf = bytearray(valid)
        i = rng.randrange(len(buf))
        buf[i] ^= 1 << rng.randrange(8)
        return bytes(buf), f"gzip flip@{i}"
    if choice == 2:
        return valid[:-8] + rbytes(rng, 8), "gzip bad crc/isize"
    if choice == 3:
        return valid + rbytes(rng, rng.randint(1, 16)), "gzip trailing"
    if choice == 4:
        return valid + gzip.compress(payload, mtime=0), "gzip two members"
    if choice == 5:
        return zlib.compress(payload), "zlib not gzip"
    if choice == 6:
        c = zlib.compressobj(6, zlib.DEFLATED, -15)
        return c.compress(payload) + c.flush(), "raw deflate"
    if choice == 7:
        return b"", "gzip empty"
    if choice == 8:
        return valid[:10], "gzip header only"
    if choice == 9:
        size = rng.choice([(4 << 20) - 1, 4 << 20, (4 << 20) + 1, 16 << 20, 64 << 20])
        return gzip_bomb(size), f"gzip bomb {size}"
    if choice == 10:
        return b"\x1f\x8b\x08" + rbytes(rng, rng.randint(0, 40)), "gzip magic + random"
    if choice == 11:  # FNAME / FEXTRA / FCOMMENT flags with odd contents
        flags = rng.choice([0x04, 0x08, 0x10, 0x02, 0x1e, 0xe0])
        extra = rng.choice([b"", b"\xff\xff" + b"x" * 10, b"name-without-end", b"name\0", b"\x00\x00"])
        return b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\x03" + extra + valid[10:], f"gzip flags {flags:#x}"
    if choice == 12:  # a stored block claiming more than it holds
        return b"\x1f\x8b\x08\0\0\0\0\0\0\x03" + b"\x01\xff\xff\x00\x00" + payload[:10], "gzip stored block cut"
    return gzip.compress(rbytes(rng, rng.randint(0, 64)), mtime=0), "gzip of random bytes"


def maybe_gunzip(data: bytes, encoding: str | None) -> bytes:
    if encoding and encoding.strip().lower() == "gzip":
        return gzip.decompress(data)
    return data


def split_body(rng: random.Random, body: bytes, max_frame: int = MAX_FRAME) -> list[bytes]:
    """Cuts a request body into DATA payloads (possibly empty ones and inside the prefix)."""
    if rng.random() < 0.6:
        return [body[i:i + max_frame] for i in range(0, len(body), max_frame)] or [b""]
    pieces = []
    pos = 0
    while pos < len(body):
        n = min(rng.choice([1, 1, 2, 3, 4, 5, 7, 64, 1000, max_frame]), max_frame, len(body) - pos)
        pieces.append(body[pos:pos + n])
        pos += n
        if rng.random() < 0.05:
            pieces.append(b"")
    return pieces or [b""]


# --------------------------------------------------------------------------------------------
# The harness


class Failure(Exception):
    """A finding: the server crashed, hung or answered something malformed."""


HEX_SHOWN = 4096
# What the Swift runtime writes when the process traps (it may survive a signal sent from outside).
CRASH_MARKERS = ("*** Program crashed", "Fatal error:", "*** Signal ")


class Harness:
    """One node, its keys and corpus, liveness checks and the report on failure."""

    NODE_ARGS = ["--security.auth.failure_limit=10000"]

    def __init__(self, name: str, args):
        self.name = name
        self.args = args
        self.node: tmlib.Node | None = None
        self.corpus = Corpus()
        self.admin = self.issuer = self.validator = None
        self.last_input = b""
        self.last_note = ""
        self.history: list[tuple[int, str, bytes]] = []

    def start(self):
        self.node = tmlib.start_node(f"fuzz-{self.name}", self.NODE_ARGS)
        self.admin, self.issuer, self.validator = self.node.fresh_keys()
        self.corpus.key_ids = [self.admin.key_id, self.issuer.key_id, self.validator.key_id]
        for i in range(8):
            user = f"fuzz-user-{i % 3}"
            s = self.node.create_session(self.issuer, user_id=user, data={"k": "v"})
            self.corpus.session_ids.append(s["session_id"])
            self.corpus.tokens.append(s["token"])
            self.corpus.user_ids.append(user)

    def stop(self) -> str | None:
        """Stops the server; returns what tmlib's secret check found (a token or secret the
        fuzzer sent written to the log or the data directory), else None."""
        if self.node is not None:
            node, self.node = self.node, None
            try:
                tmlib.finish_node(node)
            except AssertionError as e:
                return str(e)
        return None

    def credentials(self, rng: random.Random) -> list[tuple[str, str]]:
        r = rng.random()
        if r < 0.3:
            return [("authorization", "Bearer " + self.issuer.cred)]
        if r < 0.55:
            return [("authorization", "Bearer " + self.validator.cred)]
        if r < 0.7:
            return [("authorization", "Bearer " + self.admin.cred)]
        if r < 0.75:
            return [("x-api-key", rng.choice([self.issuer, self.validator]).cred)]
        if r < 0.78:
            return [("authorization", rng.choice(["Bearer", "Bearer ", "Basic abc", "Bearer " + self.issuer.key_id + ":",
                                                  "Bearer " + self.issuer.key_id + ":tmas_short", "Bearer :", "bearer x:y",
                                                  "Bearer " + "a" * 2000]))]
        return []

    def alive(self) -> bool:
        return self.node is not None and self.node.alive()

    def liveness(self, timeout: float = 15) -> str | None:
        """None when the process runs and both health checks answer; else what failed."""
        if not self.alive():
            return f"the server process exited with {self.node.proc.returncode if self.node and self.node.proc else '?'}"
        log = self.node.log_text()
        for marker in CRASH_MARKERS:
            if marker in log:
                return f"the server log reports a crash ({marker!r})"
        try:
            r = http1_exchange(self.node.port, b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                               timeout=timeout, method="GET")
            if r.status != 200:
                return f"GET /health over HTTP/1.1: {r!r}"
        except (Hang, OSError) as e:
            return f"GET /health over HTTP/1.1: {e!r}"
        conn = None
        try:
            conn = H2Conn(self.node.port, timeout=timeout)
            s = grpc_call(conn, "/grpc.health.v1.Health/Check", b"", timeout=timeout)
            if s.grpc_status() != "0" or bytes(s.data) != grpc_envelope(b"\x08\x01"):
                return f"grpc.health.v1.Health/Check over h2c: {s!r}"
        except (Hang, OSError, HPACKError) as e:
            return f"grpc.health.v1.Health/Check over h2c: {e!r}"
        finally:
            if conn is not None:
                conn.close()
        return None

    def resources(self) -> str:
        if not self.alive():
            return "-"
        pid = self.node.proc.pid
        try:
            rss = next(line.split()[1] for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS:"))
            fds = len(os.listdir(f"/proc/{pid}/fd"))
            threads = len(os.listdir(f"/proc/{pid}/task"))
            return f"rss={int(rss) // 1024}MiB fds={fds} threads={threads}"
        except (OSError, StopIteration):
            return "-"

    def report(self, seed, iteration: int, what: str):
        print(f"\nFUZZ FAILURE ({self.name}): {what}", file=sys.stderr)
        print(f"  seed={seed} iteration={iteration}", file=sys.stderr)
        print(f"  replay: Scripts/fuzz {self.name} --seed {seed} --start {iteration} --iterations 1", file=sys.stderr)
        saved = Path(os.environ.get("TMPDIR", "/tmp")) / f"tokmesh-fuzz-{self.name}-{seed}-{iteration}.bin"
        try:
            saved.write_bytes(self.last_input)
        except OSError:
            saved = None
        shown = self.last_input[:HEX_SHOWN]
        print(f"  input ({self.last_note}), {len(self.last_input)} bytes{f', saved in {saved}' if saved else ''}, hex"
              f"{' (first %d bytes)' % HEX_SHOWN if len(self.last_input) > HEX_SHOWN else ''}:", file=sys.stderr)
        print("  " + shown.hex(), file=sys.stderr)
        if self.name == "h2" or self.last_input[:1] in (b"\x00",) or self.last_input.startswith(PREFACE):
            print("  frames:\n    " + describe_frames(self.last_input).replace("\n", "\n    "), file=sys.stderr)
        if len(self.history) > 1:
            print("  previous inputs (iteration, what, hex):", file=sys.stderr)
            for it, note, raw in self.history[:-1]:
                print(f"    {it} {note} ({len(raw)} bytes) {raw[:512].hex()}{'...' if len(raw) > 512 else ''}", file=sys.stderr)
        if self.node is not None:
            log = self.node.log_text()
            keep = Path(os.environ.get("TMPDIR", "/tmp")) / f"tokmesh-fuzz-{self.name}-{seed}-{iteration}-server.log"
            try:
                keep.write_text(log)
                print(f"  server log saved in {keep}", file=sys.stderr)
            except OSError:
                pass
            lines = log.splitlines()
            start = next((i for i, line in enumerate(lines) if any(m in line for m in CRASH_MARKERS)), None)
            if start is not None:
                print("  --- server crash report ---\n" + "\n".join(lines[max(0, start - 3):start + 60]), file=sys.stderr)
            else:
                print("  --- server log tail ---\n" + "\n".join(lines[-30:]), file=sys.stderr)


def parse_args(name: str, argv=None, default_iterations: int = 2000):
    p = argparse.ArgumentParser(prog=f"Scripts/fuzz {name}")
    p.add_argument("--iterations", type=int, default=int(os.environ.get("FUZZ_ITERATIONS", default_iterations)))
    p.add_argument("--seed", default=os.environ.get("FUZZ_SEED") or str(random.SystemRandom().randrange(1 << 32)))
    p.add_argument("--start", type=int, default=0, help="first iteration number (to replay one: --start I --iterations 1)")
    p.add_argument("--check-every", type=int, default=250, help="health checks every N iterations")
    p.add_argument("--timeout", type=float, default=10.0, help="seconds an answer may take before it counts as a hang")
    p.add_argument("--max-entries", type=int, default=int(os.environ.get("FUZZ_MAX_ENTRIES", 2000)),
                   help="the most keys or map entries one generated message holds (bigger values hunt quadratic paths)")
    p.add_argument("--keep-going", action="store_true",
                   help="report every finding and go on (after a crash with a fresh server); exit 1 at the end if any")
    p.add_argument("--quiet", action="store_true")
    return p.parse_args(argv)


def run_fuzzer(name: str, one: Callable[["Harness", random.Random, int], None], argv=None,
               default_iterations: int = 2000, setup: Callable[["Harness"], None] | None = None) -> int:
    """Runs `one(harness, rng, iteration)` for each iteration. `one` raises Failure (or Hang) for
    a finding and records its input in harness.last_input/last_note before sending it."""
    args = parse_args(name, argv, default_iterations)
    MAX_ENTRIES[0] = args.max_entries
    h = Harness(name, args)
    started = time.monotonic()
    findings = 0
    slowest: list[tuple[float, int, str]] = []
    outcome_counts: dict[str, int] = {}
    h.outcomes = outcome_counts
    rc = 0
    iteration = args.start
    signatures: dict[str, list[int]] = {}

    def finding(what: str):
        nonlocal findings
        findings += 1
        h.report(args.seed, iteration, what)
        key = re.sub(r"\d+", "N", what.split(":", 2)[0] + ":" + " ".join(what.split(":", 2)[1:])[:90])
        signatures.setdefault(key, []).append(iteration)

    def crashed() -> bool:
        """Reports a dead server once; True when it is dead."""
        if h.alive():
            return False
        if not h.__dict__.get("crash_reported"):
            h.crash_reported = True
            time.sleep(0.5)
            crash = next((line for line in h.node.log_text().splitlines() if "Fatal error" in line), "")
            finding(f"Crash: the server process died ({crash.strip() or 'exit ' + str(h.node.proc.returncode if h.node.proc else '?')})")
        return True

    try:
        h.start()
        if setup is not None:
            setup(h)
        print(f"fuzz {name}: seed={args.seed} iterations={args.iterations} start={args.start} port={h.node.port} "
              f"({h.resources()})", flush=True)
        end = args.start + args.iterations
        for iteration in range(args.start, end):
            rng = random.Random(f"{args.seed}:{iteration}")
            h.last_input, h.last_note = b"", ""
            t0 = time.monotonic()
            try:
                one(h, rng, iteration)
                took = time.monotonic() - t0
                if len(slowest) < 5 or took > slowest[-1][0]:
                    slowest.append((took, iteration, h.last_note))
                    slowest.sort(reverse=True)
                    del slowest[5:]
            except (Failure, Hang, HPACKError) as e:
                h.history.append((iteration, h.last_note, h.last_input))
                time.sleep(0.2)
                if h.alive() and any(m in h.node.log_text() for m in CRASH_MARKERS):
                    deadline = time.monotonic() + 30  # the Swift runtime is writing its backtrace
                    while h.alive() and time.monotonic() < deadline:
                        time.sleep(0.1)
                if not h.alive():
                    crashed()
                else:
                    finding(f"{type(e).__name__}: {e}")
            else:
                h.history.append((iteration, h.last_note, h.last_input))
            del h.history[:-4]
            if not crashed() and ((iteration - args.start + 1) % args.check_every == 0 or iteration == end - 1):
                problem = h.liveness(args.timeout)
                if problem and not crashed():
                    finding(f"Liveness: after iteration {iteration}: {problem}")
                if not problem and not args.quiet:
                    done = iteration - args.start + 1
                    rate = done / max(time.monotonic() - started, 1e-6)
                    print(f"  {done}/{args.iterations} ok ({rate:.0f}/s, {h.resources()})", flush=True)
            if findings and not args.keep_going:
                rc = 1
                break
            if not h.alive() and iteration < end - 1:
                # --keep-going after a crash: a fresh server, and on
                print(f"fuzz {name}: restarting the server after iteration {iteration}", file=sys.stderr, flush=True)
                h.stop()
                h.start()
                h.crash_reported = False
                h.__dict__.pop("h2", None)
    except KeyboardInterrupt:
        print(f"\nfuzz {name}: interrupted at iteration {iteration} (seed {args.seed})", file=sys.stderr)
        rc = 130
    except Exception:  # noqa: BLE001 - a bug of the fuzzer itself: say where
        traceback.print_exc()
        h.report(args.seed, iteration, "fuzzer error (see the traceback above)")
        rc = 2
    finally:
        elapsed = time.monotonic() - started
        leak = h.stop()
    if leak:
        print(f"\nFUZZ FAILURE ({name}): {leak} (seed={args.seed}; TOKMESH_KEEP_TMP=1 keeps the files)", file=sys.stderr)
        findings += 1
    if signatures:
        print(f"fuzz {name}: distinct findings (kind: first words → iterations):")
        for key, its in signatures.items():
            print(f"  {len(its):5d}x  {key}  → {its[:10]}{' ...' if len(its) > 10 else ''}")
    summary = ", ".join(f"{k}={v}" for k, v in sorted(outcome_counts.items()))
    if findings and rc == 0:
        rc = 1
    verdict = {0: "ok", 1: "FINDINGS", 130: "interrupted"}.get(rc, "fuzzer error")
    if slowest and not args.quiet:
        print("slowest iterations: " + "; ".join(f"#{it} {took:.2f}s {note[:160]}" for took, it, note in slowest))
    print(f"fuzz {name}: {verdict}: seed={args.seed} iterations={iteration - args.start + 1} findings={findings} "
          f"{elapsed:.1f}s; outcomes: {summary}", flush=True)
    return rc


def count(h: Harness, outcome: str):
    h.outcomes[outcome] = h.outcomes.get(outcome, 0) + 1


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
