"""Backups: download with HTTP Range, restore by id and by upload (issue 3 acceptance 4,
spec/02 §5.5 and §7, spec/04 §8.1).

Downloads are checked with the real curl (`-r`, `-C -`, `-I`); a large unencrypted backup built
here in the documented file format (docs/formats.md, "an unencrypted file restores anywhere")
makes a restore last long enough to observe the maintenance phase: `/ready` 503 `restoring`,
writes 503 TM-ADMIN-5031 with `Retry-After: 5`, validations still answered, a second restore
or a snapshot 409 TM-ADMIN-4091.
"""

import hashlib
import json
import os
import struct
import subprocess
import time

from tmlib import client_token, err, ok, uid, wait_until


def _curl(node, key, path, *args, out=None):
    cmd = ["curl", "-sS", "-H", f"Authorization: Bearer {key.cred}", "-D", "-"]
    if out is not None:
        cmd += ["-o", str(out)]
    cmd += list(args) + [node.base_url + path]
    done = subprocess.run(cmd, capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.decode("latin-1")


def _headers(raw: str) -> tuple[int, dict]:
    """The last response head of curl -D - output (curl -C - may print two)."""
    heads = [h for h in raw.replace("\r\n", "\n").split("\n\n") if h.startswith("HTTP/")]
    lines = heads[-1].split("\n")
    status = int(lines[0].split()[1])
    return status, {k.strip().lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:] if ":" in line)}


def _wait_job(node, admin, job_id, timeout=120):
    seen = []

    def done():
        job = ok(node.req("GET", f"/admin/v1/backups/restores/{job_id}", key=admin))
        seen.append(job["progress"])
        return job if job["status"] in ("COMPLETED", "FAILED") else None

    job = wait_until(done, timeout, what=f"restore job {job_id} to finish")
    assert seen == sorted(seen), f"progress went backwards: {seen}"
    return job


def test_download_with_range_resume_head_and_416(make_node, tmp_path):
    node = make_node(name="download")
    admin, issuer, _ = node.fresh_keys()
    for _ in range(50):
        node.create_session(issuer, data={"pad": "p" * 500})
    snap = ok(node.req("POST", "/admin/v1/backups/snapshots", {"description": "for download"}, key=admin), 201)
    listed = ok(node.req("GET", "/admin/v1/backups/snapshots", key=admin))
    assert snap["snapshot_id"] in [s["snapshot_id"] for s in listed["items"]]
    path = f"/admin/v1/backups/snapshots/{snap['snapshot_id']}/file"
    size = snap["size_bytes"]
    stored = (node.data_dir / "snapshots" / f"{snap['snapshot_id']}.snap").read_bytes()
    assert len(stored) == size
    # The file's last 32 bytes are the SHA-256 of everything before them (spec/02 §5.1).
    assert hashlib.sha256(stored[:-32]).digest() == stored[-32:]
    assert snap["checksum"] == "sha256:" + stored[-32:].hex()

    out = tmp_path / "download.snap"
    status, h = _headers(_curl(node, admin, path, "-r", "0-99", out=out))
    assert status == 206 and h["content-range"] == f"bytes 0-99/{size}" and h["content-length"] == "100"
    assert h["accept-ranges"] == "bytes" and h["etag"] == f'"{stored[-32:].hex()}"'
    assert h["content-disposition"] == f'attachment; filename="{snap["snapshot_id"]}.snap"'
    assert out.read_bytes() == stored[:100]
    # curl -C - resumes from the 100 bytes already there.
    status, h = _headers(_curl(node, admin, path, "-C", "-", out=out))
    assert status == 206 and h["content-range"] == f"bytes 100-{size - 1}/{size}"
    assert hashlib.sha256(out.read_bytes()).hexdigest() == hashlib.sha256(stored).hexdigest()

    status, h = _headers(_curl(node, admin, path, "-o", os.devnull))
    assert status == 200 and int(h["content-length"]) == size
    status, h = _headers(_curl(node, admin, path, "-I"))
    assert status == 200 and int(h["content-length"]) == size
    status, h = _headers(_curl(node, admin, path, "-r", "-10", out=out))
    assert status == 206 and out.read_bytes() == stored[-10:]
    status, h = _headers(_curl(node, admin, path, "-r", f"{size}-", out=out))
    assert status == 416 and h["content-range"] == f"bytes */{size}" and out.read_bytes() == b""
    status, h = _headers(_curl(node, admin, path, "-r", "0-9,20-29", "-o", os.devnull))
    assert status == 200 and int(h["content-length"]) == size
    status, h = _headers(_curl(node, admin, path, "-r", "0-9", "-H", 'If-Range: "stale"', "-o", os.devnull))
    assert status == 200 and int(h["content-length"]) == size

    err(node.req("GET", "/admin/v1/backups/snapshots/snap-19700101-000000/file", key=admin), 404, "TM-ADMIN-4041")
    err(node.req("GET", "/admin/v1/backups/snapshots/..%2Fencryption.key/file", key=admin), 404, "TM-ADMIN-4041")
    err(node.req("GET", path, key=issuer), 403, "TM-ADMIN-4030")
    node.wait_audit(lambda r: r["action"] == "SNAPSHOT_DOWNLOADED" and r["result"] == "SUCCESS", what="SNAPSHOT_DOWNLOADED")


