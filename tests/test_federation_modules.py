"""Module feeds on both databases: trace events captured on two city nodes (served in-process, each its own
SQLite store) are harvested by a hub (this test's store, SQLite and PostgreSQL), whose trace back and forward
and recall follow the chain across both cities; and once with real served processes. The chain is
test_trace_chain's: the farms and the processor are in Zhaoqing (e1 … e6), the distributor and the retailers in
Guangzhou (e7 … e15)."""

from __future__ import annotations

import json
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.federation.cluster import Node
from zhulian.access import CLI_ADMIN, create_key
from zhulian.cli import app
from zhulian.config import Settings
from zhulian.federation.harvester import Harvester
from zhulian.federation.feed import served_origins
from zhulian.federation.module_feeds import ModuleEntry, module_feed_page, module_feeds, record_origins
from zhulian.federation.tables import feed_cursors, feed_origins
from zhulian.federation.validator import validate_node
from zhulian.store import Store
from zhulian.trace.recall import RecallService
from zhulian.trace.service import TraceService
from zhulian.trace.tables import events
from zhulian.web.app import create_app

from test_trace_chain import (BACK_FROM_PACK_1, CONTEXT, FORWARD_FROM_LOT_A, LOT_A, PACK_1, PACK_1_LINK,
                              chain_events)
from test_trace_recall import HOLDERS, LOTS

FARM_SIDE = ("e1", "e1b", "e2", "e3", "e4", "e5", "e6")  # captured in Zhaoqing; the rest in Guangzhou
FEED = "trace.events"


def document(names: list[str]) -> dict[str, Any]:
    chain = chain_events()
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": "2024-05-06T00:00:00Z", "epcisBody": {"eventList": [chain[n] for n in names]}}


def names_of(answer: dict[str, Any]) -> set[str]:
    by_id = {event["eventID"]: name for name, event in chain_events().items()}
    return {by_id[event["eventID"]] for event in answer["events"]}


class City:
    """A city node served in-process: its store, a harvest key and a transport that reaches it."""

    def __init__(self, folder, name: str, adcode: str) -> None:
        self.name = name
        self.settings = Settings(data_dir=folder / name, node=adcode, node_name=name, rate_per_key=0,
                                 rate_per_address=0)
        self.store = Store.from_settings(self.settings)
        self.client = TestClient(create_app(self.settings, store=self.store), base_url=f"http://{name}.test")
        self.client.__enter__()
        self.key = create_key(self.store, "harvester")[1]

    def capture(self, names: list[str]) -> None:
        assert TraceService(self.store).capture(CLI_ADMIN, document(names))["storedCount"] == len(names)

    def close(self) -> None:
        self.client.__exit__(None, None, None)
        self.store.close()


@pytest.fixture
def cities(tmp_path) -> Iterator[tuple[City, City]]:
    zq, gz = City(tmp_path, "zq", "441200"), City(tmp_path, "gz", "440100")
    zq.capture(list(FARM_SIDE))
    gz.capture([name for name in chain_events() if name not in FARM_SIDE])
    yield zq, gz
    zq.close()
    gz.close()


def harvest(hub: Store, tmp_path, city: City, transport: httpx.BaseTransport | None = None, *, page: int = 4):
    """Harvest one city into the hub (registering it the first time); its outcome."""
    harvester = Harvester(hub, Settings(data_dir=tmp_path / "hub", node_name="hub", harvest_page=page),
                          transport=transport or city.client._transport)
    try:
        if city.name not in {node["name"] for node in harvester.list()}:
            harvester.add(city.name, f"http://{city.name}.test", city.key)
        return harvester.harvest(city.name)
    finally:
        harvester.close()


def rewriting(city: City, change) -> httpx.MockTransport:
    """The city's answers, as ``change(path, body)`` rewrites them: a node that breaks the protocol."""
    def handle(request: httpx.Request) -> httpx.Response:
        reply = city.client._transport.handle_request(request)
        reply.read()
        body = change(request.url.path, reply.json())
        return httpx.Response(reply.status_code, json=body)
    return httpx.MockTransport(handle)


def test_the_trace_module_declares_its_feed_and_the_node_lists_it(cities) -> None:
    zq, _gz = cities
    assert module_feeds()[FEED].roles == ("harvester", "admin")
    described = zq.client.get("/api/v1/node").json()
    listed = next(feed for feed in described["feeds"] if feed["name"] == FEED)  # other modules list theirs too
    assert {"name": FEED, "version": 1, "path": f"/api/v1/feeds/{FEED}"}.items() <= listed.items()
    assert zq.client.get(f"/api/v1/feeds/{FEED}").status_code == 401
    reader = create_key(zq.store, "reader")[1]
    refused = zq.client.get(f"/api/v1/feeds/{FEED}", headers={"Authorization": f"Bearer {reader}"})
    assert refused.status_code == 403 and refused.json()["error"]["message_zh"]
    unknown = zq.client.get("/api/v1/feeds/nothing.here", headers={"Authorization": f"Bearer {zq.key}"})
    assert unknown.status_code == 404 and FEED in unknown.json()["error"]["message"]
    first = zq.client.get(f"/api/v1/feeds/{FEED}", params={"limit": 3},
                          headers={"Authorization": f"Bearer {zq.key}"}).json()
    assert first["meta"]["has_more"] and [e["key"] for e in first["results"]] == [
        chain_events()[n]["eventID"] for n in FARM_SIDE[:3]]
    rest = zq.client.get(f"/api/v1/feeds/{FEED}", params={"since": first["meta"]["next_cursor"]},
                         headers={"Authorization": f"Bearer {zq.key}"}).json()
    assert [e["key"] for e in rest["results"]] == [chain_events()[n]["eventID"] for n in FARM_SIDE[3:]]
    assert not rest["meta"]["has_more"] and {e["origin"]["node"] for e in rest["results"]} == {"zq"}


