"""The feed and the harvester on both databases: the hub is this test's store (SQLite and PostgreSQL), the node
it harvests an app served in-process."""

from __future__ import annotations

import threading
import warnings

import orjson
import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, Principal, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.federation.conflicts import resolve
from zhulian.federation.feed import feed_page, feed_page_json
from zhulian.federation.harvester import Harvester
from zhulian.federation.locks import NodeHarvestLock
from zhulian.federation.oai import Repository
from zhulian.federation.tables import nodes
from zhulian.records import RecordService
from zhulian.region import reference_records
from zhulian.records.reference import load_region
from zhulian.registry.service import RegistryService
from zhulian.store import Store
from zhulian.web.app import create_app

from tests.portal_forms import csrf_of


def org(name: str, **fields) -> dict:
    return {"type": "organization", "name": {"zh": name}, "kind": "university", **fields}


@pytest.fixture
def city(tmp_path, migrated_sqlite):
    """A Guangzhou node served in-process: its store, a harvest key, and a transport to reach it."""
    settings = Settings(data_dir=tmp_path / "gz", node="440100", node_name="gz", rate_per_key=0, rate_per_address=0)
    migrated_sqlite(settings.data_dir / "zhulian.db")
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


def test_the_served_feed_page_is_the_feed_page_with_records_copied_as_stored(store: Store) -> None:
    first = store.create(org("中山大学", website="https://www.sysu.edu.cn"))
    store.create({"type": "patent", "title": {"zh": "一种散热膜"}})
    store.delete(first["id"])
    for since in ("", "v1.1"):
        page = feed_page(store, "gz", since=since, limit=2)
        assert orjson.loads(feed_page_json(store, "gz", since=since, limit=2)) == page
    assert page["results"][-1]["record"]["deleted"] and page["results"][0]["record"]["title"] == {"zh": "一种散热膜"}


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


def _audit(store: Store) -> list[dict]:
    return RecordService(store).audit(CLI_ADMIN, limit=1000)


def test_each_record_a_harvest_changes_has_one_audit_entry_naming_the_node(store: Store, city, hub) -> None:
    a = city[0].create(org("华南理工大学"))
    city[0].create(org("暨南大学"))
    hub.harvest("gz")
    city[0].update(a["id"], org("华南理工大学（五山校区）"))
    hub.harvest("gz")
    entries = [e for e in _audit(store) if e["origin"] == "harvest:gz"]
    assert sorted((e["action"], e["revision"]) for e in entries) == [("create", 1), ("create", 1), ("update", 2)]
    assert {e["actor"] for e in entries} == {"harvest:gz"} and entries[-1]["record_id"] == a["id"]
    hub.harvest("gz")  # nothing new: no entry
    assert len([e for e in _audit(store) if e["origin"] == "harvest:gz"]) == 3


def test_the_region_records_both_nodes_hold_are_no_conflict(store: Store, city, hub) -> None:
    load_region(store)
    load_region(city[0])
    outcome = hub.harvest("gz")
    assert outcome.ok and outcome.conflicts == 0 and outcome.skipped == len(reference_records())
    assert hub.conflicts() == [] and store.counts() == city[0].counts()


def test_a_region_record_created_under_another_id_is_resolved_by_its_ref(store: Store, city, hub) -> None:
    load_region(store)
    sysu = next(r for r in reference_records() if r["pids"]["ref"] == "org-sysu")
    city[0].create({k: v for k, v in sysu.items() if k != "id"})  # a node that loaded it before ids were shared
    outcome = hub.harvest("gz")
    assert outcome.ok and outcome.conflicts == 0 and outcome.created == 0 and outcome.skipped == 1


@pytest.fixture
def conflicted(store: Store, city, hub) -> dict:
    """The hub's own 中山大学 and the city's version of it under the same MoE code: one open conflict."""
    store.create(org("中山大学", pids={"moe": "4144010558"}, website="http://www.sysu.edu.cn", keywords=["综合"]))
    city[0].create(org("中山大學", pids={"moe": "4144010558"}, city="440100", keywords=["医学"]))
    assert hub.harvest("gz").conflicts == 1
    [found] = hub.conflicts()
    return found


def test_a_conflict_is_listed_with_names_both_versions_and_the_differing_fields(conflicted) -> None:
    assert (conflicted["name"], conflicted["local_name"], conflicted["status"]) == ("中山大學", "中山大学", "open")
    assert conflicted["local_id"] != conflicted["record_id"]
    differing = {d["field"]: (d["local"], d["remote"]) for d in conflicted["differences"]}
    assert differing["name"] == ({"zh": "中山大学"}, {"zh": "中山大學"})
    assert differing["city"] == (None, "440100") and differing["keywords"] == (["综合"], ["医学"])
    assert differing["website"] == ("http://www.sysu.edu.cn", None) and "pids" not in differing


