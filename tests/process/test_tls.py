"""HTTPS on the public API (spec/06 §8, §11): ALPN h2 and http/1.1 for the JSON API, gRPC and
Connect over TLS with grpcurl and buf curl, and required client certificates when a client CA is
configured — checked with curl, openssl s_client, grpcurl and buf curl against certificates from
Scripts/dev-certs."""

import json
import shutil
import subprocess

import pytest

from tmlib import run_tool as run, REPO, free_port




def https_args(certs, port, client_ca=False):
    args = ["--server.https.enabled=true", f"--server.https.address=127.0.0.1:{port}",
            f"--server.https.tls.cert_file={certs / 'server.crt'}", f"--server.https.tls.key_file={certs / 'server.key'}"]
    if client_ca:
        args.append(f"--server.https.tls.client_ca_file={certs / 'ca.crt'}")
    return args


def test_https_alpn_json_grpc_connect(make_node, certs):
    port = free_port()
    node = make_node(https_args(certs, port), name="https")
    base = f"https://127.0.0.1:{port}"
    for flag, version in (("--http2", "2"), ("--http1.1", "1.1")):
        p = run(["curl", "-s", "--cacert", str(certs / "ca.crt"), flag, "-w", "\n%{http_version}", f"{base}/health"])
        body, _, got = p.stdout.rpartition("\n")
        assert got == version and json.loads(body)["data"]["status"] == "healthy"
    alpn = run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-alpn", "h2", "-CAfile", str(certs / "ca.crt")])
    assert "ALPN protocol: h2" in alpn.stdout

    key = node.emergency_key()
    out = json.loads(run([shutil.which("grpcurl"), "-cacert", str(certs / "ca.crt"), "-H", f"authorization: Bearer {key.cred}",
                          "-d", '{"userId":"tls-a"}', f"127.0.0.1:{port}", "tokmesh.v1.SessionService/CreateSession"]).stdout)
    assert out["token"].startswith("tmtk_")
    for protocol in ("connect", "grpc"):
        valid = json.loads(run([shutil.which("buf"), "curl", "--protocol", protocol, "--cacert", str(certs / "ca.crt"),
                                "-H", f"authorization: Bearer {key.cred}", "-d", json.dumps({"token": out["token"]}),
                                f"{base}/tokmesh.v1.SessionService/ValidateToken"]).stdout)
        assert valid["valid"] is True, protocol


def test_client_certificate_required_with_client_ca(make_node, certs):
    port = free_port()
    make_node(https_args(certs, port, client_ca=True), name="mtls")
    base = f"https://127.0.0.1:{port}/health"
    refused = run(["curl", "-s", "--cacert", str(certs / "ca.crt"), base], check=False)
    assert refused.returncode != 0
    accepted = run(["curl", "-s", "--cacert", str(certs / "ca.crt"), "--cert", str(certs / "client.crt"),
                    "--key", str(certs / "client.key"), base])
    assert json.loads(accepted.stdout)["data"]["status"] == "healthy"


def test_https_needs_cert_and_key(certs):
    from tmlib import Node

    node = Node(["--server.https.enabled=true"], name="https-bad")
    node.port = free_port()
    p = subprocess.run(node.command(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 78, p.stdout + p.stderr
    assert "TM-CFG-1006" in p.stdout + p.stderr and "server.https.tls.cert_file" in p.stdout + p.stderr
