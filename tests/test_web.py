"""The read API and the home page, over a store holding the region's data."""

from __future__ import annotations

import threading
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.records.reference import load_region
from zhulian.web.app import create_app


@pytest.fixture
def client(store, tmp_path) -> TestClient:
    load_region(store)
    settings = Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0)
    return TestClient(create_app(settings, store=store))


def test_background_threads_run_only_while_an_app_serves(tmp_path) -> None:
    before = set(threading.enumerate())

    def started() -> list[str]:  # AnyIO's idle worker threads, left by a stopped event loop, end on their own
        return sorted(thread.name for thread in threading.enumerate()
                      if thread not in before and not thread.name.startswith("AnyIO worker"))

    apps = [create_app(Settings(data_dir=tmp_path / f"app{n}", rate_per_key=0, rate_per_address=0))
            for n in range(5)]
    assert started() == []  # made, never served: nothing runs
    for app in apps:
        with TestClient(app):  # served: the modules' lifespans start their work…
            assert {"zhulian-trace-notifier", "zhulian-sharing-relay", "env-alerts"} <= set(started())
        assert started() == []  # …and stop it when the app stops
    with TestClient(apps[0]):  # served again: its work runs again, rather than ending as soon as it starts
        notifier = next(thread for thread in threading.enumerate() if thread.name == "zhulian-trace-notifier")
        notifier.join(timeout=1)
        assert notifier.is_alive()


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False and body["error"]["code"] == code
    assert body["error"]["message"] and body["error"]["message_zh"]
    return body["error"]


def test_list_with_filter_sort_and_group_by(client: TestClient) -> None:
    response = client.get("/api/v1/orgs", params={"filter": "kind:university", "group_by": "city",
                                                 "sort": "name", "per_page": 5})
    body = response.json()
    assert response.status_code == 200
    assert body["meta"]["count"] == 11 and len(body["results"]) == 5 and body["meta"]["took_ms"] >= 0
    groups = {g["key"]: g for g in body["group_by"]}
    assert groups["440100"]["key_display_name"] == "广州市" and groups["440100"]["count"] >= 5
    assert groups["310100"]["key_display_name"] == "上海市"


def test_pages_cover_the_collection_without_repeats(client: TestClient) -> None:
    seen = []
    for page in range(1, 5):
        seen += [r["id"] for r in client.get("/api/v1/orgs", params={"per_page": 10, "page": page}).json()["results"]]
    assert len(seen) == len(set(seen)) == 36


def test_get_by_id_and_by_pid_with_relations(client: TestClient) -> None:
    by_pid = client.get("/api/v1/orgs/moe:4144010592").json()
    assert by_pid["name"]["zh"] == "广东财经大学"
    assert client.get(f"/api/v1/orgs/{by_pid['id']}").json() == by_pid
    leads = [r["subject"]["name"] for r in by_pid["relations"] if r["predicate"] == "lead_unit"]
    assert leads == ["珠三角科技金融产业协同创新发展中心"]
    relations = client.get(f"/api/v1/orgs/{by_pid['id']}/relations", params={"direction": "out"}).json()["results"]
    assert [r["predicate"] for r in relations] == ["hosts"]


def test_record_in_the_wrong_collection_or_missing_is_404(client: TestClient) -> None:
    _assert_error(client.get("/api/v1/platforms/moe:4144010592"), 404, "not_found")
    _assert_error(client.get("/api/v1/orgs/moe:4100000000"), 404, "not_found")
    _assert_error(client.get("/api/v1/widgets"), 404, "not_found")
    _assert_error(client.get("/api/v1/orgs/not-an-id"), 400, "bad_ref")


def test_deleted_record_is_410_and_its_revisions_stay_readable(client: TestClient, store) -> None:
    store.delete("ref:org-sysu")
    _assert_error(client.get("/api/v1/orgs/ref:org-sysu"), 410, "gone")
    revisions = client.get("/api/v1/orgs/ref:org-sysu/revisions").json()["results"]
    assert [r["op"] for r in revisions] == ["create", "delete"]
    assert client.get("/api/v1/orgs/ref:org-sysu", params={"revision": 1}).json()["name"]["zh"] == "中山大学"


@pytest.mark.parametrize("filter", ["colour:red", "kind", "year:>abc", "name:'; DROP TABLE records;--",
                                    "city:<script>alert(1)</script>"])
def test_bad_or_hostile_filters_are_400_and_harm_nothing(client: TestClient, store, filter: str) -> None:
    before = store.counts()
    response = client.get("/api/v1/orgs", params={"filter": filter})
    if response.status_code == 200:  # a well-formed condition on a real field simply matches nothing
        assert response.json()["meta"]["count"] == 0
    else:
        _assert_error(response, 400, "invalid")
    assert store.counts() == before


def test_out_of_range_paging_is_a_400_in_the_error_shape(client: TestClient) -> None:
    error = _assert_error(client.get("/api/v1/orgs", params={"per_page": 1000}), 400, "invalid")
    assert error["details"][0]["field"].endswith("per_page")
    _assert_error(client.get("/api/v1/orgs", params={"sort": "colour"}), 400, "invalid")


def test_schema_regions_and_changes(client: TestClient, store) -> None:
    schema = client.get("/api/v1/schema/policies").json()
    assert "targets" in schema["properties"]
    _assert_error(client.get("/api/v1/schema/widgets"), 400, "unknown_type")
    regions = client.get("/api/v1/regions").json()
    assert len(regions["results"]) == 11 and regions["circles"]["gfz"]["zh"] == "广佛肇"
    harvester = {"Authorization": f"Bearer {create_key(store, 'harvester')[1]}"}
    feed = client.get("/api/v1/changes", params={"since": 61, "limit": 10}, headers=harvester).json()
    assert [e["seq"] for e in feed["results"]] == [62, 63] and feed["meta"]["next_since"] == 63
    assert feed["results"][0]["record"]["type"] == "observation"  # the region data's last file


def test_the_list_page_escapes_record_text(client: TestClient, store) -> None:
    store.create({"type": "platform", "name": {"zh": "<script>alert(1)</script>中心"}})
    page = client.get("/platforms").text
    assert "<html lang=\"zh-CN\">" in page and "珠三角品牌战略协同创新中心" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
