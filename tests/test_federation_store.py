"""The feed and the harvester on both databases: the hub is this test's store (SQLite and PostgreSQL), the node
it harvests an app served in-process."""

from __future__ import annotations

import warnings

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.federation.feed import feed_page
from zhulian.federation.harvester import Harvester
from zhulian.federation.tables import nodes
from zhulian.registry.service import RegistryService
from zhulian.store import Store
from zhulian.web.app import create_app


def org(name: str, **fields) -> dict:
    return {"type": "organization", "name": {"zh": name}, "kind": "university", **fields}


@pytest.fixture
def city(tmp_path):
    """A Guangzhou node served in-process: its store, a harvest key, and a transport to reach it."""
    settings = Settings(data_dir=tmp_path / "gz", node="440100", node_name="gz", rate_per_key=0, rate_per_address=0)
    store = Store.from_settings(settings)
    with TestClient(create_app(settings, store=store), base_url="http://gz.test") as client:
        yield store, create_key(store, "harvester")[1], client._transport
    store.close()


@pytest.fixture
def hub(store: Store, tmp_path, city):
    harvester = Harvester(store, Settings(data_dir=tmp_path / "hub", node_name="hub", harvest_page=3),
                          transport=city[2])
    harvester.add("gz", "http://gz.test", city[1])
    yield harvester
    harvester.close()


def test_feed_pages_resume_and_filter_by_set_and_time(tmp_path) -> None:
    source = Store.from_settings(Settings(data_dir=tmp_path / "s"))
    first = source.create(org("中山大学"))
    source.create({"type": "patent", "title": {"zh": "一种散热膜"}})
    source.update(first["id"], org("中山大学（更名）"))
    source.delete(first["id"])
    page = feed_page(source, "gz", limit=2)
    assert [e["op"] for e in page["results"]] == ["upsert", "upsert"] and page["meta"]["has_more"]
    rest = feed_page(source, "gz", since=page["meta"]["next_cursor"])
    assert [(e["op"], e["revision"]) for e in rest["results"]] == [("upsert", 2), ("delete", 3)]
    assert not rest["meta"]["has_more"] and rest["results"][-1]["record"]["deleted"]
    assert {e["origin"]["node"] for e in page["results"] + rest["results"]} == {"gz"}
    only_patents = feed_page(source, "gz", sets=["patent"])
    assert [e["type"] for e in only_patents["results"]] == ["patent"]
    assert feed_page(source, "gz", until="2001-01-01T00:00:00.000000Z")["results"] == []


def test_harvest_is_idempotent_follows_updates_and_deletes(store: Store, city, hub) -> None:
    source = city[0]
    a, b = source.create(org("华南理工大学")), source.create(org("暨南大学"))
    [outcome] = hub.harvest_many()
    assert outcome.ok and outcome.created == 2 and outcome.pages == 1
    assert hub.harvest("gz").created == 0  # again: nothing new
    source.update(a["id"], org("华南理工大学（五山校区）"))
    source.delete(b["id"])
    outcome = hub.harvest("gz")
    assert (outcome.updated, outcome.deleted) == (1, 1)
    assert store.get(a["id"])["name"]["zh"] == "华南理工大学（五山校区）"
    assert store.get(b["id"], include_deleted=True)["deleted"]
    # The hub serves what it harvested onwards with the origin's node and revision.
    served = feed_page(store, "hub")["results"]
    assert {(e["id"], e["origin"]["node"], e["origin"]["revision"]) for e in served if e["op"] == "upsert"} == {
        (a["id"], "gz", 1), (b["id"], "gz", 1), (a["id"], "gz", 2)}
    [listed] = hub.list()
    assert listed["last_error"] is None and listed["harvested"] == 4 and listed["lag"] == 0 and "key" not in listed


def test_pages_commit_with_their_cursor_and_a_concurrent_harvest_is_refused(store: Store, city, hub,
                                                                             monkeypatch) -> None:
    for n in range(7):
        city[0].create(org(f"测试大学{n}"))
    first = hub.harvest("gz", max_pages=1)
    assert first.ok and first.created == 3 and first.cursor
    fetch = hub._fetch_page

    def fetch_while_another_harvest_commits(*args):
        page = fetch(*args)
        with store.engine.begin() as connection:
            connection.execute(nodes.update().values(last_seq=nodes.c.last_seq + 1))
        return page

    monkeypatch.setattr(hub, "_fetch_page", fetch_while_another_harvest_commits)
    refused = hub.harvest("gz")
    assert not refused.ok and "另一个采集进程" in refused.error and store.counts() == {"organization": 3}


def test_a_record_of_the_hub_with_the_same_identifier_is_a_conflict(store: Store, city, hub) -> None:
    store.create(org("中山大学", pids={"moe": "4144010558"}))
    city[0].create(org("中山大學", pids={"moe": "4144010558"}))
    outcome = hub.harvest("gz")
    assert outcome.ok and outcome.conflicts == 1 and outcome.created == 0
    [conflict] = hub.conflicts()
    assert "属于" in conflict["reason_zh"] and conflict["source"] == "gz"
    assert [r["name"]["zh"] for r in store.iterate("organization")] == ["中山大学"]


def test_status_is_for_admins(store: Store, tmp_path, hub) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path / "hub", rate_per_key=0, rate_per_address=0),
                                   store=store))
    assert client.get("/api/v1/nodes").status_code == 401
    reader = {"Authorization": f"Bearer {create_key(store, 'reader')[1]}"}
    assert client.get("/api/v1/nodes", headers=reader).json()["error"]["code"] == "forbidden"
    admin = {"Authorization": f"Bearer {create_key(store, 'admin')[1]}"}
    assert [n["name"] for n in client.get("/api/v1/nodes", headers=admin).json()["results"]] == ["gz"]
    page = client.get("/admin/nodes", headers=admin)
    assert page.status_code == 200 and "gz.test" in page.text and "节点采集" in page.text
    assert client.get("/admin/nodes").status_code == 401


def test_bad_registrations_are_refused(store: Store, tmp_path) -> None:
    harvester = Harvester(store, Settings(data_dir=tmp_path))
    with pytest.raises(Exception, match="名称只能"):
        harvester.add("../etc", "http://x.test", "k", check=False)
    with pytest.raises(Exception, match="基础地址"):
        harvester.add("x", "ftp://x.test", "k", check=False)
    with pytest.raises(Exception, match="无法采集节点"):
        harvester.add("down", "http://127.0.0.1:9", "k")
    harvester.add("later", "http://127.0.0.1:9", "k", check=False)
    with pytest.raises(Exception, match="已登记"):
        harvester.add("later", "http://127.0.0.1:9", "k", check=False)
    outcome = harvester.harvest("later")
    assert not outcome.ok and "unreachable" in outcome.error
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(nodes.c.failures)).scalar() == 1


def test_harvested_look_alikes_of_the_hubs_organisations_wait_for_review(store: Store, city, hub) -> None:
    store.create(org("中山大学", city="440100"))
    city[0].create(org("中山大學", city="440100"))
    outcome = hub.harvest("gz")
    assert outcome.ok and outcome.created == 1  # harvested under its own id, never merged silently
    review = RegistryService(store).review(CLI_ADMIN)
    assert [item["source"] for item in review["results"]] == ["harvest"]
