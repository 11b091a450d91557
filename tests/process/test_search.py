"""GET /sessions: every filter, sort, paging and `fields` (spec/01 §5.9, spec/04 §7.1)."""

import time

import pytest

from tmlib import SESSION_FIELDS, err, ok, uid


@pytest.fixture(scope="module")
def corpus(node, admin, issuer):
    issuer_b = node.create_key(admin, "issuer", description="second issuer")
    node.warm(issuer_b)
    user, user2 = uid("search"), uid("search2")
    d1, d2, d3 = uid("dev1"), uid("dev2"), uid("dev3")
    specs = [  # (name, creator, device, ip)
        ("s1", issuer, d1, "198.51.100.10"),
        ("s2", issuer, d2, "198.51.100.20"),
        ("s3", issuer, d1, "203.0.113.5"),
        ("s4", issuer_b, d2, "2001:db8::7"),
        ("s5", issuer_b, d3, "203.0.113.6"),
        ("s6", None, d3, "100.64.0.1"),  # over the local socket: created_by LOCAL_ADMIN
    ]
    ids = {}
    for name, creator, device, ip in specs:
        body = {"user_id": user, "device_id": device, "ip_address": ip, "data": {"n": name}}
        if creator is None:
            r = node.local("POST", "/sessions", body)
        else:
            r = node.req("POST", "/sessions", body, key=creator)
        ids[name] = ok(r, 201)["session_id"]
        time.sleep(0.003)  # distinct created_at values (ties are legal, but make the checks sharper)
    # user2: one session that expires, one that does not
    short = node.create_session(issuer, user2, ttl_seconds=1)
    long_ = node.create_session(issuer, user2, ttl_seconds=3600)
    time.sleep(0.01)
    # s2 touched; s7 (made after that) validated with touch from another address, which sets
    # its last_access_ip but not its ip_address
    ok(node.req("POST", f"/sessions/{ids['s2']}/touch", key=issuer))
    time.sleep(0.003)
    s7 = node.create_session(issuer_b, user, device_id=d3, ip_address="203.0.113.77")
    ids["s7"] = s7["session_id"]
    time.sleep(0.003)
    ok(node.req("POST", "/tokens/validate", {"token": s7["token"], "touch": True, "ip_address": "192.0.2.55"},
                key=issuer))
    # wait until the short session has expired
    time.sleep(max(0.0, short["expires_at"] / 1000 + 0.05 - time.time()))
    sessions = {n: ok(node.req("GET", f"/sessions/{sid}", key=admin)) for n, sid in ids.items()}
    return {
        "user": user, "user2": user2, "devices": (d1, d2, d3), "ids": ids, "sessions": sessions,
        "issuer_a": issuer, "issuer_b": issuer_b, "short": short["session_id"], "long": long_["session_id"],
    }


def names_of(corpus, items):
    by_id = {sid: n for n, sid in corpus["ids"].items()}
    return {by_id.get(i["id"], i["id"]) for i in items}


def search(node, key, **query) -> dict:
    query.setdefault("size", 100)
    return ok(node.req("GET", "/sessions", key=key, query=query))


def test_user_id(node, admin, corpus):
    data = search(node, admin, user_id=corpus["user"])
    assert names_of(corpus, data["items"]) == {"s1", "s2", "s3", "s4", "s5", "s6", "s7"}
    assert data["pagination"]["total"] == 7
    for item in data["items"]:
        assert set(item) == SESSION_FIELDS
        assert item["user_id"] == corpus["user"]
        assert "token_hash" not in item and "token" not in item


def test_device_id(node, admin, corpus):
    d1, d2, d3 = corpus["devices"]
    assert names_of(corpus, search(node, admin, user_id=corpus["user"], device_id=d1)["items"]) == {"s1", "s3"}
    assert names_of(corpus, search(node, admin, device_id=d2)["items"]) == {"s2", "s4"}
    assert names_of(corpus, search(node, admin, device_id=d3)["items"]) == {"s5", "s6", "s7"}
    assert search(node, admin, device_id=uid("none"))["items"] == []


