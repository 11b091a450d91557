"""deploy/prometheus (spec/10 §7; issue 7): the alert rules parse as YAML with the two groups
and severities, every rule has summary/description naming the instance, every `expr` parses
with promql-parser, `promtool check rules` passes when promtool is installed; the scrape
config uses job `tokmesh` with a bearer credentials file."""

import shutil
import subprocess

import promql_parser
import pytest
import yaml

from tmlib import REPO

DEPLOY = REPO / "deploy/prometheus"


def test_alert_rules():
    doc = yaml.safe_load((DEPLOY / "alerts.yaml").read_text())
    groups = {g["name"]: g for g in doc["groups"]}
    assert set(groups) == {"tokmesh-critical", "tokmesh-warning"}
    names = set()
    for name, group in groups.items():
        severity = name.removeprefix("tokmesh-")
        for rule in group["rules"]:
            names.add(rule["alert"])
            assert rule["labels"]["severity"] == severity, rule
            for field in ("summary", "description"):
                assert "{{ $labels.instance }}" in rule["annotations"][field], rule
            promql_parser.parse(rule["expr"])
            assert rule["for"].endswith(("s", "m", "h")), rule
    assert {"WALWriteFailure", "HighAuthFailureRate", "DiskSpaceLow", "TLSReloadFailed", "NodeNotReady"} <= names
    assert len(names) == 22


def test_promtool_when_installed():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    out = subprocess.run([promtool, "check", "rules", str(DEPLOY / "alerts.yaml")], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_scrape_config():
    doc = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    job = doc["scrape_configs"][0]
    assert job["job_name"] == "tokmesh"
    assert job["authorization"] == {"type": "Bearer", "credentials_file": "/etc/prometheus/tokmesh.key"}
