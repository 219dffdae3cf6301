"""The blocking index: for every live organisation and person, the keys its names give (``normalize.grams``),
so that finding the few records worth scoring for a name is one indexed look-up. It is derived from the
store's change feed and brought up to date inside the caller's transaction before each resolution, so an
import sees the records its own earlier batches wrote, and a rolled-back import leaves no keys behind.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from zhulian.registry.normalize import grams, person_key
from zhulian.registry.tables import registry_keys, registry_state
from zhulian.store import revision_data, revisions, revisions_and_records

INDEXED_TYPES = ("organization", "person")
FEED_BATCH = 2000
SYNC_LOCK = 0x7A68_7267  # "zhrg"
CANDIDATES = 12  # records scored per name; the rest share too few keys to matter


def record_grams(record: dict[str, Any]) -> set[str]:
    names = [n for n in (record.get("name") or {}).values() if isinstance(n, str)]
    names += [a for a in record.get("aliases") or [] if isinstance(a, str)]
    if record.get("type") == "person":
        return {"p:" + key[:60] for name in names if (key := person_key(name))}
    found: set[str] = set()
    for name in names:
        found |= grams(name)
    return found


def behind(connection: sa.Connection) -> bool:
    """Whether the feed holds organisation or person revisions the keys have not taken in yet (other types
    move the position on at the next sync, but leave the keys as they are)."""
    position = connection.execute(sa.select(registry_state.c.seq).where(registry_state.c.name == "keys")).scalar()
    if position is None:
        return True
    pending = sa.select(revisions.c.seq).where(revisions.c.seq > position, revisions.c.type.in_(INDEXED_TYPES))
    return connection.execute(pending.limit(1)).first() is not None


def sync(connection: sa.Connection) -> int:
    """Apply the feed since the last position; returns the new position. On PostgreSQL one transaction
    at a time does this (a lock held to its end), so two never write the same keys."""
    if connection.dialect.name == "postgresql":
        # Keyed by schema too, as the store's feed lock is: stores sharing a database do not wait on each other.
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(SYNC_LOCK, sa.func.hashtext(sa.func.current_schema()))))
    position = connection.execute(sa.select(registry_state.c.seq).where(registry_state.c.name == "keys")).scalar()
    start = position or 0
    while True:
        rows = connection.execute(
            sa.select(revisions.c.seq, revisions.c.record_id, revisions.c.type, revisions.c.op,
                      revision_data.label("data"))
            .select_from(revisions_and_records).where(revisions.c.seq > start, revisions.c.type.in_(INDEXED_TYPES))
            .order_by(revisions.c.seq).limit(FEED_BATCH)).all()
        if not rows:
            break
        latest = {row.record_id: row for row in rows}  # a record written twice counts as its last state
        _replace(connection, latest.values())
        start = rows[-1].seq
    last = connection.execute(sa.select(sa.func.coalesce(sa.func.max(revisions.c.seq), 0))).scalar_one()
    start = max(start, last)
    if position is None:
        connection.execute(registry_state.insert().values(name="keys", seq=start))
    elif start != position:
        connection.execute(registry_state.update().where(registry_state.c.name == "keys").values(seq=start))
    return start


def _replace(connection: sa.Connection, rows: Iterable[Any]) -> None:
    rows = list(rows)
    for chunk in _chunks([row.record_id for row in rows]):
        connection.execute(registry_keys.delete().where(registry_keys.c.record_id.in_(chunk)))
    fresh = [{"record_id": row.record_id, "type": row.type, "gram": gram}
             for row in rows if row.op != "delete" for gram in record_grams(row.data)]
    if fresh:
        connection.execute(registry_keys.insert(), fresh)


_GRAMS = registry_keys.c.gram.in_(sa.bindparam("grams", expanding=True))
_KEY_COUNTS = sa.select(registry_keys.c.gram, sa.func.count()).where(
    registry_keys.c.type == sa.bindparam("type"), _GRAMS).group_by(registry_keys.c.gram)
_POSTINGS = sa.select(registry_keys.c.gram, registry_keys.c.record_id).where(
    registry_keys.c.type == sa.bindparam("type"), _GRAMS)


class Blocker:
    """Finds the records worth scoring for a name: those sharing the most keys with it, best first, a
    rare shared key counting more than a common one. A key shared by more than ``COMMON`` records (大学,
    "university", 职业) tells too little to read its postings at all. Postings are read once per key and kept,
    so a batch of names costs a few queries."""

    COMMON = 100

    def __init__(self, connection: sa.Connection, type_name: str) -> None:
        self.connection, self.type_name = connection, type_name
        self.postings: dict[str, list[str]] = {}

    def load(self, wanted: Iterable[str]) -> None:
        keys = sorted({key for key in wanted if key not in self.postings})
        self.postings.update({key: [] for key in keys})
        informative = []
        for chunk in _chunks(keys):
            counts = self.connection.execute(_KEY_COUNTS, {"type": self.type_name, "grams": chunk}).all()
            informative += [gram for gram, count in counts if count <= self.COMMON]
        for chunk in _chunks(informative):
            rows = self.connection.execute(_POSTINGS, {"type": self.type_name, "grams": chunk})
            for gram, record_id in rows:
                self.postings[gram].append(record_id)

    def candidates(self, wanted: set[str], limit: int = CANDIDATES) -> list[str]:
        self.load(wanted)
        return most_shared(wanted, self.postings, limit)


def most_shared(wanted: set[str], postings: dict[str, list[str]], limit: int = CANDIDATES) -> list[str]:
    """The ids sharing the most keys with ``wanted``: a whole-name key counts ten times a gram, and each key
    by one over the square root of how many records share it."""
    scores: Counter[str] = Counter()
    for gram in wanted:
        ids = postings.get(gram, ())
        if len(ids) > Blocker.COMMON:
            continue
        weight = (10.0 if gram.startswith(("k:", "a:", "p:")) else 1.0) / max(len(ids), 1) ** 0.5
        for record_id in ids:
            scores[record_id] += weight
    return [record_id for record_id, _ in scores.most_common(limit)]


def _chunks(items: list[str], size: int = 500) -> Iterable[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
