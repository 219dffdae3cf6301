"""Environmental data: ingest and query speed, beside a plain-insert baseline measured in the same run (issue 18).

    python bench/env_bench.py                      # SQLite and the local PostgreSQL (database test)
    python bench/env_bench.py --minutes 1440 --stations 10 --postgres ''   # SQLite only

Sizes (defaults, kept small for a shared machine): STATIONS air stations × 6 pollutants × MINUTES minute values
(10 × 6 × 1,440 = 86,400 values), written the way the listener writes them (the service's one write path,
``--batch`` packets a transaction, each value also folded into the hourly aggregate); then a year of hourly PM2.5 for
CITY_STATIONS stations of one city (5 × 8,760 = 43,800 values, also folding into the daily aggregate). Measured:

* ingest values/s through ``EnvironmentService.write``, beside a plain executemany/COPY of the same rows into a
  table with no key or index (the baseline);
* the HJ 212 TCP listener end to end: CONNECTIONS stations sending minute packets at once, each waiting for its
  data response (values/s);
* one station resending a 2,000-packet backlog without waiting for each answer (values/s);
* one station's round trip (packet to data response) alone and while three connections flood bad packets;
* the last 24 h of one station: its minute values (8,640 rows; on PostgreSQL also after a VACUUM, as autovacuum
  leaves them, when the covering key answers by an index-only scan) and its hourly values;
* a year of hourly PM2.5 for a city (all its stations): the city chart's series (``hourly_series``, what
  ``GET /api/v1/env/hourly`` answers), beside the same rows fetched with the bare driver;
* a SensorThings page: one datastream's last 1,000 minutes of Observations ($filter, $orderby, $top=1000) through
  the view, beside the same rows by bare SQL; and one alert check over every station.

Figures are printed; nothing is asserted. PostgreSQL gets a fresh schema, dropped afterwards.

Where PostgreSQL's ingest time went (profiled 2026-11-30 on the default sizes, 600 values a write; cProfile,
per-statement timing of the driver's calls, process CPU of the bench and of its server backend, EXPLAIN (ANALYZE,
BUFFERS); the machine shared with two other sessions, load 3-6 on 2 cores):

* Before: every inserted row came back to Python (RETURNING), was summed there into hours and days (a Python call
  a value), and went back as arrays in an upsert, after a separate nextval round trip: ~11 round trips a write and
  0.7-0.9 s of the bench's own CPU per 86,000 values, beside 0.55-0.8 s of the server backend's.
* In the server the insert into env_values is ~85 % of the write statement (~10 buffer hits a row). Measured
  apart (86,400 rows COPYed to a scratch table, then INSERT ... SELECT, 600 a transaction): the covering key with
  BRIN and ON CONFLICT DO NOTHING 54,000 values/s; without ON CONFLICT 78,000 (its check-then-insert is ~45 % of
  the insert); without BRIN 63,000-74,000; without the key's INCLUDE 58,000-60,000; an anti-join (NOT EXISTS)
  instead of ON CONFLICT 14,000. The key (the 24 h query's index-only scan) and BRIN (issue 18) stay.
* Commits cost 1.5 ms alone and up to 9 ms a commit while the other sessions write (one WAL to flush), and under
  load every round trip waits for two processes to be scheduled: round trips, not CPU, set the wall time.

So (service.py, _store_and_fold_postgres): one statement a write inserts the COPYed rows and folds the new ones into
the hourly and daily aggregates (INSERT ... SELECT ... GROUP BY ... ON CONFLICT DO UPDATE, change seqs in key
order), nothing comes back to Python; the insert first goes without ON CONFLICT and only a write holding a value
already stored (a resend) goes again from a savepoint with it; the order locks, the scratch table and the savepoint
go in one round trip. A write is now ~8 round trips, 0.3-0.4 s of the bench's CPU per 86,000 values.

The last 24 h of one station (EXPLAIN (ANALYZE, BUFFERS), this bench's table): an index-only scan of the two month
partitions by the covering key, but with 8,640 heap fetches until a VACUUM sets the visibility map (the same query
as count(*): ~15 ms before, ~2.5 ms after); fetching the rows as driver tuples adds ~7-12 ms. raw_values runs
without a transaction on PostgreSQL (no BEGIN and ROLLBACK round trips), and each month's partition is vacuumed
every 100,000 values inserted (migration environment_0008), so where autovacuum runs the last day stays mostly
index-only. This server runs with autovacuum off: here only the bench's own VACUUM marks the pages visible.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from zhulian.access import CLI_ADMIN  # noqa: E402
from zhulian.environment.alerts import AlertService  # noqa: E402
from zhulian.environment.aqi import CHINA  # noqa: E402
from zhulian.environment.hj212 import AIR_CODES, Reading, build, parse  # noqa: E402
from zhulian.environment.ingest import Ingestor, Listener  # noqa: E402
from zhulian.environment.service import HOUR, EnvironmentService, epoch  # noqa: E402
from zhulian.environment.sta import SensorThings  # noqa: E402
from zhulian.environment.sta_query import parse_options  # noqa: E402
from zhulian.store import Store  # noqa: E402

START = datetime(2026, 3, 1, tzinfo=CHINA)
CODES = list(AIR_CODES)


def minute_rows(station_ids: list[int], minutes: int, batch: int) -> list[list[tuple]]:
    """Batches of rows as packets give them: one packet = one station's six values of one minute."""
    packets = [[(sid, epoch(START) + 60 * m, code, "minute", 20.0 + (m % 17) + i, None, None, None, "N")
                for i, code in enumerate(CODES)] for m in range(minutes) for sid in station_ids]
    return [[row for packet in packets[i:i + batch] for row in packet] for i in range(0, len(packets), batch)]


