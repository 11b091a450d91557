"""spec/11 §10 item 2: every TOKMESH_* name in compose, Kubernetes, systemd files, README and
docs/ (and, beyond, the install scripts and sample configs) is a key's env name or a reserved
name (spec/08 §2); every key in deploy/config/*.yaml and in the ConfigMap's embedded
config.yaml is in `tokmesh-server --config-reference`, whose env column follows the naming rule."""

from __future__ import annotations

import re

import pytest
import yaml

from artlib import DEPLOY, NOT_ENV, REPO, RESERVED_ENV, SAMPLES, config_reference, env_name, flatten_keys, git_ls_files

NAME = re.compile(r"TOKMESH_[A-Z0-9_]*(\*)?")


def scanned_files():
    files = [DEPLOY / "docker/compose.yaml", DEPLOY / "docker/Dockerfile"]
    files += sorted((DEPLOY / "kubernetes").glob("*"))
    files += sorted((DEPLOY / "systemd").glob("*"))
    files += sorted(DEPLOY.glob("*.sh")) + sorted((DEPLOY / "config").glob("*.yaml"))
    files += sorted((REPO / "docs").rglob("*.md"))
    # READMEs for operators; those under tests/ describe the test harness's own variables
    # (TOKMESH_SERVER_BIN, TOKMESH_KEEP_TMP), which the server never reads.
    tracked_readmes = {REPO / f for f in git_ls_files()
                       if f.rsplit("/", 1)[-1].upper().startswith("README") and not f.startswith("tests/")}
    files += sorted(tracked_readmes | {REPO / "README.md", DEPLOY / "kubernetes/README.md"})
    return [f for f in dict.fromkeys(files) if f.is_file()]


def test_reference_env_names_follow_the_rule():
    table = config_reference()
    wrong = {k: v for k, v in table.items() if v != env_name(k)}
    assert wrong == {}
    assert len(set(table.values())) == len(table), "two keys share an env name"
    assert not (set(table.values()) & RESERVED_ENV)


def test_every_tokmesh_name_is_known():
    known = set(config_reference().values()) | RESERVED_ENV | NOT_ENV
    unknown = []
    for f in scanned_files():
        for lineno, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
            for m in NAME.finditer(line):
                name = m.group(0).rstrip("*")
                if m.group(1) or name.endswith("_"):
                    # A prefix (`TOKMESH_TLS_*`, `TOKMESH_…`): some known name must start with it.
                    ok = any(k.startswith(name) for k in known)
                else:
                    ok = name in known
                if not ok:
                    unknown.append(f"{f.relative_to(REPO)}:{lineno}: {m.group(0)}")
    assert unknown == [], "unknown TOKMESH_* names:\n" + "\n".join(unknown)


def test_scans_what_the_spec_names():
    names = {str(f.relative_to(REPO)) for f in scanned_files()}
    assert {"deploy/docker/compose.yaml", "deploy/systemd/tokmesh-server.service", "README.md",
            "deploy/kubernetes/statefulset.yaml", "deploy/kubernetes/README.md",
            "docs/configuration.md"} <= names


@pytest.mark.parametrize("name", SAMPLES)
def test_sample_keys_are_in_the_reference(name):
    doc = yaml.safe_load((DEPLOY / "config" / f"{name}.yaml").read_text())
    keys = flatten_keys(doc)
    assert keys
    assert [k for k in keys if k not in config_reference()] == []


def configmap_config():
    cm = yaml.safe_load((DEPLOY / "kubernetes/configmap.yaml").read_text())
    return yaml.safe_load(cm["data"]["config.yaml"])


def test_configmap_keys_are_in_the_reference():
    keys = flatten_keys(configmap_config())
    assert keys
    assert [k for k in keys if k not in config_reference()] == []
