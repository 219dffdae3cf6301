"""Trace back and forward over stored EPCIS events (EPCIS has no trace query; this one is built on the same
identifier projection the SimpleEventQuery uses), breadth first, one round of queries per step however many
identifiers the step reaches.

From an identifier's events:

- back, an output of a transformation leads to its inputs as they were before it; forward, an input leads to
  the outputs after it;
- back, a parent leads to the children packed into it, as they were before; forward, to the children from
  then on;
- either way, a child leads to its parent only while it was inside: from the ADD until the later DELETE of
  that child from that parent (aggregation containment in time).

Events are distinct by eventID; the answer says how many raw hits were merged into them."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from zhulian.trace.tables import event_ids, events

DIRECTIONS = ("back", "forward")
MAX_EVENTS = 10_000  # a trace that reaches more stops there and says so
_CONTAINING = ("ADD", "OBSERVE")


@dataclass(frozen=True)
class Reach:
    """An identifier and the time window in which its events belong to the trace (None: open)."""

    identifier: str
    since: str | None = None
    until: str | None = None

    def covers(self, moment: str) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment <= self.until)


@dataclass(frozen=True)
class Hit:
    seq: int
    role: str
    identifier: str
    event_time: str
    event_type: str
    action: str | None


def follow(connection: sa.Connection, start: str, direction: str) -> dict[str, Any]:
    """The events reached from ``start`` (canonical identifier) going ``back`` or ``forward``."""
    frontier, seen = [Reach(start)], set()
    reached: dict[int, Hit] = {}
    identifiers, raw, truncated = {start}, 0, False
    members: dict[int, list[Any]] = {}
    details: dict[int, Any] = {}
    while frontier and not truncated:
        batch = list(dict.fromkeys(r for r in frontier if r not in seen))
        if not batch:
            break
        seen.update(batch)
        hits = _load(connection, {r.identifier for r in batch}, members, details)
        frontier = []
        for reach in batch:
            for hit in hits.get(reach.identifier, []):
                if not reach.covers(hit.event_time):
                    continue
                raw += 1
                reached.setdefault(hit.seq, hit)
                frontier += _steps(direction, hit, members, hits[reach.identifier])
        identifiers.update(r.identifier for r in frontier)
        truncated = len(reached) > MAX_EVENTS
    return _answer(start, direction, reached, members, details, identifiers, raw, truncated)


# Every identifier row of every event naming one of the identifiers, with the event's own fields. Built once:
# building and keying the statement anew cost more than running it (the identifiers are an expanding parameter).
_NAMING_ROWS = (
    sa.select(event_ids.c.event_seq, event_ids.c.role, event_ids.c.identifier, event_ids.c.kind, events.c.event_id,
              events.c.event_type, events.c.action, events.c.event_time, events.c.biz_step, events.c.disposition,
              events.c.read_point, events.c.biz_location)
    .join(events, events.c.seq == event_ids.c.event_seq)
    .where(event_ids.c.event_seq.in_(sa.select(event_ids.c.event_seq).where(
        event_ids.c.identifier.in_(sa.bindparam("identifiers", expanding=True))))))


def _load(connection: sa.Connection, identifiers: set[str], members: dict[int, list[Any]],
          details: dict[int, Any]) -> dict[str, list[Hit]]:
    """One query per step: every identifier row of every event naming one of ``identifiers``, with the
    event's own fields. Fills ``members`` (rows by event) and ``details`` (event fields by event); returns
    the hits of ``identifiers`` by identifier."""
    hits: dict[str, list[Hit]] = defaultdict(list)
    ordered = sorted(identifiers)
    for start in range(0, len(ordered), 500):
        found = connection.execute(_NAMING_ROWS, {"identifiers": ordered[start:start + 500]})
        loaded: dict[int, list[Any]] = defaultdict(list)
        for row in found:
            loaded[row.event_seq].append(row)
            if row.identifier in identifiers:
                hits[row.identifier].append(Hit(row.event_seq, row.role, row.identifier, row.event_time,
                                                row.event_type, row.action))
        for seq, rows in loaded.items():
            members[seq], details[seq] = rows, rows[0]
    return hits


def _with_role(rows: list[Any], *roles: str) -> list[str]:
    return [row.identifier for row in rows if row.role in roles]


def _steps(direction: str, hit: Hit, members: dict[int, list[Any]], siblings: list[Hit]) -> list[Reach]:
    """Where one event leads from the identifier it was reached by (``siblings``: that identifier's hits)."""
    at, rows = hit.event_time, members[hit.seq]
    if hit.role in ("child", "child_class") and hit.action in _CONTAINING:
        return [Reach(parent, at, _removed(hit, parent, siblings, members)) for parent in _with_role(rows, "parent")]
    if hit.role == "parent" and hit.action in _CONTAINING:
        children = _with_role(rows, "child", "child_class")
        return [Reach(child, None, at) if direction == "back" else Reach(child, at, None) for child in children]
    if direction == "back" and hit.role in ("output", "output_class"):
        return [Reach(source, None, at) for source in _with_role(rows, "input", "input_class")]
    if direction == "forward" and hit.role in ("input", "input_class"):
        return [Reach(product, at, None) for product in _with_role(rows, "output", "output_class")]
    return []


def _removed(added: Hit, parent: str, siblings: list[Hit], members: dict[int, list[Any]]) -> str | None:
    """When the child of ``added`` was next taken out of ``parent``: the first later DELETE naming both."""
    later = [h.event_time for h in siblings if h.role == added.role and h.action == "DELETE"
             and h.event_time >= added.event_time and parent in _with_role(members[h.seq], "parent")]
    return min(later, default=None)


def _answer(start: str, direction: str, reached: dict[int, Hit], members: dict[int, list[Any]],
            details: dict[int, Any], identifiers: set[str], raw: int, truncated: bool) -> dict[str, Any]:
    rows = sorted((details[seq] for seq in sorted(reached)[:MAX_EVENTS]), key=lambda r: (r.event_time, r.event_seq))
    parties, locations = set(), set()
    shown = []
    for row in rows:
        places = [m for m in members.get(row.event_seq, []) if m.role in ("source", "destination")]
        parties |= {m.identifier for m in places if (m.kind or "").endswith("_party")}
        locations |= {m.identifier for m in places if m.kind == "location"}
        locations |= {p for p in (row.read_point, row.biz_location) if p}
        hit = reached[row.event_seq]
        shown.append({"eventID": row.event_id, "type": row.event_type, "action": row.action,
                      "eventTime": row.event_time, "bizStep": row.biz_step, "disposition": row.disposition,
                      "readPoint": row.read_point, "bizLocation": row.biz_location,
                      "via": {"identifier": hit.identifier, "role": hit.role},
                      "sources": [{"type": m.kind, "id": m.identifier} for m in places if m.role == "source"],
                      "destinations": [{"type": m.kind, "id": m.identifier} for m in places
                                       if m.role == "destination"]})
    return {"id": start, "direction": direction, "count": len(shown), "merged": raw - len(shown),
            "truncated": truncated, "events": shown, "identifiers": sorted(identifiers),
            "parties": sorted(parties), "locations": sorted(locations)}