def test_key_id(node, admin, corpus):
    a, b = corpus["issuer_a"].key_id, corpus["issuer_b"].key_id
    u = corpus["user"]
    assert names_of(corpus, search(node, admin, user_id=u, key_id=a)["items"]) == {"s1", "s2", "s3"}
    assert names_of(corpus, search(node, admin, key_id=b)["items"]) == {"s4", "s5", "s7"}
    assert names_of(corpus, search(node, admin, user_id=u, key_id="LOCAL_ADMIN")["items"]) == {"s6"}
    assert names_of(corpus, search(node, admin, user_id=u, key_id=b.upper())["items"]) == {"s4", "s5", "s7"}


def test_ip_address(node, admin, corpus):
    u = corpus["user"]
    assert names_of(corpus, search(node, admin, user_id=u, ip_address="198.51.100.0/24")["items"]) == {"s1", "s2"}
    assert names_of(corpus, search(node, admin, user_id=u, ip_address="203.0.113.5")["items"]) == {"s3"}
    assert names_of(corpus, search(node, admin, user_id=u, ip_address="203.0.113.0/24")["items"]) \
        == {"s3", "s5", "s7"}
    assert names_of(corpus, search(node, admin, user_id=u, ip_address="2001:db8::/32")["items"]) == {"s4"}
    # last_access_ip counts too
    assert names_of(corpus, search(node, admin, user_id=u, ip_address="192.0.2.0/24")["items"]) == {"s7"}
    assert names_of(corpus, search(node, admin, user_id=u, ip_address="0.0.0.0/0")["items"]) \
        == {"s1", "s2", "s3", "s5", "s6", "s7"}
    for bad in ("198.51.100.0/33", "not-an-ip", "300.1.1.1"):
        err(node.req("GET", "/sessions", key=admin, query={"user_id": u, "ip_address": bad}), 400, "TM-ARG-1001")


def test_status(node, admin, corpus):
    u2 = corpus["user2"]
    active = search(node, admin, user_id=u2)["items"]
    assert [i["id"] for i in active] == [corpus["long"]]
    assert search(node, admin, user_id=u2, status="active")["items"] == active
    assert all(i["status"] == "active" for i in active)
    every = {i["id"] for i in search(node, admin, user_id=u2, status="all")["items"]}
    assert corpus["long"] in every and every <= {corpus["long"], corpus["short"]}
    expired = search(node, admin, user_id=u2, status="expired")["items"]
    # the expired session is listed until it is purged
    assert {i["id"] for i in expired} <= {corpus["short"]}
    assert all(i["status"] == "expired" for i in expired)
    err(node.req("GET", "/sessions", key=admin, query={"user_id": u2, "status": "revoked"}), 400, "TM-ARG-1001")


def test_created_after_before(node, admin, corpus):
    u = corpus["user"]
    sessions = corpus["sessions"]
    pivot = sessions["s3"]["created_at"]
    after = names_of(corpus, search(node, admin, user_id=u, created_after=pivot)["items"])
    assert after == {n for n, s in sessions.items() if s["created_at"] >= pivot}
    assert "s3" in after
    before = names_of(corpus, search(node, admin, user_id=u, created_before=pivot)["items"])
    assert before == {n for n, s in sessions.items() if s["created_at"] < pivot}
    assert "s3" not in before
    both = names_of(corpus, search(node, admin, user_id=u, created_after=sessions["s2"]["created_at"],
                                   created_before=sessions["s5"]["created_at"])["items"])
    assert both == {n for n, s in sessions.items()
                    if sessions["s2"]["created_at"] <= s["created_at"] < sessions["s5"]["created_at"]}
    for bad in ("yesterday", "1.5", "-"):
        err(node.req("GET", "/sessions", key=admin, query={"user_id": u, "created_after": bad}), 400,
            "TM-ARG-1001")


def test_active_after(node, admin, corpus):
    u = corpus["user"]
    sessions = corpus["sessions"]
    pivot = sessions["s2"]["last_active"]
    assert pivot > sessions["s2"]["created_at"]
    got = names_of(corpus, search(node, admin, user_id=u, active_after=pivot)["items"])
    assert got == {n for n, s in sessions.items() if s["last_active"] >= pivot}
    assert "s2" in got and "s1" not in got


def _key(item, field):
    return (item[field], item["id"])