def test_restore_by_id_and_by_upload(make_node, tmp_path):
    node = make_node(name="restore")
    admin, issuer, validator = node.fresh_keys()
    kept = [node.create_session(issuer, user_id=uid("kept")) for _ in range(40)]
    snap = ok(node.req("POST", "/admin/v1/backups/snapshots", {}, key=admin), 201)
    revoked = kept[:10]
    for s in revoked:
        ok(node.req("POST", f"/sessions/{s['session_id']}/revoke", {}, key=issuer))
    later = [node.create_session(issuer) for _ in range(15)]

    job = ok(node.req("POST", "/admin/v1/backups/restores", {"snapshot_id": snap["snapshot_id"]}, key=admin), 202)
    assert job["job_id"].startswith("restore-") and job["status"] in ("PENDING", "RUNNING")
    assert job["snapshot_id"] == snap["snapshot_id"] and job["finished_at"] == 0
    done = _wait_job(node, admin, job["job_id"])
    assert done["status"] == "COMPLETED" and done["progress"] == 100 and done["restored_sessions"] == 40, done
    assert "revoked after the backup" in done["message"]
    for s in kept:  # revoked ones are valid again (spec/02 §7)
        ok(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator))
    for s in later:
        err(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator), 401, "TM-TOKN-4010")
    triggers = {s["trigger"] for s in ok(node.req("GET", "/admin/v1/backups/snapshots", key=admin))["items"]}
    assert {"pre_restore", "restore", "manual"} <= triggers

    # The same file downloaded with curl and uploaded with curl -F.
    backup = tmp_path / "backup.snap"
    _curl(node, admin, f"/admin/v1/backups/snapshots/{snap['snapshot_id']}/file", out=backup)
    after_first = [node.create_session(issuer) for _ in range(5)]
    raw = subprocess.run(["curl", "-sS", "-H", f"Authorization: Bearer {admin.cred}", "-F", f"file=@{backup}",
                          node.base_url + "/admin/v1/backups/restores"], capture_output=True, timeout=60, check=True).stdout
    upload_job = json.loads(raw)
    assert upload_job["code"] == "OK" and upload_job["data"]["snapshot_id"] == "", upload_job
    done = _wait_job(node, admin, upload_job["data"]["job_id"])
    assert done["status"] == "COMPLETED" and done["restored_sessions"] == 40
    for s in after_first:
        err(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator), 401, "TM-TOKN-4010")
    node.wait_audit(lambda r: r["action"] == "RESTORE_COMPLETED", what="RESTORE_COMPLETED")
    node.wait_audit(lambda r: r["action"] == "RESTORE_STARTED", what="RESTORE_STARTED")

    # Changes after the restore, which a restart replays on top of it.
    after_restore = [node.create_session(issuer, user_id=uid("after")) for _ in range(6)]
    ok(node.req("POST", f"/sessions/{after_restore[0]['session_id']}/revoke", {}, key=issuer))

    # A restart shows the restored state (the RESET record and the restore snapshot) and the
    # changes after it, folded into the snapshot's bulk load (wal_folded).
    node.stop()
    node.start()
    admin, issuer, validator = node.fresh_keys()
    for s in kept + after_restore[1:]:
        ok(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator))
    err(node.req("POST", "/tokens/validate", {"token": after_restore[0]["token"]}, key=validator), 401, "TM-TOKN-4012")
    for s in later + after_first:
        err(node.req("POST", "/tokens/validate", {"token": s["token"]}, key=validator), 401, "TM-TOKN-4010")
    recovered = [json.loads(line) for line in node.log_text().splitlines() if '"recovery_completed"' in line][-1]
    assert recovered["wal_folded"] is True and recovered["wal_records"] >= 7, recovered


