"""Rapid tests (快检) as EPCIS events, and the supervision views over them.

A result is an ObjectEvent with bizStep ``inspecting`` (or ``sampling``), a verdict disposition
(``conformant`` / ``non_conformant``) and a sensorReport per analyte: ``chemicalSubstance`` (for example an
InChIKey at identifiers.org) or ``microorganism`` (an NCBI taxonomy URI), ``value`` and ``uom``, the device in
``deviceID``. What EPCIS has no field for is in the platform's extension namespace ``zl:``
(``https://w3id.org/zhulian/trace#``), at the event's top level: ``zl:city`` (adcode), ``zl:productClass``,
``zl:analyteName``, ``zl:limit`` (the legal limit, in the report's uom) and ``zl:method`` (the test method, e.g.
a GB standard). Any capture of such an event — from this module's form or from ``/epcis/capture`` — is
projected into ``trace_rapid_tests``; a non-conformant one opens a recall case for review."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa
from ulid import ULID

from zhulian.access import Principal
from zhulian.errors import Problem, invalid
from zhulian.region.cities import city_of
from zhulian.trace.events import cbv_word
from zhulian.trace.identifiers import canonical
from zhulian.trace.rights import check_read_rights
from zhulian.trace.tables import rapid_tests, recalls

ZL = "https://w3id.org/zhulian/trace#"
STEPS = ("inspecting", "sampling")
VERDICTS = ("conformant", "non_conformant")
GROUPS = {"city": rapid_tests.c.city, "productClass": rapid_tests.c.product_class,
          "analyte": rapid_tests.c.analyte_name}
_EXTENSIONS = ("city", "productClass", "product", "analyteName", "limit", "method", "device")


def extension(event: dict[str, Any], name: str) -> Any:
    """An extension field written ``zl:name`` or as its full IRI."""
    return event.get(f"zl:{name}", event.get(ZL + name))


def project(connection: sa.Connection, stored: list[tuple[int, dict[str, Any], dict[str, Any]]], actor: str,
            stamp: str) -> None:
    """In the capture's transaction: the rapid-test rows of the events just stored (``(seq, trace_events row,
    event)``), and a recall case for review per non-conformant result."""
    rows = [row for seq, stored_row, event in stored for row in _rows(seq, stored_row, event)]
    if rows:
        connection.execute(rapid_tests.insert(), rows)
    failed = {row["event_id"]: row for row in rows if row["verdict"] == "non_conformant"}
    cases = [{"id": f"rcl_{ULID()}", "identifier": row["lot"] or row["event_id"], "reason": _reason(row),
              "status": "review", "source_event": event_id, "affected": None, "actor": actor, "created": stamp,
              "executed": None} for event_id, row in failed.items()]
    if cases:
        connection.execute(recalls.insert(), cases)


def _rows(seq: int, stored: dict[str, Any], event: dict[str, Any]) -> list[dict[str, Any]]:
    verdict = cbv_word(event.get("disposition"), "Disp")
    if cbv_word(event.get("bizStep"), "BizStep") not in STEPS or verdict not in VERDICTS:
        return []
    lots = [*event.get("epcList", []), *(q.get("epcClass") for q in event.get("quantityList", [])
                                         if isinstance(q, dict))]
    limit = extension(event, "limit")
    common = {"event_seq": seq, "event_id": stored["event_id"], "event_time": stored["event_time"],
              "lot": canonical(lots[0])[:500] if lots and isinstance(lots[0], str) else None,
              "city": _text(extension(event, "city"), 12),
              "product_class": _text(extension(event, "productClass"), 100),
              "limit_value": float(limit) if isinstance(limit, (int, float)) and not isinstance(limit, bool) else None,
              "method": _text(extension(event, "method"), 500), "verdict": verdict}
    rows = []
    for element in event.get("sensorElementList", []):
        metadata = element.get("sensorMetadata", {}) if isinstance(element, dict) else {}
        for report in element.get("sensorReport", []) if isinstance(element, dict) else []:
            fields = {**metadata, **report}
            analyte = fields.get("chemicalSubstance") or fields.get("microorganism")
            if not isinstance(analyte, str):
                continue
            value = fields.get("value")
            rows.append({**common, "analyte": analyte[:500],
                         "analyte_name": _text(extension(event, "analyteName"), 200) or analyte[:200],
                         "value": float(value) if isinstance(value, (int, float)) and not isinstance(value, bool)
                         else None, "uom": _text(fields.get("uom"), 16),
                         "device": _text(fields.get("deviceID") or extension(event, "device"), 500)})
    return rows


def _reason(row: dict[str, Any]) -> str:
    measured = f"{row['value']:g} {row['uom'] or ''}".strip() if row["value"] is not None else "检出 detected"
    limit = f"，限量 limit {row['limit_value']:g}" if row["limit_value"] is not None else ""
    return f"快检不合格 non-conformant rapid test: {row['analyte_name']} {measured}{limit}（{row['event_id']}）"


def _text(value: Any, size: int) -> str | None:
    return str(value)[:size] if value not in (None, "") else None


# -- recording a result from a form --------------------------------------------------------------------

def rapid_test_event(form: dict[str, Any]) -> dict[str, Any]:
    """The EPCIS event of one rapid-test result as a form gives it (see ``FORM_FIELDS``); the verdict is the
    form's, or ``non_conformant`` when the value exceeds the limit."""
    problems = []
    lot = str(form.get("lot") or "").strip()
    if not lot:
        problems.append(Problem("lot", None, "the lot or item tested", "请填写被检批次或产品标识"))
    analyte_kind = "microorganism" if form.get("microorganism") else "chemicalSubstance"
    analyte = str(form.get(analyte_kind) or "").strip()
    if ":" not in analyte:
        problems.append(Problem("chemicalSubstance", analyte or None, "the analyte as a URI: chemicalSubstance "
                                "(e.g. https://identifiers.org/inchikey:…) or microorganism (NCBI taxonomy)",
                                "检测项目应为 URI：化学物质（如 InChIKey）或微生物（NCBI 分类号）"))
    value, limit = number(form, "value", problems), number(form, "limit", problems)
    verdict = form.get("verdict") or (("non_conformant" if value > limit else "conformant")
                                      if value is not None and limit is not None else None)
    if verdict not in VERDICTS:
        problems.append(Problem("verdict", verdict, "conformant or non_conformant, or a value and a limit",
                                "请给出判定（合格/不合格），或给出检测值和限量"))
    step = form.get("step") or "inspecting"
    if step not in STEPS:
        problems.append(Problem("step", step, "inspecting or sampling", "应为 inspecting（检验）或 sampling（抽样）"))
    when = _when(form.get("time"), problems)
    if problems:
        raise invalid(problems, "record")
    report: dict[str, Any] = {"type": form.get("measurementType") or
                              ("Count" if analyte_kind == "microorganism" else "Dimensionless"), analyte_kind: analyte}
    if value is not None:
        report["value"] = value
    if form.get("uom"):
        report["uom"] = str(form["uom"])
    element: dict[str, Any] = {"sensorReport": [report]}
    device = str(form.get("device") or "").strip()
    if ":" in device:
        element["sensorMetadata"] = {"deviceID": device}
    event: dict[str, Any] = {
        "type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "action": "OBSERVE",
        "eventTime": when.isoformat(timespec="milliseconds"), "eventTimeZoneOffset": when.strftime("%z")[:3] + ":"
        + when.strftime("%z")[3:], "bizStep": step, "disposition": verdict, "sensorElementList": [element]}
    if is_instance(lot):
        event["epcList"] = [lot]
    else:
        event["quantityList"] = [{"epcClass": lot}]
    if form.get("place"):
        event["readPoint"] = event["bizLocation"] = {"id": str(form["place"])}
    for name in _EXTENSIONS:
        given = form.get(name)
        if name == "device" and ":" in device:
            continue
        if given not in (None, ""):
            event[f"zl:{name}"] = limit if name == "limit" else str(given)
    if form.get("public") is True:
        event["zl:public"] = True
    return event