def test_sorting(node, admin, corpus):
    u = corpus["user"]
    default = search(node, admin, user_id=u)["items"]
    assert [_key(i, "created_at") for i in default] == sorted((_key(i, "created_at") for i in default), reverse=True)
    explicit = search(node, admin, user_id=u, sort_by="created_at", sort_order="desc")["items"]
    assert [i["id"] for i in explicit] == [i["id"] for i in default]
    asc = search(node, admin, user_id=u, sort_order="asc")["items"]
    assert [i["id"] for i in asc] == [i["id"] for i in reversed(default)]
    # ULIDs are monotonic, so creation order is id order
    assert [i["id"] for i in asc] == sorted(i["id"] for i in asc)
    la = search(node, admin, user_id=u, sort_by="last_active", sort_order="asc")["items"]
    assert [_key(i, "last_active") for i in la] == sorted(_key(i, "last_active") for i in la)
    assert la[-1]["id"] in (corpus["ids"]["s7"], corpus["ids"]["s2"])
    la_desc = search(node, admin, user_id=u, sort_by="last_active")["items"]
    assert [i["id"] for i in la_desc] == [i["id"] for i in reversed(la)]
    err(node.req("GET", "/sessions", key=admin, query={"user_id": u, "sort_by": "user_id"}), 400, "TM-ARG-1001")
    err(node.req("GET", "/sessions", key=admin, query={"user_id": u, "sort_order": "up"}), 400, "TM-ARG-1001")


def test_paging(node, admin, corpus):
    u = corpus["user"]
    full = [i["id"] for i in search(node, admin, user_id=u)["items"]]
    pages = []
    for page in (1, 2, 3, 4):
        data = search(node, admin, user_id=u, page=page, size=2)
        assert data["pagination"] == {"page": page, "size": 2, "total": 7}
        pages.append([i["id"] for i in data["items"]])
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert sum(pages, []) == full
    past = search(node, admin, user_id=u, page=5, size=2)
    assert past["items"] == [] and past["pagination"]["total"] == 7
    default = ok(node.req("GET", "/sessions", key=admin, query={"user_id": u}))
    assert default["pagination"] == {"page": 1, "size": 20, "total": 7}


def test_fields_projection(node, admin, corpus):
    u = corpus["user"]
    items = search(node, admin, user_id=u, fields="user_id,device_id")["items"]
    assert len(items) == 7
    assert all(set(i) == {"id", "user_id", "device_id"} for i in items), items[0]
    items = search(node, admin, user_id=u, fields="id")["items"]
    assert all(set(i) == {"id"} for i in items)
    items = search(node, admin, user_id=u, fields="status,last_active")["items"]
    assert all(set(i) == {"id", "status", "last_active"} for i in items)
    for bad in ("nope", "user_id,nope", "token_hash", "token"):
        err(node.req("GET", "/sessions", key=admin, query={"user_id": u, "fields": bad}), 400, "TM-ARG-1001")


def test_unknown_parameter(node, admin, corpus):
    err(node.req("GET", "/sessions", key=admin, query={"user_id": corpus["user"], "userid": "x"}), 400,
        "TM-ARG-1001")
    err(node.req("GET", "/sessions", key=admin, query={"user": corpus["user"]}), 400, "TM-ARG-1001")


def test_roles(node, admin, issuer, validator, corpus):
    d = err(node.req("GET", "/sessions", key=issuer), 403, "TM-AUTH-4030")
    assert d["current_role"] == "issuer"
    err(node.req("GET", "/sessions", key=issuer, query={"device_id": corpus["devices"][0]}), 403, "TM-AUTH-4030")
    data = search(node, issuer, user_id=corpus["user"])
    assert data["pagination"]["total"] == 7  # an issuer sees every creator's sessions of that user
    err(node.req("GET", "/sessions", key=validator, query={"user_id": corpus["user"]}), 403, "TM-AUTH-4030")
    metrics = node.create_key(admin, "metrics")
    err(node.req("GET", "/sessions", key=metrics, query={"user_id": corpus["user"]}), 403, "TM-AUTH-4030")
    everything = ok(node.req("GET", "/sessions", key=admin))
    assert everything["pagination"]["total"] >= 8
    assert everything["pagination"]["size"] == 20