def test_a_hub_traces_and_recalls_across_two_cities(store, tmp_path, cities) -> None:
    zq, gz = cities
    farm, town = harvest(store, tmp_path, zq), harvest(store, tmp_path, gz)
    assert farm.ok and town.ok, (farm.error, town.error)
    assert farm.feeds[FEED] == {"pages": 2, "stored": 7, "skipped": 0}
    assert town.feeds[FEED]["stored"] == len(chain_events()) - 7
    hub = TraceService(store)
    assert names_of(hub.trace(CLI_ADMIN, PACK_1_LINK, "back")) == BACK_FROM_PACK_1  # the retail pack to both farms
    assert names_of(hub.trace(CLI_ADMIN, LOT_A, "forward")) == FORWARD_FROM_LOT_A  # the farm lot to both retailers
    case = RecallService(store).recall(CLI_ADMIN, PACK_1, "快检不合格")
    assert {lot["lot"] for lot in case["lots"]} == LOTS and HOLDERS <= set(case["holders"])
    # The hub serves what it harvested onwards with the origin each event came with; its own recall is its own.
    served = module_feed_page(store, "hub", module_feeds()[FEED], limit=1000)["results"]
    origins = {entry["key"]: entry["origin"]["node"] for entry in served}
    assert origins[chain_events()["e1"]["eventID"]] == "zq" and origins[chain_events()["e13"]["eventID"]] == "gz"
    assert {origins[lot["recallEventID"]] for lot in case["lots"]} == {"hub"}
    # Harvesting again stores nothing twice; new events on a city are all the next harvest takes.
    again = harvest(store, tmp_path, zq)
    assert again.feeds[FEED] == {"pages": 1, "stored": 0, "skipped": 0}
    more = {**chain_events()["e2"], "eventID": "urn:uuid:00000000-0000-4000-8000-000000000099",
            "eventTime": "2024-05-01T13:00:00+08:00"}
    TraceService(zq.store).add_event(CLI_ADMIN, {"@context": CONTEXT, **more})
    assert harvest(store, tmp_path, zq).feeds[FEED] == {"pages": 1, "stored": 1, "skipped": 0}
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == \
            len(chain_events()) + len(LOTS) + 1


def test_an_event_reaching_the_hub_twice_is_stored_once_and_keeps_its_first_origin(store, tmp_path, cities) -> None:
    zq, gz = cities
    # Guangzhou has harvested Zhaoqing; the hub harvests both, so Zhaoqing's events reach it by two paths.
    assert harvest(gz.store, tmp_path / "gz-hub", zq).ok
    relayed = harvest(store, tmp_path, gz)
    assert relayed.feeds[FEED]["stored"] == len(chain_events())
    direct = harvest(store, tmp_path, zq)
    assert direct.ok and direct.feeds[FEED] == {"pages": 2, "stored": 0, "skipped": 7}
    served = module_feed_page(store, "hub", module_feeds()[FEED], limit=1000)["results"]
    assert {e["origin"]["node"] for e in served if e["key"] == chain_events()["e1"]["eventID"]} == {"zq"}
    listing = Harvester(store, Settings(data_dir=tmp_path / "hub"))
    progress = {node["name"]: node["feeds"][FEED] for node in listing.list()}
    listing.close()
    assert (progress["zq"]["harvested"], progress["zq"]["stored"]) == (7, 0)  # all seven held already
    assert (progress["gz"]["harvested"], progress["gz"]["stored"]) == (16, 16)


def test_a_refused_page_writes_nothing_and_a_node_without_the_feed_is_no_error(store, tmp_path, cities) -> None:
    zq, _gz = cities

    def tampered(path: str, body: dict) -> dict:
        if path == f"/api/v1/feeds/{FEED}" and len(body["results"]) > 1:
            body["results"][1]["data"]["event"]["eventID"] = "urn:uuid:someone-else"
        return body

    refused = harvest(store, tmp_path, zq, rewriting(zq, tampered))
    assert not refused.ok and "eventID" in refused.error and "被拒绝" in refused.error
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(events)).scalar_one() == 0
        assert connection.execute(sa.select(feed_cursors.c.last_seq).where(feed_cursors.c.feed == FEED)).scalar_one() == 0
    honest = harvest(store, tmp_path, zq)
    assert honest.ok and honest.feeds[FEED]["stored"] == len(FARM_SIDE)

    def without_feeds(path: str, body: dict) -> dict:
        return {k: v for k, v in body.items() if k != "feeds"} if path == "/api/v1/node" else body

    older = harvest(store, tmp_path / "other", zq, rewriting(zq, without_feeds))
    assert older.ok and older.feeds == {}


