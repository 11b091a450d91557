"""A node from a sample configuration (spec/11 §11 item 4): `Scripts/dev-certs` fills a copy of
deploy/config's `certs/`, a node starts with `https.yaml` as written — relative certificate
paths resolved against the file's directory — with only the data directory, the socket and the
ports moved (to a temporary directory and ephemeral loopback ports, flags over the file), and
answers `curl --cacert ca.crt https://localhost:<port>/health`; `openssl s_client -alpn h2`
negotiates h2, and the log WARNs that the certificate comes from the INSECURE development CA."""

import json
import shutil
import subprocess

from tmlib import REPO, free_port, run_tool


def test_https_sample_config_serves_tls(make_node, tmp_path):
    config = tmp_path / "config"
    shutil.copytree(REPO / "deploy/config", config, ignore=shutil.ignore_patterns("certs"))
    run_tool([str(REPO / "Scripts/dev-certs"), "--out", str(config / "certs")])
    port = free_port()
    node = make_node([f"--config={config / 'https.yaml'}", f"--server.https.address=127.0.0.1:{port}",
                      f"--server.local.socket_path={tmp_path / 'tm.sock'}"], name="https-sample")
    health = run_tool(["curl", "-s", "--cacert", str(config / "certs/ca.crt"), "--resolve", f"localhost:{port}:127.0.0.1",
                       f"https://localhost:{port}/health"])
    assert json.loads(health.stdout)["data"]["status"] == "healthy", health.stdout
    alpn = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-servername", "localhost", "-alpn", "h2",
                           "-CAfile", str(config / "certs/ca.crt")], input="", capture_output=True, text=True, timeout=30)
    assert "ALPN protocol: h2" in alpn.stdout and "Verify return code: 0 (ok)" in alpn.stdout, alpn.stdout
    warnings = [json.loads(line) for line in node.log_text().splitlines() if '"config_warning"' in line]
    insecure = [w for w in warnings if w.get("code") == "TM-CFG-1007" and w.get("key") == "server.https.tls.cert_file"]
    assert insecure and "INSECURE" in insecure[0]["message"] and insecure[0]["level"] == "WARN", warnings
