"""`/metrics` (spec/10 §3, spec/04 §9; issue 7 item 3): refusals without a key (401) and with
a business key (403) carry only `X-Error-Code`; a metrics or admin key gets Prometheus text
that prometheus_client's parser accepts, with the catalogue's families; counters move with
requests; no label value carries an ID, token or user ID; with
`telemetry.metrics.auth_enabled=false` anyone may scrape."""

from prometheus_client.parser import text_string_to_metric_families

from tmlib import ok, uid


def scrape(node, key=None):
    r = node.req("GET", "/metrics", key=key)
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain; version=0.0.4"), r
    assert r.header("Cache-Control") == "no-store" and r.header("X-Content-Type-Options") == "nosniff", r
    return {f.name: f for f in text_string_to_metric_families(r.raw.decode())}


def sample(families, family, sample_name, **labels):
    for s in families[family].samples:
        if s.name == sample_name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


def test_auth(node, admin, issuer, validator):
    r = node.req("GET", "/metrics")
    assert r.status == 401 and r.header("X-Error-Code") == "TM-AUTH-4010" and r.raw == b"", r
    for key in (issuer, validator):
        r = node.req("GET", "/metrics", key=key)
        assert r.status == 403 and r.header("X-Error-Code") == "TM-AUTH-4030" and r.raw == b"", r
    metrics_key = node.create_key(admin, "metrics")
    scrape(node, metrics_key)
    scrape(node, admin)


def test_catalogue_and_counters(node, admin, issuer, validator):
    metrics_key = node.create_key(admin, "metrics")
    user = uid("metrics-user")
    created = ok(node.req("POST", "/sessions", {"user_id": user}, key=issuer), 201)
    before = scrape(node, metrics_key)
    for name in ("tokmesh_build_info", "tokmesh_sessions_active_total", "tokmesh_token_validate_calls",
                 "tokmesh_api_request_duration_seconds", "tokmesh_wal_fsync_duration_seconds", "tokmesh_ready",
                 "process_resident_memory_bytes", "tokmesh_session_operations", "tokmesh_auth_requests"):
        assert name in before, name
    valid_before = sample(before, "tokmesh_token_validate_calls", "tokmesh_token_validate_calls_total", result="valid")
    for _ in range(3):
        ok(node.req("POST", "/tokens/validate", {"token": created["token"]}, key=validator))
    node.req("GET", f"/sessions/{created['session_id']}", key=issuer)
    after = scrape(node, metrics_key)
    assert sample(after, "tokmesh_token_validate_calls", "tokmesh_token_validate_calls_total", result="valid") == valid_before + 3
    assert sample(after, "tokmesh_sessions_active_total", "tokmesh_sessions_active_total") >= 1
    assert sample(after, "tokmesh_ready", "tokmesh_ready") == 1
    # the HTTP histogram is labelled by route template, never by the path with its ID
    assert sample(after, "tokmesh_api_request_duration_seconds", "tokmesh_api_request_duration_seconds_count",
                  method="POST", path="/tokens/validate", status="200") >= 3
    assert sample(after, "tokmesh_api_request_duration_seconds", "tokmesh_api_request_duration_seconds_count",
                  method="GET", path="/sessions/{session_id}", status="200") >= 1
    # the WAL has fsynced the create (sync mode by default)
    assert sample(after, "tokmesh_wal_fsync_duration_seconds", "tokmesh_wal_fsync_duration_seconds_count") >= 1
    for family in after.values():
        for s in family.samples:
            for value in s.labels.values():
                assert not value.startswith(("tmss-", "tmtk_", "tmas_", "tmak-")), (s.name, value)
                assert value not in (user, created["token"], created["session_id"]), (s.name, value)


def test_errors_counted(node, admin, validator):
    metrics_key = node.create_key(admin, "metrics")
    before = scrape(node, metrics_key)
    node.req("POST", "/tokens/validate", {"token": "tmtk_" + "A" * 43}, key=validator)
    after = scrape(node, metrics_key)

    def errors(families):
        return sample(families, "tokmesh_errors", "tokmesh_errors_total", code="TM-TOKN-4010", protocol="http") or 0

    assert errors(after) == errors(before) + 1
    assert sample(after, "tokmesh_token_validate_calls", "tokmesh_token_validate_calls_total", result="invalid") >= 1


def test_open_when_auth_disabled(make_node):
    n = make_node(["--telemetry.metrics.auth_enabled=false"], name="metrics-open")
    families = scrape(n)
    assert "tokmesh_build_info" in families


def test_resp_command_metrics(make_node):
    import subprocess

    from tmlib import free_port

    port = free_port()
    n = make_node(["--telemetry.metrics.auth_enabled=false", "--server.redis.enabled=true", f"--server.redis.address=127.0.0.1:{port}"],
                  name="metrics-resp")
    for _ in range(3):
        assert subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True, timeout=10).stdout.strip() == "PONG"
    families = scrape(n)
    assert sample(families, "tokmesh_resp_command_duration_seconds", "tokmesh_resp_command_duration_seconds_count", command="ping") == 3
    assert sample(families, "tokmesh_resp_command_duration_seconds", "tokmesh_resp_command_duration_seconds_bucket",
                  command="ping", le="+Inf") == 3
    assert sample(families, "tokmesh_resp_commands", "tokmesh_resp_commands_total", command="ping", result="ok") == 3
