"""Stations, the value store with its aggregates, the AQI from stored data, historical imports, the API and the
CLI — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN
from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import POLLUTANT_CODES, Reading, build, parse
from zhulian.environment.history import import_history
from zhulian.environment.service import EnvironmentService
from zhulian.errors import ZhulianError
from zhulian.store import Store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "air"
AIR = {"PM2.5": 70, "PM10": 60, "SO2": 8, "NO2": 30, "CO": 0.6, "O3": 50}


def shared(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the shared data file {path} is absent (it sits beside the project checkout in ../shared/data)")
    return path


@pytest.fixture
def env(store: Store) -> EnvironmentService:
    service = EnvironmentService(store)
    service.add_station(CLI_ADMIN, "YT0001", name="盐田港", city="440300", lon=114.27, lat=22.58, password="secret")
    service.add_station(CLI_ADMIN, "YT0002", name="大梅沙", city="440300", lon=114.31, lat=22.59)
    return service


def hour_packet(mn: str, hour: datetime, air: dict[str, float], pw: str = "secret", cn: str = "2061") -> bytes:
    return build(mn=mn, pw=pw, cn=cn, data_time=hour, readings=[Reading(POLLUTANT_CODES[p], v) for p, v in air.items()])


def store_packets(env: EnvironmentService, *lines: bytes) -> int:
    return env.write([row for line in lines for row in env.rows_of(parse(line))])


def test_stations_are_checked_listed_and_unique(env: EnvironmentService) -> None:
    assert [s["mn"] for s in env.stations("440300")] == ["YT0001", "YT0002"]
    assert env.station("YT0001")["has_password"] is True and env.station("YT0002")["kind_zh"] == "空气"
    with pytest.raises(ZhulianError) as duplicate:
        env.add_station(CLI_ADMIN, "YT0001", name="again", city="440300", lon=114, lat=22)
    assert duplicate.value.status == 409
    with pytest.raises(ZhulianError) as bad:
        env.add_station(CLI_ADMIN, "YT 3", name=" ", city="4403", lon=200, lat=22, kind="volcano", zone_class="9")
    assert {p.field for p in bad.value.details} == {"mn", "name", "city", "lon", "kind", "zone_class"}
    with pytest.raises(ZhulianError) as missing:
        env.station("NOPE")
    assert missing.value.status == 404


def test_real_time_values_build_the_hour_once_and_flagged_values_stay_out(env: EnvironmentService) -> None:
    hour = datetime(2026, 3, 1, 8, tzinfo=CHINA)
    lines = [build(mn="YT0001", pw="secret", cn="2011", data_time=hour + timedelta(minutes=m),
                   readings=[Reading("a34004", 60.0 + m), Reading("a21026", 500.0, flag="D" if m == 30 else "N")])
             for m in range(0, 60, 10)]
    assert store_packets(env, *lines) == 12
    assert store_packets(env, *lines) == 0  # a resent packet is kept once and counted once
    found = env.hourly_values([env.station("YT0001")["id"]], ["a34004", "a21026"], 0, 2**40)
    start = int(hour.timestamp())
    assert found[(1, "a34004", start)] == pytest.approx(85.0)  # mean of 60, 70, … 110
    assert found[(1, "a21026", start)] == 500.0  # the fault-flagged value is stored but not averaged
    with env.store.engine.connect() as connection:
        row = connection.execute(sa.text("SELECT n, low, high FROM env_hourly WHERE code = 'a21026'")).one()
    assert tuple(row) == (5, 500.0, 500.0)
    raw = env.raw_values(env.station("YT0001")["id"], start + 600, start + 1800)  # [08:10, 08:30): two packets
    assert sorted(raw) == [(start + 600, "a21026", 500.0, "N"), (start + 600, "a34004", 70.0, "N"),
                           (start + 1200, "a21026", 500.0, "N"), (start + 1200, "a34004", 80.0, "N")]
    flagged = env.raw_values(env.station("YT0001")["id"], start + 1800, start + 1801)
    assert sorted(flagged) == [(start + 1800, "a21026", 500.0, "D"), (start + 1800, "a34004", 90.0, "N")]


def test_a_stations_hourly_report_wins_over_its_real_time_mean(env: EnvironmentService) -> None:
    hour = datetime(2026, 3, 1, 8, tzinfo=CHINA)
    store_packets(env, build(mn="YT0001", pw="secret", cn="2011", data_time=hour, readings=[Reading("a34004", 10.0)]),
                  hour_packet("YT0001", hour, {"PM2.5": 33.0}))
    assert env.hourly_values([1], ["a34004"], 0, 2**40) == {(1, "a34004", int(hour.timestamp())): 33.0}


def test_hourly_and_daily_aqi_from_stored_data_per_the_standard_in_force(env: EnvironmentService) -> None:
    for day in (datetime(2026, 2, 28, tzinfo=CHINA), datetime(2026, 3, 1, tzinfo=CHINA)):
        store_packets(env, *[hour_packet("YT0001", day + timedelta(hours=h), AIR) for h in range(24)])
    before = env.aqi(station="YT0001", at=datetime(2026, 2, 28, 23, 30, tzinfo=CHINA))["results"][0]
    after = env.aqi(station="YT0001", at=datetime(2026, 3, 1, 0, 10, tzinfo=CHINA))["results"][0]
    assert (before["standard"], before["aqi"], before["primary_pollutants"], before["category"]) == (
        "HJ633-2012", 94, ["PM2.5"], "良")
    assert (after["standard"], after["aqi"], after["primary_pollutants"], after["category"]) == (
        "HJ633-2026", 110, ["PM2.5"], "轻度污染")
    assert after["time"] == "2026-03-01T00:00:00+08:00" and after["station"] == "YT0001"
    day = env.aqi(station="YT0001", at=datetime(2026, 3, 1, 12, tzinfo=CHINA), kind="daily")["results"][0]
    assert (day["aqi"], day["primary_pollutants"], day["iaqi"]["O3_8h"]) == (110, ["PM2.5"], 25)
    old_day = env.aqi(station="YT0001", at=datetime(2026, 2, 28, 12, tzinfo=CHINA), kind="daily")["results"][0]
    assert old_day["standard"] == "HJ633-2012" and set(old_day["iaqi"]) >= {"O3_8h", "O3_1h"}


def test_a_day_with_too_few_hours_has_no_daily_mean(env: EnvironmentService) -> None:
    day = datetime(2026, 3, 2, tzinfo=CHINA)
    store_packets(env, *[hour_packet("YT0001", day + timedelta(hours=h), AIR) for h in range(19)])
    result = env.aqi(station="YT0001", at=day, kind="daily")["results"][0]
    assert result["aqi"] is None and set(result["missing"]) == {"PM2.5", "PM10", "SO2", "NO2", "CO"}


def test_a_city_gets_each_station_and_its_mean(env: EnvironmentService) -> None:
    hour = datetime(2026, 3, 1, 9, tzinfo=CHINA)
    store_packets(env, hour_packet("YT0001", hour, AIR), hour_packet("YT0002", hour, AIR | {"PM2.5": 30}, pw="any"))
    body = env.aqi(city="440300", at=hour)
    assert [(r["station"], r["aqi"]) for r in body["results"]] == [("YT0001", 110), ("YT0002", 58)]
    assert body["city"]["concentrations"]["PM2.5"] == "50" and body["city"]["aqi"] == 80


def test_postgres_values_are_partitioned_by_month_with_brin_on_time_and_a_covering_key(env: EnvironmentService) -> None:
    if not env.store.is_postgres:
        pytest.skip("partitions are PostgreSQL's")
    store_packets(env, hour_packet("YT0001", datetime(2026, 2, 28, 23, tzinfo=CHINA), AIR),
                  hour_packet("YT0001", datetime(2026, 3, 15, 12, tzinfo=CHINA), AIR))
    with env.store.engine.connect() as connection:
        partitions = connection.execute(sa.text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'env_values' "
            "AND p.relnamespace = current_schema()::regnamespace ORDER BY 1")).scalars().all()
        indexes = connection.execute(sa.text("SELECT indexdef FROM pg_indexes WHERE tablename = 'env_values' "
                                             "AND schemaname = current_schema()")).scalars().all()
        vacuumed_after = connection.execute(sa.text(
            "SELECT option FROM pg_class, unnest(reloptions) AS option WHERE relname = 'env_values_p202603' "
            "AND relnamespace = current_schema()::regnamespace ORDER BY 1")).scalars().all()
    assert partitions == ["env_values_p202602", "env_values_p202603"]
    # vacuumed every 100,000 values, so the visibility map keeps up and recent values are read index-only
    assert vacuumed_after == ["autovacuum_vacuum_insert_scale_factor=0", "autovacuum_vacuum_insert_threshold=100000"]
    assert any("brin" in definition for definition in indexes)
    # the key covers a station's raw values over a span: read by an index-only scan
    assert any("(station_id, \"time\", code, \"interval\") INCLUDE (value, flag)" in d for d in indexes), indexes


def beijing_slice(tmp_path: Path, rows: int = 48, edit: dict[str, str] | None = None) -> Path:
    source = shared("beijing_multisite_uci", "PRSA_Data_Dongsi_20130301-20170228.csv")
    target = tmp_path / "dongsi.csv"
    with open(source, encoding="utf-8") as file, open(target, "w", encoding="utf-8", newline="") as out:
        reader, writer = csv.DictReader(file), None
        for index, row in enumerate(reader):
            if index == rows:
                break
            writer = writer or csv.DictWriter(out, fieldnames=reader.fieldnames)
            if index == 0:
                writer.writeheader()
            writer.writerow(row | (edit or {}) if index == 5 else row)
    return target


def test_the_uci_beijing_file_imports_by_station_name_with_co_in_mg(env: EnvironmentService, tmp_path: Path) -> None:
    env.add_station(CLI_ADMIN, "BJDS01", name="Dongsi", city="110000", lon=116.417, lat=39.929)
    summary = import_history(env, beijing_slice(tmp_path))
    assert summary["rows"] == 48 and summary["from"] == "2013-03-01T00:00:00+08:00"
    assert summary["stored"] == summary["values"] > 250
    station = env.station("BJDS01")["id"]
    first = datetime(2013, 3, 1, 0, tzinfo=CHINA)
    found = env.hourly_values([station], ["a34004", "a21005"], int(first.timestamp()), int(first.timestamp()) + 1)
    assert found[(station, "a34004", int(first.timestamp()))] == 9.0 and found[(station, "a21005", int(first.timestamp()))] == 0.3
    result = env.aqi(station="BJDS01", at=datetime(2013, 3, 1, 12, tzinfo=CHINA), kind="daily")["results"][0]
    assert result["standard"] == "HJ633-2012" and result["aqi"] is not None


def test_a_bad_row_refuses_the_whole_file_with_its_reason(env: EnvironmentService, tmp_path: Path) -> None:
    env.add_station(CLI_ADMIN, "BJDS01", name="Dongsi", city="110000", lon=116.417, lat=39.929)
    with pytest.raises(ZhulianError) as refused:
        import_history(env, beijing_slice(tmp_path, edit={"PM10": "lots", "SO2": "-3"}))
    assert [(p.field, p.reason) for p in refused.value.details] == [
        ("row 7: PM10", "not a number"), ("row 7: SO2", "a concentration cannot be negative")]
    with env.store.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM env_values")).scalar() == 0


def test_the_guangzhou_file_goes_to_stations_named_after_its_columns(env: EnvironmentService, tmp_path: Path) -> None:
    source = shared("guangzhou_pm25_uci")
    original = next(source.glob("*.csv"))
    with open(original, encoding="utf-8") as file:
        lines = file.readlines()
    target = tmp_path / "guangzhou.csv"
    target.write_text(lines[0] + "".join(lines[16548:16548 + 24]), encoding="utf-8")
    with pytest.raises(ZhulianError, match="problem"):
        import_history(env, target)  # its sites are not stations yet: the refusal names them
    for name in ("City Station", "5th Middle School", "US Post"):
        env.add_station(CLI_ADMIN, name.replace(" ", "")[:10].upper(), name=name, city="440100", lon=113.26, lat=23.13)
    summary = import_history(env, target)
    assert summary["rows"] == 24 and 0 < summary["stored"] <= 72


def test_xlsx_imports_like_csv(env: EnvironmentService, tmp_path: Path) -> None:
    from openpyxl import Workbook

    env.add_station(CLI_ADMIN, "BJDS01", name="Dongsi", city="110000", lon=116.417, lat=39.929)
    workbook = Workbook()
    with open(beijing_slice(tmp_path, rows=24), encoding="utf-8") as file:
        for row in csv.reader(file):
            workbook.active.append(row)
    workbook.save(tmp_path / "dongsi.xlsx")
    summary = import_history(env, tmp_path / "dongsi.xlsx", station="BJDS01")
    assert summary["rows"] == 24 and summary["stored"] > 100


def test_the_api_answers_a_station_and_refuses_bad_queries(env: EnvironmentService, tmp_path: Path) -> None:
    from zhulian.config import Settings
    from zhulian.web.app import create_app

    store_packets(env, hour_packet("YT0001", datetime(2026, 3, 1, 8, tzinfo=CHINA), AIR))
    app = create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0), store=env.store)
    with TestClient(app) as client:
        answer = client.get("/api/v1/env/aqi", params={"station": "YT0001", "time": "2026-03-01T08:30:00+08:00"})
        assert answer.status_code == 200
        result = answer.json()["results"][0]
        assert (result["station"], result["time"], result["aqi"], result["primary_pollutants"], result["category"]) == (
            "YT0001", "2026-03-01T08:00:00+08:00", 110, ["PM2.5"], "轻度污染")
        assert result["iaqi"]["PM2.5"] == 110
        city = client.get("/api/v1/env/aqi", params={"city": "440300", "time": "2026-03-01T08:00"}).json()
        assert len(city["results"]) == 2 and city["city"]["aqi"] == 110  # YT0002 has no data: the mean is YT0001's
        for bad_time in ("yesterday", "0001-01-01T00:00+14:00"):
            refused = client.get("/api/v1/env/aqi", params={"station": "YT0001", "time": bad_time})
            assert refused.status_code == 400 and refused.json()["error"]["details"][0]["field"] == "time"
        assert client.get("/api/v1/env/aqi", params={"station": "YT0001", "time": "2026-03-01", "kind": "weekly"}
                          ).status_code == 400
        assert client.get("/api/v1/env/aqi", params={"station": "NOPE", "time": "2026-03-01"}).status_code == 404
        assert client.get("/api/v1/env/stations", params={"city": "440300"}).json()["meta"]["count"] == 2
        chart = client.get("/api/v1/env/hourly", params={"city": "440300", "pollutant": "PM2.5",
                                                         "from": "2026-03-01", "to": "2026-03-02"}).json()
        assert [(s["station"], s["points"]) for s in chart["series"]] == [
            ("YT0001", [[int(datetime(2026, 3, 1, 8, tzinfo=CHINA).timestamp()), 70.0]]), ("YT0002", [])]
        too_long = client.get("/api/v1/env/hourly", params={"station": "YT0001", "pollutant": "PM1",
                                                            "from": "2025-01-01", "to": "2026-03-02"})
        assert too_long.status_code == 400
        assert {p["field"] for p in too_long.json()["error"]["details"]} == {"pollutant", "to"}


def test_the_cli_adds_lists_and_imports(run, tmp_path: Path) -> None:
    run("env", "station", "add", "BJDS01", "--name", "Dongsi", "--city", "110000", "--lon", "116.417", "--lat",
        "39.929", "--kind", "air", "--password", "pw1")
    listed = json.loads(run("env", "station", "list", "--json").output)
    assert [(s["mn"], s["has_password"]) for s in listed] == [("BJDS01", True)]
    assert "already exists" in run("env", "station", "add", "BJDS01", "--name", "x", "--city", "110000", "--lon", "1",
                                   "--lat", "1", code=2).output
    summary = json.loads(run("env", "import", str(beijing_slice(tmp_path, rows=24)), "--json").output)
    assert summary["rows"] == 24
    answer = json.loads(run("env", "aqi", "--station", "BJDS01", "--time", "2013-03-01T05:00").output)
    assert answer["results"][0]["standard"] == "HJ633-2012"


def test_under_hj633_2012_an_hourly_so2_above_800_takes_the_stored_24_hour_mean(env: EnvironmentService) -> None:
    last = datetime(2026, 2, 28, 23, tzinfo=CHINA)
    hours = [hour_packet("YT0001", last - timedelta(hours=h), AIR | {"SO2": 801 if h == 0 else 476}) for h in range(24)]
    store_packets(env, *hours)
    result = env.aqi(station="YT0001", at=last)["results"][0]
    # The 24 hours' mean (23 × 476 + 801) / 24 = 489.54 rounds to 490: IAQI 150 + 15/325·50 = 152.3 → 153.
    assert (result["standard"], result["iaqi"]["SO2"], result["aqi"], result["primary_pollutants"]) == (
        "HJ633-2012", 153, 153, ["SO2"])
    assert result["exceeding_pollutants"] == ["SO2"]


def test_aggregates_stay_exact_over_resends_duplicates_and_flags(env: EnvironmentService) -> None:
    """Values arrive over several writes, some resent (in a later write and twice within one): each hour and day
    counts every valid value once, with its exact sum, minimum and maximum, and the station's own report beside."""
    sid, hour = env.station("YT0001")["id"], int(datetime(2026, 3, 1, 8, tzinfo=CHINA).timestamp())

    def minute(m: int, value: float | None, flag: str = "N") -> tuple:
        return (sid, hour + 60 * m, "a34004", "minute", value, None, None, None, flag)

    assert env.write([minute(0, 10.0), minute(1, 20.0), minute(2, 30.0)]) == 3
    assert env.write([minute(1, 20.0), minute(3, 40.0), minute(3, 40.0), minute(4, 99.0, "D"), minute(5, None)]) == 3
    hour_report = (sid, hour, "a34004", "hour", 26.0, None, None, None, "N")
    day_start = int(datetime(2026, 3, 1, tzinfo=CHINA).timestamp())
    other_hour = (sid, day_start, "a34004", "hour", 14.0, None, None, None, "N")
    assert env.write([hour_report, hour_report, other_hour]) == 2
    assert env.write([(sid, day_start, "a34004", "day", 21.0, None, None, None, "N"), hour_report]) == 1
    with env.store.engine.connect() as connection:
        hours = connection.execute(sa.text("SELECT time, n, total, low, high, reported FROM env_hourly "
                                           "ORDER BY time")).all()
        days = connection.execute(sa.text("SELECT time, n, total, low, high, reported FROM env_daily")).all()
        seqs = connection.execute(sa.text("SELECT change_seq, version FROM env_hourly UNION ALL "
                                          "SELECT change_seq, version FROM env_daily")).all()
    assert [tuple(row) for row in hours] == [(day_start, 0, 0.0, None, None, 14.0), (hour, 4, 100.0, 10.0, 40.0, 26.0)]
    assert [tuple(row) for row in days] == [(day_start, 2, 40.0, 14.0, 26.0, 21.0)]
    assert len({seq for seq, _ in seqs}) == 3 and all(seq == version for seq, version in seqs)
    assert env.hourly_values([sid], ["a34004"], hour, hour + 3600) == {(sid, "a34004", hour): 26.0}
