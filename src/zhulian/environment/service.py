"""The environment service: stations, the one write path for their values (packets, MQTT, imports all come
here), the aggregates kept as values arrive, and the AQI of a station or a city at a time."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from functools import cache
from statistics import fmean
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from psycopg.errors import UniqueViolation

from zhulian.access import Principal
from zhulian.environment import aqi as hj633
from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import AIR_CODES, POLLUTANT_CODES, VALID_FLAG, Packet, PacketError
from zhulian.environment.sta_catalogue import OBSERVATION_TYPE, unit_of
from zhulian.environment.tables import HJ212_SENSOR, daily, datastreams, hourly, properties, stations
from zhulian.environment.types import NOISE_ZONES as ZONE_NAMES
from zhulian.environment.types import STATION_KINDS
from zhulian.environment.types import WATER_CLASSES as CLASS_NAMES
from zhulian.errors import Problem, ZhulianError, conflict, invalid
from zhulian.records import RecordService
from zhulian.store import Store, Writer, now, order_lock

if TYPE_CHECKING:
    from zhulian.records.service import Batch

KINDS = {code: zh for code, (zh, _en) in STATION_KINDS.items()}
NOISE_ZONES = tuple(ZONE_NAMES)
WATER_CLASSES = tuple(CLASS_NAMES)
HOUR, DAY = 3600, 86400
CHINA_OFFSET = 8 * HOUR
MAX_SERIES = timedelta(days=366)
DAILY_MIN_HOURS = 20  # GB 3095: a daily mean needs at least 20 hourly values
O3_8H_MIN_HOURS = 6  # and an 8-hour mean at least 6
UNKNOWN_MN_TTL_S = 10.0  # a station added by another process is heard within this
UNKNOWN_MN_KEPT = 10_000
_MN = re.compile(r"^[0-9A-Za-z]{1,24}$")
_ADCODE = re.compile(r"^\d{6}$")
# (station_id, time, code, interval, value, low, high, count, flag)
ValueRow = tuple[int, int, str, str, float | None, float | None, float | None, float | None, str]
_COLUMNS = "station_id, time, code, interval, value, low, high, count, flag"
Learned = tuple[set[int], set[tuple[int, str]]]  # partitions (month starts) and (station id, code) datastreams
WRITE_CHUNK = 20_000  # values inserted and aggregated at a time within a write
_SQLITE_ROWS_PER_INSERT = 900  # nine or ten parameters a row, under SQLite's 32,766
FEED_PAGE = 1000  # change-feed entries read at a time when bringing the station rows up to the records
# A month's partition is vacuumed every 100,000 values inserted (migration environment_0008 says why): a station's
# recent values then stay readable by an index-only scan.
PARTITION_SETTINGS = "autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 100000"
# What folds into each aggregate: values of these intervals are summed (n, total, low, high); the station's own
# report of the period (the other interval) is kept as reported and wins when the aggregate is read.
# A period's start is the time less its floored remainder (% truncates towards zero: times before 1970 too).
_FOLDS = (("env_hourly", ("rtd", "minute"), "hour", f"time - (time % {HOUR} + {HOUR}) % {HOUR}"),
          ("env_daily", ("hour",), "day", f"time - ((time + {CHINA_OFFSET}) % {DAY} + {DAY}) % {DAY}"))


def _fold_into(table: str, summed: tuple[str, ...], reported: str, period: str) -> str:
    """A CTE upserting ``table`` from the assessable new values (``assessed``), one row per station × code × period
    (``period``: the SQL of a value's period start, as Python's // gives it). Each row touched takes the next change
    seq (as its version too), handed out in key order, the order rows are locked in."""
    intervals = ", ".join(f"'{interval}'" for interval in summed)
    only = f"FILTER (WHERE interval IN ({intervals}))"
    return f"""{table}_rows AS (
    INSERT INTO {table} (station_id, code, time, n, total, low, high, reported, change_seq, version)
    SELECT station_id, code, time, n, total, low, high, reported, seq, seq FROM (
        SELECT *, nextval('env_aggregate_changes') AS seq FROM (
            SELECT station_id, code, {period} AS time, count(value) {only} AS n,
                   coalesce(sum(value) {only}, 0) AS total, min(value) {only} AS low, max(value) {only} AS high,
                   max(value) FILTER (WHERE interval = '{reported}') AS reported
            FROM assessed WHERE interval IN ({intervals}, '{reported}')
            GROUP BY 1, 2, 3 ORDER BY 1, 2, 3) AS grouped) AS numbered
    ON CONFLICT (station_id, code, time) DO UPDATE SET {_merged_sums(table, "least", "greatest")},
        change_seq = excluded.change_seq, version = excluded.change_seq)"""


def _merged_sums(table: str, least: str, greatest: str) -> str:
    """An aggregate row's update by new sums (``excluded``): counts and totals add, the extremes widen, a
    reported value replaces; ``least``/``greatest`` are the dialect's two-argument min and max."""
    return (f"n = {table}.n + excluded.n, total = {table}.total + excluded.total, "
            f"low = {least}(coalesce({table}.low, excluded.low), coalesce(excluded.low, {table}.low)), "
            f"high = {greatest}(coalesce({table}.high, excluded.high), coalesce(excluded.high, {table}.high)), "
            f"reported = coalesce(excluded.reported, {table}.reported)")


def _stage_and_fold(cursor: Any, rows: list[ValueRow], *, all_new: bool) -> int:
    with cursor.copy(f"COPY env_incoming ({_COLUMNS}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return int(cursor.execute(_fold_postgres(all_new=all_new)).fetchone()[0])


@cache
def _fold_postgres(*, all_new: bool) -> str:
    """PostgreSQL's write of a chunk in one statement: the staged rows leave the scratch table (a long write's next
    chunk starts from an empty one), go into env_values (``all_new``: as a plain insert, which fails on a value
    already stored; else what is new), and the new values that count (flag N, a value) fold into the aggregates;
    it answers how many values were new."""
    return (f"WITH staged AS (DELETE FROM env_incoming RETURNING {_COLUMNS}),\n"
            f"new AS (INSERT INTO env_values ({_COLUMNS}) SELECT {_COLUMNS} FROM staged"
            + ("" if all_new else " ON CONFLICT DO NOTHING")
            + " RETURNING station_id, time, code, interval, value, flag),\n"
            f"assessed AS (SELECT * FROM new WHERE flag = '{VALID_FLAG}' AND value IS NOT NULL),\n"
            + ",\n".join(_fold_into(*fold) for fold in _FOLDS) + "\nSELECT count(*) FROM new")


def hash_password(password: str) -> str:
    salt = secrets.token_hex(8)
    return f"sha256${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def password_matches(password: str, stored: str) -> bool:
    _, salt, digest = stored.split("$")
    return hmac.compare_digest(hashlib.sha256((salt + password).encode()).hexdigest(), digest)


def require_staff(principal: Principal, work: str, work_zh: str) -> None:
    """The monitoring centre's work (alerts, citizen reports) is for publishers and administrators."""
    if principal.role not in ("admin", "publisher"):
        anonymous = principal.role == "anonymous"
        raise ZhulianError("unauthorized" if anonymous else "forbidden",
                           f"This is for the monitoring centre's staff ({work}): sign in with a publisher's "
                           "or an administrator's key.", f"{work_zh}仅限监控中心工作人员：请以发布者或管理员密钥登录。",
                           401 if anonymous else 403)


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def china_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, CHINA).isoformat()


def parse_time(text: str) -> datetime:
    """An ISO 8601 time; without an offset it is China time, as HJ 212 and the published reports use."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise invalid([Problem("time", text, "not an ISO 8601 time, e.g. 2026-03-01T08:00+08:00",
                               "不是 ISO 8601 时间，例如 2026-03-01T08:00+08:00")], "query") from None
    if not 1900 <= moment.year <= 2100:
        raise invalid([Problem("time", text, "the time must fall in the years 1900–2100", "时间须在 1900–2100 年之间")],
                      "query")
    return moment if moment.tzinfo else moment.replace(tzinfo=CHINA)


def china_day_start(seconds: int) -> int:
    return (seconds + CHINA_OFFSET) // DAY * DAY - CHINA_OFFSET


class EnvironmentService:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._credentials: dict[str, tuple[int, str | None]] = {}  # MN -> (station id, password hash)
        self._unknown: dict[str, float] = {}  # MN -> when it was found unregistered (a flood asks the database once)
        self._months: set[int] = set()  # PostgreSQL partitions known to exist (start of month, UTC seconds)
        self._series: set[tuple[int, str]] = set()  # (station id, code) pairs known to have a datastream
        self._synced: int | None = None  # the change feed's position the station rows were last brought up to
        self._sync_lock = threading.Lock()

    # -- stations ----------------------------------------------------------------------------------

    def add_station(self, principal: Principal, mn: str, *, name: str, city: str, lon: float, lat: float,
                    kind: str = "air", password: str | None = None, district: str | None = None,
                    zone_class: str | None = None, water_target: str | None = None,
                    operator: str | None = None) -> dict[str, Any]:
        """A new station: its record, written as ``principal`` (audited), and its operational row with the HJ 212
        password, in one transaction. ``operator`` names the operating organisation (id or scheme:value)."""
        problems = station_problems(mn, name, city, lon, lat, kind, zone_class, water_target)
        if problems:
            raise invalid(problems)
        self.sync_stations()  # a station record of this MN made elsewhere is a station already
        row = {"mn": mn, "name": name.strip(), "kind": kind, "city": city, "district": district, "lon": lon,
               "lat": lat, "password_hash": hash_password(password) if password else None,
               "zone_class": zone_class, "water_target": water_target, "created": now()}
        with RecordService(self.store).batch(principal) as batch:
            self.record_station(batch, row, operator)
        return self.station(mn)

    def record_station(self, batch: Batch, row: dict[str, Any], operator: str | None = None) -> int:
        """Write a checked station's record through ``batch`` and its operational row in the same transaction;
        the row's id (what its values are stored under)."""
        if batch.connection.execute(sa.select(stations.c.id).where(stations.c.mn == row["mn"])).first():
            raise conflict(f"A station with MN {row['mn']} already exists.", f"MN 为 {row['mn']} 的站点已存在。")
        record = batch.create(station_record(row, operator))
        station_id = batch.connection.execute(stations.insert().values(**row, record_id=record["id"]))
        self._unknown.pop(row["mn"], None)
        return int(station_id.inserted_primary_key[0])

    def sync_stations(self, within: sa.Connection | None = None) -> None:
        """Bring the operational rows up to the station records changed since this process last looked, by any
        path: the record API, an import, a harvest of a district's node (the hub then has every district's
        stations). The first call looks at every station record; later ones read the change feed. ``within``: a
        transaction the caller holds (a harvested page's), to write the rows in; a service used that way is the
        caller's own, since it takes the rows as synced before that transaction commits."""
        with self._sync_lock:
            last = self.store.last_seq()
            if last == self._synced:
                return
            changed = self._station_records_since(self._synced)
            if changed and within is not None:
                self._project_all(within, changed)
            elif changed:
                with self.store.transaction() as writer:
                    self._project_all(writer.connection, changed)
            self._synced = last

    def _project_all(self, connection: sa.Connection, record_ids: set[str]) -> None:
        for record_id in sorted(record_ids):
            self._project(connection, record_id)
        self._credentials.clear()  # an MN or password may belong to another row now
        self._unknown.clear()

    def _station_records_since(self, seq: int | None) -> set[str]:
        if seq is None:  # every live station record, and every row whose record may have gone
            with self.store.engine.connect() as connection:
                found = set(connection.execute(sa.select(stations.c.record_id).where(
                    stations.c.record_id.is_not(None))).scalars())
            offset = 0
            while page := self.store.query("station", limit=FEED_PAGE, offset=offset).results:
                found |= {record["id"] for record in page}
                offset += len(page)
            return found
        found = set()
        while entries := self.store.changes(seq, FEED_PAGE):
            found |= {entry["id"] for entry in entries if entry["type"] == "station"}
            seq = entries[-1]["seq"]
        return found

    def _project(self, connection: sa.Connection, record_id: str) -> None:
        """One station record onto its operational row: created, updated, or removed with the record (its
        values stay stored; its datastreams go with it)."""
        record = self.store.get(record_id, include_deleted=True)
        mn = (record.get("pids") or {}).get("mn")
        current = connection.execute(sa.select(stations.c.id).where(stations.c.record_id == record_id)).scalar()
        if record.get("deleted") or not mn:
            if current is not None:
                connection.execute(datastreams.delete().where(datastreams.c.station_id == current))
                connection.execute(stations.delete().where(stations.c.id == current))
                self._series = {pair for pair in self._series if pair[0] != current}
            return
        names = record.get("name") or {}
        columns = {"mn": mn, "name": names.get("zh") or names.get("en") or mn, "kind": record.get("kind") or "air",
                   "city": record.get("city") or "", "lon": record.get("lon"), "lat": record.get("lat"),
                   **{key: record.get(key) for key in ("district", "zone_class", "water_target")}}
        if current is None:  # a station added before stations were records has its MN and no record yet
            current = connection.execute(sa.select(stations.c.id).where(
                stations.c.mn == mn, stations.c.record_id.is_(None))).scalar()
        if current is None:
            connection.execute(stations.insert().values(**columns, record_id=record_id, password_hash=None,
                                                        created=now()))
        else:
            connection.execute(stations.update().where(stations.c.id == current).values(**columns,
                                                                                         record_id=record_id))

    def stations(self, city: str | None = None) -> list[dict[str, Any]]:
        self.sync_stations()
        query = sa.select(stations).order_by(stations.c.city, stations.c.mn)
        if city:
            query = query.where(stations.c.city == city)
        with self.store.engine.connect() as connection:
            return [_public(row) for row in connection.execute(query).mappings()]

    def station(self, mn: str) -> dict[str, Any]:
        self.sync_stations()
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(stations).where(stations.c.mn == mn)).mappings().first()
        if row is None:
            raise ZhulianError("not_found", f"No station with MN {mn!r}; `zhulian env station list` shows them.",
                               f"没有 MN 为 {mn!r} 的站点；用 `zhulian env station list` 查看。", 404)
        return _public(row)

    def authenticate(self, mn: str, password: str) -> int:
        """The station id of a packet's MN, after checking its PW (a station without a password takes any)."""
        known = self._credentials.get(mn)
        if known is None:
            if time.monotonic() - self._unknown.get(mn, -UNKNOWN_MN_TTL_S) < UNKNOWN_MN_TTL_S:
                raise PacketError(f"unknown MN {mn}", f"未登记的 MN {mn}")
            self.sync_stations()  # a station record made or harvested since
            with self.store.engine.connect() as connection:
                row = connection.execute(sa.select(stations.c.id, stations.c.password_hash)
                                         .where(stations.c.mn == mn)).first()
            if row is None:
                if len(self._unknown) > UNKNOWN_MN_KEPT:  # a flood of made-up MNs does not grow this for ever
                    self._unknown.clear()
                self._unknown[mn] = time.monotonic()
                raise PacketError(f"unknown MN {mn}", f"未登记的 MN {mn}")
            known = self._credentials[mn] = (row.id, row.password_hash)
        station_id, stored = known
        if stored is not None and not password_matches(password, stored):
            raise PacketError(f"wrong PW for MN {mn}", f"MN {mn} 的密码（PW）不正确")
        return station_id

    # -- writing -----------------------------------------------------------------------------------

    def rows_of(self, packet: Packet) -> list[ValueRow]:
        """A data packet's values as rows, after checking its MN and PW (of any packet); other commands give none."""
        station_id = self.authenticate(packet.mn, packet.pw)
        if packet.interval is None or packet.data_time is None:
            return []
        start = epoch(packet.data_time)
        return [(station_id, start, r.code, packet.interval, r.value, r.low, r.high, r.count, r.flag)
                for r in packet.readings]

    def write(self, rows: list[ValueRow]) -> int:
        """Store values and bring the hourly and daily aggregates up to them, in one transaction. A value already
        stored (same station, time, code and interval) is kept as it was and not counted twice."""
        if not rows:
            return 0
        with self.store.transaction() as writer:
            stored, learned = self.write_in(writer.connection, rows)
        self.learn(learned)
        return stored

    def write_in(self, connection: sa.Connection, rows: list[ValueRow]) -> tuple[int, Learned]:
        """``write`` within the caller's transaction (a SensorThings deep insert stores its station and values
        together): the values stored and the partitions and datastreams made, for ``learn`` once it commits."""
        stored = 0
        new_months = self._ensure_partitions(connection, rows) if self.store.is_postgres else set()
        new_series = self._ensure_datastreams(connection, rows)
        store_and_fold = self._store_and_fold_postgres if self.store.is_postgres else self._store_and_fold_sqlite
        for start in range(0, len(rows), WRITE_CHUNK):  # one transaction, in pieces: a whole file fits in memory
            stored += store_and_fold(connection, rows[start:start + WRITE_CHUNK])
        return stored, (new_months, new_series)

    def learn(self, learned: Learned) -> None:
        """Remember what a committed write made, so later writes skip asking (a rolled-back one taught nothing)."""
        self._months |= learned[0]
        self._series |= learned[1]

    def _ensure_datastreams(self, connection: sa.Connection, rows: list[ValueRow]) -> set[tuple[int, str]]:
        """A SensorThings datastream for each station × code not seen before: found, or added with the code's
        observed property and the HJ 212 sensor."""
        pairs = {(row[0], row[2]) for row in rows} - self._series
        if not pairs:
            return pairs
        known = {(r.station_id, r.code) for r in connection.execute(
            sa.select(datastreams.c.station_id, datastreams.c.code).where(
                datastreams.c.station_id.in_({station_id for station_id, _ in pairs})))}
        for station_id, code in sorted(pairs - known):
            self.add_datastream(connection, station_id, code)
        return pairs

    def add_datastream(self, connection: sa.Connection, station_id: int, code: str, *,
                       described: dict[str, Any] | None = None) -> int:
        """A station's datastream of one parameter code (the defaults describe HJ 212 values); its id."""
        if existing := connection.execute(sa.select(datastreams.c.id).where(
                datastreams.c.station_id == station_id, datastreams.c.code == code)).scalar():
            return int(existing)
        row = {"station_id": station_id, "code": code, "name": f"{AIR_CODES.get(code, code)}",
               "description": f"HJ 212-2017 {code}", "unit": unit_of(code), "observation_type": OBSERVATION_TYPE,
               "sensor_id": HJ212_SENSOR, "property_id": self.property_of(connection, code)} | (described or {})
        return int(connection.execute(datastreams.insert().values(**row)).inserted_primary_key[0])

    def property_of(self, connection: sa.Connection, code: str) -> int:
        """The observed property of a parameter code, added (named by its code) when there is none."""
        if found := connection.execute(sa.select(properties.c.id).where(properties.c.code == code)).scalar():
            return int(found)
        return int(connection.execute(properties.insert().values(
            code=code, name=code, definition=f"HJ 212-2017 {code}", description=code)).inserted_primary_key[0])

    def _store_and_fold_postgres(self, connection: sa.Connection, rows: list[ValueRow]) -> int:
        """Insert what is new and fold it into the aggregates in the server: the rows are COPYed into a session's
        scratch table (COPY moves rows for a fraction of what bound parameters cost), then one statement inserts
        them and upserts the hourly and daily rows from the new ones; no value comes back to Python. The statement
        first takes every row as new: a plain insert costs about half what ON CONFLICT's check-then-insert does.
        Should one already be stored (a resend), it fails with a unique violation, and the write goes again from
        the savepoint with ON CONFLICT DO NOTHING. Round trips are what a loaded machine makes costly, so the
        aggregates' order locks (Writer.keep_order), the scratch table and the savepoint go in one. The profile
        behind this is in bench/env_bench.py."""
        setup = [order_lock(table) for table, summed, reported, _ in _FOLDS  # its seqs become visible in order
                 if any(row[3] in summed or row[3] == reported for row in rows)]
        setup += ["CREATE TEMP TABLE IF NOT EXISTS env_incoming (LIKE env_values) ON COMMIT DELETE ROWS",
                  "SAVEPOINT env_write"]
        cursor = connection.connection.driver_connection.cursor()
        with cursor:
            cursor.execute(";".join(setup))  # no parameters: the statements go together
            try:
                return _stage_and_fold(cursor, rows, all_new=True)
            except UniqueViolation:
                cursor.execute("ROLLBACK TO SAVEPOINT env_write")  # the staged rows went with it
            return _stage_and_fold(cursor, rows, all_new=False)

    def _store_and_fold_sqlite(self, connection: sa.Connection, rows: list[ValueRow]) -> int:
        """Insert what is new, then fold it into the aggregates from Python (SQLite cannot feed an insert's
        RETURNING into another statement)."""
        returning = " ON CONFLICT DO NOTHING RETURNING station_id, time, code, interval, value, flag"
        inserted: list[tuple[Any, ...]] = []
        for start in range(0, len(rows), _SQLITE_ROWS_PER_INSERT):
            chunk = rows[start:start + _SQLITE_ROWS_PER_INSERT]
            sql = f"INSERT INTO env_values ({_COLUMNS}) VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?)"] * len(chunk))
            inserted += connection.exec_driver_sql(sql + returning, tuple(v for row in chunk for v in row)).all()
        self._aggregate(connection, inserted)
        return len(inserted)

    def _ensure_partitions(self, connection: sa.Connection, rows: list[ValueRow]) -> set[int]:
        months = {_month_start(day * DAY) for day in {row[1] // DAY for row in rows}} - self._months
        if months:
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(0x656E76)))  # "env": one creator at a time
        for start in sorted(months):
            end = _month_start(start + 32 * DAY)
            name = f"env_values_p{datetime.fromtimestamp(start, timezone.utc):%Y%m}"
            connection.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF env_values "
                                       f"FOR VALUES FROM ({start}) TO ({end}) WITH ({PARTITION_SETTINGS})")
        return months

    def _aggregate(self, connection: sa.Connection, inserted: list[tuple[Any, ...]]) -> None:
        hours: dict[tuple[int, str, int], list[Any]] = {}
        days: dict[tuple[int, str, int], list[Any]] = {}
        for station_id, observed, code, interval, value, flag in inserted:
            if flag != VALID_FLAG or value is None:
                continue  # flagged values are kept but not assessed
            if interval in ("rtd", "minute"):
                _add(hours, (station_id, code, observed // HOUR * HOUR), value)
            elif interval == "hour":
                _add(hours, (station_id, code, observed // HOUR * HOUR), None, reported=value)
                _add(days, (station_id, code, china_day_start(observed)), value)
            elif interval == "day":
                _add(days, (station_id, code, china_day_start(observed)), None, reported=value)
        self._upsert(connection, hourly, hours)
        self._upsert(connection, daily, days)

    def _upsert(self, connection: sa.Connection, table: sa.Table, sums: dict[tuple[int, str, int], list[Any]]) -> None:
        """Fold ``sums`` into the aggregate rows; each row touched takes a new change seq (its version too)."""
        if not sums:
            return
        merge = _merged_sums(table.name, "min", "max")  # SQLite's (PostgreSQL folds in _fold_into)
        self._write_aggregates(connection, table, [(*key, *entry) for key, entry in sums.items()], merge)

    def replace_aggregates(self, connection: sa.Connection, table: sa.Table, rows: list[tuple[Any, ...]]) -> None:
        """Store harvested aggregate rows ``(station_id, code, time, n, total, low, high, reported, version)`` as
        they are on the node that measured them, each with a new change seq of this node (federation.py)."""
        merge = ("n = excluded.n, total = excluded.total, low = excluded.low, high = excluded.high, "
                 "reported = excluded.reported")
        self._write_aggregates(connection, table, rows, merge, versioned=True)

    def _write_aggregates(self, connection: sa.Connection, table: sa.Table, rows: list[tuple[Any, ...]], merge: str,
                          *, versioned: bool = False) -> None:
        """Insert or merge aggregate rows in key order with new change seqs; a row without a version of its own
        (measured here) takes its change seq as version. On PostgreSQL the table's feed order lock is taken
        first, so the seqs become visible in the order they were handed out."""
        if not rows:
            return
        name = table.name
        if self.store.is_postgres:
            Writer(self.store, connection).keep_order(name)
        rows = sorted(rows)  # one lock order for concurrent writers of the same rows
        seqs = self._change_seqs(connection, len(rows))
        rows = [(*row[:8], seq, row[8] if versioned else seq) for row, seq in zip(rows, seqs, strict=True)]
        insert = f"INSERT INTO {name} (station_id, code, time, n, total, low, high, reported, change_seq, version) "
        upsert = (f" ON CONFLICT (station_id, code, time) DO UPDATE SET {merge}, change_seq = excluded.change_seq, "
                  f"version = {'excluded.version' if versioned else 'excluded.change_seq'}")
        if self.store.is_postgres:  # one statement for the lot: arrays in, no per-row round trip
            connection.exec_driver_sql(
                insert + "SELECT * FROM unnest(%s::integer[], %s::varchar[], %s::bigint[], %s::integer[], "
                "%s::float8[], %s::float8[], %s::float8[], %s::float8[], %s::bigint[], %s::bigint[])" + upsert,
                tuple(list(column) for column in zip(*rows, strict=True)))
            return
        for start in range(0, len(rows), _SQLITE_ROWS_PER_INSERT):
            chunk = rows[start:start + _SQLITE_ROWS_PER_INSERT]
            connection.exec_driver_sql(insert + "VALUES " + ",".join(["(?,?,?,?,?,?,?,?,?,?)"] * len(chunk)) + upsert,
                                       tuple(v for row in chunk for v in row))

    def _change_seqs(self, connection: sa.Connection, count: int) -> list[int]:
        """``count`` new change seqs of the aggregates, ascending."""
        if self.store.is_postgres:
            return sorted(connection.exec_driver_sql(
                "SELECT nextval('env_aggregate_changes') FROM generate_series(1, %s)", (count,)).scalars())
        last = connection.exec_driver_sql("UPDATE env_aggregate_changes SET last = last + ? RETURNING last",
                                          (count,)).scalar_one()
        return list(range(last - count + 1, last + 1))

    # -- reading -----------------------------------------------------------------------------------

    def hourly_values(self, station_ids: Iterable[int], codes: Iterable[str], since: int, until: int
                      ) -> dict[tuple[int, str, int], float]:
        """Each hour's value in [since, until): the station's own hourly report, else the mean of its values."""
        query = sa.text("SELECT station_id, code, time, coalesce(reported, total / nullif(n, 0)) FROM env_hourly "
                        "WHERE station_id IN :ids AND code IN :codes AND time >= :since AND time < :until").bindparams(
            sa.bindparam("ids", expanding=True), sa.bindparam("codes", expanding=True))
        with self.store.engine.connect() as connection:
            rows = connection.execute(query, {"ids": list(station_ids), "codes": list(codes), "since": since,
                                              "until": until})
            return {(station_id, code, time): value for station_id, code, time, value in rows if value is not None}

    def daily_reports(self, station_ids: Iterable[int], day: int) -> dict[tuple[int, str], float]:
        query = sa.select(daily.c.station_id, daily.c.code, daily.c.reported).where(
            daily.c.station_id.in_(list(station_ids)), daily.c.time == day, daily.c.reported.is_not(None))
        with self.store.engine.connect() as connection:
            return {(r.station_id, r.code): r.reported for r in connection.execute(query)}

    def hourly_series(self, *, station: str | None = None, city: str | None = None, pollutant: str,
                      since: datetime, until: datetime) -> dict[str, Any]:
        """Hourly values of one pollutant for a station or every station of a city, as chart series:
        ``[[hour start (UTC seconds), value], …]`` per station, at most a year and a day."""
        problems = []
        if pollutant not in POLLUTANT_CODES:
            problems.append(Problem("pollutant", pollutant, f"pollutant must be one of {', '.join(POLLUTANT_CODES)}",
                                    f"污染物须为 {'、'.join(POLLUTANT_CODES)} 之一"))
        if not timedelta(0) < until - since <= MAX_SERIES:
            problems.append(Problem("to", until.isoformat(), "'to' must come after 'from', at most 366 days later",
                                    "结束时间须晚于开始时间，且相距不超过 366 天"))
        if (station is None) == (city is None):
            problems.append(Problem("station", station, "give a station or a city (one of them)", "请给出站点或城市（二者之一）"))
        if problems:
            raise invalid(problems, "query")
        chosen = [self.station(station)] if station else self.stations(city)
        code = POLLUTANT_CODES[pollutant]
        with self.store.engine.connect() as connection:
            series = [{"station": s["mn"], "name": s["name"],
                       "points": self._hour_points(connection, s["id"], code, epoch(since), epoch(until))}
                      for s in chosen]
        return {"pollutant": pollutant, "code": code, "unit": "mg/m³" if pollutant == "CO" else "µg/m³",
                "series": series}

    def _hour_points(self, connection: sa.Connection, station_id: int, code: str, since: int, until: int
                     ) -> list[tuple[int, float]]:
        """One station's ``(hour, value)`` pairs in key order, as the driver's own tuples: a year of a city's
        stations is ~44,000 points, and SQLAlchemy's row objects plus a Python loop over them cost twice what
        the query does (bench/env_bench.py)."""
        sql = ("SELECT time, coalesce(reported, total / nullif(n, 0)) AS value FROM env_hourly WHERE station_id = ? "
               "AND code = ? AND time >= ? AND time < ? AND coalesce(reported, total / nullif(n, 0)) IS NOT NULL "
               "ORDER BY time")
        return self._driver_rows(connection, sql, (station_id, code, since, until))

    def raw_values(self, station_id: int, since: int, until: int) -> list[tuple[int, str, float | None, str]]:
        """One station's values as stored in [since, until), ``(time, code, value, flag)`` in time order, as the
        driver's own tuples: its last 24 hours are 8,640 minute values, and SQLAlchemy's row objects cost ten
        times what the covering key's index-only scan does (bench/env_bench.py). On PostgreSQL the one statement
        runs without a transaction around it: BEGIN and ROLLBACK are two round trips, which a loaded machine makes
        a good part of the answer's time."""
        sql = ("SELECT time, code, value, flag FROM env_values WHERE station_id = ? AND time >= ? AND time < ? "
               "ORDER BY time")
        connection = self.store.engine.connect()
        if self.store.is_postgres:  # SQLite's connections keep their own BEGIN handling (store/engine.py)
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        with connection:
            return self._driver_rows(connection, sql, (station_id, since, until))

    def _driver_rows(self, connection: sa.Connection, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """``sql`` (``?`` placeholders) answered as the driver's tuples; PostgreSQL answers in binary, which
        spares parsing numbers."""
        driver = connection.connection.driver_connection
        if self.store.is_postgres:
            with driver.cursor(binary=True) as cursor:
                return cursor.execute(sql.replace("?", "%s"), params).fetchall()
        cursor = driver.cursor()
        try:
            return cursor.execute(sql, params).fetchall()
        finally:
            cursor.close()

    def aqi(self, *, station: str | None = None, city: str | None = None, at: datetime,
            kind: str = "hourly") -> dict[str, Any]:
        """The AQI (hourly: of the hour holding ``at``; daily: of its China-time day) of one station or of each
        air station in a city, with the city's own from its stations' mean concentrations."""
        if kind not in ("hourly", "daily"):
            raise invalid([Problem("kind", kind, "kind must be hourly or daily", "kind 只能是 hourly 或 daily")], "query")
        if (station is None) == (city is None):
            raise invalid([Problem("station", station, "give a station or a city (one of them)",
                                   "请给出站点或城市（二者之一）")], "query")
        chosen = [self.station(station)] if station else [s for s in self.stations(city) if s["kind"] == "air"]
        ids = {s["id"]: s for s in chosen}
        seconds = epoch(at)
        start = seconds // HOUR * HOUR if kind == "hourly" else china_day_start(seconds)
        concentrations = (self._hour_concentrations if kind == "hourly" else self._day_concentrations)(list(ids), start)
        results = [self._assessment(kind, start, concentrations.get(sid, {})) | {"station": s["mn"],
                                                                                 "station_name": s["name"]}
                   for sid, s in ids.items()]
        body: dict[str, Any] = {"results": results}
        if city:
            body["city"] = self._assessment(kind, start, _station_means(concentrations.values())) | {"city": city}
        return body

    def _assessment(self, kind: str, start: int, values: dict[str, float]) -> dict[str, Any]:
        moment = datetime.fromtimestamp(start, CHINA)
        if kind == "hourly":
            so2_24h = values.pop("SO2_24h", None)
            assessment = hj633.hourly_aqi(moment, values, so2_24h=so2_24h)
        else:
            assessment = hj633.daily_aqi(moment.date(), values)
        return {"time": moment.isoformat(), "kind": kind, **assessment.as_dict()}

    def _hour_concentrations(self, ids: list[int], hour: int) -> dict[int, dict[str, float]]:
        found = self.hourly_values(ids, AIR_CODES, hour - 23 * HOUR, hour + HOUR)
        result: dict[int, dict[str, float]] = {}
        for sid in ids:
            values = {name: found[(sid, code, hour)] for code, name in AIR_CODES.items() if (sid, code, hour) in found}
            so2_day = [found[(sid, POLLUTANT_CODES["SO2"], hour - h * HOUR)] for h in range(24)
                       if (sid, POLLUTANT_CODES["SO2"], hour - h * HOUR) in found]
            if len(so2_day) >= DAILY_MIN_HOURS:  # HJ 633-2012 falls back on it above 800 µg/m³
                values["SO2_24h"] = fmean(so2_day)
            result[sid] = values
        return result

    def _day_concentrations(self, ids: list[int], day: int) -> dict[int, dict[str, float]]:
        found = self.hourly_values(ids, AIR_CODES, day, day + DAY)
        reported = self.daily_reports(ids, day)
        result: dict[int, dict[str, float]] = {}
        for sid in ids:
            hours = {name: [found.get((sid, code, day + h * HOUR)) for h in range(24)]
                     for code, name in AIR_CODES.items()}
            values: dict[str, float] = {}
            for name, series in hours.items():
                valid = [v for v in series if v is not None]
                if name == "O3":
                    values |= _ozone_daily(series)
                elif (sid, POLLUTANT_CODES[name]) in reported:
                    values[name] = reported[(sid, POLLUTANT_CODES[name])]
                elif len(valid) >= DAILY_MIN_HOURS:
                    values[name] = fmean(valid)
            result[sid] = values
        return result


def _ozone_daily(series: list[float | None]) -> dict[str, float]:
    """O3 daily maximum 8-hour mean over the day's 17 windows (each with at least 6 hours) and, with 20 hours or
    more, the daily maximum hourly value."""
    means = []
    for first in range(17):
        window = [v for v in series[first:first + 8] if v is not None]
        if len(window) >= O3_8H_MIN_HOURS:
            means.append(fmean(window))
    valid = [v for v in series if v is not None]
    values = {"O3_8h": max(means)} if means else {}
    if len(valid) >= DAILY_MIN_HOURS:
        values["O3_1h"] = max(valid)
    return values


def _station_means(per_station: Iterable[dict[str, float]]) -> dict[str, float]:
    """A city's concentrations: the mean of its stations' (HJ 663)."""
    collected: dict[str, list[float]] = {}
    for values in per_station:
        for name, value in values.items():
            collected.setdefault(name, []).append(value)
    return {name: fmean(found) for name, found in collected.items()}


def _add(sums: dict[tuple[int, str, int], list[Any]], key: tuple[int, str, int], value: float | None, *,
         reported: float | None = None) -> None:
    entry = sums.setdefault(key, [0, 0.0, None, None, None])
    if value is not None:
        entry[0] += 1
        entry[1] += value
        entry[2] = value if entry[2] is None else min(entry[2], value)
        entry[3] = value if entry[3] is None else max(entry[3], value)
    if reported is not None:
        entry[4] = reported


def _month_start(seconds: int) -> int:
    moment = datetime.fromtimestamp(seconds, timezone.utc)
    return epoch(datetime(moment.year, moment.month, 1, tzinfo=timezone.utc))


def _public(row: Any) -> dict[str, Any]:
    station = {key: row[key] for key in ("id", "mn", "name", "kind", "city", "district", "lon", "lat",
                                         "zone_class", "water_target", "created")}
    station["kind_zh"] = KINDS.get(row["kind"], row["kind"])
    station["has_password"] = row["password_hash"] is not None
    station["record"] = row["record_id"]
    return station


def station_record(row: dict[str, Any], operator: str | None = None) -> dict[str, Any]:
    """The ``station`` record of a checked station row (types.py); ``operator``: the organisation's reference."""
    record = {"type": "station", "name": {"zh": row["name"]}, "pids": {"mn": row["mn"]}, "kind": row["kind"],
              "city": row["city"], "lon": row["lon"], "lat": row["lat"]}
    record |= {key: row[key] for key in ("district", "zone_class", "water_target") if row.get(key)}
    if operator:
        record["relations"] = [{"predicate": "operated_by", "object": operator}]
    return record


def station_problems(mn: str, name: str, city: str, lon: float, lat: float, kind: str, zone_class: str | None,
                      water_target: str | None) -> list[Problem]:
    checks = [
        ("mn", mn, bool(_MN.match(mn)), "MN must be 1–24 letters and digits (the HJ 212 device code)",
         "MN 须为 1–24 位字母或数字（HJ 212 设备编码）"),
        ("name", name, bool(name and name.strip()), "a station needs a name", "站点须有名称"),
        ("city", city, bool(_ADCODE.match(city or "")), "city must be a six-digit adcode, e.g. 440300",
         "城市须为六位行政区划代码，如 440300"),
        ("lon", lon, -180 <= lon <= 180, "longitude must be within −180..180", "经度须在 −180 到 180 之间"),
        ("lat", lat, -90 <= lat <= 90, "latitude must be within −90..90", "纬度须在 −90 到 90 之间"),
        ("kind", kind, kind in KINDS, f"kind must be one of {', '.join(KINDS)}", f"类型须为 {'、'.join(KINDS)} 之一"),
        ("zone_class", zone_class, zone_class is None or zone_class in NOISE_ZONES,
         f"zone class must be one of {', '.join(NOISE_ZONES)}", f"声环境功能区须为 {'、'.join(NOISE_ZONES)} 之一"),
        ("water_target", water_target, water_target is None or water_target in WATER_CLASSES,
         f"water class target must be one of {', '.join(WATER_CLASSES)}", f"水质目标须为 {'、'.join(WATER_CLASSES)} 之一"),
    ]
    return [Problem(field, value, reason, reason_zh) for field, value, ok, reason, reason_zh in checks if not ok]
