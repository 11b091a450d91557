#!/usr/bin/env python3
"""Scripts/fuzz proto: malformed RPC requests against one tokmesh-server.

Each iteration takes a random request type of tokmesh.v1.SessionService, grpc.health.v1.Health
or grpc.reflection.v1/v1alpha.ServerReflection, builds a valid message with random field values
(real session ids, tokens and key ids mixed with edge cases), mutates it (bit flips, truncation,
length-field corruption, over-long varints, huge lengths, nested garbage, wrong wire types,
invalid field numbers and UTF-8, odd map entries, random bytes; text mutations and deep nesting
for JSON) and sends it as one of:

  grpc        application/grpc[+proto] over h2c, in a possibly mutated envelope (bad flags,
              compressed bit, length larger or smaller than the data, several or no messages,
              truncated prefix), cut across DATA frames at random points, random metadata
              (credentials, grpc-timeout, grpc-encoding, te)
  grpc+json   the same with a JSON payload
  connect-stream  application/connect+proto|json envelopes over h2c
  connect-h2  Connect unary (application/proto|json) POST or GET over h2c
  connect-h1  Connect unary POST or GET over HTTP/1.1 (also chunked, or cut short)
  cancel      a gRPC call the client resets half way
  interleaved 2-8 gRPC calls on one connection, their DATA frames interleaved

Every answer must be well formed: an HTTP status, and for gRPC a grpc-status (trailers or
trailers-only) with whole envelopes in the body; Connect streaming bodies must end with an
end-of-stream envelope; nothing may take longer than --timeout. See fuzzlib.py for the harness.
"""

from __future__ import annotations

import gzip
import json
import random
import struct
import zlib
import sys
import time
import urllib.parse

import fuzzlib as fl

UNKNOWN_PATHS = ["/tokmesh.v1.SessionService/Nope", "/nope.Service/X", "/", "/tokmesh.v1.SessionService/", "//",
                 "/tokmesh.v1.SessionService/CreateSession/extra", "/TOKMESH.V1.SESSIONSERVICE/CreateSession",
                 "/tokmesh.v1.SessionService/CreateSession?x=1", "/grpc.health.v1.Health/Check%00", "/tokmesh.v1.SessionService//",
                 "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo/../x", "*"]


def metadata(h: fl.Harness, rng: random.Random, grpc: bool) -> list:
    extra = list(h.credentials(rng))
    if rng.random() < 0.15:
        extra.append(("x-request-id", rng.choice(["", "r", "req-" + "0" * 16, "x" * 300, "a b", "%41", "\u00e9".encode().decode("latin-1")])))
    if rng.random() < 0.1:
        extra.append(("user-agent", rng.choice(["fuzz/1.0", "", "x" * 5000])))
    if rng.random() < 0.05:
        extra.append(("x-timestamp", str(rng.choice([0, -1, int(time.time() * 1000), 2**63, 10**30]))))
        extra.append(("x-nonce", rng.choice(["n", "", "x" * 200])))
    if rng.random() < 0.05:
        extra.append(("x-forwarded-for", rng.choice(["1.2.3.4", "garbage", "::1, 10.0.0.1"])))
    if grpc:
        if rng.random() < 0.85:
            extra.append(("te", "trailers"))
        if rng.random() < 0.2:
            extra.append(("grpc-timeout", rng.choice(["1n", "1u", "1m", "50m", "1S", "10S", "99999999H", "99999999M", "0m", "m", "1",
                                                      "123456789S", "-1S", "1.5S", "1x", "", "00000001m", "9999999999S"])))
        if rng.random() < 0.05:
            extra.append(("grpc-encoding", rng.choice(["identity", "gzip", "deflate", "IDENTITY", "", "snappy"])))
        if rng.random() < 0.03:
            extra.append(("grpc-accept-encoding", "gzip"))
    else:
        if rng.random() < 0.1:
            extra.append(("connect-protocol-version", rng.choice(["1", "2", "", "01"])))
        if rng.random() < 0.1:
            extra.append(("connect-timeout-ms", rng.choice(["0", "1", "50", "10000", "9999999999", "99999999999", "-1", "x", ""])))
        if rng.random() < 0.05:
            extra.append((rng.choice(["content-encoding", "connect-content-encoding"]), rng.choice(["identity", "gzip", "br", ""])))
    return extra


