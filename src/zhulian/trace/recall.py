"""Recall (DESIGN §1, trace): from one identifier, trace back to the source lots, forward from them to every
affected lot, its holders and places; capture a ``recalled`` ObjectEvent for each affected lot through the
module's own capture (so it is an EPCIS event like any other, and every stream subscription that matches it —
a holder's, say — is notified); and the recall list as a sortable spreadsheet.

A recall case is ``executed`` when made by an administrator or publisher, or opened ``review`` by a
non-conformant rapid test until one executes it."""

from __future__ import annotations

import io
import json
import uuid
from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from ulid import ULID

from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.exchange.flat import neutralise
from zhulian.trace.identifiers import canonical
from zhulian.trace.masterdata import MasterData
from zhulian.trace.rights import check_capture_rights
from zhulian.trace.service import EPCIS_CONTEXT, TraceService, utc_millis_now
from zhulian.trace.subscriptions import SubscriptionService
from zhulian.trace.tables import event_ids, events, recalls
from zhulian.trace.tracing import follow
from zhulian.trace.validation import check_text

_CLASS_ROLES = ("epc_class", "child_class", "input_class", "output_class")
_LOT_ROLES = ("epc", "child", "input", "output", *_CLASS_ROLES)
MAX_REASON = 2000
# The recall list's columns: (key, Chinese header, English header)
COLUMNS = (("lot", "批次/产品标识", "Lot or item"), ("kind", "类别", "Kind"),
           ("lastEventTime", "最近事件时间 (UTC)", "Last event time (UTC)"), ("lastBizStep", "最近业务步骤", "Last step"),
           ("lastLocation", "最近地点", "Last location"), ("holders", "持有方/收货方", "Holders"),
           ("locations", "经过地点", "Locations"), ("recallEventID", "召回事件", "Recall event"))


