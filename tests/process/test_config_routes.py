"""The configuration routes (spec/04 §8.2, spec/08 §7; issue 7 items 2 and 4): `GET config`
with hot keys or every value (secrets redacted), `config/validate` as data, `config/apply` of
the log level making DEBUG access lines appear (spec/10 §8 acceptance 3), unknown keys and
restart-only keys, and `config/reload` returning to the file's values."""

import json
import secrets

from tmlib import err, ok, wait_until

ENCRYPTION_KEY = secrets.token_hex(32)


def log_lines(node):
    out = []
    for line in node.log_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            pass
    return out


def access_lines(node, route):
    return [e for e in log_lines(node) if e.get("event") == "request" and e.get("route") == route]


def test_config_routes(make_node, tmp_path):
    cfg = tmp_path / "config.yaml"
    cfg.write_text("telemetry:\n  logging:\n    level: info\n")
    n = make_node(["--config", str(cfg), f"--security.storage.encryption_key={ENCRYPTION_KEY}"], name="config-routes")
    admin = n.emergency_key()
    issuer = n.create_key(admin, "issuer")
    validator = n.create_key(admin, "validator")

    hot = ok(n.req("GET", "/admin/v1/config", key=admin))
    assert hot["telemetry"]["logging"]["level"] == "info"
    assert "storage" not in hot or "data_dir" not in hot.get("storage", {})
    merged = ok(n.req("GET", "/admin/v1/config", key=admin, query={"merged": "true"}))
    assert merged["security"]["storage"]["encryption_key"] == "***REDACTED***"
    assert merged["server"]["http"]["address"].startswith("127.0.0.1:")
    err(n.req("GET", "/admin/v1/config", key=issuer), 403, "TM-ADMIN-4030")

    # validate: the verdict is data
    bad = ok(n.req("POST", "/admin/v1/config/validate", {"config_yaml": "server:\n  https:\n    address: 127.0.0.1:99999\n"}, key=admin))
    assert bad["valid"] is False and [e["code"] for e in bad["errors"]] == ["TM-CFG-1002"], bad
    good = ok(n.req("POST", "/admin/v1/config/validate", b"telemetry:\n  logging:\n    level: warn\n", key=admin,
                    headers={"Content-Type": "application/yaml"}))
    assert good["valid"] is True
    assert {"key": "telemetry.logging.level", "from": "info", "to": "warn", "hot": True} in good["changes"], good

    # at info a validate writes no line
    session = ok(n.req("POST", "/sessions", {"user_id": "config-user"}, key=issuer), 201)
    ok(n.req("POST", "/tokens/validate", {"token": session["token"]}, key=validator))
    assert access_lines(n, "/tokens/validate") == []

    # apply: debug → the access line of a validate, with its request id
    applied = ok(n.req("POST", "/admin/v1/config/apply", {"telemetry": {"logging": {"level": "debug"}}}, key=admin))
    assert applied["updated"] == ["telemetry.logging.level"] and applied["rejected"] == []
    r = n.req("POST", "/tokens/validate", {"token": session["token"]}, key=validator)
    ok(r)
    line = wait_until(lambda: access_lines(n, "/tokens/validate"), 10, what="an access line")[0]
    assert line["level"] == "DEBUG" and line["code"] == "OK" and line["status"] == 200, line
    assert line["request_id"] == r.header("X-Request-ID") and line["protocol"] == "http1"
    assert ok(n.req("GET", "/admin/v1/config", key=admin))["telemetry"]["logging"]["level"] == "debug"
    # spec/10 §8 item 2: a client-supplied token never shows in the log, even at debug
    own = ok(n.req("POST", "/sessions", {"user_id": "own-token-user", "token": "my-own-token-0123456789"}, key=issuer), 201)
    ok(n.req("POST", "/tokens/validate", {"token": "my-own-token-0123456789"}, key=validator))
    ok(n.req("POST", f"/sessions/{own['session_id']}/revoke", {}, key=issuer))
    assert "my-own-token-0123456789" not in n.log_text()

    # unknown key or bad value → 400, nothing applied; restart-only keys are rejected, not errors
    e = err(n.req("POST", "/admin/v1/config/apply", {"telemetry": {"logging": {"level": "loud"}}, "no": {"such": 1}}, key=admin),
            400, "TM-CFG-1001")
    assert sorted(x["field"] for x in e["errors"]) == ["no.such", "telemetry.logging.level"]
    partial = ok(n.req("POST", "/admin/v1/config/apply", {"server": {"max_connections": 5}, "security": {"auth": {"failure_limit": 20}}},
                       key=admin))
    assert partial["updated"] == ["security.auth.failure_limit"]
    assert partial["rejected"] == [{"key": "server.max_connections", "reason": "restart required"}]

    # reload returns to the file's values
    reloaded = ok(n.req("POST", "/admin/v1/config/reload", {}, key=admin))
    assert "telemetry.logging.level" in reloaded["updated"] and reloaded["ignored"] == []
    assert ok(n.req("GET", "/admin/v1/config", key=admin))["telemetry"]["logging"]["level"] == "info"
    before = len(access_lines(n, "/tokens/validate"))
    ok(n.req("POST", "/tokens/validate", {"token": session["token"]}, key=validator))
    assert len(access_lines(n, "/tokens/validate")) == before

    # a file that became invalid: 400 with every error, nothing applied
    cfg.write_text("telemetry:\n  logging:\n    level: loud\n")
    e = err(n.req("POST", "/admin/v1/config/reload", {}, key=admin), 400, "TM-CFG-1001")
    assert [x["field"] for x in e["errors"]] == ["telemetry.logging.level"]
    assert ENCRYPTION_KEY not in n.log_text()
