"""Conflicts a harvest found, shown so that a person can judge them and settled by that person.

A conflict is a remote version a harvest would not write because it would overwrite a record of another origin
(or of this node). It is listed with the names of both versions, both versions side by side and the fields in
which they differ, and is settled by keeping the local version, taking the remote one, or merging them (the
local values stand, the remote fills what the local lacks, lists are joined). Settling writes the record and
its audit entry in one transaction with the settlement.
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa

from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError, conflict, invalid, not_found
from zhulian.federation.tables import conflicts, origin_revisions, origins
from zhulian.model import record_label
from zhulian.store import Store, content_of, now

KEEP = ("local", "remote", "merged")
MAX_SEQ = 2**63 - 1
# Fields the store or the node stamps: never a difference a person settles.
STAMPED = ("node",)


def list_conflicts(store: Store, *, limit: int = 100, settled: bool = False) -> list[dict[str, Any]]:
    """The newest conflicts first, open ones only unless ``settled``, each with both versions and their differences."""
    query = sa.select(conflicts).order_by(conflicts.c.seq.desc()).limit(limit)
    if not settled:
        query = query.where(conflicts.c.resolved.is_(None))
    with store.engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(query).mappings()]
    return [_described(store, row) for row in rows]


def get_conflict(store: Store, seq: int) -> dict[str, Any]:
    return _described(store, _row(store, seq))


def resolve(store: Store, principal: Principal, seq: int, keep: str, *, origin: str | None = None) -> dict[str, Any]:
    """Settle conflict ``seq``: keep the ``local`` version, take the ``remote`` one, or the ``merged`` one.
    Admins only; the record written (if any) and the settlement are audited in the same transaction."""
    if not principal.is_admin:
        raise ZhulianError("forbidden", "Only admins settle harvest conflicts.", "只有管理员可以处理采集冲突。", 403)
    if keep not in KEEP:
        raise invalid([Problem("keep", keep, f"one of {', '.join(KEEP)}", f"应为 {'、'.join(KEEP)} 之一")], "query")
    row = _row(store, seq)
    if row["resolved"] is not None:
        raise conflict(f"Conflict {seq} was settled already ({row['resolution']}, {row['resolved']}).",
                       f"冲突 {seq} 已于 {row['resolved']} 处理（{row['resolution']}）。")
    local = _local(store, row)
    remote = content_of(row["record"] or {})
    with store.transaction() as writer:
        written = None
        if keep != "local":
            wanted = remote if keep == "remote" or local is None else merged(content_of(local), remote)
            if local is None or local.get("deleted"):
                written, _ = writer.upsert({**wanted, "id": row["local_id"] or row["record_id"]})
            else:
                written = writer.update(local["id"], wanted)
            if keep == "remote" and written["id"] == row["record_id"]:
                _follow_origin(writer.connection, row, written)
        settled = writer.connection.execute(
            conflicts.update().where(conflicts.c.seq == seq, conflicts.c.resolved.is_(None))
            .values(resolved=now(), resolution=keep, resolved_by=principal.id))
        if not settled.rowcount:
            raise conflict(f"Conflict {seq} was settled meanwhile.", f"冲突 {seq} 已被他人处理。")
        changed = written is not None and (local is None or written["revision"] != local["revision"])
        writer.log(actor=principal.id, role=principal.role, action="update" if changed else "resolve",
                   record_id=(written or local or {}).get("id", row["local_id"]),
                   revision=written["revision"] if changed else None, origin=origin,
                   detail={"conflict": seq, "keep": keep, "source": row["source"], "origin_node": row["origin_node"],
                           "origin_revision": row["origin_revision"]})
    return get_conflict(store, seq)


def merged(local: dict[str, Any], remote: dict[str, Any]) -> dict[str, Any]:
    """The local version with what only the remote has: missing or empty fields filled, lists joined (local
    items first), identifiers and names of other languages added; the local value wins wherever both have one."""
    result = dict(local)
    for key, theirs in remote.items():
        ours = result.get(key)
        if ours in (None, "", [], {}):
            result[key] = theirs
        elif isinstance(ours, list) and isinstance(theirs, list) and key != "relations":
            result[key] = ours + [item for item in theirs if item not in ours]
        elif isinstance(ours, dict) and isinstance(theirs, dict):
            result[key] = {**theirs, **{k: v for k, v in ours.items() if v not in (None, "")}}
    return result


def differences(local: dict[str, Any] | None, remote: dict[str, Any]) -> list[dict[str, Any]]:
    """The content fields in which two versions differ, with each side's value."""
    ours = content_of(local or {})
    theirs = content_of(remote)
    keys = sorted((ours.keys() | theirs.keys()) - set(STAMPED))
    return [{"field": key, "local": ours.get(key), "remote": theirs.get(key)}
            for key in keys if ours.get(key) != theirs.get(key)]


def shown(value: Any) -> str:
    """A field's value as a person reads it: text as it is, anything else as JSON, nothing as a dash."""
    if value is None:
        return "–"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _row(store: Store, seq: int) -> dict[str, Any]:
    row = None
    if 1 <= seq <= MAX_SEQ:  # a number the database cannot hold names no conflict
        with store.engine.connect() as connection:
            row = connection.execute(sa.select(conflicts).where(conflicts.c.seq == seq)).mappings().first()
    if row is None:
        error = not_found(str(seq))
        error.message = f"No harvest conflict number {seq}; see `zhulian nodes conflicts`."
        error.message_zh = f"没有编号为 {seq} 的采集冲突，请查看 `zhulian nodes conflicts`。"
        raise error
    return dict(row)


def _local(store: Store, row: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return store.get(row["local_id"] or row["record_id"], include_deleted=True)
    except ZhulianError:
        return None


def _described(store: Store, row: dict[str, Any]) -> dict[str, Any]:
    local = _local(store, row)
    remote = row["record"] or {}
    return {**row, "name": record_label(remote) if remote.get("type") else row["record_id"],
            "local_name": record_label(local) if local else None, "local": local, "remote": remote,
            "differences": differences(local, remote), "status": "settled" if row["resolved"] else "open"}


def _follow_origin(connection: sa.Connection, row: dict[str, Any], written: dict[str, Any]) -> None:
    """After taking the remote version, the record follows its origin: later harvests update it."""
    record_id = written["id"]
    connection.execute(origins.delete().where(origins.c.record_id == record_id))
    connection.execute(origins.insert().values(record_id=record_id, origin_node=row["origin_node"],
                                               origin_revision=row["origin_revision"], source=row["source"],
                                               harvested=now()))
    connection.execute(origin_revisions.delete().where(origin_revisions.c.record_id == record_id,
                                                       origin_revisions.c.revision == written["revision"]))
    connection.execute(origin_revisions.insert().values(record_id=record_id, revision=written["revision"],
                                                        origin_node=row["origin_node"],
                                                        origin_revision=row["origin_revision"]))
