"""Configuration failures at start (spec/08 §5, §10 items 3-4; issue 7 item 2 in part): exit 78
with every issue listed once as `Error i/N: [TM-CFG-…] key: message`, including listeners that
share a port, and a file value that env or a flag replaces is no error."""

import re
import subprocess

from tmlib import REPO, Node, free_port


def run_node(tmp_path, args=(), env=None, yaml="", mode=0o600):
    """Validates like a start (`--check-config`, so nothing listens) with Node's flags."""
    node = Node(list(args), name="config")
    node.port = free_port()
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml)
    cfg.chmod(mode)
    p = subprocess.run(node.command() + ["--check-config", str(cfg)], capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **(env or {})}, cwd=tmp_path)
    return p.returncode, p.stdout + p.stderr


def errors(text):
    return re.findall(r"^Error (\d+)/(\d+): \[(TM-CFG-\d+)\] (\S+):", text, re.M)


def test_three_errors_three_lines(tmp_path):
    rc, out = run_node(tmp_path, yaml="server:\n  https:\n    enabled: true\n    address: 127.0.0.1:99999\n"
                                      "session:\n  ttl:\n    default: banana\n")
    assert rc == 78, out
    found = errors(out)
    assert [(i, n, code) for i, n, code, _ in found] == [("1", "3", "TM-CFG-1002"), ("2", "3", "TM-CFG-1006"), ("3", "3", "TM-CFG-1001")], out


def test_listeners_on_one_port(tmp_path):
    # Node's own flag puts HTTP on 127.0.0.1:<port>; a later flag replaces it.
    port = free_port()
    for http, redis in ((f"127.0.0.1:{port}", f"127.0.0.1:{port}"), (f"0.0.0.0:{port}", f"127.0.0.1:{port}")):
        rc, out = run_node(tmp_path, [f"--server.http.address={http}", "--server.redis.enabled=true", f"--server.redis.address={redis}"])
        assert rc == 78 and errors(out) == [("1", "1", "TM-CFG-1005", "server.redis.address")], out
    rc, out = run_node(tmp_path, ["--server.redis.enabled=true", f"--server.redis.address=127.0.0.2:{port}"])
    assert rc == 0 and "Configuration is valid." in out, out


def test_override_replaces_a_bad_file_value(tmp_path):
    # ":5080" alone is not host:port, but the flag of Node.command() replaces it.
    rc, out = run_node(tmp_path, yaml='server:\n  http:\n    address: ":5080"\n')
    assert rc == 0 and "Configuration is valid." in out, out
    rc, out = run_node(tmp_path, env={"TOKMESH_SESSION_TTL_DEFAULT": "banana"}, yaml="session:\n  ttl:\n    default: 1h\n")
    assert rc == 78 and errors(out) == [("1", "1", "TM-CFG-1001", "session.ttl.default")], out


def warnings(text):
    return re.findall(r"^Warning: \[(TM-CFG-\d+)\] (\S+): (.*)$", text, re.M)


def test_certificate_and_key_file_warnings(tmp_path):
    """spec/08 §6: a certificate expiring within 30 days (1008), one from the INSECURE development
    CA (1007), a key readable by group (1004) and a config file holding the encryption key that
    others can read (1004) are warnings, never refusals; with modes 0600 the last two go away."""
    certs = tmp_path / "certs"
    subprocess.run([str(REPO / "Scripts/dev-certs"), "--out", str(certs), "--nodes", "0", "--days", "10"], check=True,
                   capture_output=True)
    (certs / "server.key").chmod(0o640)
    https = ["--server.https.enabled=true", f"--server.https.address=127.0.0.1:{free_port()}",
             f"--server.https.tls.cert_file={certs / 'server.crt'}", f"--server.https.tls.key_file={certs / 'server.key'}"]
    rc, out = run_node(tmp_path, https, yaml=f'security:\n  storage:\n    encryption_key: "{"ab" * 32}"\n', mode=0o644)
    assert rc == 0, out
    found = {(code, key) for code, key, _ in warnings(out)}
    assert ("TM-CFG-1008", "server.https.tls.cert_file") in found, out
    assert ("TM-CFG-1007", "server.https.tls.cert_file") in found, out
    assert ("TM-CFG-1004", "server.https.tls.key_file") in found, out
    assert ("TM-CFG-1004", "security.storage.encryption_key") in found, out
    assert "ab" * 32 not in out  # the key itself is never printed

    (certs / "server.key").chmod(0o600)
    rc, out = run_node(tmp_path, https, yaml=f'security:\n  storage:\n    encryption_key: "{"ab" * 32}"\n')
    assert rc == 0 and not any(key in ("server.https.tls.key_file", "security.storage.encryption_key") for _, key, _ in warnings(out)), out