def test_a_reset_naming_a_missing_snapshot_stops_start_up(make_node):
    node = make_node(name="resetmissing")
    admin, issuer, _ = node.fresh_keys()
    node.create_session(issuer)
    snap = ok(node.req("POST", "/admin/v1/backups/snapshots", {}, key=admin), 201)
    job = ok(node.req("POST", "/admin/v1/backups/restores", {"snapshot_id": snap["snapshot_id"]}, key=admin), 202)
    assert _wait_job(node, admin, job["job_id"])["status"] == "COMPLETED"
    restore_snap = [s for s in ok(node.req("GET", "/admin/v1/backups/snapshots", key=admin))["items"] if s["trigger"] == "restore"]
    node.stop()
    # Without the restore snapshot the base is an older one, and the RESET after it cannot be
    # followed: start-up fails rather than mixing states (spec/02 §6 step 5).
    (node.data_dir / "snapshots" / f"{restore_snap[0]['snapshot_id']}.snap").unlink()
    try:
        node.start(ready_timeout=30)
        started = True
    except RuntimeError:
        started = False
    assert not started
    assert "TM-SYS-5001" in node.log_text() and restore_snap[0]["snapshot_id"] in node.log_text(), node.log_tail(5)


def test_restore_rejects_bad_requests(make_node, tmp_path):
    node = make_node(name="restorebad", args=["--server.http.max_upload_size=1MB"])
    admin, issuer, _ = node.fresh_keys()
    text = tmp_path / "x.txt"
    text.write_text("this is not a backup\n")

    def curl_form(*fields):
        cmd = ["curl", "-sS", "-H", f"Authorization: Bearer {admin.cred}"]
        for f in fields:
            cmd += ["-F", f]
        return json.loads(subprocess.run(cmd + [node.base_url + "/admin/v1/backups/restores"],
                                         capture_output=True, timeout=60, check=True).stdout)

    assert curl_form(f"file=@{text}")["code"] == "TM-ADMIN-4221"
    err(node.req("POST", "/admin/v1/backups/restores", {"snapshot_id": "snap-20000101-000000"}, key=admin), 404, "TM-ADMIN-4041")
    err(node.req("POST", "/admin/v1/backups/restores", {}, key=admin), 400, "TM-ARG-1002")
    err(node.req("POST", "/admin/v1/backups/restores", {"snapshot_id": 5}, key=admin), 400, "TM-SYS-4000")
    node.create_session(issuer)
    snap = ok(node.req("POST", "/admin/v1/backups/snapshots", {}, key=admin), 201)
    backup = tmp_path / "b.snap"
    backup.write_bytes((node.data_dir / "snapshots" / f"{snap['snapshot_id']}.snap").read_bytes())
    assert curl_form(f"file=@{backup}", f"snapshot_id={snap['snapshot_id']}")["code"] == "TM-ARG-1003"
    # A flipped byte breaks the trailer.
    broken = bytearray(backup.read_bytes())
    broken[len(broken) // 2] ^= 0xFF
    (tmp_path / "broken.snap").write_bytes(bytes(broken))
    assert curl_form(f"file=@{tmp_path / 'broken.snap'}")["code"] == "TM-ADMIN-4221"
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(2 * 1024 * 1024))
    answer = curl_form(f"file=@{big}")
    assert answer["code"] == "TM-ADMIN-4130" and "hint" in answer["details"], answer

    # Encrypted under another node's key → 422 naming both fingerprints.
    other = make_node(name="otherkey")
    other_admin = other.emergency_key()
    r = subprocess.run(["curl", "-sS", "-H", f"Authorization: Bearer {other_admin.cred}", "-F", f"file=@{backup}",
                        other.base_url + "/admin/v1/backups/restores"], capture_output=True, timeout=60, check=True)
    answer = json.loads(r.stdout)
    assert answer["code"] == "TM-ADMIN-4221", answer
    assert answer["details"]["file_key_fingerprint"] != answer["details"]["node_key_fingerprint"]


# --- a large unencrypted backup in the documented format (docs/formats.md) -----------------

def _s(value: str) -> bytes:
    b = value.encode()
    return struct.pack("<I", len(b)) + b