def is_instance(identifier: str) -> bool:
    """An EPC instance (a serialised item, a logistic unit); anything else — a GS1 lot, a platform trace code —
    is a class, counted in quantityLists."""
    return identifier.startswith("urn:epc:id:") or any(key in canonical(identifier) for key in ("/21/", "/00/"))


def number(form: dict[str, Any], name: str, problems: list[Problem]) -> float | None:
    given = form.get(name)
    if given in (None, ""):
        return None
    try:
        number = float(given)
    except (TypeError, ValueError):
        number = math.nan
    if not math.isfinite(number):
        problems.append(Problem(name, str(given)[:100], "a number", "应为数字"))
        return None
    return number


def _when(given: Any, problems: list[Problem]) -> dt.datetime:
    china = dt.timezone(dt.timedelta(hours=8))
    if not given:
        return dt.datetime.now(china)
    try:
        moment = dt.datetime.fromisoformat(str(given))
    except ValueError:
        problems.append(Problem("time", given, "an ISO 8601 date-time", "应为 ISO 8601 时间，如 2026-05-01T09:30"))
        return dt.datetime.now(china)
    return moment if moment.tzinfo else moment.replace(tzinfo=china)  # a form's local time is Beijing time


# -- supervision ---------------------------------------------------------------------------------------