def make_payload(h: fl.Harness, rng: random.Random, msgname: str, as_json: bool) -> tuple[bytes, str]:
    fields = fl.gen_fields(rng, h.corpus, msgname)
    if as_json:
        text = fl.dumps(fl.fields_to_json(msgname, fields, rng))
        if rng.random() < 0.7:
            return fl.mutate_text(rng, text)
        return text, "valid"
    raw = fl.encode_fields(msgname, fields)
    if rng.random() < 0.8:
        return fl.mutate_proto(rng, raw, {n: k for n, k in fl.SCHEMAS[msgname].items()})
    return raw, "valid"


def check_envelopes(data: bytes, connect: bool, compressed: bool = False) -> tuple[list[tuple[int, bytes]], str | None]:
    """The body as (flags, payload) envelopes, payloads gunzipped, or an error text when it is
    not whole envelopes (or a compressed one is not valid gzip)."""
    out = []
    pos = 0
    allowed = (0, 2) if connect else (0,)
    if compressed:
        allowed += tuple(f | 1 for f in allowed)
    while pos < len(data):
        if len(data) - pos < 5:
            return out, f"a partial envelope prefix at {pos}"
        flags = data[pos]
        length = struct.unpack(">I", data[pos + 1:pos + 5])[0]
        if len(data) - pos - 5 < length:
            return out, f"an envelope of {length} bytes cut short at {pos}"
        payload = data[pos + 5:pos + 5 + length]
        if flags not in allowed:
            return out, f"envelope flags {flags:#x}"
        if flags & 1:
            try:
                payload = gzip.decompress(payload)
            except (OSError, EOFError, zlib.error) as e:
                return out, f"a compressed envelope that is not gzip: {e}"
        out.append((flags, payload))
        pos += 5 + length
    return out, None


def check_h2_answer(h: fl.Harness, s: fl.StreamResult, mode: str, streaming_enough: bool) -> str:
    """Validates one h2 answer; returns its outcome name or raises Failure."""
    if s.headers is None:
        raise fl.Failure(f"no response headers (reset={s.reset}): {s!r}")
    status = s.status
    if status is None or not 100 <= status <= 599:
        raise fl.Failure(f"no valid :status: {s!r}")
    ctype = s.header("content-type", trailers_too=False) or ""
    if mode.startswith("grpc") and status == 200 and ctype.startswith("application/grpc"):
        gs = s.grpc_status()
        if gs is None:
            if streaming_enough and s.data:
                return "grpc-stream-open"
            raise fl.Failure(f"gRPC answer without grpc-status: {s!r}")
        if not gs.isdigit() or not 0 <= int(gs) <= 16:
            raise fl.Failure(f"grpc-status {gs!r} is not a status code: {s!r}")
        envelopes, problem = check_envelopes(bytes(s.data), connect=False,
                                             compressed=(s.header("grpc-encoding", trailers_too=False) or "") == "gzip")
        if problem:
            raise fl.Failure(f"gRPC body is not whole messages ({problem}): {s!r}")
        if ctype.endswith("+json"):
            for _, payload in envelopes:
                json.loads(payload)
        if gs in ("2", "13"):
            note_odd(h, f"grpc-status {gs}: {urllib.parse.unquote(s.header('grpc-message') or '')}")
        return f"grpc-{gs}"
    if mode == "connect-stream" and status == 200 and ctype.startswith("application/connect+"):
        envelopes, problem = check_envelopes(bytes(s.data), connect=True,
                                             compressed=(s.header("connect-content-encoding", trailers_too=False) or "") == "gzip")
        if streaming_enough and not s.ended:
            return "connect-stream-open"
        if problem:
            raise fl.Failure(f"Connect streaming body is not whole envelopes ({problem}): {s!r}")
        if not envelopes or envelopes[-1][0] != 2:
            raise fl.Failure(f"Connect streaming body without an end-of-stream envelope: {s!r}")
        end = json.loads(envelopes[-1][1])
        code = (end.get("error") or {}).get("code", "ok")
        if code in ("internal", "unknown"):
            note_odd(h, f"connect end-stream {code}: {(end.get('error') or {}).get('message')}")
        return f"connect-stream-{code}"
    if not s.ended and not streaming_enough:
        raise fl.Failure(f"answer not ended: {s!r}")
    if status >= 500 and status not in (501, 505):
        note_odd(h, f"HTTP {status} ({mode}): {bytes(s.data[:200])!r}")
    if ctype.startswith("application/json") and s.data:
        json.loads(fl.maybe_gunzip(bytes(s.data), s.header("content-encoding", trailers_too=False)))
    return f"http-{status}"


