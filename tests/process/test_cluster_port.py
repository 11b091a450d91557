"""The cluster port (spec/06 §8-§9, §11.9): mTLS and HTTP/2 only, RPC only. Checked with openssl
s_client and grpcurl against certificates from Scripts/dev-certs: no client certificate or one
from another CA is refused at the handshake; a wrong tokmesh-cluster-id gets FailedPrecondition
and an ERROR log; API-key credentials get PermissionDenied; Ping succeeds; SessionService is not
served there."""

import json
import shutil
import subprocess

import pytest

from tmlib import run_tool as run, REPO, Node, free_port, wait_until

CLUSTER_ID = "0b6e4b2a-8f5c-4b1e-9d7a-2c3e4f5a6b7c"




@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    ours = tmp_path_factory.mktemp("ca")
    other = tmp_path_factory.mktemp("other-ca")
    run([str(REPO / "Scripts/dev-certs"), "--out", str(ours), "--nodes", "2"])
    run([str(REPO / "Scripts/dev-certs"), "--out", str(other), "--nodes", "2"])
    return ours, other


@pytest.fixture(scope="module")
def cluster_node(certs):
    ours, _ = certs
    port = free_port()
    node = Node([
        "--cluster.enabled=true", f"--cluster.listen_address=127.0.0.1:{port}", f"--cluster.advertise_address=127.0.0.1:{port}",
        f"--cluster.tls.cert_file={ours / 'node1.crt'}", f"--cluster.tls.key_file={ours / 'node1.key'}",
        f"--cluster.tls.client_ca_file={ours / 'ca.crt'}",
    ], name="cluster")
    node.data_dir.mkdir(mode=0o750, exist_ok=True)
    (node.data_dir / "cluster-id").write_text(CLUSTER_ID + "\n")
    node.start()
    node.cluster_port = port
    yield node
    node.stop()


def node_file(node_name):
    """Scripts/dev-certs names node i's files node<i>.crt/.key; its CN is tmnd-node<i>."""
    return node_name.removeprefix("tmnd-")


def grpcurl(certs_dir, node_name, port, *args, check=False):
    return run([shutil.which("grpcurl"), "-cacert", str(certs_dir / "ca.crt"), "-cert", str(certs_dir / f"{node_file(node_name)}.crt"),
                "-key", str(certs_dir / f"{node_file(node_name)}.key"), *args[:-1], f"127.0.0.1:{port}", args[-1]], check=check)


def test_node_id_is_the_certificate_cn(cluster_node):
    assert (cluster_node.data_dir / "node-id").read_text().strip() == "tmnd-node1"


def test_handshake_needs_a_certificate_from_the_cluster_ca(cluster_node, certs):
    ours, other = certs
    port = cluster_node.cluster_port
    # TLS 1.3: the server's refusal arrives after the client's Finished, so keep stdin open a moment.
    bare = run(["bash", "-c", f"(sleep 1; echo) | openssl s_client -connect 127.0.0.1:{port} -alpn h2 -CAfile {ours / 'ca.crt'}"],
               check=False)
    assert "certificate required" in bare.stdout + bare.stderr, bare.stdout + bare.stderr
    old = run(["openssl", "s_client", "-tls1_2", "-connect", f"127.0.0.1:{port}", "-alpn", "h2", "-CAfile", str(ours / "ca.crt")],
              check=False, input="")
    assert old.returncode != 0 and "alert" in old.stdout + old.stderr, old.stdout + old.stderr
    assert run(["curl", "-s", "--http2", "--cacert", str(ours / "ca.crt"), f"https://127.0.0.1:{port}/"], check=False).returncode != 0
    foreign = run([shutil.which("grpcurl"), "-cacert", str(ours / "ca.crt"), "-cert", str(other / "node2.crt"),
                   "-key", str(other / "node2.key"), f"127.0.0.1:{port}", "list"], check=False)
    assert foreign.returncode != 0


