"""Environment aggregates federate (issue 18, item 7): a district's hourly and daily aggregates are module feeds
(``zhulian.federation.module_feeds``; docs/modules.md §8) that the city hub harvests after the district's station
records, so the hub's station list, map and city charts show every district's stations and their values.

Aggregates change as values arrive, so each feed reads its table by ``change_seq`` (bumped on every change; a row
appears once, at its latest seq). An entry is keyed ``MN/code/period start`` — the station's MN, never the local
integer station id — and carries the row's sums and its ``version``: the change seq on the node that measured it.
A hub replaces its row only with a newer version (so a re-harvest, or the same row by two paths, stores nothing),
mapping the MN to its own station row, projected from the harvested station record."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from zhulian.environment.service import HOUR, EnvironmentService, china_day_start, china_time
from zhulian.environment.tables import daily, hourly, stations
from zhulian.errors import Problem, ZhulianError
from zhulian.federation.module_feeds import Change, ModuleFeed
from zhulian.store import Writer

_MN = re.compile(r"[0-9A-Za-z]{1,24}")
_CODE = re.compile(r"[0-9A-Za-z]{1,16}")


def _changes(table: sa.Table) -> Callable[[sa.Connection, int, int], list[Change]]:
    def changes(connection: sa.Connection, after_seq: int, limit: int) -> list[Change]:
        rows = connection.execute(
            sa.select(table.c.change_seq, table.c.version, stations.c.mn, table.c.code, table.c.time, table.c.n,
                      table.c.total, table.c.low, table.c.high, table.c.reported)
            .join(stations, stations.c.id == table.c.station_id)
            .where(table.c.change_seq > after_seq).order_by(table.c.change_seq).limit(limit)).all()
        # ``at`` is the period's start in China time: the rows keep no time of writing.
        return [Change(row.change_seq, f"{row.mn}/{row.code}/{row.time}", china_time(row.time),
                       {"mn": row.mn, "code": row.code, "time": row.time, "n": row.n, "total": row.total,
                        "low": row.low, "high": row.high, "reported": row.reported, "version": row.version})
                for row in rows]
    return changes


def _check(period: str) -> Callable[[Change], list[Problem]]:
    def check(change: Change) -> list[Problem]:
        """An entry is taken only whole: its key names its own MN, code and period start, the period start is
        one of the feed's (an hour; a China-time midnight), the sums are numbers and the version a serial."""
        data = change.data
        problems = [Problem(f"/{field}", data.get(field), reason, reason_zh) for field, ok, reason, reason_zh in (
            ("mn", isinstance(data.get("mn"), str) and _MN.fullmatch(data["mn"]),
             "an MN of 1–24 letters and digits", "MN 应为 1–24 位字母或数字"),
            ("code", isinstance(data.get("code"), str) and _CODE.fullmatch(data["code"]),
             "a parameter code of 1–16 letters and digits", "参数编码应为 1–16 位字母或数字"),
            ("time", _is_int(data.get("time")) and _starts_period(period, data["time"]),
             f"the start of {'an hour' if period == 'hour' else 'a China-time day'} in UTC seconds",
             f"应为{'整点' if period == 'hour' else '北京时间零点'}的 UTC 秒数"),
            ("n", _is_int(data.get("n")) and data["n"] >= 0, "a count of values, 0 or more", "应为 0 或以上的值个数"),
            ("total", _is_number(data.get("total")), "the sum of the values, a number", "应为数值之和"),
            ("version", _is_int(data.get("version")) and data["version"] > 0,
             "the change seq on the measuring node, a positive integer", "应为测量节点上的变更序号（正整数）"),
        ) if not ok]
        problems += [Problem(f"/{field}", data.get(field), "a number or null", "应为数值或 null")
                     for field in ("low", "high", "reported")
                     if data.get(field) is not None and not _is_number(data.get(field))]
        if not problems and change.key != f"{data['mn']}/{data['code']}/{data['time']}":
            problems.append(Problem("/key", change.key, "the entry's key is MN/code/time of its data",
                                    "条目的键应为其数据的 MN/参数编码/时间"))
        return problems
    return check


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _starts_period(period: str, seconds: int) -> bool:
    return seconds % HOUR == 0 if period == "hour" else china_day_start(seconds) == seconds


def _apply(table: sa.Table) -> Callable[[Writer, str, list[Change]], list[str]]:
    def apply(writer: Writer, source: str, harvested: list[Change]) -> list[str]:
        """Store the entries newer than the rows held, under the hub's own station rows; answers the keys of the
        rows new here. A page naming a station the hub does not know (its record not harvested) is refused whole."""
        service = EnvironmentService(writer.store)
        service.sync_stations(within=writer.connection)  # the station records harvested just before
        connection = writer.connection
        mns = {change.data["mn"] for change in harvested}
        station_of = dict(connection.execute(sa.select(stations.c.mn, stations.c.id)
                                             .where(stations.c.mn.in_(mns))).all())
        unknown = sorted(mns - set(station_of))
        if unknown:
            raise ZhulianError(
                "invalid", f"{source} sends {table.name} of stations this node does not know (MN {', '.join(unknown)}): "
                "harvest their station records first, or add the stations here.",
                f"{source} 发来的 {table.name} 属于本节点未登记的站点（MN {'、'.join(unknown)}）："
                "请先收割其站点记录，或在本节点添加这些站点。", 422)
        newest: dict[tuple[int, str, int], Change] = {}
        for change in harvested:  # a page holds a row once, but take the newest if a node repeats one
            key = (station_of[change.data["mn"]], change.data["code"], change.data["time"])
            if key not in newest or newest[key].data["version"] < change.data["version"]:
                newest[key] = change
        held = _versions(connection, table, list(newest))
        taken = {key: change for key, change in newest.items()
                 if held.get(key) is None or held[key] < change.data["version"]}
        service.replace_aggregates(connection, table, [
            (*key, *(change.data[f] for f in ("n", "total", "low", "high", "reported", "version")))
            for key, change in taken.items()])
        if taken:
            writer.log(actor=f"harvest:{source}", role="harvester", action="env_aggregates", origin=f"harvest:{source}",
                       detail={"table": table.name, "entries": len(harvested), "stored": len(taken)})
        # The core records each answered key's origin once (module_feeds.record_origins inserts): a row updated
        # here keeps the origin it arrived with, so only the keys new to this node are answered.
        return [change.key for key, change in taken.items() if key not in held]
    return apply


def _versions(connection: sa.Connection, table: sa.Table, keys: list[tuple[int, str, int]]
              ) -> dict[tuple[int, str, int], int | None]:
    if not keys:
        return {}
    rows = connection.execute(sa.select(table.c.station_id, table.c.code, table.c.time, table.c.version).where(
        sa.tuple_(table.c.station_id, table.c.code, table.c.time).in_(keys)))
    return {(row.station_id, row.code, row.time): row.version for row in rows}


FEEDS = (
    ModuleFeed("environment.hourly", "环境监测小时值", "environment hourly aggregates", _changes(hourly),
               _check("hour"), _apply(hourly)),
    ModuleFeed("environment.daily", "环境监测日值", "environment daily aggregates", _changes(daily),
               _check("day"), _apply(daily)),
)