def note_odd(h: fl.Harness, text: str):
    odd = h.__dict__.setdefault("odd", {})
    odd[text] = odd.get(text, 0) + 1


def conn(h: fl.Harness) -> fl.H2Conn:
    c = h.__dict__.get("h2")
    if c is None or not c.usable:
        if c is not None:
            c.close()
        c = fl.H2Conn(h.node.port, timeout=h.args.timeout)
        h.h2 = c
    return c


def h2_exchange(h: fl.Harness, rng: random.Random, mode: str, pairs: list, body: bytes | None, streaming: bool,
                cancel: bool = False) -> str:
    c = conn(h)
    sid = c.new_stream_id()
    block = fl.encode_headers(pairs)
    frames = []
    if rng.random() < 0.1 and len(block) > 4:  # HEADERS + CONTINUATION
        cut = rng.randrange(1, len(block))
        frames.append(fl.headers_frame(sid, block[:cut], body is None, end_headers=False))
        frames.append(fl.continuation_frames(sid, block[cut:]))
    else:
        pad = rng.choice([None, None, None, None, 0, 7, 255])
        frames.append(fl.headers_frame(sid, block, body is None, pad=pad))
    if body is not None:
        pieces = fl.split_body(rng, body)
        if cancel:
            pieces = pieces[:max(1, len(pieces) // 2)]
        for k, piece in enumerate(pieces):
            last = k == len(pieces) - 1 and not cancel
            pad = None if rng.random() < 0.9 else rng.choice([0, 1, 200])
            if pad is not None and len(piece) + pad + 1 > fl.MAX_FRAME:
                pad = None
            frames.append(fl.data_frame(sid, piece, last, pad=pad))
        if cancel:
            frames.append(fl.rst_stream(sid, 8))
    h.last_input = b"".join(frames)
    deadline = time.monotonic() + h.args.timeout
    c.send_data_respecting_windows(sid, frames, deadline)
    if cancel:
        c.ping_roundtrip(deadline)  # the connection still answers after the reset
        if not c.usable:
            raise fl.Failure(f"the connection went away after a client reset (goaway={c.goaway}, eof={c.eof})")
        return "cancelled"
    enough = (lambda s: s.headers is not None and len(s.data) >= 5) if streaming else None
    s = c.wait_stream(sid, deadline, enough)
    if streaming and not s.ended and s.reset is None:
        c.send(fl.rst_stream(sid, 8))
    oversize = fl.header_list_size(pairs) > c.server_settings.get(fl.S_MAX_HEADER_LIST_SIZE, 1 << 32)
    if s.headers is None and s.reset is not None and oversize:
        c.streams.pop(sid, None)
        return f"reset-{s.reset}-oversize-headers"
    if s.headers is None and s.reset == 1 and fl.malformed_field(pairs):
        c.streams.pop(sid, None)
        return "reset-malformed-field"
    if s.headers is None and oversize and c.goaway is not None and c.goaway[1] == 9:
        return "goaway-compression-oversize-headers"  # nghttp2: a field over 64 KiB breaks HPACK state
    if s.headers is None and (c.goaway is not None or c.eof):
        raise fl.Failure(f"the connection went away instead of answering (goaway={c.goaway}, eof={c.eof}): {s!r}")
    outcome = check_h2_answer(h, s, mode, streaming)
    if c.goaway is not None and c.goaway[1] != 0:
        raise fl.Failure(f"GOAWAY {c.goaway} after a well-formed exchange: {s!r}")
    c.streams.pop(sid, None)
    return outcome


def h1_exchange(h: fl.Harness, rng: random.Random, path: str, ctype: str | None, extra: list, body: bytes | None) -> str:
    lines = [f"{'GET' if body is None else 'POST'} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    if ctype is not None:
        lines.append(f"Content-Type: {ctype}")
    for n, v in extra:
        lines.append(f"{n}: {v}")
    half_close = False
    payload = b""
    if body is not None:
        r = rng.random()
        if r < 0.1:
            lines.append("Transfer-Encoding: chunked")
            pieces = fl.split_body(rng, body, 4096)
            payload = b"".join(b"%x\r\n" % len(p) + p + b"\r\n" for p in pieces if p) + b"0\r\n\r\n"
        elif r < 0.15:
            lines.append(f"Content-Length: {len(body) + rng.randint(1, 100)}")
            payload = body
            half_close = True
        else:
            lines.append(f"Content-Length: {len(body)}")
            payload = body
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
    h.last_input = raw
    r = fl.http1_exchange(h.node.port, raw, timeout=h.args.timeout, half_close=half_close,
                          method="GET" if body is None else "POST")
    if r.status is None:
        if half_close:
            return "h1-closed"
        raise fl.Failure(f"HTTP/1.1: {r.note}")
    if r.status >= 500 and r.status not in (501, 505):
        note_odd(h, f"HTTP/1.1 {r.status}: {r.body[:200]!r}")
    ctype_out = r.headers.get("Content-Type", "") if r.headers else ""
    if ctype_out.startswith("application/json") and r.body and r.note == "":
        json.loads(fl.maybe_gunzip(r.body, r.headers.get("Content-Encoding")))
    return f"h1-{r.status}"


def get_query(rng: random.Random, message: bytes, as_json: bool, gzipped: bool = False) -> str:
    params = [("encoding", "json" if as_json else "proto")]
    if gzipped:
        params.append(("compression", "gzip"))
    if rng.random() < 0.5 or not as_json:
        params.append(("message", fl._b(message).decode("latin-1")))
    if rng.random() < 0.3:
        import base64
        params = [(k, base64.urlsafe_b64encode(v.encode("latin-1")).decode().rstrip("=") if k == "message" else v) for k, v in params]
        params.append(("base64", "1"))
    if rng.random() < 0.2:
        params.append(("connect", rng.choice(["v1", "v2", ""])))
    if rng.random() < 0.1:
        params.append(("compression", rng.choice(["identity", "gzip", ""])))
    if rng.random() < 0.1:
        rng.shuffle(params)
        params = params[:rng.randint(0, len(params))]
    q = "&".join(f"{k}={urllib.parse.quote(v, safe='', encoding='latin-1')}" for k, v in params)
    if rng.random() < 0.05:
        q += rng.choice(["&message=%", "&message=%zz", "&&&", "&=", "&message"])
    return q


def interleaved(h: fl.Harness, rng: random.Random) -> str:
    """2-8 gRPC calls on one connection with their DATA frames interleaved."""
    c = conn(h)
    calls = []
    for _ in range(rng.randint(2, 8)):
        path = rng.choice(list(fl.METHODS))
        msgname, kind = fl.METHODS[path]
        as_json = rng.random() < 0.3
        payload, _ = make_payload(h, rng, msgname, as_json)
        body, _ = fl.mutate_envelope(rng, payload, connect=False)
        extra = metadata(h, rng, grpc=True)
        if kind == "server" and not any(n == "grpc-timeout" for n, _ in extra):
            extra.append(("grpc-timeout", "200m"))
        pairs = fl.request_headers(path, "application/grpc+json" if as_json else "application/grpc", extra)
        sid = c.new_stream_id()
        pieces = fl.split_body(rng, body)
        frames = [fl.headers_frame(sid, fl.encode_headers(pairs), False)]
        frames += [fl.data_frame(sid, piece, k == len(pieces) - 1) for k, piece in enumerate(pieces)]
        calls.append((sid, frames, pairs, kind == "server"))
    order = []
    opened = 0
    left = [list(f) for _, f, _, _ in calls]
    while any(left):
        candidates = [i for i in range(opened) if left[i]]
        if opened < len(calls):
            candidates.append(opened)  # HEADERS go out in stream id order
        i = rng.choice(candidates)
        if i == opened:
            opened += 1
        order.append(left[i].pop(0))
    h.last_input = b"".join(order)
    h.last_note = f"interleaved {[(sid, dict(p)[':path']) for sid, _, p, _ in calls]}"
    deadline = time.monotonic() + h.args.timeout
    c.send_data_respecting_windows(calls[0][0], order, deadline)
    outcomes = []
    for sid, _, pairs, streaming in calls:
        s = c.wait_stream(sid, deadline, (lambda s: s.headers is not None and len(s.data) >= 5) if streaming else None)
        if streaming and not s.ended and s.reset is None:
            c.send(fl.rst_stream(sid, 8))
        if s.headers is None and s.reset == 1 and fl.malformed_field(pairs):
            outcomes.append("reset-malformed-field")
            continue
        if s.headers is None and (c.goaway is not None or c.eof):
            raise fl.Failure(f"the connection went away instead of answering (goaway={c.goaway}, eof={c.eof}): {s!r}")
        outcomes.append(check_h2_answer(h, s, "grpc", streaming))
        c.streams.pop(sid, None)
    return "ok" if all(o.startswith(("grpc-", "http-", "reset-")) for o in outcomes) else ",".join(outcomes)


def compression(rng: random.Random, extra: list, header: str, accept: str) -> bool:
    """Maybe sets `header: gzip` (True: the payload is to be gzip'd) and/or `accept: gzip`."""
    if rng.random() < 0.2:
        extra.append((accept, rng.choice(["gzip", "gzip, identity", "identity", "br", "gzip;q=0", "*"])))
    if rng.random() < 0.25:
        extra[:] = [(n, v) for n, v in extra if n != header]
        extra.append((header, rng.choice(["gzip", "gzip", "gzip", "GZIP"])))
        return rng.random() < 0.9
    return False


def one(h: fl.Harness, rng: random.Random, iteration: int):
    if rng.random() < 0.05:
        fl.count(h, f"interleaved:{interleaved(h, rng)}")
        return
    r = rng.random()
    mode = ("grpc" if r < 0.35 else "grpc+json" if r < 0.45 else "connect-stream" if r < 0.55 else "connect-h2" if r < 0.75
            else "connect-h1" if r < 0.95 else "cancel")
    paths = list(fl.METHODS)
    if mode == "connect-stream" and rng.random() < 0.7:
        paths = [p for p in paths if fl.METHODS[p][1] != "unary"]
    path = rng.choice(paths)
    msgname, kind = fl.METHODS[path]
    if rng.random() < 0.03:
        path = rng.choice(UNKNOWN_PATHS)
    streaming = kind == "server"
    if mode in ("grpc", "grpc+json", "cancel"):
        as_json = mode == "grpc+json"
        payload, what = make_payload(h, rng, msgname, as_json)
        extra = metadata(h, rng, grpc=True)
        flags = 0
        if compression(rng, extra, "grpc-encoding", "grpc-accept-encoding"):
            payload, cwhat = fl.gzip_mutate(rng, payload)
            what += f",{cwhat}"
            flags = 1 if rng.random() < 0.95 else 0
        body, env = fl.mutate_envelope(rng, payload, connect=False, flags=flags)
        ctype = "application/grpc+json" if as_json else rng.choice(["application/grpc", "application/grpc", "application/grpc+proto",
                                                                    "application/grpc; charset=utf-8", "APPLICATION/GRPC"])
        if streaming and not any(n == "grpc-timeout" for n, _ in extra):
            extra.append(("grpc-timeout", "200m"))
        h.last_note = f"{mode} {path} payload[{what}] envelope[{env}] metadata={[n for n, _ in extra]}"
        pairs = fl.request_headers(path, ctype, extra)
        outcome = h2_exchange(h, rng, "grpc", pairs, body, streaming, cancel=mode == "cancel")
    elif mode == "connect-stream":
        as_json = rng.random() < 0.5
        payload, what = make_payload(h, rng, msgname, as_json)
        extra = metadata(h, rng, grpc=False)
        flags = 0
        if compression(rng, extra, "connect-content-encoding", "connect-accept-encoding"):
            payload, cwhat = fl.gzip_mutate(rng, payload)
            what += f",{cwhat}"
            flags = 1 if rng.random() < 0.95 else 0
        body, env = fl.mutate_envelope(rng, payload, connect=True, flags=flags)
        ctype = "application/connect+json" if as_json else "application/connect+proto"
        h.last_note = f"{mode} {path} payload[{what}] envelope[{env}] metadata={[n for n, _ in extra]}"
        outcome = h2_exchange(h, rng, "connect-stream", fl.request_headers(path, ctype, extra), body, streaming)
    else:
        as_json = rng.random() < 0.5
        payload, what = make_payload(h, rng, msgname, as_json)
        ctype = "application/json" if as_json else "application/proto"
        if rng.random() < 0.05:
            ctype = rng.choice(["application/json; charset=utf-8", "text/plain", "application/x-protobuf", "", "application/connect+json"])
        extra = metadata(h, rng, grpc=False)
        get = rng.random() < 0.15
        if compression(rng, extra, "content-encoding", "accept-encoding"):
            payload, cwhat = fl.gzip_mutate(rng, payload)
            what += f",{cwhat}"
            if get:
                extra[:] = [(n, v) for n, v in extra if n != "content-encoding"]
        target = path + ("?" + get_query(rng, payload, as_json, gzipped="gzip" in what) if get else "")
        h.last_note = f"{mode} {'GET' if get else 'POST'} {path} payload[{what}] metadata={[n for n, _ in extra]}"
        if streaming:
            extra.append(("connect-timeout-ms", "200"))
        if mode == "connect-h2":
            pairs = fl.request_headers(target, None if get else ctype, extra, method="GET" if get else "POST")
            outcome = h2_exchange(h, rng, "connect", pairs, None if get else payload, streaming)
        else:
            outcome = h1_exchange(h, rng, target, None if get else ctype, extra, None if get else payload)
    fl.count(h, f"{mode}:{outcome}")


def finish(h: fl.Harness):
    odd = h.__dict__.get("odd") or {}
    if odd:
        print("answers worth a look (internal/unknown statuses, 5xx):")
        for text, n in sorted(odd.items(), key=lambda kv: -kv[1])[:20]:
            print(f"  {n:6d}  {text[:300]}")


def main(argv=None) -> int:
    holder = {}

    def setup(h):
        holder["h"] = h

    rc = fl.run_fuzzer("proto", one, argv, setup=setup)
    if "h" in holder:
        finish(holder["h"])
    return rc


if __name__ == "__main__":
    sys.exit(main())
