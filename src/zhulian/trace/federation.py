"""Trace events federate (issue 17, item 8): the events a city node captures are a module feed
(``zhulian.federation.module_feeds``; docs/modules.md §8) that hubs harvest like records, so a trace back or
forward, or a recall, on a hub follows a chain whose steps were captured on different cities' nodes.

Events are append-only, so the feed is ``trace_events.seq``. Each entry carries the event as stored (its eventID,
the error declaration it has when served) and its CBV event hash. A hub stores a harvested page as one capture
of its own (a ``trace_captures`` job and an audit entry by ``harvest:<node>``), through the same duplicate rules
and projections as any capture, so an event reaching a hub by two paths is stored once, and one the hub knows
without a declaration takes the declaration it arrives with."""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from ulid import ULID

from zhulian.errors import Problem
from zhulian.federation.module_feeds import Change, ModuleFeed
from zhulian.store import Writer
from zhulian.trace.service import EPCIS_CONTEXT, EVENT_TYPES, TraceService, utc_millis_now
from zhulian.trace.tables import captures, declarations, events
from zhulian.trace.validation import document_problems

_HASH = re.compile(r"ni:///sha-256;[0-9a-f]{64}\?ver=CBV2\.0")


def changes(connection: sa.Connection, after_seq: int, limit: int) -> list[Change]:
    rows = connection.execute(sa.select(events.c.seq, events.c.event_id, events.c.event_hash, events.c.record_time,
                                        events.c.document)
                              .where(events.c.seq > after_seq).order_by(events.c.seq).limit(limit)).all()
    declared = dict(connection.execute(sa.select(declarations.c.event_id, declarations.c.declaration).where(
        declarations.c.event_id.in_([row.event_id for row in rows]))).all()) if rows else {}
    found = []
    for row in rows:
        event = dict(row.document)
        if row.event_id in declared:
            event["errorDeclaration"] = declared[row.event_id]
        found.append(Change(row.seq, row.event_id, row.record_time, {"event": event, "hash": row.event_hash}))
    return found


def check(change: Change) -> list[Problem]:
    """A harvested event is taken only as a capture would take it: valid against GS1's schema, its eventID the
    entry's key, its hash a CBV 2.0 event hash."""
    event, hashed = change.data.get("event"), change.data.get("hash")
    problems = []
    if not isinstance(hashed, str) or not _HASH.fullmatch(hashed):
        problems.append(Problem("/hash", hashed, "a CBV 2.0 event hash, ni:///sha-256;<64 hex>?ver=CBV2.0",
                                "应为 CBV 2.0 事件哈希 ni:///sha-256;<64 位十六进制>?ver=CBV2.0"))
    if not isinstance(event, dict) or event.get("type") not in EVENT_TYPES:
        return problems + [Problem("/event/type", event.get("type") if isinstance(event, dict) else None,
                                   f"an event's type is one of {', '.join(EVENT_TYPES)}",
                                   f"事件类型应为 {'、'.join(EVENT_TYPES)} 之一")]
    if event.get("eventID") != change.key:
        problems.append(Problem("/event/eventID", event.get("eventID"), f"the entry's key {change.key}",
                                f"应与条目的键 {change.key} 一致"))
    # Stored events lost the @context of the document they came in; checked alone, they stand in the standard one.
    alone = {"@context": [EPCIS_CONTEXT], **event}
    return problems + [Problem(f"/event{p.field}", p.value, p.reason, p.reason_zh) for p in document_problems(alone)]


def apply(writer: Writer, source: str, harvested: list[Change]) -> list[str]:
    """Store a harvested page as one capture by ``harvest:<source>``; answers the eventIDs of the new events."""
    service, actor = TraceService(writer.store), f"harvest:{source}"
    prepared = [_prepared(change) for change in harvested]
    _duplicates, kept = service._sort_out(writer.connection, prepared)  # already held: skipped, not refused
    if not kept:
        return []
    capture_id, stamp = f"cap_{ULID()}", utc_millis_now()
    service._insert(writer, kept, capture_id, stamp, actor)
    stored = [item["event_id"] for item in kept if "declares" not in item]
    writer.connection.execute(captures.insert().values(
        id=capture_id, running=False, success=True, behaviour="proceed", event_count=len(harvested),
        stored=len(stored), errors=[], actor=actor, created=stamp, finished=utc_millis_now()))
    writer.log(actor=actor, role="harvester", action="trace_capture", origin=actor,
               detail={"capture": capture_id, "events": len(harvested), "stored": len(stored),
                       "declarations": len(kept) - len(stored), "behaviour": "harvest"})
    return stored


def _prepared(change: Change) -> dict[str, Any]:
    """A harvested event in the shape a capture prepares one (``TraceService._prepare``), its hash as served."""
    event = change.data["event"]
    return {"event": event, "event_id": change.key, "hash": change.data["hash"], "pointer": f"/{change.key}",
            "declaration": event.get("errorDeclaration")}


FEEDS = (ModuleFeed("trace.events", "溯源事件（EPCIS 2.0）", "trace events (EPCIS 2.0)", changes, check, apply),)