def results_by(connection: sa.Connection, by: str, since: str | None, until: str | None) -> list[dict[str, Any]]:
    """Results grouped by city, product class or analyte: count, non-conformant, rate; most tested first."""
    column = GROUPS[by]
    failed = sa.func.sum(sa.case((rapid_tests.c.verdict == "non_conformant", 1), else_=0))
    statement = (sa.select(column.label("key"), sa.func.count().label("count"), failed.label("failed"))
                 .where(*_window(since, until)).group_by(column).order_by(sa.func.count().desc(), column))
    return [_group(row.key, row.count, row.failed, by) for row in connection.execute(statement)]


def rates_by_month(connection: sa.Connection, since: str | None, until: str | None) -> list[dict[str, Any]]:
    """Non-conformance rate per month (UTC), oldest first."""
    month = sa.func.substr(rapid_tests.c.event_time, 1, 7)
    failed = sa.func.sum(sa.case((rapid_tests.c.verdict == "non_conformant", 1), else_=0))
    statement = (sa.select(month.label("key"), sa.func.count().label("count"), failed.label("failed"))
                 .where(*_window(since, until)).group_by(month).order_by(month))
    return [_group(row.key, row.count, row.failed, "month") for row in connection.execute(statement)]


def _window(since: str | None, until: str | None) -> list[Any]:
    return [c for c in (rapid_tests.c.event_time >= since if since else None,
                        rapid_tests.c.event_time < until if until else None) if c is not None]


def _group(key: Any, count: int, failed: Any, by: str) -> dict[str, Any]:
    label = key or "—"
    if by == "city" and key:
        city = city_of(key)
        label = city.zh if city else key
    return {"key": key, "label": label, "count": count, "nonConformant": int(failed or 0),
            "rate": round(int(failed or 0) / count, 4) if count else 0.0}


def rate_chart(rates: list[dict[str, Any]], title: str) -> str:
    """A bar chart (SVG, drawn on the server) of the monthly non-conformance rate, with the counts."""
    width, height, left, bottom, top = 640, 260, 48, 40, 30
    plot_w, plot_h = width - left - 10, height - bottom - top
    high = max([r["rate"] for r in rates] + [0.05])
    step = plot_w / max(len(rates), 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart">', f"<title>{escape(title)}</title>",
             f'<text x="{left}" y="18" font-size="14">{escape(title)}</text>',
             f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#555"/>']
    for fraction in (0, 0.5, 1):
        y = top + plot_h * (1 - fraction)
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">'
                     f'{high * fraction:.0%}</text>')
    for index, rate in enumerate(rates):
        bar_h = plot_h * rate["rate"] / high
        x = left + index * step + step * 0.15
        parts.append(f'<rect x="{x:.1f}" y="{top + plot_h - bar_h:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{bar_h:.1f}" fill="#c0392b"><title>{escape(str(rate["key"]))}: '
                     f'{rate["nonConformant"]}/{rate["count"]} ({rate["rate"]:.1%})</title></rect>')
        parts.append(f'<text x="{x + step * 0.35:.1f}" y="{height - bottom + 16}" font-size="11" '
                     f'text-anchor="middle">{escape(str(rate["key"]))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def check_window(since: str | None, until: str | None) -> None:
    problems = [Problem(name, value, "a date such as 2026-01-01", "应为日期，如 2026-01-01")
                for name, value in (("since", since), ("until", until))
                if value and not _is_date(value)]
    if problems:
        raise invalid(problems, "query")


def _is_date(value: str) -> bool:
    try:
        dt.date.fromisoformat(value[:10])
    except ValueError:
        return False
    return True


def supervision(store: Any, principal: Principal, since: str | None = None, until: str | None = None
                ) -> dict[str, Any]:
    """Results by city, product class and analyte, and the monthly non-conformance rate."""
    check_read_rights(principal)
    check_window(since, until)
    with store.engine.connect() as connection:
        return {"byCity": results_by(connection, "city", since, until),
                "byProductClass": results_by(connection, "productClass", since, until),
                "byAnalyte": results_by(connection, "analyte", since, until),
                "byMonth": rates_by_month(connection, since, until)}