def test_list_ping_and_guards(cluster_node, certs):
    ours, _ = certs
    port = cluster_node.cluster_port
    listed = grpcurl(ours, "tmnd-node2", port, "list", check=True).stdout.split()
    assert listed == ["grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection",
                      "tokmesh.cluster.v1.ClusterService", "tokmesh.cluster.v1.DataService", "tokmesh.cluster.v1.RaftService"]

    pong = json.loads(grpcurl(ours, "tmnd-node2", port, "-H", "tokmesh-node-id: tmnd-node2", "-H", f"tokmesh-cluster-id: {CLUSTER_ID}",
                              "-d", '{"nodeId":"tmnd-node2"}', "tokmesh.cluster.v1.ClusterService/Ping", check=True).stdout)
    assert pong["nodeId"] == "tmnd-node1" and pong["clusterId"] == CLUSTER_ID and int(pong["incarnation"]) > 0
    # A fresh node (no cluster ID yet) may ping with an empty one.
    grpcurl(ours, "tmnd-node2", port, "-H", "tokmesh-node-id: tmnd-node2", "tokmesh.cluster.v1.ClusterService/Ping", check=True)

    wrong = grpcurl(ours, "tmnd-node2", port, "-H", "tokmesh-node-id: tmnd-node2", "-H",
                    "tokmesh-cluster-id: 11111111-1111-4111-8111-111111111111", "tokmesh.cluster.v1.ClusterService/Ping")
    assert "FailedPrecondition" in wrong.stderr, wrong.stderr
    wait_until(lambda: "cluster_id_mismatch" in cluster_node.log_path.read_text(), 5, what="the mismatch ERROR log")
    line = next(json.loads(l) for l in cluster_node.log_path.read_text().splitlines() if "cluster_id_mismatch" in l)
    assert line["level"] == "ERROR" and line["received_cluster_id"].startswith("11111111")

    impostor = grpcurl(ours, "tmnd-node2", port, "-H", "tokmesh-node-id: tmnd-node9", "tokmesh.cluster.v1.ClusterService/Ping")
    assert "PermissionDenied" in impostor.stderr, impostor.stderr
    keyed = grpcurl(ours, "tmnd-node2", port, "-H", "tokmesh-node-id: tmnd-node2", "-H", "authorization: Bearer x:y",
                    "tokmesh.cluster.v1.ClusterService/Ping")
    assert "PermissionDenied" in keyed.stderr, keyed.stderr
    session = grpcurl(ours, "tmnd-node2", port, "-d", "{}", "tokmesh.v1.SessionService/GetSession")
    assert "Unimplemented" in session.stderr, session.stderr
    later = grpcurl(ours, "tmnd-node2", port, "-H", "tokmesh-node-id: tmnd-node2", "tokmesh.cluster.v1.RaftService/RequestVote")
    assert "Unimplemented" in later.stderr, later.stderr
    health = json.loads(grpcurl(ours, "tmnd-node2", port, "grpc.health.v1.Health/Check", check=True).stdout)
    assert health["status"] == "SERVING"


def test_cluster_config_errors(certs, tmp_path):
    ours, _ = certs
    bad = Node(["--cluster.enabled=true"], name="cluster-bad")
    bad.port = free_port()
    p = subprocess.run(bad.command(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 78 and "TM-CFG-1006" in p.stdout + p.stderr and "cluster.tls.cert_file" in p.stdout + p.stderr
    node = Node(["--cluster.enabled=true", "--cluster.node_id=tmnd-other1", "--cluster.advertise_address=127.0.0.1:5343",
                 f"--cluster.tls.cert_file={ours / 'node1.crt'}", f"--cluster.tls.key_file={ours / 'node1.key'}",
                 f"--cluster.tls.client_ca_file={ours / 'ca.crt'}"], name="cluster-cn")
    node.data_dir.mkdir(mode=0o750, exist_ok=True)
    node.port = free_port()
    p = subprocess.run(node.command(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 78 and "TM-CFG-1007" in p.stdout + p.stderr, p.stdout + p.stderr
