"""The change feed a node serves to harvesters (protocol ``zhulian-feed/1``, see ``docs/federation.md``):
upserts and tombstones in ``seq`` order, each with its origin, and an opaque cursor to resume from."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any, Literal

import orjson
import sqlalchemy as sa
from pydantic import BaseModel, InstanceOf

from zhulian.errors import Problem, invalid
from zhulian.federation.tables import feed_origins, origin_revisions, origins
from zhulian.model import TYPES, resolve_type
from zhulian.store import Store, records, revision_data, revisions, revisions_and_records

PROTOCOL = "zhulian-feed/1"
MAX_LIMIT = 1000
_CURSOR = re.compile(r"(?:v1\.)?(\d{1,18})")


# What a feed page must look like, as harvesters and the validator check it.
class FeedOrigin(BaseModel):
    node: str
    id: str
    revision: int


class FeedEntry(BaseModel):
    seq: int
    op: Literal["upsert", "delete"]
    id: str
    type: str
    revision: int
    at: str
    origin: FeedOrigin
    # Checked to be an object, not copied key by key: that copy was most of a page's validation (issue 14).
    record: InstanceOf[dict]


class FeedMeta(BaseModel):
    next_cursor: str
    has_more: bool
    last_seq: int | None = None


class FeedPage(BaseModel):
    meta: FeedMeta
    results: list[FeedEntry]


class FeedOffer(BaseModel):
    """A module feed as the node description lists it (``zhulian.federation.module_feeds``)."""

    name: str
    version: int
    path: str


class NodeIdentity(BaseModel):
    node: str
    protocol: str
    origins: list[str]
    feeds: list[FeedOffer] = []  # a node of before module feeds lists none


def encode_cursor(seq: int) -> str:
    return f"v1.{seq}"


def decode_cursor(cursor: str | None) -> int:
    """The seq a cursor stands for; empty means the beginning. Plain integers are taken too, as ``since`` was
    an integer before cursors were opaque."""
    if not cursor:
        return 0
    match = _CURSOR.fullmatch(cursor.strip())
    if match is None:
        raise invalid([Problem("since", cursor, "not a cursor this node issued; start from the beginning "
                               "(since empty) or pass a next_cursor from an earlier page",
                               "不是本节点发出的游标；请从头开始（since 留空）或使用上一页返回的 next_cursor")], "query")
    return int(match.group(1))


def parse_sets(value: str | None) -> list[str]:
    if not value:
        return []
    return sorted({resolve_type(part.strip()) for part in value.split(",") if part.strip()})


def parse_until(value: str | None) -> str | None:
    """An ISO-8601 date or UTC date-time, as the feed's ``at`` stamps are written; a date means its whole day."""
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text).isoformat() + "T23:59:59.999999Z"
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid([Problem("until", value, "not an ISO-8601 date or date-time, e.g. 2026-11-26 or "
                               "2026-11-26T08:00:00Z", "不是 ISO-8601 日期或时间，例如 2026-11-26 或 "
                               "2026-11-26T08:00:00Z")], "query") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="microseconds") + "Z"


def feed_page(store: Store, node: str, *, since: str | None = None, sets: list[str] | None = None,
              until: str | None = None, limit: int = 100) -> dict[str, Any]:
    """One page of the feed after the cursor ``since``."""
    return _page(store, node, since, sets, until, limit, orjson.loads)


def feed_page_json(store: Store, node: str, *, since: str | None = None, sets: list[str] | None = None,
                   until: str | None = None, limit: int = 100) -> bytes:
    """``feed_page`` as the JSON the node answers: each record's stored JSON text is copied into the page as it
    is, never decoded and encoded again (that was most of the feed's cost, issue 14)."""
    return orjson.dumps(_page(store, node, since, sets, until, limit, orjson.Fragment))


def _page(store: Store, node: str, since: str | None, sets: list[str] | None, until: str | None, limit: int,
          record: Callable[[str], Any]) -> dict[str, Any]:
    """A feed page whose records are ``record`` of their stored JSON text."""
    after = decode_cursor(since)
    limit = max(1, min(limit, MAX_LIMIT))
    # The record as text: the column's own type would decode every record only for it to be encoded again.
    query = (sa.select(revisions.c.seq, revisions.c.record_id, revisions.c.type, revisions.c.revision,
                       revisions.c.op, revisions.c.at, sa.cast(revision_data, sa.Text).label("data"),
                       origin_revisions.c.origin_node, origin_revisions.c.origin_revision)
             .select_from(revisions_and_records.outerjoin(origin_revisions, sa.and_(
                 origin_revisions.c.record_id == revisions.c.record_id,
                 origin_revisions.c.revision == revisions.c.revision)))
             .where(revisions.c.seq > after).order_by(revisions.c.seq).limit(limit + 1))
    if sets:
        query = query.where(revisions.c.type.in_(sets))
    if until:
        query = query.where(revisions.c.at <= until)
    with store.engine.connect() as connection:
        rows = connection.execute(query).all()
        last_seq = connection.execute(sa.select(sa.func.coalesce(sa.func.max(revisions.c.seq), 0))).scalar_one()
    has_more, rows = len(rows) > limit, rows[:limit]
    results = [_entry(row, node, record(row.data)) for row in rows]
    next_seq = rows[-1].seq if rows else after
    return {"meta": {"protocol": PROTOCOL, "node": node, "count": len(results), "since": since or "",
                     "next_cursor": encode_cursor(next_seq), "next_since": next_seq, "has_more": has_more,
                     "last_seq": last_seq, "sets": sets or []},
            "results": results}


def _entry(row: sa.Row, node: str, record: Any) -> dict[str, Any]:
    harvested = row.origin_node is not None
    return {"seq": row.seq, "op": "delete" if row.op == "delete" else "upsert", "id": row.record_id,
            "type": row.type, "revision": row.revision, "at": row.at,
            "origin": {"node": row.origin_node if harvested else node, "id": row.record_id,
                       "revision": row.origin_revision if harvested else row.revision},
            "record": record}


def served_origins(store: Store, node: str) -> list[str]:
    """The origins whose records and module-feed entries this node serves: its own and every one it harvested."""
    either = sa.union(sa.select(origins.c.origin_node), sa.select(feed_origins.c.origin_node))
    with store.engine.connect() as connection:
        harvested = connection.execute(either).scalars().all()
    return sorted({node, *harvested})


def describe(store: Store, node: str, feeds: list[dict[str, Any]]) -> dict[str, Any]:
    """What ``GET /api/v1/node`` answers: who this node is, what its feed offers, and its module ``feeds``."""
    with store.engine.connect() as connection:
        live = connection.execute(sa.select(sa.func.count()).select_from(records)
                                  .where(records.c.deleted.is_(None))).scalar_one()
    return {"node": node, "protocol": PROTOCOL, "origins": served_origins(store, node), "sets": list(TYPES),
            "max_limit": MAX_LIMIT, "records": live, "feed": "/api/v1/changes", "oai": "/oai", "feeds": feeds}
