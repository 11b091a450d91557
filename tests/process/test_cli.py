"""tokmesh-cli (spec/09; issue 8 items 1-4): the newcomer flow over the local socket and
HTTP, output formats (json parses with json, yaml with PyYAML, table/wide columns,
--no-headers), the exit codes of spec/09 §5, colours only on a TTY, a bash completion script
that bash accepts, and the backup commands (snapshot, list, download checked against the
file's SHA-256 trailer, restore followed to COMPLETED, status)."""

import hashlib
import json
import os
import subprocess

import pytest
import yaml

from tmlib import Node

NODE_ARGS = ()


def cli_path():
    return Node.binary().parent / "tokmesh-cli"


def run(args, env=None, input=None, cwd=None, tty=False):
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root"), "XDG_CONFIG_HOME": "/nonexistent"}
    base.update(env or {})
    cmd = [str(cli_path()), *args]
    if tty:  # a pseudo-terminal for stdout, as an operator's shell has
        cmd = ["script", "-qec", " ".join(f"'{c}'" for c in cmd), "/dev/null"]
    p = subprocess.run(cmd, capture_output=True, text=True, env=base, input=input, timeout=120, cwd=cwd,
                       stdin=None if input is not None else subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


@pytest.fixture(scope="module")
def sock(node):
    return f"unix:{node.socket_path}"


def test_version_completion_and_usage():
    rc, out, _ = run(["--version"])
    assert rc == 0 and out.startswith("tokmesh-cli ") and "(commit " in out and ", built " in out
    rc, script, _ = run(["completion", "bash"])
    assert rc == 0 and "tokmesh-cli" in script
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert run(["frobnicate"])[0] == 64


def test_newcomer_flow(node, sock):
    # `-t local` finds ./data/tokmesh-server.sock, as after Scripts/run in the repository
    rc, cred, err = run(["-t", "local", "apikey", "create", "--role", "issuer", "-q"], cwd=node.tmp)
    assert rc == 0, err
    key_id, secret = cred.strip().split(":")
    assert key_id.startswith("tmak-") and secret.startswith("tmas_")
    env = {"TOKMESH_TARGET": f"http://127.0.0.1:{node.port}", "TOKMESH_API_KEY": cred.strip()}
    rc, token, err = run(["session", "create", "-u", "alice", "-q"], env)
    assert rc == 0 and token.strip().startswith("tmtk_") and len(token.strip()) == 48, err
    rc, out, _ = run(["session", "validate", "--brief"], env, input=token)
    assert (rc, out.strip()) == (0, "valid")
    rc, out, _ = run(["session", "validate", "--token", token.strip()], env)
    assert rc == 0 and "Token is valid." in out
    rc, ids, _ = run(["session", "list", "-u", "alice", "-q"], env)
    sid = ids.split()[0]
    assert sid.startswith("tmss-") and len(sid) == 31
    rc, _, err = run(["session", "revoke", sid], env)
    assert rc == 64 and "refusing to revoke a session without confirmation; use --force" in err
    rc, out, _ = run(["session", "revoke", sid, "-f"], env)
    assert rc == 0 and "Session revoked." in out
    rc, out, err = run(["session", "validate", "--brief", "--token", token.strip()], env)
    assert (rc, out.strip()) == (1, "invalid") and "TM-TOKN-4012" in err
    # the secret never shows in a listing
    rc, out, _ = run(["-t", sock, "apikey", "list"])
    assert rc == 0 and key_id in out and "tmas_" not in out


def test_formats(node, sock):
    rc, out, _ = run(["-t", sock, "system", "status", "-o", "json"])
    doc = json.loads(out)
    assert rc == 0 and doc["success"] is True and doc["data"]["node_id"].startswith("tmnd-")
    assert yaml.safe_load(run(["-t", sock, "system", "status", "-o", "yaml"])[1])["data"]["node_id"] == doc["data"]["node_id"]
    cred = run(["-t", sock, "apikey", "create", "-r", "issuer", "-q"])[1].strip()
    env = {"TOKMESH_TARGET": f"http://127.0.0.1:{node.port}", "TOKMESH_API_KEY": cred}
    run(["session", "create", "-u", "carol", "-d", "laptop"], env)
    rc, out, _ = run(["session", "list", "-u", "carol"], env)
    assert out.splitlines()[0].split() == ["SESSION", "ID", "USER", "ID", "DEVICE", "ID", "CREATED", "EXPIRES", "STATUS"]
    assert out.splitlines()[-1].startswith("Total: 1 sessions")
    rc, out, _ = run(["session", "list", "-u", "carol", "-o", "wide"], env)
    assert "LAST ACTIVE" in out.splitlines()[0] and "CREATED BY" in out.splitlines()[0]
    rc, out, _ = run(["session", "list", "-u", "carol", "--no-headers"], env)
    assert len(out.splitlines()) == 1 and out.startswith("tmss-") and "laptop" in out
    doc = json.loads(run(["session", "list", "-u", "carol", "-o", "json"], env)[1])
    assert doc["data"]["items"][0]["user_id"] == "carol" and doc["data"]["items"][0]["created_at"].endswith("Z")
    assert yaml.safe_load(run(["session", "list", "-u", "carol", "-o", "yaml"], env)[1])["success"] is True


def test_exit_codes(node, tmp_path):
    env = {"TOKMESH_TARGET": f"http://127.0.0.1:{node.port}"}
    assert run(["-t", "http://127.0.0.1:1", "system", "health"])[0] == 69
    assert run(["session", "list", "-u", "alice"], {**env, "TOKMESH_API_KEY": ""})[0] == 64
    rc, out, err = run(["-k", "tmak-00000000000000000000000000:tmas_" + "x" * 43, "session", "list", "-u", "alice"], env)
    assert rc == 1 and "Code:        TM-AUTH-4011" in err, err
    assert run(["-c", str(tmp_path / "missing.yaml"), "version"])[0] == 78
    bad = tmp_path / "cli.yaml"
    bad.write_text("targets:\n  prod:\n    url: ftp://x\n")
    assert run(["-c", str(bad), "version"])[0] == 78
    assert run(["session", "renew", "tmss-01m8fgmct0283rzjjjzd71hd4d"], {**env, "TOKMESH_API_KEY": "tmak-x:tmas_y"})[0] == 64
    assert run(["session", "create", "-u", "bob", "--data", "{x"], {**env, "TOKMESH_API_KEY": "tmak-x:tmas_y"})[0] == 65
    assert run(["--bogus-flag", "version"])[0] == 64
    # -i with piped stdin runs the lines and stops at the first failure with its code
    rc, out, err = run(["-i"], input=f"system health -t http://127.0.0.1:{node.port}\nsystem health -t http://127.0.0.1:1\nversion\n")
    assert rc == 69 and out.count("OK") == 1 and "tokmesh-cli" not in out and "connection refused" in err, (rc, out, err)


def test_colours_only_on_a_tty(sock):
    rc, out, _ = run(["-t", sock, "apikey", "list"], tty=True)
    assert rc == 0 and "\x1b[" in out
    assert "\x1b[" not in run(["-t", sock, "apikey", "list"], {"NO_COLOR": "1"}, tty=True)[1]
    assert "\x1b[" not in run(["-t", sock, "apikey", "list"])[1]


def test_config_cli(tmp_path):
    cfg = tmp_path / "cli.yaml"
    cfg.write_text("default: prod\ntargets:\n  prod:\n    url: http://127.0.0.1:5080\n    api_key: tmak-x:tmas_supersecret\n")
    os.chmod(cfg, 0o644)
    rc, out, err = run(["-c", str(cfg), "config", "cli", "show"])
    assert rc == 0 and "***REDACTED***" in out and "supersecret" not in out + err
    assert "insecure permissions (0644)" in err


def test_backups(node, sock, tmp_path):
    rc, snap, err = run(["-t", sock, "backup", "snapshot", "-q"])
    snap = snap.strip()
    assert rc == 0 and snap.startswith("snap-"), err
    rc, out, _ = run(["-t", sock, "backup", "list"])
    assert rc == 0 and snap in out
    rc, out, err = run(["-t", sock, "backup", "download", snap], cwd=tmp_path)
    assert rc == 0 and "sha256 verified" in out, err
    data = (tmp_path / f"{snap}.snap").read_bytes()
    assert hashlib.sha256(data[:-32]).digest() == data[-32:]
    assert not (tmp_path / f"{snap}.snap.part").exists()
    assert run(["-t", sock, "backup", "download", snap], cwd=tmp_path)[0] == 64
    # the progress bar shows on a terminal (stderr), never in a pipe
    rc, screen, _ = run(["-t", sock, "backup", "download", snap, "--out", str(tmp_path / "tty.snap")], tty=True)
    assert rc == 0 and "Downloading  [" in screen and "100%" in screen, screen
    rc, _, err = run(["-t", sock, "backup", "download", snap, "--out", str(tmp_path / "pipe.snap")])
    assert rc == 0 and "Downloading" not in err
    rc, out, err = run(["-t", sock, "backup", "restore", "--id", snap, "-f"], tty=True)
    assert rc == 0 and "Restore completed (" in out and "Restore finished." in out, out + err
    rc, job, _ = run(["-t", sock, "backup", "restore", "--id", snap, "-f", "--no-wait"])
    assert rc == 0 and job.strip()
    from tmlib import wait_until
    wait_until(lambda: run(["-t", sock, "backup", "status", job.strip(), "-q"])[1].strip() == "COMPLETED", 60, what="the restore job")


def test_cert_init_and_issue(make_node, tmp_path):
    d = tmp_path / "certs"
    assert run(["cert", "init", "--dir", str(d)])[0] == 0
    rc, out, err = run(["cert", "issue", "--dir", str(d), "--node-id", "tmnd-node-a", "--host", "node-a", "--ip", "127.0.0.11"])
    assert rc == 0 and "Issued" in out, err
    assert subprocess.run(["openssl", "verify", "-CAfile", str(d / "ca.crt"), str(d / "tmnd-node-a.crt")], capture_output=True).returncode == 0
    ext = subprocess.run(["openssl", "x509", "-noout", "-ext", "subjectAltName,extendedKeyUsage", "-in", str(d / "tmnd-node-a.crt")],
                         capture_output=True, text=True).stdout
    assert "DNS:node-a" in ext and "IP Address:127.0.0.11" in ext and "TLS Web Server Authentication" in ext and "TLS Web Client Authentication" in ext
    for key in ("ca.key", "tmnd-node-a.key"):
        assert oct((d / key).stat().st_mode & 0o777) == "0o600"
    assert oct(d.stat().st_mode & 0o777) == "0o700"
    assert run(["cert", "issue", "--dir", str(d), "--node-id", "tmnd-node-a", "--host", "node-a"])[0] == 64
    # a server certificate it issues serves HTTPS that curl verifies against the CA
    assert run(["cert", "issue", "--dir", str(d), "--server", "localhost", "--host", "localhost", "--ip", "127.0.0.1"])[0] == 0
    from tmlib import free_port
    port = free_port()
    make_node(["--server.https.enabled=true", f"--server.https.address=127.0.0.1:{port}",
               f"--server.https.tls.cert_file={d / 'localhost.crt'}", f"--server.https.tls.key_file={d / 'localhost.key'}"], name="cli-cert")
    r = subprocess.run(["curl", "-sf", "--cacert", str(d / "ca.crt"), f"https://127.0.0.1:{port}/health"], capture_output=True, text=True)
    assert r.returncode == 0 and '"healthy"' in r.stdout, r.stderr