def test_a_page_applied_again_keeps_the_origins_it_recorded(store) -> None:
    def entry(key: str, origin: str) -> ModuleEntry:
        return ModuleEntry(seq=1, key=key, at="2024-05-01T00:00:00Z", origin={"node": origin}, data={})

    def record(entries: list[ModuleEntry]) -> None:
        with store.transaction() as writer:
            record_origins(writer, FEED, "gz", entries, [e.key for e in entries], "2024-05-02T00:00:00Z")

    record([entry("urn:uuid:a", "zq")])
    # After a crash the page comes again, now beside a new entry, and one key claims another origin: no error,
    # the new key is recorded and the held one keeps the origin it was first recorded with.
    record([entry("urn:uuid:a", "sz"), entry("urn:uuid:b", "gz")])
    with store.engine.connect() as connection:
        held = dict(connection.execute(sa.select(feed_origins.c.key, feed_origins.c.origin_node)).all())
    assert held == {"urn:uuid:a": "zq", "urn:uuid:b": "gz"}
    assert {"zq", "gz"} <= set(served_origins(store, "hub")) and "sz" not in served_origins(store, "hub")


def test_validate_node_checks_the_module_feeds(cities) -> None:
    zq, _gz = cities
    report = validate_node("http://zq.test", zq.key, transport=zq.client._transport)
    feed = next(check for check in report.checks if check.name == f"feed {FEED}")
    assert report.ok and feed.ok and "7 entries checked" in feed.detail

    def backwards(path: str, body: dict) -> dict:
        if path == f"/api/v1/feeds/{FEED}" and "results" in body:
            body["results"].reverse()
        return body

    broken = validate_node("http://zq.test", zq.key, transport=rewriting(zq, backwards), page_size=1000)
    failed = next(check for check in broken.checks if check.name == f"feed {FEED}")
    assert not broken.ok and not failed.ok and "after seq" in failed.detail and "序号" in failed.detail_zh
    assert json.dumps(broken.as_dict(), ensure_ascii=False)


def test_served_cities_federate_their_trace_events_to_a_hub(tmp_path, monkeypatch) -> None:
    """Real ``zhulian serve`` processes: each city captures its part of the chain over /epcis/capture; the hub
    registers and harvests both with the commands an operator types, and traces the retail pack to both farms."""
    zq, gz = Node("zq", tmp_path / "zq", "441200"), Node("gz", tmp_path / "gz", "440100")
    monkeypatch.setenv("ZHULIAN_DATA_DIR", str(tmp_path / "hub"))
    monkeypatch.setenv("ZHULIAN_NODE_NAME", "hub")
    monkeypatch.delenv("ZHULIAN_DATABASE_URL", raising=False)

    def zhulian(*args: str) -> str:  # the hub's commands, in this process: only the cities pay a start-up
        result = CliRunner().invoke(app, list(args))
        assert result.exit_code == 0, result.output + str(result.exception or "")
        return result.output

    try:
        for city, names in ((zq, list(FARM_SIDE)), (gz, [n for n in chain_events() if n not in FARM_SIDE])):
            city.start()
            captured = httpx.post(f"{city.url}/epcis/capture", json=document(names), timeout=60,
                                  headers={"Authorization": f"Bearer {city.key('publisher')}"})
            assert captured.status_code == 202, captured.text
            zhulian("nodes", "add", city.name, city.url, "--key", city.key("harvester"), "--interval", "0")
        harvested = zhulian("harvest")
        assert "trace.events: 存入 stored 7, 已有 already held 0" in harvested
        assert "trace.events: 存入 stored 9, 已有 already held 0" in harvested
        assert "trace.events: 7" in zhulian("nodes", "list")
        assert names_of(json.loads(zhulian("trace", "back", PACK_1, "--json"))) == BACK_FROM_PACK_1
        report = validate_node(zq.url, zq.key("harvester"))
        assert report.ok and any(check.name == f"feed {FEED}" and check.ok for check in report.checks)
    finally:
        zq.stop()
        gz.stop()


def test_a_capture_waits_for_an_earlier_capture_to_commit_so_the_feed_keeps_its_order(store) -> None:
    """On PostgreSQL a serial is handed out at insert and seen at commit: a capture holds the events' order until it
    commits, so a second one cannot commit a later seq first (a hub reading "after seq N" would miss the earlier)."""
    if not store.is_postgres:
        pytest.skip("SQLite's one write lock orders every transaction already")
    with store.transaction() as earlier:
        earlier.keep_order(events.name)  # an earlier capture, not yet committed
        later = threading.Thread(target=lambda: TraceService(store).capture(CLI_ADMIN, document(["e1"])))
        later.start()
        later.join(1.0)
        assert later.is_alive(), "the later capture committed while an earlier one still held the order"
        with store.engine.connect() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 0
    later.join(30)
    assert not later.is_alive()
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(events)).scalar() == 1
