"""IP allow-lists and trusted proxies (spec/03 §7). Only headers name 10.x addresses: every
connection goes to 127.0.0.1."""

import pytest

from tmlib import err, finish_node, ok, start_node

PROBE = "/sessions/tmss-01" + "0" * 24  # 404 once authenticated


@pytest.fixture(scope="module")
def proxy_node():
    n = start_node("proxy", ["--security.network.trusted_proxies=127.0.0.1/32"])
    yield n
    finish_node(n)


def test_refused_from_loopback(node, admin):
    k = node.create_key(admin, "validator", allowedlist=["10.0.0.0/8"])
    d = err(node.req("GET", PROBE, key=k), 403, "TM-AUTH-4031")
    assert isinstance(d, dict)


def test_forwarded_headers_ignored_without_trusted_proxies(node, admin):
    k = node.create_key(admin, "validator", allowedlist=["10.0.0.0/8"])
    err(node.req("GET", PROBE, key=k, headers={"X-Forwarded-For": "10.1.2.3"}), 403, "TM-AUTH-4031")
    err(node.req("GET", PROBE, key=k, headers={"X-Real-IP": "10.1.2.3"}), 403, "TM-AUTH-4031")
    err(node.req("GET", PROBE, key=k, headers={"Forwarded": "for=10.1.2.3"}), 403, "TM-AUTH-4031")


def test_loopback_allowed_key(node, admin):
    k = node.create_key(admin, "validator", allowedlist=["127.0.0.1"])
    err(node.req("GET", PROBE, key=k), 404, "TM-SESS-4040")
    k6 = node.create_key(admin, "validator", allowedlist=["10.0.0.0/8", "127.0.0.0/8"])
    err(node.req("GET", PROBE, key=k6), 404, "TM-SESS-4040")


def test_admin_route_code(node, admin):
    k = node.create_key(admin, "admin", allowedlist=["10.0.0.0/8"])
    err(node.req("GET", "/admin/v1/status/summary", key=k), 403, "TM-ADMIN-4031")


def test_accepted_through_trusted_proxy(proxy_node):
    n = proxy_node
    admin = n.emergency_key()
    k = n.create_key(admin, "validator", allowedlist=["10.0.0.0/8"])
    err(n.req("GET", PROBE, key=k, headers={"X-Forwarded-For": "10.1.2.3"}), 404, "TM-SESS-4040")
    # without the header the peer (127.0.0.1) is the client
    err(n.req("GET", PROBE, key=k), 403, "TM-AUTH-4031")
    # the list is walked from the right: the rightmost untrusted address is the client
    err(n.req("GET", PROBE, key=k, headers={"X-Forwarded-For": "10.1.2.3, 192.0.2.9"}), 403, "TM-AUTH-4031")
    err(n.req("GET", PROBE, key=k, headers={"X-Forwarded-For": "192.0.2.9, 10.1.2.3"}), 404, "TM-SESS-4040")
    err(n.req("GET", PROBE, key=k, headers={"X-Forwarded-For": "10.1.2.3, 127.0.0.1"}), 404, "TM-SESS-4040")
    # Forwarded wins over X-Forwarded-For; X-Real-IP is the last resort
    err(n.req("GET", PROBE, key=k, headers={"Forwarded": 'for="10.1.2.3:4711"'}), 404, "TM-SESS-4040")
    err(n.req("GET", PROBE, key=k, headers={"Forwarded": "for=192.0.2.9", "X-Forwarded-For": "10.1.2.3"}),
        403, "TM-AUTH-4031")
    err(n.req("GET", PROBE, key=k, headers={"X-Real-IP": "10.1.2.3"}), 404, "TM-SESS-4040")
    # unusable values fall back to the peer
    err(n.req("GET", PROBE, key=k, headers={"X-Forwarded-For": "unknown"}), 403, "TM-AUTH-4031")
    err(n.req("GET", PROBE, key=k, headers={"X-Forwarded-For": "not an ip"}), 403, "TM-AUTH-4031")


def test_client_ip_fills_session_address(proxy_node):
    n = proxy_node
    admin = n.emergency_key()
    issuer = n.create_key(admin, "issuer")
    s = ok(n.req("POST", "/sessions", {"user_id": "proxied"}, key=issuer,
                 headers={"X-Forwarded-For": "10.1.2.3"}), 201)
    got = ok(n.req("GET", f"/sessions/{s['session_id']}", key=issuer))
    assert got["ip_address"] == "10.1.2.3"
    s = ok(n.req("POST", "/sessions", {"user_id": "proxied"}, key=issuer,
                 headers={"X-Forwarded-For": "[2001:db8::5]:443"}), 201)
    assert ok(n.req("GET", f"/sessions/{s['session_id']}", key=issuer))["ip_address"] == "2001:db8::5"
