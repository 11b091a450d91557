"""Certificate reload (spec/08 §7; issue 7 item 4): replacing the HTTPS certificate files makes
`openssl s_client` see the new certificate within 5 s, without a restart; a broken certificate
keeps the old one, logs `tls_reload_failed` and increments
`tokmesh_tls_reload_failures_total{listener="https"}`; `config/reload` re-reads the pair."""

import json
import os
import shutil
import subprocess
import time

from prometheus_client.parser import text_string_to_metric_families

from tmlib import REPO, free_port, ok, run_tool, wait_until


def served_fingerprint(port):
    out = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost"],
                         input=b"", capture_output=True, timeout=10).stdout
    pem = out[out.index(b"-----BEGIN CERTIFICATE-----"):out.index(b"-----END CERTIFICATE-----") + 25]
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"], input=pem, capture_output=True, check=True)
    return fp.stdout.decode().strip()


def file_fingerprint(path):
    fp = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256", "-in", str(path)], capture_output=True, check=True)
    return fp.stdout.decode().strip()


def replace(src, dst):
    """Atomic replacement, as deploy tools and cert-manager do it."""
    tmp = dst.with_suffix(".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def failures(node):
    r = node.req("GET", "/metrics")
    for family in text_string_to_metric_families(r.raw.decode()):
        for s in family.samples:
            if s.name == "tokmesh_tls_reload_failures_total" and s.labels.get("listener") == "https":
                return s.value
    return None


def test_https_certificate_reload(make_node, tmp_path):
    first, second, live = tmp_path / "first", tmp_path / "second", tmp_path / "live"
    run_tool([str(REPO / "Scripts/dev-certs"), "--out", str(first)])
    run_tool([str(REPO / "Scripts/dev-certs"), "--out", str(second)])
    live.mkdir()
    for name in ("server.crt", "server.key"):
        shutil.copyfile(first / name, live / name)
    port = free_port()
    n = make_node(["--server.https.enabled=true", f"--server.https.address=127.0.0.1:{port}",
                   f"--server.https.tls.cert_file={live / 'server.crt'}", f"--server.https.tls.key_file={live / 'server.key'}",
                   "--telemetry.metrics.auth_enabled=false"], name="tls-reload")
    assert served_fingerprint(port) == file_fingerprint(first / "server.crt")
    assert failures(n) == 0

    # the key first, then the certificate: the pair is read once both are in place
    replace(second / "server.key", live / "server.key")
    replace(second / "server.crt", live / "server.crt")
    started = time.monotonic()
    wait_until(lambda: served_fingerprint(port) == file_fingerprint(second / "server.crt"), 5, interval=0.2,
               what="the new certificate on the wire")
    assert time.monotonic() - started < 5
    assert failures(n) == 0

    # a broken certificate: the old one stays, ERROR + metric
    (live / "server.crt").write_text("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
    wait_until(lambda: failures(n) == 1, 5, interval=0.2, what="tokmesh_tls_reload_failures_total to count the failure")
    lines = [json.loads(line) for line in n.log_text().splitlines() if '"tls_reload_failed"' in line]
    assert lines and lines[0]["level"] == "ERROR" and lines[0]["listener"] == "https"
    assert served_fingerprint(port) == file_fingerprint(second / "server.crt")

    # config/reload re-reads every pair
    replace(first / "server.crt", live / "server.crt")
    replace(first / "server.key", live / "server.key")
    admin = n.emergency_key()
    reloaded = ok(n.req("POST", "/admin/v1/config/reload", {}, key=admin))
    assert "server.https.tls" in reloaded["updated"], reloaded
    assert served_fingerprint(port) == file_fingerprint(first / "server.crt")
