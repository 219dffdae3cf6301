"""Stations are records (issue 18): a station added by the module is an audited ``station`` record with its
operator, listed, exported and fed like any record; a station record made by any other path (the record API, a
harvest from a district's node) is a station the module serves and takes packets from; the record is the truth
for what describes a station. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import PacketError, Reading, build, parse
from zhulian.environment.service import EnvironmentService
from zhulian.exchange.exporter import export_records
from zhulian.federation.harvester import Harvester
from zhulian.records import RecordService
from zhulian.store import Store
from zhulian.web.app import create_app

MOMENT = datetime(2026, 3, 1, 8, tzinfo=CHINA)


@pytest.fixture
def env(store: Store) -> EnvironmentService:
    return EnvironmentService(store)


@pytest.fixture
def client(store: Store, tmp_path: Path) -> TestClient:
    settings = Settings(data_dir=tmp_path / "node", node_name="yt", rate_per_key=0, rate_per_address=0)
    return TestClient(create_app(settings, store=store), base_url="http://yt.test")


def packet(mn: str, pw: str = "") -> bytes:
    return build(mn=mn, pw=pw, cn="2051", data_time=MOMENT, readings=[Reading("a34004", 35.0)])


def stored_from(env: EnvironmentService, mn: str) -> int:
    return env.write(env.rows_of(parse(packet(mn))))


def test_an_added_station_is_an_audited_record_with_its_operator(env: EnvironmentService, store: Store,
                                                                  client: TestClient, tmp_path: Path) -> None:
    university = store.create({"type": "organization", "name": {"zh": "南方科技大学"}, "pids": {"moe": "4144014325"}})
    added = env.add_station(CLI_ADMIN, "YT0001", name="盐田港", city="440300", lon=114.27, lat=22.58,
                            district="盐田区", password="secret", operator="moe:4144014325")
    record = store.get(added["record"])
    assert (record["type"], record["name"], record["pids"]["mn"], record["kind"], record["city"],
            record["lon"], record["lat"], record["district"]) == (
        "station", {"zh": "盐田港"}, "YT0001", "air", "440300", 114.27, 22.58, "盐田区")
    assert "password" not in str(record) and "secret" not in str(record)
    assert [(r["predicate"], r["object"]["id"]) for r in store.relations(record["id"], direction="out")] == [
        ("operated_by", university["id"])]
    [entry] = RecordService(store).audit(CLI_ADMIN, record=record["id"])
    assert (entry["action"], entry["actor"]) == ("create", CLI_ADMIN.id)

    exported = tmp_path / "stations.csv"
    assert export_records(store, "station", "csv", exported).count == 1
    with exported.open(encoding="utf-8-sig") as file:
        assert "YT0001" in file.read()
    listed = client.get("/api/v1/stations", params={"filter": "kind:air"}).json()
    assert [r["pids"]["mn"] for r in listed["results"]] == ["YT0001"]
    feed = client.get("/api/v1/changes", params={"set": "station"},
                      headers={"Authorization": f"Bearer {create_key(store, 'harvester')[1]}"}).json()
    assert [e["id"] for e in feed["results"]] == [record["id"]]
    # the module's own station API and pages are as they were
    [served] = client.get("/api/v1/env/stations").json()["results"]
    assert (served["mn"], served["name"], served["record"], served["has_password"]) == (
        "YT0001", "盐田港", record["id"], True)
    assert "盐田港" in client.get("/env/stations/YT0001").text


def test_a_station_record_from_the_record_api_is_a_station_until_it_is_deleted(env: EnvironmentService,
                                                                              store: Store,
                                                                              client: TestClient) -> None:
    publisher = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440300')[1]}"}
    posted = client.post("/api/v1/stations", headers=publisher, json={
        "name": {"zh": "大梅沙"}, "pids": {"mn": "YT0002"}, "kind": "噪声", "zone_class": "1", "lon": 114.31,
        "lat": 22.59, "city": "440300"})
    assert posted.status_code == 201, posted.text
    [station] = client.get("/api/v1/env/stations", params={"city": "440300"}).json()["results"]
    assert (station["mn"], station["name"], station["kind"], station["zone_class"]) == ("YT0002", "大梅沙", "noise", "1")
    assert stored_from(env, "YT0002") == 1  # its packets are taken: no password was set for it

    path = f"/api/v1/stations/{posted.json()['id']}"
    renamed = client.patch(path, json={"name": {"zh": "大梅沙海滨"}},
                           headers={**publisher, "If-Match": client.get(path).headers["ETag"]})
    assert renamed.status_code == 200, renamed.text
    assert env.station("YT0002")["name"] == "大梅沙海滨"

    gone = client.delete(path, headers={**publisher, "If-Match": client.get(path).headers["ETag"]})
    assert gone.status_code in (200, 204), gone.text
    assert client.get("/api/v1/env/stations").json()["results"] == []
    with pytest.raises(PacketError) as refused:
        stored_from(env, "YT0002")
    assert refused.value.reason_zh == "未登记的 MN YT0002"


def test_a_hub_harvesting_a_district_serves_its_stations(env: EnvironmentService, store: Store,
                                                         client: TestClient, tmp_path: Path) -> None:
    env.add_station(CLI_ADMIN, "YT0001", name="盐田港", city="440300", lon=114.27, lat=22.58, password="secret")
    env.add_station(CLI_ADMIN, "YT0003", name="沙头角", city="440300", lon=114.24, lat=22.55, kind="water",
                    water_target="Ⅲ")
    hub_store = Store(f"sqlite:///{tmp_path / 'hub.db'}")
    hub_store.migrate()
    harvester = Harvester(hub_store, Settings(data_dir=tmp_path / "hub", node_name="hub"), transport=client._transport)
    try:
        harvester.add("yt", "http://yt.test", create_key(store, "harvester")[1])
        [outcome] = harvester.harvest_many()
        assert outcome.ok and outcome.created == 2
        hub = TestClient(create_app(Settings(data_dir=tmp_path / "hub-web", rate_per_key=0, rate_per_address=0),
                                    store=hub_store))
        shown = {(s["mn"], s["name"], s["kind"], s["water_target"], s["has_password"])
                 for s in hub.get("/api/v1/env/stations").json()["results"]}
        assert shown == {("YT0001", "盐田港", "air", None, False), ("YT0003", "沙头角", "water", "Ⅲ", False)}
        assert "沙头角" in hub.get("/env").text  # the hub's map
    finally:
        harvester.close()
        hub_store.close()


def test_a_sensorthings_thing_is_a_station_record(env: EnvironmentService, store: Store, client: TestClient) -> None:
    admin = {"Authorization": f"Bearer {create_key(store, 'admin')[1]}"}
    made = client.post("/sta/v1.1/Things", headers=admin, json={
        "name": "海山", "properties": {"mn": "YT0004", "city": "440300"},
        "Locations": [{"name": "海山", "encodingType": "application/geo+json",
                       "location": {"type": "Point", "coordinates": [114.25, 22.57]}}]})
    assert made.status_code == 201, made.text
    [record] = store.query("station", "kind:air").results
    assert (record["pids"]["mn"], record["name"], record["lon"]) == ("YT0004", {"zh": "海山"}, 114.25)


def test_the_station_template_names_the_fields_in_chinese(tmp_path: Path) -> None:
    from zhulian.exchange.template import write_template

    write_template("station", "csv", tmp_path / "template.csv")
    header, example = list(csv.reader((tmp_path / "template.csv").open(encoding="utf-8-sig")))[:2]
    assert any("站点类型" in h for h in header) and any("经度" in h for h in header) and "YT0001" in example