class RecallService:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.trace = TraceService(store)

    def recall(self, principal: Principal, identifier: str, reason: str, *, origin: str | None = None
               ) -> dict[str, Any]:
        """Recall now, from ``identifier``: a new executed case."""
        check_capture_rights(principal)
        start, reason = _checked(identifier, reason)
        case = {"id": f"rcl_{ULID()}", "identifier": start, "reason": reason, "status": "review",
                "source_event": None, "affected": None, "actor": principal.id, "created": utc_millis_now(),
                "executed": None}
        with self.store.transaction() as writer:
            writer.connection.execute(recalls.insert().values(**case))
        return self.execute(principal, case["id"], origin=origin)

    def execute(self, principal: Principal, case_id: str, *, origin: str | None = None) -> dict[str, Any]:
        """Trace the case's identifier, capture ``recalled`` for every affected lot, keep the recall list."""
        check_capture_rights(principal)
        case = self._case(case_id)
        if case["status"] == "executed":
            raise ZhulianError("conflict", f"The recall {case_id} was executed at {case['executed']}.",
                               f"召回 {case_id} 已于 {case['executed']} 执行。", 409)
        listing = self._affected(case["identifier"])
        affected = listing["lots"]
        stamp = utc_millis_now()
        recalled = [_recall_event(lot, stamp) for lot in affected]
        document = {"@context": [EPCIS_CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0",
                    "creationDate": stamp, "epcisBody": {"eventList": recalled}}
        job = self.trace.capture(principal, document, origin=origin)
        for lot, event in zip(affected, recalled, strict=True):
            lot["recallEventID"] = event["eventID"]
        listing["captureID"] = job["captureID"]
        # The holders' subscriptions that match a recalled event; the notifier reports to them.
        listing["notified"] = SubscriptionService(self.store).subscribers_of(job["eventIDs"])
        with self.store.transaction() as writer:
            writer.connection.execute(recalls.update().where(recalls.c.id == case_id).values(
                status="executed", affected=listing, executed=stamp))
            writer.log(actor=principal.id, role=principal.role, action="trace_recall", origin=origin,
                       detail={"recall": case_id, "identifier": case["identifier"], "lots": len(affected)})
        return self.case(principal, case_id)

    def case(self, principal: Principal, case_id: str) -> dict[str, Any]:
        check_capture_rights(principal)
        return self._named(principal, [_shown(self._case(case_id))])[0]

    def cases(self, principal: Principal, limit: int = 200) -> list[dict[str, Any]]:
        """Recall cases, newest first."""
        check_capture_rights(principal)
        with self.store.engine.connect() as connection:
            shown = [_shown(dict(row)) for row in connection.execute(
                sa.select(recalls).order_by(recalls.c.created.desc(), recalls.c.id.desc()).limit(limit)).mappings()]
        return self._named(principal, shown)

    def _named(self, principal: Principal, shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each case with ``names``: what its holders' and locations' GLNs name (master data)."""
        names = MasterData(self.store).labels(principal, {i for case in shown
                                                         for i in case["holders"] + case["locations"]})
        return [case | {"names": {i: names[i] for i in case["holders"] + case["locations"] if i in names}}
                for case in shown]

    def spreadsheet(self, principal: Principal, case_id: str) -> bytes:
        """The recall list as XLSX: Chinese headers with filters on every column (sortable), the English
        meaning of each on the 说明 sheet, cells a spreadsheet would run as formulas neutralised."""
        shown = self.case(principal, case_id)
        if shown["status"] != "executed":
            raise ZhulianError("conflict", f"The recall {case_id} is awaiting review; execute it first.",
                               f"召回 {case_id} 待审核，请先执行。", 409)
        book = Workbook()
        sheet = book.active
        sheet.title = "召回清单"
        sheet.append([zh for _, zh, _ in COLUMNS])
        for lot in shown["lots"]:
            sheet.append([_cell(lot.get(key)) for key, _, _ in COLUMNS])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{sheet.max_row}"  # sort and filter by column
        sheet.freeze_panes = "A2"
        for index, (key, _, _) in enumerate(COLUMNS, start=1):
            sheet.column_dimensions[get_column_letter(index)].width = 18 if key in ("kind", "lastBizStep") else 40
        about = book.create_sheet("说明")
        for row in (("召回编号 Recall", shown["id"]), ("起点 From", shown["identifier"]),
                    ("原因 Reason", shown["reason"]), ("执行时间 Executed (UTC)", shown["executed"]),
                    ("来源批次 Source lots", "；".join(shown["sources"])),
                    ("全部持有方 All holders", "；".join(shown["holders"])),
                    ("全部地点 All locations", "；".join(shown["locations"]))):
            about.append([_cell(value) for value in row])
        about.append([])
        about.append(["列 Column", "含义 Meaning"])
        for _, zh, en in COLUMNS:
            about.append([zh, en])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    def _case(self, case_id: str) -> dict[str, Any]:
        with self.store.engine.connect() as connection:
            row = connection.execute(sa.select(recalls).where(recalls.c.id == case_id)).mappings().first()
        if row is None:
            raise ZhulianError("not_found", f"No recall {case_id!r}.", f"找不到召回 {case_id!r}。", 404)
        return dict(row)

    def _affected(self, start: str) -> dict[str, Any]:
        """The source lots behind ``start``; every lot forward of them, each with its holders; and every
        holder (a party shipped to) and place of the forward events."""
        with self.store.engine.connect() as connection:
            back = follow(connection, start, "back")
            roles = _roles(connection, {e["eventID"] for e in back["events"]})
            # A source is a lot the trace reached that nothing in it produced or contained.
            made = {i for i, seen in roles.items() if seen & {"output", "output_class", "parent"}}
            sources = sorted({i for i, seen in roles.items() if seen & set(_LOT_ROLES) and i in back["identifiers"]}
                             - made) or [start]
            reached: dict[str, dict[str, Any]] = {}
            downstream: set[str] = set()  # not a co-mingled input: what the trace itself went through
            for source in sources:
                forward = follow(connection, source, "forward")
                reached |= {event["eventID"]: event for event in forward["events"]}
                downstream |= set(forward["identifiers"])
            lots = _lots(connection, reached, downstream)
        if not lots:
            raise ZhulianError("not_found", f"No stored event names {start!r}; nothing to recall.",
                               f"没有任何已保存的事件涉及 {start!r}，无可召回。", 404)
        holders = sorted({d["id"] for e in reached.values() for d in e["destinations"]
                          if (d["type"] or "").endswith("party")})
        places = sorted({p for e in reached.values() for p in (e["bizLocation"], e["readPoint"]) if p}
                        | {d["id"] for e in reached.values() for d in e["destinations"] if d["type"] == "location"})
        return {"sources": sources, "lots": lots, "holders": holders, "locations": places}


def _checked(identifier: Any, reason: Any) -> tuple[str, str]:
    check_text(id=identifier, reason=reason)
    problems = []
    start = canonical(identifier) if isinstance(identifier, str) else ""
    if not start or len(start) > 500:
        problems.append(Problem("id", identifier, "an EPC, a GS1 Digital Link or another identifier (≤ 500)",
                                "请提供 EPC、GS1 数字链接或其他标识（不超过 500 字符）"))
    if not isinstance(reason, str) or not reason.strip() or len(reason) > MAX_REASON:
        problems.append(Problem("reason", reason, f"why, in 1–{MAX_REASON} characters",
                                f"请说明召回原因（1–{MAX_REASON} 字）"))
    if problems:
        raise invalid(problems, "query")
    return start, reason.strip()


def _roles(connection: sa.Connection, ids: set[str]) -> dict[str, set[str]]:
    """Each identifier the events ``ids`` name, with the roles it has in them."""
    found: dict[str, set[str]] = defaultdict(set)
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        statement = (sa.select(event_ids.c.identifier, event_ids.c.role)
                     .join(events, events.c.seq == event_ids.c.event_seq)
                     .where(events.c.event_id.in_(ordered[start:start + 500])))
        for identifier, role in connection.execute(statement):
            found[identifier].add(role)
    return found


def _lots(connection: sa.Connection, reached: dict[str, dict[str, Any]], downstream: set[str]
          ) -> list[dict[str, Any]]:
    """One row per lot or item of ``downstream`` the forward events name (containers — parents of an
    aggregation — are not lots): its latest event and place, the parties and places it was shipped to or seen at."""
    by_lot: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)
    containers = set()
    ordered = sorted(reached)
    for start in range(0, len(ordered), 500):
        statement = (sa.select(events.c.event_id, event_ids.c.identifier, event_ids.c.role)
                     .join(events, events.c.seq == event_ids.c.event_seq)
                     .where(events.c.event_id.in_(ordered[start:start + 500]),
                            event_ids.c.role.in_((*_LOT_ROLES, "parent"))))
        for event_id, identifier, role in connection.execute(statement):
            if role == "parent":
                containers.add(identifier)
            else:
                by_lot[identifier].append((reached[event_id], role))
    lots = []
    for lot, seen in sorted(by_lot.items()):
        if lot in containers or lot not in downstream:
            continue
        timeline = sorted((event for event, _ in seen), key=lambda e: e["eventTime"])
        latest = timeline[-1]
        holders = sorted({d["id"] for e in timeline for d in e["destinations"] if (d["type"] or "").endswith("party")})
        places = {p for e in timeline for p in (e["bizLocation"], e["readPoint"]) if p}
        places |= {d["id"] for e in timeline for d in e["destinations"] if d["type"] == "location"}
        lots.append({"lot": lot, "kind": "class" if all(role in _CLASS_ROLES for _, role in seen) else "instance",
                     "lastEventTime": latest["eventTime"], "lastBizStep": latest["bizStep"],
                     "lastLocation": latest["bizLocation"] or latest["readPoint"], "holders": holders,
                     "locations": sorted(places)})
    return lots


def _recall_event(lot: dict[str, Any], stamp: str) -> dict[str, Any]:
    event: dict[str, Any] = {"type": "ObjectEvent", "eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": stamp,
                             "eventTimeZoneOffset": "+00:00", "action": "OBSERVE", "disposition": "recalled"}
    if lot["kind"] == "class":
        event["quantityList"] = [{"epcClass": lot["lot"]}]
    else:
        event["epcList"] = [lot["lot"]]
    if lot["lastLocation"]:
        event["bizLocation"] = {"id": lot["lastLocation"]}
    return event


def _cell(value: Any) -> Any:
    if isinstance(value, list):
        value = "；".join(map(str, value))
    return neutralise(value) if isinstance(value, str) else value


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    listing = row["affected"]
    listing = json.loads(listing) if isinstance(listing, str) else (listing or {})
    return {"id": row["id"], "identifier": row["identifier"], "reason": row["reason"], "status": row["status"],
            "sourceEvent": row["source_event"], "createdAt": row["created"], "executed": row["executed"],
            "actor": row["actor"], "captureID": listing.get("captureID"), "notified": listing.get("notified", []),
            **{key: listing.get(key, []) for key in ("sources", "lots", "holders", "locations")}}
