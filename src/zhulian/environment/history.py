"""Historical hourly air data from CSV or XLSX: the UCI Beijing multi-site files (one station a file, the six
pollutants, CO in µg/m³) and the UCI Guangzhou file (PM2.5 of three sites, a column each). Every row is checked
before anything is stored, and the file is stored in one transaction: all of it or, with a reason per bad row,
none of it."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path
from typing import Any

from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import POLLUTANT_CODES, VALID_FLAG
from zhulian.environment.service import EnvironmentService, ValueRow, epoch
from zhulian.errors import Problem, ZhulianError, invalid

TIME_COLUMNS = ("year", "month", "day", "hour")
BEIJING_POLLUTANTS = ("PM2.5", "PM10", "SO2", "NO2", "CO", "O3")
GUANGZHOU_PREFIX = "PM_"
MISSING = {"", "NA", "NaN", "nan"}
MAX_PROBLEMS = 50


def import_history(service: EnvironmentService, path: Path, *, station: str | None = None) -> dict[str, Any]:
    """Hourly values of a file (hours are China time, the hour each began) for its stations; returns counts."""
    header, rows = _read(path)
    missing = [c for c in TIME_COLUMNS if c not in header]
    if missing:
        raise _refused(path, f"the file has no {', '.join(missing)} column(s); supported: the UCI Beijing "
                             "multi-site and Guangzhou PM2.5 layouts", f"文件缺少 {'、'.join(missing)} 列")
    columns = _columns(service, path, header, station)
    values: list[ValueRow] = []
    problems: list[Problem] = []
    times: list[int] = []
    for line, row in enumerate(rows, start=2):
        record = dict(zip(header, row, strict=False))
        try:
            moment = epoch(datetime(*(int(float(record[c])) for c in TIME_COLUMNS), tzinfo=CHINA))
        except (TypeError, ValueError):
            problems.append(Problem(f"row {line}", [record.get(c) for c in TIME_COLUMNS],
                                    "year, month, day and hour do not make a time", "年月日时不构成有效时间"))
            continue
        times.append(moment)
        for column, (target, code, scale) in columns.items():
            value = _value(record.get(column, ""), line, column, problems)
            station_id = _station(record, target, line, problems)
            if value is not None and station_id is not None:
                values.append((station_id, moment, code, "hour", value * scale, None, None, None, VALID_FLAG))
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise invalid(problems, "file")
    stored = service.write(values)
    return {"file": str(path), "rows": len(times), "values": len(values), "stored": stored,
            "from": _iso(min(times)) if times else None, "to": _iso(max(times)) if times else None}


def _columns(service: EnvironmentService, path: Path, header: list[str], station: str | None
             ) -> dict[str, tuple[Any, str, float]]:
    """Each value column -> (station id, or a map from the row's station name, pollutant code, unit factor)."""
    if all(p in header for p in BEIJING_POLLUTANTS):
        if station:
            target: Any = service.station(station)["id"]
        elif "station" in header:
            target = {s["name"].casefold(): s["id"] for s in service.stations()}
        else:
            raise _refused(path, "the file names no station: give --station MN", "文件未注明站点：请用 --station MN 指定")
        # CO is in µg/m³ in these files; HJ 633 and the stations' data use mg/m³.
        return {p: (target, POLLUTANT_CODES[p], 0.001 if p == "CO" else 1.0) for p in BEIJING_POLLUTANTS}
    sites = [c for c in header if c.startswith(GUANGZHOU_PREFIX)]
    if not sites:
        raise _refused(path, "no pollutant columns: expected PM2.5, PM10, SO2, NO2, CO, O3 or PM_<site>",
                       "没有污染物列：应为 PM2.5、PM10、SO2、NO2、CO、O3 或 PM_<站点>")
    if station:
        raise _refused(path, "this file holds several sites (PM_<site> columns); each goes to the station named "
                             "after it, so --station does not apply", "该文件含多个站点（PM_<站点> 列），按站点名称对应，不能用 --station")
    by_name = {s["name"].casefold(): s["id"] for s in service.stations()}
    unknown = [c[len(GUANGZHOU_PREFIX):] for c in sites if c[len(GUANGZHOU_PREFIX):].casefold() not in by_name]
    if unknown:
        raise _refused(path, f"no station named {', '.join(unknown)}: add them with `zhulian env station add`",
                       f"没有名为 {'、'.join(unknown)} 的站点：请先用 `zhulian env station add` 添加")
    return {c: (by_name[c[len(GUANGZHOU_PREFIX):].casefold()], POLLUTANT_CODES["PM2.5"], 1.0) for c in sites}


def _station(record: dict[str, Any], target: int | dict[str, int], line: int, problems: list[Problem]) -> int | None:
    if isinstance(target, int):
        return target
    name = str(record.get("station") or "")
    if name.casefold() not in target:
        if not any(p.field == f"row {line}: station" for p in problems):
            problems.append(Problem(f"row {line}: station", name, "no such station: add it with `zhulian env station "
                                    "add` or give --station MN", "没有该站点：请先用 `zhulian env station add` 添加，或用 --station MN 指定"))
        return None
    return target[name.casefold()]


def _value(text: Any, line: int, column: str, problems: list[Problem]) -> float | None:
    text = "" if text is None else str(text).strip()
    if text in MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(f"row {line}: {column}", text, "not a number", "不是数值"))
        return None
    if value < 0:
        problems.append(Problem(f"row {line}: {column}", text, "a concentration cannot be negative", "浓度不能为负"))
        return None
    return value


def _read(path: Path) -> tuple[list[str], list[list[Any]]]:
    if not path.exists():
        raise _refused(path, "the file does not exist", "文件不存在")
    if path.suffix.lower() == ".xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        try:
            table = [["" if c is None else c for c in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
        finally:
            workbook.close()
    else:
        with open(path, encoding="utf-8-sig", newline="") as file:
            table = list(csv.reader(file))
    if not table:
        raise _refused(path, "the file is empty", "文件为空")
    return [str(c).strip() for c in table[0]], table[1:]


def _refused(path: Path, reason: str, reason_zh: str) -> ZhulianError:
    return invalid([Problem("file", str(path), reason, reason_zh)], "file")


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, CHINA).isoformat()