def baseline(store: Store, batches: list[list[tuple]]) -> float:
    """A plain insert of the same rows: no key, no index, no aggregate."""
    with store.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE bench_plain (station_id integer, time bigint, code varchar(16), "
                                   "interval varchar(8), value double precision, low double precision, "
                                   "high double precision, count double precision, flag varchar(1))")
    started = time.perf_counter()
    for batch in batches:
        with store.engine.begin() as connection:
            if store.is_postgres:
                cursor = connection.connection.driver_connection.cursor()
                with cursor, cursor.copy("COPY bench_plain FROM STDIN") as copy:
                    for row in batch:
                        copy.write_row(row)
            else:
                connection.exec_driver_sql("INSERT INTO bench_plain VALUES (?,?,?,?,?,?,?,?,?)", batch)
    return sum(map(len, batches)) / (time.perf_counter() - started)


def timed(run, repeat: int = 20) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


async def tcp_ingest(service: EnvironmentService, mns: list[str], packets_each: int) -> float:
    ingestor = Ingestor(service)
    ingestor.start()
    server = await Listener(ingestor).start("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    day = START + timedelta(days=30)

    async def station(mn: str) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for m in range(packets_each):
            writer.write(build(mn=mn, pw="pw", cn="2051", data_time=day + timedelta(minutes=m),
                               readings=[Reading(code, 30.0 + m % 7) for code in CODES]))
            await writer.drain()
            parse(await reader.readuntil(b"\r\n"))
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(station(mn) for mn in mns))
    elapsed = time.perf_counter() - started
    server.close()
    await server.wait_closed()
    ingestor.stop()
    return len(mns) * packets_each * len(CODES) / elapsed