def _session_item(i: int, token: str, now: int) -> bytes:
    token_hash = "tmth_" + hashlib.sha256(token.encode()).hexdigest()
    crock = "0123456789abcdefghjkmnpqrstvwxyz"
    n = 2**100 + i
    sid = "tmss-" + "".join(crock[(n >> (5 * k)) & 31] for k in range(25, -1, -1))
    fields = [sid, f"bulk-{i % 5000}", token_hash, "10.0.0.1", "bench", "", "", "", "tmak-bulk"]
    body = b"".join(_s(f) for f in fields)
    body += struct.pack("<qqqQ", now, now + 3_600_000, now, 1) + struct.pack("<I", 0)
    return bytes([1]) + struct.pack("<I", len(body)) + body


def _unencrypted_backup(count: int, known_tokens: list[str]) -> bytes:
    now = int(time.time() * 1000)
    items = b"".join(_session_item(i, known_tokens[i] if i < len(known_tokens) else f"bulk-token-{i}", now)
                     for i in range(count))
    header = json.dumps({
        "format_version": 1, "snapshot_id": "snap-bulk", "trigger": "manual", "description": "generated by the test",
        "created_at": now, "node_id": "tmnd-test", "cluster_id": "", "wal_position": 0, "control_plane_index": 0,
        "session_count": count, "tombstone_count": 0, "api_key_count": 0, "cipher": 0,
        "key_fingerprint": "00" * 16, "salt": "00" * 32, "chunk_size": 1 << 20,
    }, separators=(",", ":")).encode()
    out = b"TOKMESH_BAK_V1" + struct.pack("<I", len(header)) + header
    chunks = [items[k:k + (1 << 20)] for k in range(0, len(items), 1 << 20)] or [b""]
    for n, chunk in enumerate(chunks):
        out += bytes([1 if n == len(chunks) - 1 else 0]) + struct.pack("<I", len(chunk)) + chunk
    return out + hashlib.sha256(out).digest()


def test_maintenance_during_a_long_restore(make_node, tmp_path):
    node = make_node(name="restorelong")
    admin, issuer, validator = node.fresh_keys()
    before = node.create_session(issuer)
    # The file holds the validator's probe token, so it is valid before and after the restore.
    probe_token = client_token()
    count = 150_000
    backup = tmp_path / "bulk.snap"
    backup.write_bytes(_unencrypted_backup(count, [probe_token]))
    probe = ok(node.req("POST", "/sessions", {"user_id": "probe", "token": probe_token}, key=issuer), 201)

    raw = subprocess.run(["curl", "-sS", "-H", f"Authorization: Bearer {admin.cred}", "-F", f"file=@{backup}",
                          node.base_url + "/admin/v1/backups/restores"], capture_output=True, timeout=120, check=True).stdout
    job = json.loads(raw)["data"]
    saw = {"ready": None, "write": None, "restore": None, "snapshot": None, "validate": 0}
    while True:
        status = ok(node.req("GET", f"/admin/v1/backups/restores/{job['job_id']}", key=admin))
        if status["status"] in ("COMPLETED", "FAILED"):
            break
        r = node.req("GET", "/ready")
        if r.status == 503 and r.details.get("checks", {}).get("storage") == "restoring":
            saw["ready"] = r
        w = node.req("POST", "/sessions", {"user_id": uid()}, key=issuer)
        if w.status == 503:
            saw["write"] = w
        a = node.req("POST", "/admin/v1/backups/restores", {"snapshot_id": "x"}, key=admin)
        if a.status == 409:
            saw["restore"] = a
        s = node.req("POST", "/admin/v1/backups/snapshots", {}, key=admin)
        if s.status == 409:
            saw["snapshot"] = s
        v = node.req("POST", "/tokens/validate", {"token": probe["token"], "touch": True}, key=validator)
        if v.status == 200:
            saw["validate"] += 1
    assert status["status"] == "COMPLETED" and status["restored_sessions"] == count, status
    assert saw["ready"] is not None, "never saw /ready 503 restoring"
    assert saw["write"] is not None and saw["write"].code == "TM-ADMIN-5031" and saw["write"].header("Retry-After") == "5"
    assert saw["restore"] is not None and saw["restore"].code == "TM-ADMIN-4091"
    assert saw["snapshot"] is not None and saw["snapshot"].code == "TM-ADMIN-4091"
    assert saw["validate"] > 0, "validations must be answered during a restore"
    ok(node.req("GET", "/ready"))
    ok(node.req("POST", "/tokens/validate", {"token": probe_token}, key=validator))
    err(node.req("POST", "/tokens/validate", {"token": before["token"]}, key=validator), 401, "TM-TOKN-4010")
    ok(node.req("POST", "/sessions", {"user_id": uid()}, key=issuer), 201)