@pytest.mark.parametrize(("keep", "name", "keywords", "website"), [
    ("local", "中山大学", ["综合"], "http://www.sysu.edu.cn"),
    ("remote", "中山大學", ["医学"], None),
    ("merged", "中山大学", ["综合", "医学"], "http://www.sysu.edu.cn"),
])
def test_settling_a_conflict_writes_the_kept_version_and_audits_it(store: Store, hub, conflicted, keep, name,
                                                                    keywords, website) -> None:
    before = len(_audit(store))
    settled = resolve(store, CLI_ADMIN, conflicted["seq"], keep, origin="test-host")
    record = store.get(conflicted["local_id"])
    assert (record["name"]["zh"], record["keywords"], record.get("website")) == (name, keywords, website)
    assert settled["status"] == "settled" and settled["resolution"] == keep and hub.conflicts() == []
    [entry] = _audit(store)[before:]
    assert entry["record_id"] == conflicted["local_id"] and entry["detail"]["keep"] == keep
    assert entry["action"] == ("resolve" if keep == "local" else "update") and entry["origin"] == "test-host"
    with pytest.raises(ZhulianError, match="already"):
        resolve(store, CLI_ADMIN, conflicted["seq"], "remote")


def test_only_admins_settle_and_only_known_choices(store: Store, conflicted) -> None:
    with pytest.raises(ZhulianError) as refused:
        resolve(store, Principal("k1", "publisher", "440100"), conflicted["seq"], "remote")
    assert refused.value.status == 403
    with pytest.raises(ZhulianError) as bad:
        resolve(store, CLI_ADMIN, conflicted["seq"], "theirs")
    assert bad.value.status == 400 and "local" in str(bad.value)
    for unknown in (999_999, 10**30, -1):
        with pytest.raises(ZhulianError) as missing:
            resolve(store, CLI_ADMIN, unknown, "local")
        assert missing.value.status == 404
    assert store.get(conflicted["local_id"])["name"]["zh"] == "中山大学"


def test_an_admin_settles_a_conflict_on_the_nodes_page_with_its_form(store: Store, tmp_path, conflicted) -> None:
    client = TestClient(create_app(Settings(data_dir=tmp_path / "hub", rate_per_key=0, rate_per_address=0),
                                   store=store))
    secret = create_key(store, "admin")[1]
    client.post("/signin", data={"key": secret, "csrf": csrf_of(client.get("/signin").text)}, follow_redirects=False)
    page = client.get("/admin/nodes").text
    assert "中山大學" in page and "中山大学" in page and "http://www.sysu.edu.cn" in page and "采用远端版本" in page
    action = f"/admin/nodes/conflicts/{conflicted['seq']}"
    assert client.post(action, data={"keep": "remote"}).status_code == 403  # no CSRF token: refused
    done = client.post(action, data={"keep": "remote", "csrf": csrf_of(page)}, follow_redirects=False)
    assert done.status_code == 303
    assert store.get(conflicted["local_id"])["name"]["zh"] == "中山大學"
    assert "已处理冲突" in client.get(done.headers["location"]).text
    entry = _audit(store)[-1]
    assert entry["actor"] != "cli" and entry["detail"]["conflict"] == conflicted["seq"]


def test_oai_sends_a_record_made_internal_as_a_deletion(store: Store) -> None:
    public = store.create(org("公开后转为内部的机构"))
    store.update(public["id"], org("公开后转为内部的机构", access="internal"))
    internal = store.create(org("一直内部的机构", access="internal"))
    oai = Repository(store, "hub", "http://hub.test/oai", "admin@hub.test")

    def get(record_id: str) -> str:
        return oai.respond({"verb": ["GetRecord"], "metadataPrefix": ["oai_dc"],
                            "identifier": [f"oai:hub:organization/{record_id}"]}).decode()

    assert 'status="deleted"' in get(public["id"]) and "公开后转为内部" not in get(public["id"])
    assert "idDoesNotExist" in get(internal["id"])
    listed = oai.respond({"verb": ["ListIdentifiers"], "metadataPrefix": ["oai_dc"]}).decode()
    assert public["id"] in listed and internal["id"] not in listed


def test_a_harvest_waits_for_another_process_harvesting_the_same_node_and_the_schedule_skips_it(
        store: Store, city, hub) -> None:
    for n in range(7):
        city[0].create(org(f"测试大学{n}"))
    running = NodeHarvestLock(store, "gz")  # another process's harvest of gz, as the lock sees it
    assert running.acquire(wait=False)
    try:
        assert hub.harvest_if_free("gz") is None  # the schedule leaves the node to it
        outcomes: list = []
        waiting = threading.Thread(target=lambda: outcomes.append(hub.harvest("gz")))
        waiting.start()
        waiting.join(1.0)
        assert waiting.is_alive() and store.counts() == {}  # an explicit harvest waits rather than fail
    finally:
        running.release()
    waiting.join(60)
    [outcome] = outcomes
    assert outcome.ok and outcome.created == 7 and hub.list()[0]["failures"] == 0
