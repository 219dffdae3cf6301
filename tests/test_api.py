"""The REST API's writes, keys and roles, ETags, limits and error shape, as a client sees them."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.web.app import create_app

GZ, SZ = "440100", "440300"


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0, max_body_bytes=50_000)


@pytest.fixture
def client(store, settings) -> TestClient:
    return TestClient(create_app(settings, store=store))


def bearer(store, role: str, node: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(store, role, node=node)[1]}"}


def org(name: str, **fields) -> dict:
    return {"name": {"zh": name}, **fields}


def error_of(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ok"] is False and body["error"]["code"] == code
    assert body["error"]["message"] and body["error"]["message_zh"]
    return body["error"]


def test_a_publisher_creates_reads_replaces_patches_and_deletes(client, store) -> None:
    gz = bearer(store, "publisher", GZ)
    created = client.post("/api/v1/orgs", json=org("广州新机构", kind="企业"), headers=gz)
    assert created.status_code == 201
    record = created.json()
    assert record["node"] == GZ and record["kind"] == "enterprise"
    assert created.headers["Location"] == f"/api/v1/orgs/{record['id']}"
    tag = created.headers["ETag"]
    assert client.get(f"/api/v1/orgs/{record['id']}", headers={"If-None-Match": tag}).status_code == 304
    replaced = client.put(f"/api/v1/orgs/{record['id']}", json=org("广州新机构", aliases=["新机构"]),
                          headers={**gz, "If-Match": tag})
    assert replaced.status_code == 200 and replaced.json()["revision"] == 2
    patched = client.patch(f"/api/v1/orgs/{record['id']}", json={"aliases": None},
                           headers={**gz, "If-Match": replaced.headers["ETag"]})
    assert "aliases" not in patched.json() or patched.json()["aliases"] == []
    deleted = client.delete(f"/api/v1/orgs/{record['id']}", headers={**gz, "If-Match": patched.headers["ETag"]})
    assert deleted.json()["revision"] == 4
    error_of(client.get(f"/api/v1/orgs/{record['id']}"), 410, "gone")
    revisions = client.get(f"/api/v1/orgs/{record['id']}/revisions").json()["results"]
    assert [r["op"] for r in revisions] == ["create", "update", "update", "delete"]


def test_a_stale_if_match_is_412_and_nothing_is_lost(client, store) -> None:
    gz = bearer(store, "publisher", GZ)
    created = client.post("/api/v1/orgs", json=org("甲"), headers=gz)
    first_tag = created.headers["ETag"]
    url = f"/api/v1/orgs/{created.json()['id']}"
    assert client.patch(url, json={"aliases": ["乙"]}, headers={**gz, "If-Match": first_tag}).status_code == 200
    error_of(client.patch(url, json={"aliases": ["丙"]}, headers={**gz, "If-Match": first_tag}), 412, "stale")
    assert client.get(url).json()["aliases"] == ["乙"]


@pytest.mark.parametrize("role, status, code", [(None, 401, "unauthorized"), ("reader", 403, "forbidden"),
                                                ("harvester", 403, "forbidden")])
def test_writes_need_a_publisher_or_admin_key(client, store, role, status, code) -> None:
    headers = bearer(store, role) if role else {}
    error_of(client.post("/api/v1/orgs", json=org("x"), headers=headers), status, code)


@pytest.mark.parametrize("header", ["Bearer zl_not_a_key", "Basic dXNlcjpwdw=="])
def test_wrong_keys_are_401(client, header) -> None:
    error_of(client.get("/api/v1/orgs", headers={"Authorization": header}), 401, "unauthorized")


def test_a_revoked_key_is_401(client, store) -> None:
    from zhulian.access import revoke_key

    key, secret = create_key(store, "publisher", node=GZ)
    revoke_key(store, key["id"])
    error_of(client.post("/api/v1/orgs", json=org("x"), headers={"Authorization": f"Bearer {secret}"}),
             401, "unauthorized")


def test_a_publisher_cannot_write_another_nodes_record(client, store) -> None:
    created = client.post("/api/v1/orgs", json=org("深圳机构"), headers=bearer(store, "publisher", SZ))
    sz = created.json()
    gz = {**bearer(store, "publisher", GZ), "If-Match": created.headers["ETag"]}
    error_of(client.patch(f"/api/v1/orgs/{sz['id']}", json={"aliases": ["x"]}, headers=gz), 403, "forbidden")
    error_of(client.delete(f"/api/v1/orgs/{sz['id']}", headers=gz), 403, "forbidden")
    error_of(client.post("/api/v1/orgs", json=org("冒名", node=SZ), headers=bearer(store, "publisher", GZ)), 403,
             "forbidden")


def test_internal_records_are_hidden_from_anonymous_readers(client, store) -> None:
    gz = bearer(store, "publisher", GZ)
    secret = client.post("/api/v1/orgs", json=org("内部机构", access="internal"), headers=gz).json()
    error_of(client.get(f"/api/v1/orgs/{secret['id']}"), 404, "not_found")
    error_of(client.get(f"/api/v1/orgs/{secret['id']}", headers=bearer(store, "reader")), 404, "not_found")
    assert client.get(f"/api/v1/orgs/{secret['id']}", headers=gz).status_code == 200
    assert client.get("/api/v1/orgs", params={"filter": "access:internal"}).json()["meta"]["count"] == 0


def test_bad_bodies_get_the_error_shape(client, store) -> None:
    gz = bearer(store, "publisher", GZ)
    error_of(client.post("/api/v1/orgs", content=b"{not json", headers={**gz, "Content-Type": "application/json"}),
             400, "invalid")
    error_of(client.post("/api/v1/orgs", content=b"name=x", headers={**gz, "Content-Type": "text/plain"}),
             415, "unsupported_media_type")
    error_of(client.post("/api/v1/orgs", content=json.dumps(org("x" * 10, aliases=["y" * 400] * 200)).encode(),
                         headers={**gz, "Content-Type": "application/json"}), 413, "too_large")
    invalid = error_of(client.post("/api/v1/orgs", json={"name": {}, "city": "999999"}, headers=gz), 400, "invalid")
    assert {d["field"] for d in invalid["details"]} == {"name", "city"}
    error_of(client.post("/api/v1/orgs", json={"type": "patent", "title": {"zh": "x"}}, headers=gz), 400, "invalid")


def test_select_and_cursor_paging(client, store) -> None:
    admin = bearer(store, "admin")
    for index in range(7):
        client.post("/api/v1/orgs", json=org(f"机构{index}"), headers=admin)
    page = client.get("/api/v1/orgs", params={"select": "name", "per_page": 3, "cursor": "*"}).json()
    seen = [r["id"] for r in page["results"]]
    assert set(page["results"][0]) == {"id", "name"}
    while page["meta"]["next_cursor"]:
        page = client.get("/api/v1/orgs", params={"per_page": 3, "cursor": page["meta"]["next_cursor"]}).json()
        seen += [r["id"] for r in page["results"]]
    assert len(seen) == len(set(seen)) == 7
    error_of(client.get("/api/v1/orgs", params={"cursor": "garbage!"}), 400, "invalid")


def test_the_change_feed_is_for_harvesters_and_the_audit_log_for_admins(client, store) -> None:
    error_of(client.get("/api/v1/changes"), 401, "unauthorized")
    error_of(client.get("/api/v1/changes", headers=bearer(store, "reader")), 403, "forbidden")
    client.post("/api/v1/orgs", json=org("甲"), headers=bearer(store, "publisher", GZ))
    feed = client.get("/api/v1/changes", headers=bearer(store, "harvester")).json()
    assert feed["meta"]["count"] == 1 and feed["results"][0]["record"]["name"]["zh"] == "甲"
    error_of(client.get("/api/v1/audit", headers=bearer(store, "publisher", GZ)), 403, "forbidden")
    entries = client.get("/api/v1/audit", headers=bearer(store, "admin")).json()["results"]
    assert [(e["action"], e["role"], e["origin"]) for e in entries if e["record_id"]] == [("create", "publisher", "api:testclient")]


def test_rate_limits_answer_429_with_retry_after(store, tmp_path) -> None:
    limited = TestClient(create_app(Settings(data_dir=tmp_path / "d", rate_per_address=3, rate_per_key=0),
                                    store=store))
    statuses = [limited.get("/api/v1/regions").status_code for _ in range(5)]
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429
    response = limited.get("/api/v1/regions")
    assert int(response.headers["Retry-After"]) >= 1
    error_of(response, 429, "rate_limited")


def test_docs_are_served_from_packaged_assets(client) -> None:
    page = client.get("/docs").text
    assert '<script src="/static/vendor/swagger-ui/swagger-ui-bundle.js">' in page and "://" not in page
    assert client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    assert client.get("/openapi.json").json()["info"]["title"].startswith("珠联")


def test_search_shows_each_caller_what_its_key_may_read(client, store) -> None:
    admin = bearer(store, "admin")
    client.post("/api/v1/orgs", json=org("注册可见研究院", access="registered"), headers=admin)
    client.post("/api/v1/orgs", json=org("内部可见研究院", access="internal", node=GZ), headers=admin)
    client.app.state.search.catch_up()

    def found(headers: dict) -> set[str]:
        hits = client.get("/api/v1/search", params={"q": "研究院"}, headers=headers).json()["results"]
        return {hit["name"]["zh"] for hit in hits}

    assert found({}) == set()
    assert found(bearer(store, "reader")) == {"注册可见研究院"}
    assert found(admin) == {"注册可见研究院", "内部可见研究院"}


def test_import_and_export_through_the_api_under_the_keys_rules(client, store) -> None:
    gz = bearer(store, "publisher", GZ)
    csv = "name.zh,kind,city\n广州甲研究院,科研院所,440100\n广州乙研究院,科研院所,440100\n".encode("gbk")
    imported = client.post("/api/v1/import/orgs", files={"file": ("机构.csv", csv, "text/csv")}, headers=gz)
    assert imported.status_code == 200, imported.text
    assert imported.json()["summary"]["created"] == 2 and imported.json()["summary"]["encoding"] in ("gbk", "gb18030")
    refused = client.post("/api/v1/import/orgs", files={"file": ("x.csv", b"name.zh,node\nx,440300\n", "text/csv")},
                          headers=gz)
    assert refused.status_code == 422 and refused.json()["problems"][0]["row"] == 2
    error_of(client.post("/api/v1/import/orgs", files={"file": ("x.csv", b"name.zh\nx\n", "text/csv")}), 401,
             "unauthorized")
    client.post("/api/v1/orgs", json=org("内部机构", access="internal"), headers=gz)
    exported = client.get("/api/v1/export/orgs.jsonl", params={"filter": "city:440100"})
    names = {json.loads(line)["name"]["zh"] for line in exported.text.splitlines()}
    assert names == {"广州甲研究院", "广州乙研究院"}
    assert client.get("/api/v1/export/orgs.exe").status_code == 404
