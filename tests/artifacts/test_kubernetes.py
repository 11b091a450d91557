"""spec/11 §10 item 7: kubernetes-validate (strict) on each manifest of deploy/kubernetes, and
the assertions of spec/11 §9: Parallel pod management, publishNotReadyAddresses, probe paths,
security context, grace >= server.shutdown.timeout + 15 s, the ConfigMap's embedded config and
the README's Secret commands."""

from __future__ import annotations

import re
import shutil

import pytest
import yaml

from artlib import DEPLOY, cli_bin, run

K8S = DEPLOY / "kubernetes"
MANIFESTS = ("configmap.yaml", "services.yaml", "statefulset.yaml", "pdb.yaml")


def docs(name):
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


def one(name):
    (d,) = docs(name)
    return d


@pytest.mark.parametrize("name", MANIFESTS)
def test_kubernetes_validate(name):
    tool = shutil.which("kubernetes-validate")
    if tool is None:
        pytest.fail("kubernetes-validate is not installed (python3 -m pip install kubernetes-validate==1.37.0)")
    p = run([tool, "--strict", K8S / name], timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "passed" in p.stdout + p.stderr


def namespace():
    spaces = {d["metadata"].get("namespace") for n in MANIFESTS for d in docs(n)}
    assert len(spaces) == 1, f"manifests disagree on the namespace: {spaces}"
    return spaces.pop()


def config():
    return yaml.safe_load(one("configmap.yaml")["data"]["config.yaml"])


def test_configmap():
    cm = one("configmap.yaml")
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["name"] == "tokmesh-config"
    c = config()
    ns = namespace()
    assert c["server"]["http"]["address"] == "127.0.0.1:5080"
    https = c["server"]["https"]
    assert https["enabled"] is True and https["address"] == "0.0.0.0:5443"
    assert https["tls"] == {"cert_file": "/etc/tokmesh-server/tls/server.crt",
                            "key_file": "/etc/tokmesh-server/tls/server.key"}
    cl = c["cluster"]
    assert cl["enabled"] is True and cl["listen_address"] == "0.0.0.0:5343"
    assert cl["tls"]["client_ca_file"] == "/etc/tokmesh-server/tls/ca.crt"
    assert cl["discovery"]["seeds"] == [f"tokmesh-{i}.tokmesh.{ns}.svc.cluster.local:5343" for i in range(3)]
    assert cl["bootstrap"]["expect_nodes"] == 3
    assert cl["data"]["replication_factor"] == 2
    assert c["storage"]["data_dir"] == "/var/lib/tokmesh-server"


def test_services():
    svcs = {d["metadata"]["name"]: d for d in docs("services.yaml")}
    assert set(svcs) == {"tokmesh", "tokmesh-api"}
    headless = svcs["tokmesh"]["spec"]
    assert headless["clusterIP"] == "None"
    assert headless["publishNotReadyAddresses"] is True
    assert {p["port"] for p in headless["ports"]} == {5343, 5443}
    api = svcs["tokmesh-api"]["spec"]
    assert api.get("type", "ClusterIP") == "ClusterIP" and [p["port"] for p in api["ports"]] == [5443]


def statefulset():
    return one("statefulset.yaml")


def container():
    (c,) = statefulset()["spec"]["template"]["spec"]["containers"]
    return c


def test_statefulset():
    s = statefulset()["spec"]
    pod = s["template"]["spec"]
    assert s["replicas"] == 3 and s["serviceName"] == "tokmesh"
    assert s["podManagementPolicy"] == "Parallel"
    term = pod["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["podAffinityTerm"]["topologyKey"] == "kubernetes.io/hostname"
    c = container()
    image, _, tag = c["image"].rpartition(":")
    assert image and tag and tag != "latest" and re.match(r"\d+\.\d+", tag), c["image"]
    assert c["args"] == ["--config", "/etc/tokmesh-server/config.yaml"]
    env = {e["name"]: e for e in c["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    assert env["TOKMESH_CLUSTER_NODE_ID"]["value"] == "tmnd-$(POD_NAME)"
    assert env["TOKMESH_CLUSTER_ADVERTISE_ADDRESS"]["value"] == \
        "$(POD_NAME).tokmesh.$(POD_NAMESPACE).svc.cluster.local:5343"
    assert env["TOKMESH_CLUSTER_TLS_CERT_FILE"]["value"] == "/etc/tokmesh-server/tls/$(POD_NAME).crt"
    assert env["TOKMESH_CLUSTER_TLS_KEY_FILE"]["value"] == "/etc/tokmesh-server/tls/$(POD_NAME).key"
    # $(VAR) references only to variables defined earlier in the list (Kubernetes expands only those).
    names = [e["name"] for e in c["env"]]
    for i, e in enumerate(c["env"]):
        for ref in re.findall(r"\$\((\w+)\)", e.get("value", "")):
            assert ref in names[:i], f"{e['name']} refers to {ref} before it is defined"


def test_volumes():
    s = statefulset()["spec"]
    pod = s["template"]["spec"]
    mounts = {m["mountPath"]: m for m in container()["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    (claim,) = s["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    assert mounts["/var/lib/tokmesh-server"]["name"] == "data"
    cfg = mounts["/etc/tokmesh-server/config.yaml"]
    assert cfg["subPath"] == "config.yaml" and vols[cfg["name"]]["configMap"]["name"] == "tokmesh-config"
    tls = mounts["/etc/tokmesh-server/tls"]
    assert "subPath" not in tls, "the Secret must be a directory mount so rotations reach the file watch"
    assert vols[tls["name"]]["secret"]["secretName"] == "tokmesh-tls"
    assert "emptyDir" in vols[mounts["/tmp"]["name"]]


def test_security_context():
    pod = statefulset()["spec"]["template"]["spec"]
    psc = pod["securityContext"]
    assert psc["runAsNonRoot"] is True
    assert psc["runAsUser"] == psc["runAsGroup"] == psc["fsGroup"] == 10001
    assert psc["seccompProfile"]["type"] == "RuntimeDefault"
    csc = container()["securityContext"]
    assert csc["readOnlyRootFilesystem"] is True
    assert csc["allowPrivilegeEscalation"] is False
    assert csc["capabilities"]["drop"] == ["ALL"]


def test_probes_and_resources():
    c = container()
    for probe, path, period, failures in (("startupProbe", "/health", 2, 30), ("livenessProbe", "/health", 10, 3),
                                          ("readinessProbe", "/ready", 5, 2)):
        p = c[probe]
        assert p["httpGet"] == {"scheme": "HTTPS", "port": 5443, "path": path}, probe
        assert (p["periodSeconds"], p["failureThreshold"]) == (period, failures), probe
    r = c["resources"]
    assert r["requests"] == {"cpu": "250m", "memory": "256Mi"}
    assert r["limits"] == {"memory": "1Gi"}, "memory limit only, no CPU limit"


def duration_seconds(text: str) -> float:
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(ms|s|m|h)", text))


def test_grace_covers_the_shutdown_timeout():
    from artlib import config_reference, server_bin

    pod = statefulset()["spec"]["template"]["spec"]
    ref = run([server_bin(), "--config-reference"]).stdout
    m = re.search(r"^\|\s*`server\.shutdown\.timeout`\s*\|[^|]*\|\s*`([^`]*)`", ref, re.M)
    assert m, "server.shutdown.timeout not in --config-reference"
    assert "server.shutdown.timeout" in config_reference()
    timeout = duration_seconds(config().get("server", {}).get("shutdown", {}).get("timeout", m.group(1)))
    grace = pod["terminationGracePeriodSeconds"]
    assert grace >= timeout + 15, f"grace {grace}s < shutdown timeout {timeout}s + 15s"
    if config()["cluster"].get("shutdown", {}).get("leave_on_terminate"):
        assert grace >= timeout + 15 + duration_seconds(config()["cluster"]["shutdown"].get("timeout", "60s"))


def test_pdb():
    pdb = one("pdb.yaml")
    assert pdb["kind"] == "PodDisruptionBudget"
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["selector"]["matchLabels"] == statefulset()["spec"]["selector"]["matchLabels"]


def test_readme_secret_commands():
    text = (K8S / "README.md").read_text()
    assert "tokmesh-tls" in text
    for i in range(3):
        assert "--node-id \"tmnd-tokmesh-$i\"" in text or f"--node-id tmnd-tokmesh-{i}" in text
        assert f"tokmesh-{i}.crt=" in text and f"tokmesh-{i}.key=" in text
    assert "--host \"tokmesh-$i.tokmesh.$NS.svc.cluster.local\"" in text
    for f in ("ca.crt=", "server.crt=", "server.key="):
        assert f in text


def test_readme_certificates_satisfy_the_configmap(server, tmp_path):
    """(beyond) The README's `tokmesh-cli cert` commands give files with which the ConfigMap's
    config, with pod tokmesh-0's env, passes --check-config (paths mapped into a temp dir)."""
    from artlib import clean_env

    ns = namespace()
    d = tmp_path / "tls"
    cli = cli_bin()
    run([cli, "cert", "init", "--dir", d], check=True)
    run([cli, "cert", "issue", "--dir", d, "--node-id", "tmnd-tokmesh-0",
         "--host", f"tokmesh-0.tokmesh.{ns}.svc.cluster.local"], check=True)
    run([cli, "cert", "issue", "--dir", d, "--server", "server", "--host", f"tokmesh-api.{ns}.svc.cluster.local"],
        check=True)
    (d / "tmnd-tokmesh-0.crt").rename(d / "tokmesh-0.crt")  # the Secret's key names
    (d / "tmnd-tokmesh-0.key").rename(d / "tokmesh-0.key")
    text = one("configmap.yaml")["data"]["config.yaml"].replace("/etc/tokmesh-server/tls/", f"{d}/")
    (tmp_path / "config.yaml").write_text(text)
    data = tmp_path / "data"
    data.mkdir()
    pod = "tokmesh-0"
    env = clean_env(
        TOKMESH_STORAGE_DATA_DIR=str(data),
        TOKMESH_CLUSTER_NODE_ID=f"tmnd-{pod}",
        TOKMESH_CLUSTER_ADVERTISE_ADDRESS=f"{pod}.tokmesh.{ns}.svc.cluster.local:5343",
        TOKMESH_CLUSTER_TLS_CERT_FILE=str(d / f"{pod}.crt"),
        TOKMESH_CLUSTER_TLS_KEY_FILE=str(d / f"{pod}.key"),
    )
    p = run([server, "--check-config", tmp_path / "config.yaml"], env=env, cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert list(data.iterdir()) == []