async def backlog_ingest(service: EnvironmentService, packets: int) -> float:
    """One station resending a backlog without waiting for each answer (values/s until the last answer)."""
    ingestor = Ingestor(service)
    ingestor.start()
    server = await Listener(ingestor).start("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    day = START + timedelta(days=90)
    backlog = b"".join(build(mn="AIR0001", pw="pw", cn="2051", data_time=day + timedelta(minutes=m),
                             readings=[Reading(code, 30.0 + m % 7) for code in CODES]) for m in range(packets))
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(backlog)
    await writer.drain()
    for _ in range(packets):
        await reader.readuntil(b"\r\n")
    elapsed = time.perf_counter() - started
    writer.close()
    server.close()
    await server.wait_closed()
    ingestor.stop()
    return packets * len(CODES) / elapsed


async def round_trips_under_flood(service: EnvironmentService, flooders: int, bad_each: int) -> tuple[float, float]:
    """Median round trip (ms) of one station's 100 packets alone, then while ``flooders`` connections each send
    ``bad_each`` packets with a wrong CRC."""
    ingestor = Ingestor(service)
    ingestor.start()
    server = await Listener(ingestor).start("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    good = build(mn="AIR0000", pw="pw", cn="2051", data_time=START, readings=[Reading(c, 30.0) for c in CODES])
    bad = good[:-6] + b"0000\r\n"

    async def station(first_minute: int) -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        trips = []
        for m in range(100):
            started = time.perf_counter()
            writer.write(build(mn="AIR0000", pw="pw", cn="2051", data_time=START + timedelta(days=60, minutes=first_minute + m),
                               readings=[Reading(c, 30.0) for c in CODES]))
            await writer.drain()
            await reader.readuntil(b"\r\n")
            trips.append((time.perf_counter() - started) * 1000)
        writer.close()
        return statistics.median(trips)

    async def flood() -> None:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(bad_each // 1000):
            writer.write(bad * 1000)
            await writer.drain()
        writer.close()

    alone = await station(0)
    flooded, *_ = await asyncio.gather(station(200), *(flood() for _ in range(flooders)))
    server.close()
    await server.wait_closed()
    ingestor.stop()
    return alone, flooded


def run(name: str, url: str, args: argparse.Namespace) -> None:
    store = Store(url)
    store.migrate()
    service = EnvironmentService(store)
    ids = [service.add_station(CLI_ADMIN, f"AIR{i:04d}", name=f"站{i}", city="440300", lon=114 + i / 100, lat=22.5,
                               password="pw")["id"] for i in range(args.stations)]
    city_ids = [service.add_station(CLI_ADMIN, f"GZ{i:04d}", name=f"广州{i}", city="440100", lon=113.2 + i / 100, lat=23.1)["id"]
                for i in range(args.city_stations)]
    batches = minute_rows(ids, args.minutes, args.batch)
    values = sum(map(len, batches))
    plain = baseline(store, batches)
    started = time.perf_counter()
    for batch in batches:
        service.write(batch)
    ingest = values / (time.perf_counter() - started)

    year = [(sid, epoch(START) + h * HOUR, "a34004", "hour", 10.0 + h % 50, None, None, None, "N")
            for sid in city_ids for h in range(8760)]
    started = time.perf_counter()
    for i in range(0, len(year), 5000):
        service.write(year[i:i + 5000])
    hourly_ingest = len(year) / (time.perf_counter() - started)

    tcp = asyncio.run(tcp_ingest(service, [f"AIR{i:04d}" for i in range(args.connections)], args.tcp_packets))

    backlog = asyncio.run(backlog_ingest(service, 2000))
    alone, flooded = asyncio.run(round_trips_under_flood(service, 3, 20_000))
    last = epoch(START) + 60 * args.minutes
    station = ids[0]

    def last_day_raw() -> int:
        return len(service.raw_values(station, last - 86400, last))

    def last_day_rows() -> int:
        """The same query through SQLAlchemy's row objects: the baseline the service's driver tuples beat."""
        with store.engine.connect() as connection:
            return len(connection.execute(sa.text(
                "SELECT time, code, value, flag FROM env_values WHERE station_id = :s AND time >= :a AND time < :b "
                "ORDER BY time"), {"s": station, "a": last - 86400, "b": last}).all())

    def bare_city_year() -> int:
        """The city query's rows straight from the driver, no service: the floor under the service's figure."""
        marker = "%s" if store.is_postgres else "?"
        sql = (f"SELECT station_id, code, time, coalesce(reported, total / nullif(n, 0)) FROM env_hourly WHERE "
               f"station_id IN ({','.join([marker] * len(city_ids))}) AND code = {marker} AND time >= {marker} "
               f"AND time < {marker}")
        connection = store.engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(sql, (*city_ids, "a34004", epoch(START), epoch(START) + 8760 * HOUR))
            return len(cursor.fetchall())
        finally:
            connection.close()

    rows_24h = last_day_raw()
    raw_24h, rows_object_24h = timed(last_day_raw), timed(last_day_rows)
    vacuumed_24h = vacuumed_rows_24h = None
    if store.is_postgres:  # the key covers the query: index-only once (auto)vacuum has marked the pages visible
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE) env_values")
        vacuumed_24h, vacuumed_rows_24h = timed(last_day_raw), timed(last_day_rows)
    hourly_24h = timed(lambda: service.hourly_values([station], CODES, last - 86400, last))
    year_end = START + timedelta(hours=8760)
    city_year = timed(lambda: service.hourly_series(city="440100", pollutant="PM2.5", since=START, until=year_end),
                      repeat=10)
    bare_year = timed(bare_city_year, repeat=10)
    year_points = len(service.hourly_values(city_ids, ["a34004"], epoch(START), epoch(START) + 8760 * HOUR))
    stream = datastream_of(store, station, "a34004")
    window = last - 1000 * 60  # the last 1,000 minutes: one page of $top=1000
    sta_options = parse_options({"$filter": f"phenomenonTime ge {datetime.fromtimestamp(window, timezone.utc):%Y-%m-%dT%H:%M:%SZ}",
                                 "$orderby": "phenomenonTime", "$top": "1000"})
    sta_view = SensorThings(service)
    sta_rows = len(sta_view.read("http://bench/sta/v1.1", [("Datastreams", str(stream)), ("Observations", None)],
                                 sta_options)[0]["value"])
    sta_page = timed(lambda: sta_view.read("http://bench/sta/v1.1", [("Datastreams", str(stream)),
                                                                    ("Observations", None)], sta_options), repeat=10)

    def bare_window() -> int:
        with store.engine.connect() as connection:
            return len(connection.execute(sa.text(
                "SELECT time, value, flag FROM env_values WHERE station_id = :s AND code = 'a34004' AND time >= :a "
                "ORDER BY time LIMIT 1001"), {"s": station, "a": window}).all())

    bare_page = timed(bare_window, repeat=10)
    alerts = AlertService(service)
    check = timed(lambda: alerts.check(last + HOUR), repeat=5)
    print(f"\n{name}")
    print(f"  ingest {values:,} minute values ({args.stations} stations × 6 × {args.minutes} min, {args.batch} packets a "
          f"transaction): {ingest:,.0f} values/s with hourly aggregates | plain insert baseline {plain:,.0f} values/s "
          f"({ingest / plain:.2f}×)")
    print(f"  ingest {len(year):,} hourly values (a year × {args.city_stations} stations): {hourly_ingest:,.0f} values/s "
          f"with daily aggregates")
    print(f"  HJ 212 over TCP: {args.connections} connections × {args.tcp_packets} packets × 6 values, each answered: "
          f"{tcp:,.0f} values/s")
    print(f"  HJ 212 over TCP: one station resending a 2,000-packet backlog without waiting: {backlog:,.0f} values/s")
    print(f"  one station's packet round trip (median of 100): {alone:.1f} ms alone, {flooded:.1f} ms while 3 other "
          f"connections send 20,000 bad packets each")
    print(f"  last 24 h of one station: {rows_24h:,} minute values (raw_values) {raw_24h[0]:.1f} ms median "
          f"({raw_24h[1]:.1f} max)"
          + (f", {vacuumed_24h[0]:.1f} ms once vacuumed ({vacuumed_24h[1]:.1f} max)" if vacuumed_24h else "")
          + f" | the same query as SQLAlchemy rows {rows_object_24h[0]:.1f} ms"
          + (f", {vacuumed_rows_24h[0]:.1f} ms once vacuumed" if vacuumed_rows_24h else "")
          + f"; its hourly values {hourly_24h[0]:.1f} ms ({hourly_24h[1]:.1f} max)")
    print(f"  a year of hourly PM2.5 for a city ({year_points:,} points, {args.city_stations} stations): "
          f"{city_year[0]:.1f} ms median ({city_year[1]:.1f} max) | the same rows from the bare driver "
          f"{bare_year[0]:.1f} ms")
    print(f"  SensorThings: a datastream's last 1,000 minutes ({sta_rows:,} Observations, $filter on phenomenonTime, "
          f"$orderby, $top=1000): {sta_page[0]:.1f} ms median ({sta_page[1]:.1f} max) | the same rows by bare SQL "
          f"{bare_page[0]:.1f} ms")
    print(f"  alert check of one hour over {args.stations + args.city_stations} stations: {check[0]:.1f} ms median "
          f"({check[1]:.1f} max)")
    store.close()


def datastream_of(store: Store, station_id: int, code: str) -> int:
    with store.engine.connect() as connection:
        return connection.execute(sa.text("SELECT id FROM env_datastreams WHERE station_id = :s AND code = :c"),
                                  {"s": station_id, "c": code}).scalar_one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=10)
    parser.add_argument("--minutes", type=int, default=1440)
    parser.add_argument("--city-stations", type=int, default=5)
    parser.add_argument("--batch", type=int, default=100, help="packets a transaction (the listener takes up to 2,000)")
    parser.add_argument("--connections", type=int, default=10)
    parser.add_argument("--tcp-packets", type=int, default=200)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test",
                        help="empty: SQLite only")
    args = parser.parse_args()
    if args.connections > args.stations:  # each connection speaks for a registered station; others get no answer
        parser.error(f"--connections ({args.connections}) 不能多于 --stations ({args.stations}) / may not exceed "
                     "--stations: each connection sends as one registered station")
    logging.getLogger("zhulian.environment.ingest").setLevel(logging.ERROR)  # the flood's refusals are expected
    print(f"load average before the run: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{folder}/bench.db", args)
    if args.postgres:
        schema = f"env_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(args.postgres, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        try:
            run("PostgreSQL", f"{args.postgres}?options=-csearch_path%3D{schema}", args)
        finally:
            with psycopg.connect(args.postgres, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    main()
