"""Environment aggregates federate (issue 18, item 7): two district nodes (served in-process, each its own SQLite
store) measure air at their stations; the city hub (this test's store, SQLite and PostgreSQL) harvests their
station records and then their hourly and daily aggregates, and shows every district's stations and values on
its station list, map and city chart. A re-harvest stores nothing; an hour updated on a district reaches the hub."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN
from zhulian.config import Settings
from zhulian.environment.aqi import CHINA
from zhulian.environment.service import EnvironmentService, epoch
from zhulian.environment.tables import hourly
from zhulian.errors import ZhulianError
from zhulian.federation.module_feeds import Change, module_feeds
from zhulian.store import Store
from zhulian.web.app import create_app

from test_federation_modules import City, harvest

HOUR_START = datetime(2026, 3, 1, 8, tzinfo=CHINA)
H = epoch(HOUR_START)
PM25 = "a34004"
SHENZHEN = "440300"


def measure(city: City, mn: str, minutes: dict[int, float], reported: dict[int, float] | None = None) -> None:
    """Minute PM2.5 values (minute → value) in the test's hour, and hourly reports (hours after it → value)."""
    service = EnvironmentService(city.store)
    station = service.station(mn)["id"]
    rows = [(station, H + 60 * m, PM25, "minute", v, None, None, None, "N") for m, v in minutes.items()]
    rows += [(station, H + 3600 * h, PM25, "hour", v, None, None, None, "N") for h, v in (reported or {}).items()]
    assert service.write(rows) == len(rows)


@pytest.fixture
def districts(tmp_path) -> Iterator[tuple[City, City]]:
    yantian, futian = City(tmp_path, "yantian", "440308"), City(tmp_path, "futian", "440304")
    EnvironmentService(yantian.store).add_station(CLI_ADMIN, "YT0001", name="盐田港", city=SHENZHEN, lon=114.27,
                                                  lat=22.58, district="盐田区", password="pw")
    EnvironmentService(futian.store).add_station(CLI_ADMIN, "FT0001", name="莲花山", city=SHENZHEN, lon=114.06,
                                                 lat=22.55, district="福田区")
    measure(yantian, "YT0001", {0: 60.0, 30: 70.0}, {1: 40.0})
    measure(futian, "FT0001", {}, {0: 30.0, 1: 32.0})
    yield yantian, futian
    yantian.close()
    futian.close()


def city_chart(client: TestClient) -> dict[str, list[list[float]]]:
    answer = client.get("/api/v1/env/hourly", params={
        "city": SHENZHEN, "pollutant": "PM2.5", "from": HOUR_START.isoformat(),
        "to": (HOUR_START + timedelta(hours=2)).isoformat()})
    assert answer.status_code == 200, answer.text
    return {series["station"]: series["points"] for series in answer.json()["series"]}


def test_a_hub_shows_every_districts_stations_and_hourly_values(store: Store, tmp_path, districts) -> None:
    yantian, futian = districts
    first = [harvest(store, tmp_path, district) for district in districts]
    assert all(outcome.ok for outcome in first), [outcome.error for outcome in first]
    assert first[0].feeds["environment.hourly"]["stored"] == 2  # YT0001's 08:00 mean and 09:00 report
    assert first[1].feeds["environment.hourly"]["stored"] == 2
    assert first[0].feeds["environment.daily"]["stored"] == 1  # 09:00's report counts towards the day
    settings = Settings(data_dir=tmp_path / "hub", node="440300", node_name="hub", rate_per_key=0, rate_per_address=0)
    with TestClient(create_app(settings, store=store)) as hub:
        listed = hub.get("/api/v1/env/stations", params={"city": SHENZHEN}).json()
        assert [(s["mn"], s["district"]) for s in listed["results"]] == [("FT0001", "福田区"), ("YT0001", "盐田区")]
        page = hub.get("/env").text
        assert "盐田港" in page and "莲花山" in page
        assert city_chart(hub) == {"FT0001": [[H, 30.0], [H + 3600, 32.0]], "YT0001": [[H, 65.0], [H + 3600, 40.0]]}

        again = harvest(store, tmp_path, yantian)
        assert again.ok and again.feeds.get("environment.hourly", {}).get("stored", 0) == 0

        measure(yantian, "YT0001", {45: 110.0})  # a late minute value: the 08:00 mean becomes 80
        updated = harvest(store, tmp_path, yantian)
        assert updated.ok and updated.feeds["environment.hourly"]["pages"] == 1, updated.error
        assert city_chart(hub)["YT0001"] == [[H, 80.0], [H + 3600, 40.0]]


def test_an_entry_is_stored_once_and_only_when_newer(store: Store, tmp_path, districts) -> None:
    yantian, _futian = districts
    assert harvest(store, tmp_path, yantian).ok
    feed = module_feeds()["environment.hourly"]
    with yantian.store.engine.connect() as connection:
        served = feed.changes(connection, 0, 100)
    assert [change.key for change in served] == [f"YT0001/{PM25}/{H}", f"YT0001/{PM25}/{H + 3600}"]
    with store.transaction() as writer:  # the same page again, or by a second path: nothing stored
        assert feed.apply(writer, "yantian", served) == []
    older = Change(1, served[0].key, served[0].at, served[0].data | {"total": 1.0, "version": 1})
    with store.transaction() as writer:
        assert feed.apply(writer, "yantian", [older]) == []
    hub = EnvironmentService(store)
    station = hub.station("YT0001")["id"]
    assert hub.hourly_values([station], [PM25], H, H + 1) == {(station, PM25, H): 65.0}  # the older entry not taken


def test_a_page_naming_an_unknown_station_is_refused_with_its_reason(store: Store) -> None:
    feed = module_feeds()["environment.hourly"]
    stranger = Change(5, f"XX0001/{PM25}/{H}", "", {"mn": "XX0001", "code": PM25, "time": H, "n": 1, "total": 9.0,
                                                   "low": 9.0, "high": 9.0, "reported": None, "version": 5})
    assert feed.check(stranger) == []
    with pytest.raises(ZhulianError) as refused, store.transaction() as writer:
        feed.apply(writer, "nowhere", [stranger])
    assert "XX0001" in refused.value.message and "XX0001" in refused.value.message_zh
    wrong = Change(5, f"XX0001/{PM25}/{H + 60}", "", stranger.data | {"time": H + 60, "version": 0})
    assert {p.field for p in feed.check(wrong)} == {"/time", "/version"}


def test_a_write_waits_for_an_earlier_one_to_commit_so_the_feed_keeps_its_order(store: Store) -> None:
    """On PostgreSQL a change seq is handed out at write and seen at commit: a writer of the hourly rows holds their
    order until it commits, so a second cannot commit a later seq first (a hub reading "after seq N" would miss
    the earlier)."""
    if not store.is_postgres:
        pytest.skip("SQLite's one write lock orders every transaction already")
    service = EnvironmentService(store)
    station = service.add_station(CLI_ADMIN, "YT0001", name="盐田港", city=SHENZHEN, lon=114.27, lat=22.58)["id"]
    with store.transaction() as earlier:
        earlier.keep_order(hourly.name)  # an earlier write of the hourly rows, not yet committed
        later = threading.Thread(target=lambda: service.write([(station, H, PM25, "minute", 50.0, None, None, None,
                                                                "N")]))
        later.start()
        later.join(1.0)
        assert later.is_alive(), "the later write committed while an earlier one still held the order"
    later.join(30)
    assert not later.is_alive()
    with store.engine.connect() as connection:
        assert connection.execute(sa.select(hourly.c.change_seq, hourly.c.version)).one() == (1, 1)
