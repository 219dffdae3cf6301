"""The store: the platform's one source of truth.

Every write goes through a ``Writer`` inside one database transaction: it validates the record, resolves
its relations, writes the current row, a revision, the pid, relation and field projections, and one
entry in the change feed. Readers get records as JSON-ready dicts in the exchange envelope.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from zhulian.config import Settings, sqlalchemy_url
from zhulian.errors import Problem, ZhulianError, conflict, gone, invalid, not_found
from zhulian.model import PREDICATES, Resource, display_name, indexed_values, new_id, parse_ref, validate_record
from zhulian.store import migrate
from zhulian.store.engine import WRITE, make_engine
from zhulian.store.query import Condition, parse_filter
from zhulian.store.tables import changes, pids, record_fields, records, relations, revisions

SERVER_FIELDS = ("id", "revision", "created", "updated", "deleted")
FEED_LOCK = 0x7A686C  # PostgreSQL advisory lock that orders change-feed appends ("zhl")
SORT_COLUMNS = {"id": records.c.id, "name": records.c.label, "city": records.c.city, "year": records.c.year,
                "created": records.c.created, "updated": records.c.updated, "revision": records.c.revision}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def content_of(payload: dict[str, Any]) -> dict[str, Any]:
    """What a writer controls: the payload without the fields the store sets."""
    return {k: v for k, v in payload.items() if k not in SERVER_FIELDS}


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, ensure_ascii=False)


@dataclass
class Page:
    results: list[dict[str, Any]]
    count: int


class Store:
    def __init__(self, url: str, *, node: str | None = None) -> None:
        self.url = sqlalchemy_url(url)
        self.node = node
        self.engine = make_engine(self.url)

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, upgrade: bool = True) -> Store:
        settings = settings or Settings()
        store = cls(settings.resolved_database_url(), node=settings.node)
        if upgrade:
            store.migrate()
        return store

    def migrate(self) -> None:
        migrate.upgrade(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        """One transaction: everything written inside commits together or not at all."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{WRITE: True})
            with connection.begin():
                yield Writer(self, connection)

    def create(self, data: dict[str, Any] | Resource) -> dict[str, Any]:
        with self.transaction() as writer:
            return writer.create(data)

    def update(self, ref: str, data: dict[str, Any] | Resource, *, expected_revision: int | None = None) -> dict:
        with self.transaction() as writer:
            return writer.update(ref, data, expected_revision=expected_revision)

    def upsert(self, data: dict[str, Any] | Resource) -> tuple[dict[str, Any], str]:
        with self.transaction() as writer:
            return writer.upsert(data)

    def delete(self, ref: str, *, expected_revision: int | None = None) -> dict[str, Any]:
        with self.transaction() as writer:
            return writer.delete(ref, expected_revision=expected_revision)

    # -- reading ---------------------------------------------------------------------------------

    @contextmanager
    def _read(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as connection:
            yield connection

    def resolve(self, ref: str) -> str:
        with self._read() as connection:
            return resolve_ref(connection, ref)

    def get(self, ref: str, *, revision: int | None = None, include_deleted: bool = False,
            expand: bool = False) -> dict[str, Any]:
        """A record by id or ``scheme:value``; an earlier state with ``revision``; a deleted record is
        ``gone`` unless ``include_deleted``. ``expand`` adds both ends of its relations with names."""
        with self._read() as connection:
            record_id = resolve_ref(connection, ref)
            row = connection.execute(sa.select(records.c.data, records.c.deleted, records.c.revision)
                                     .where(records.c.id == record_id)).one()
            if row.deleted and not include_deleted and revision is None:
                raise gone(ref, row.revision)
            if revision is None:
                payload = row.data
            else:
                payload = connection.execute(sa.select(revisions.c.data).where(
                    revisions.c.record_id == record_id, revisions.c.revision == revision)).scalar()
                if payload is None:
                    raise ZhulianError("not_found", f"{ref} has no revision {revision} (latest: {row.revision}).",
                                       f"{ref} 没有第 {revision} 版（最新为第 {row.revision} 版）。", 404)
            if expand:
                payload = {**payload, "relations": _relations(connection, record_id, "both", None)}
            return payload

    def revisions(self, ref: str) -> list[dict[str, Any]]:
        with self._read() as connection:
            record_id = resolve_ref(connection, ref)
            rows = connection.execute(sa.select(revisions.c.revision, revisions.c.op, revisions.c.at)
                                      .where(revisions.c.record_id == record_id).order_by(revisions.c.revision))
            return [{"revision": r.revision, "op": r.op, "at": r.at} for r in rows]

    def relations(self, ref: str, *, direction: str = "both", predicate: str | None = None) -> list[dict]:
        """Relations at either end of a record: ``out`` where it is the subject, ``in`` the object."""
        with self._read() as connection:
            return _relations(connection, resolve_ref(connection, ref), direction, predicate)

    def query(self, type_name: str | None = None, filter: str | list[Condition] | None = None, *,
              sort: str = "id", limit: int = 50, offset: int = 0, expand: bool = False) -> Page:
        conditions = parse_filter(filter, type_name) if not isinstance(filter, list) else filter
        where = _where(type_name, conditions)
        order = _order(sort)
        with self._read() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(records).where(*where)).scalar_one()
            rows = connection.execute(sa.select(records.c.id, records.c.data).where(*where)
                                      .order_by(*order).limit(limit).offset(offset)).all()
            return Page([self._with_relations(connection, r, expand) for r in rows], count)

    def iterate(self, type_name: str | None = None, filter: str | list[Condition] | None = None, *,
                expand: bool = False, batch: int = 500) -> Iterator[dict[str, Any]]:
        """Every matching record in id order, read in batches so memory stays flat however many match."""
        conditions = parse_filter(filter, type_name) if not isinstance(filter, list) else filter
        where = _where(type_name, conditions)
        after = ""
        while True:
            with self._read() as connection:
                rows = connection.execute(sa.select(records.c.id, records.c.data)
                                          .where(*where, records.c.id > after)
                                          .order_by(records.c.id).limit(batch)).all()
                results = [self._with_relations(connection, r, expand) for r in rows]
            yield from results
            if len(rows) < batch:
                return
            after = rows[-1].id

    @staticmethod
    def _with_relations(connection: sa.Connection, row: sa.Row, expand: bool) -> dict[str, Any]:
        if not expand:
            return row.data
        return {**row.data, "relations": _relations(connection, row.id, "both", None)}

    def group_by(self, type_name: str | None, field: str, filter: str | None = None) -> list[dict[str, Any]]:
        """Counts per value of a field over the records a filter selects, largest first."""
        where = _where(type_name, parse_filter(filter, type_name))
        if field not in ("type", "city", "node", "access", "year"):
            parse_filter(f"{field}:x", type_name) if field != "year" else None
        with self._read() as connection:
            if field in ("type", "city", "node", "access", "year"):
                column = records.c[field]
                statement = (sa.select(column.label("key"), sa.func.count().label("n"))
                             .where(*where).group_by(column))
            else:
                statement = (sa.select(record_fields.c.value.label("key"), sa.func.count().label("n"))
                             .join(records, records.c.id == record_fields.c.record_id)
                             .where(record_fields.c.field == field, *where).group_by(record_fields.c.value))
            rows = connection.execute(statement).all()
        groups = [{"key": r.key, "key_display_name": display_name(type_name, field, str(r.key)) if r.key is not None
                   else "未知 unknown", "count": r.n} for r in rows]
        return sorted(groups, key=lambda g: (-g["count"], str(g["key"])))

    def counts(self) -> dict[str, int]:
        """Live records per type."""
        with self._read() as connection:
            rows = connection.execute(sa.select(records.c.type, sa.func.count()).where(records.c.deleted.is_(None))
                                      .group_by(records.c.type)).all()
        return {type_name: n for type_name, n in rows}

    def changes(self, since: int = 0, limit: int = 1000, *, with_records: bool = False) -> list[dict[str, Any]]:
        """The change feed after ``since``, oldest first: each upsert or tombstone with its sequence number."""
        columns = [changes.c.seq, changes.c.record_id, changes.c.type, changes.c.revision, changes.c.op, changes.c.at]
        statement = sa.select(*columns)
        if with_records:
            statement = sa.select(*columns, revisions.c.data).join(revisions, sa.and_(
                revisions.c.record_id == changes.c.record_id, revisions.c.revision == changes.c.revision))
        with self._read() as connection:
            rows = connection.execute(statement.where(changes.c.seq > since).order_by(changes.c.seq)
                                      .limit(limit)).all()
        feed = []
        for row in rows:
            entry = {"seq": row.seq, "id": row.record_id, "type": row.type, "revision": row.revision,
                     "op": row.op, "at": row.at}
            if with_records:
                entry["record"] = row.data
            feed.append(entry)
        return feed

    def last_seq(self) -> int:
        with self._read() as connection:
            return connection.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0))).scalar_one()


class Writer:
    """Writes inside one transaction; see ``Store.transaction``."""

    def __init__(self, store: Store, connection: sa.Connection) -> None:
        self.store = store
        self.connection = connection
        self._feed_locked = False

    def create(self, data: dict[str, Any] | Resource) -> dict[str, Any]:
        record = validate_record(data)
        if record.id and self._row(record.id) is not None:
            raise conflict(f"Record {record.id} already exists; update it instead.",
                           f"记录 {record.id} 已存在，请改用更新。")
        return self._write(record, None)

    def update(self, ref: str, data: dict[str, Any] | Resource, *,
               expected_revision: int | None = None) -> dict[str, Any]:
        """Replace a record's content; a write that changes nothing makes no new revision."""
        record_id = resolve_ref(self.connection, ref)
        row = self._live_row(record_id, ref, expected_revision)
        record = validate_record(data)
        if record.id and record.id != record_id:
            raise invalid([Problem("id", record.id, f"the body names another record than {record_id}",
                                   f"请求体中的编号与 {record_id} 不符")])
        if record.type != row.type:
            raise invalid([Problem("type", record.type, f"{record_id} is a {row.type}; a type never changes",
                                   f"{record_id} 的类型是 {row.type}，类型不能更改")])
        return self._write(record, row)

    def upsert(self, data: dict[str, Any] | Resource) -> tuple[dict[str, Any], str]:
        """Create, or update the record the id or any pid names. Returns the record and
        ``created``, ``updated`` or ``unchanged``."""
        record = validate_record(data)
        existing = self._identify(record)
        if existing is None:
            return self._write(record, None), "created"
        row = self._row(existing)
        if row.deleted:
            return self._write(record.model_copy(update={"id": None}), None), "created"
        result = self._write(record, row)
        return result, "updated" if result["revision"] != row.revision else "unchanged"

    def delete(self, ref: str, *, expected_revision: int | None = None) -> dict[str, Any]:
        """Leave a tombstone: the record answers ``gone``, its revisions stay readable."""
        record_id = resolve_ref(self.connection, ref)
        row = self._live_row(record_id, ref, expected_revision)
        stamp, revision = now(), row.revision + 1
        tombstone = {**row.data, "revision": revision, "updated": stamp, "deleted": stamp}
        self.connection.execute(records.update().where(records.c.id == record_id).values(
            revision=revision, updated=stamp, deleted=stamp, data=tombstone))
        self.connection.execute(revisions.insert().values(record_id=record_id, revision=revision, op="delete",
                                                          at=stamp, data=tombstone))
        # A deleted record asserts nothing: its relations and filterable fields go; pids stay so that
        # its identifiers still answer "gone" rather than "not found".
        self.connection.execute(relations.delete().where(relations.c.owner_id == record_id))
        self.connection.execute(record_fields.delete().where(record_fields.c.record_id == record_id))
        self._append_change(record_id, row.type, revision, "delete", stamp)
        return tombstone

    # -- internals -------------------------------------------------------------------------------

    def _row(self, record_id: str) -> sa.Row | None:
        return self.connection.execute(sa.select(records).where(records.c.id == record_id)).one_or_none()

    def _live_row(self, record_id: str, ref: str, expected_revision: int | None) -> sa.Row:
        row = self._row(record_id)
        if row.deleted:
            raise gone(ref, row.revision)
        if expected_revision is not None and expected_revision != row.revision:
            raise ZhulianError("stale", f"{ref} is at revision {row.revision}, not {expected_revision}; "
                               "read it again and reapply your change.",
                               f"{ref} 当前为第 {row.revision} 版而非第 {expected_revision} 版，请重新读取后再修改。", 412)
        return row

    def _identify(self, record: Resource) -> str | None:
        """The existing record this one names by id or pids; an error when they name different records."""
        found = {record.id} if record.id and self._row(record.id) is not None else set()
        for scheme, value in record.pids.items():
            owner = self.connection.execute(sa.select(pids.c.record_id).where(
                pids.c.scheme == scheme, pids.c.value == value)).scalar()
            if owner:
                found.add(owner)
        if len(found) > 1:
            raise conflict("The record's id and identifiers name different existing records: "
                           + ", ".join(sorted(found)), "该记录的编号和标识符指向多个不同的已有记录："
                           + "、".join(sorted(found)))
        return found.pop() if found else None

    def _write(self, record: Resource, previous: sa.Row | None) -> dict[str, Any]:
        record_id = previous.id if previous is not None else (record.id or new_id(record.type))
        relation_rows = self._resolve_relations(record_id, record)
        payload = record.model_dump(mode="json", by_alias=True, exclude_none=True,
                                    exclude={"id", "revision", "created", "updated", "deleted"})
        payload["relations"] = [_declared(row) for row in relation_rows]
        payload["node"] = payload.get("node") or (previous.node if previous is not None else self.store.node)
        if payload["node"] is None:
            payload.pop("node")
        if previous is not None and _canonical(payload) == _canonical(content_of(previous.data)):
            return previous.data
        stamp = now()
        revision = previous.revision + 1 if previous is not None else 1
        created = previous.created if previous is not None else stamp
        payload = {"id": record_id, **payload, "revision": revision, "created": created, "updated": stamp}
        columns = {"type": record.type, "revision": revision, "label": record.label()[:500], "city": record.city,
                   "node": payload.get("node"), "access": record.access, "year": record.year(),
                   "updated": stamp, "deleted": None, "data": payload}
        if previous is None:
            self.connection.execute(records.insert().values(id=record_id, created=created, **columns))
        else:
            self.connection.execute(records.update().where(records.c.id == record_id).values(**columns))
        self._claim_pids(record_id, record.pids)
        self.connection.execute(revisions.insert().values(record_id=record_id, revision=revision,
                                                          op="create" if previous is None else "update",
                                                          at=stamp, data=payload))
        self._replace_projections(record_id, record, relation_rows)
        self._append_change(record_id, record.type, revision, "upsert", stamp)
        return payload

    def _claim_pids(self, record_id: str, wanted: dict[str, str]) -> None:
        problems = []
        for scheme, value in wanted.items():
            owner = self.connection.execute(sa.select(pids.c.record_id, records.c.deleted)
                                            .join(records, records.c.id == pids.c.record_id)
                                            .where(pids.c.scheme == scheme, pids.c.value == value)).one_or_none()
            if owner is None:
                continue
            if owner.record_id != record_id and owner.deleted is None:
                problems.append(Problem(f"pids.{scheme}", value, f"already identifies {owner.record_id}",
                                        f"该标识已属于记录 {owner.record_id}"))
        if problems:
            raise ZhulianError("conflict", "Identifiers already belong to other records.",
                               "标识符已属于其他记录。", 409, problems)
        self.connection.execute(pids.delete().where(pids.c.record_id == record_id))
        for scheme, value in wanted.items():
            # A tombstone's identifier passes to the new record that claims it.
            self.connection.execute(pids.delete().where(pids.c.scheme == scheme, pids.c.value == value))
            self.connection.execute(pids.insert().values(scheme=scheme, value=value, record_id=record_id))

    def _resolve_relations(self, record_id: str, record: Resource) -> list[dict[str, Any]]:
        rows, problems = [], []
        for index, relation in enumerate(record.relations):
            end = "object" if relation.object is not None else "subject"
            ref = relation.object if relation.object is not None else relation.subject
            field = f"relations.{index}.{end}"
            try:
                other_id = resolve_ref(self.connection, ref)
            except ZhulianError as error:
                problems.append(Problem(field, ref, error.message, error.message_zh))
                continue
            other_type = self._row(other_id).type
            subject_type, object_type = ((record.type, other_type) if end == "object" else (other_type, record.type))
            subjects, objects, _zh, _en = PREDICATES[relation.predicate]
            if subject_type not in subjects or object_type not in objects:
                problems.append(Problem(
                    field, ref, f"{relation.predicate} joins {'/'.join(sorted(subjects))} to "
                    f"{'/'.join(sorted(objects))}, not {subject_type} to {object_type}",
                    f"关系 {relation.predicate} 只能从 {'/'.join(sorted(subjects))} 指向 "
                    f"{'/'.join(sorted(objects))}，不能从 {subject_type} 指向 {object_type}"))
                continue
            if other_id == record_id:
                problems.append(Problem(field, ref, "a record cannot relate to itself", "记录不能与自身建立关系"))
                continue
            rows.append({"owner_id": record_id,
                         "subject_id": record_id if end == "object" else other_id,
                         "object_id": other_id if end == "object" else record_id,
                         "predicate": relation.predicate, "role": relation.role, "rank": relation.rank,
                         "valid_from": relation.from_, "valid_to": relation.to})
        if problems:
            raise invalid(problems)
        return rows

    def _replace_projections(self, record_id: str, record: Resource, relation_rows: list[dict[str, Any]]) -> None:
        self.connection.execute(relations.delete().where(relations.c.owner_id == record_id))
        if relation_rows:
            self.connection.execute(relations.insert(), relation_rows)
        self.connection.execute(record_fields.delete().where(record_fields.c.record_id == record_id))
        field_rows = [{"record_id": record_id, "field": f, "value": v, "number": n}
                      for f, v, n in indexed_values(record)]
        if field_rows:
            self.connection.execute(record_fields.insert(), field_rows)

    def _append_change(self, record_id: str, type_name: str, revision: int, op: str, stamp: str) -> None:
        if self.store.is_postgres and not self._feed_locked:
            # Sequence numbers are handed out at insert but become visible at commit; holding this lock
            # until commit makes them visible in order, so a follower reading "after seq N" misses nothing.
            self.connection.execute(sa.select(sa.func.pg_advisory_xact_lock(FEED_LOCK)))
            self._feed_locked = True
        self.connection.execute(changes.insert().values(record_id=record_id, type=type_name, revision=revision,
                                                        op=op, at=stamp))


def _declared(row: dict[str, Any]) -> dict[str, Any]:
    """A relation as its owner declares it in the payload (the owner's own end left implicit)."""
    owner_is_subject = row["subject_id"] == row["owner_id"]
    declared = {"predicate": row["predicate"],
                "object" if owner_is_subject else "subject": row["object_id"] if owner_is_subject else row["subject_id"]}
    for key, name in (("role", "role"), ("rank", "rank"), ("valid_from", "from"), ("valid_to", "to")):
        if row[key] is not None:
            declared[name] = row[key]
    return declared


def resolve_ref(connection: sa.Connection, ref: str) -> str:
    """The id a reference names: an id that exists, or the record holding a pid."""
    parsed = parse_ref(ref) if isinstance(ref, str) else None
    if parsed is None:
        raise ZhulianError("bad_ref", f"{ref!r} is neither a record id (org_01…) nor scheme:value.",
                           f"{ref!r} 既不是记录编号（org_01…）也不是“方案:值”形式的标识符。", 400)
    if parsed.id:
        found = connection.execute(sa.select(records.c.id).where(records.c.id == parsed.id)).scalar()
    else:
        from zhulian.model.pids import PidError, normalise_pid

        try:
            value = normalise_pid(parsed.scheme, parsed.value)
        except PidError:
            value = parsed.value
        found = connection.execute(sa.select(pids.c.record_id).where(
            pids.c.scheme == parsed.scheme, pids.c.value == value)).scalar()
    if found is None:
        raise not_found(ref)
    return found


def _relations(connection: sa.Connection, record_id: str, direction: str, predicate: str | None) -> list[dict]:
    subject, obj = records.alias("subject"), records.alias("object")
    statement = (sa.select(relations, subject.c.type.label("s_type"), subject.c.label.label("s_label"),
                           obj.c.type.label("o_type"), obj.c.label.label("o_label"))
                 .join(subject, subject.c.id == relations.c.subject_id)
                 .join(obj, obj.c.id == relations.c.object_id)
                 .where(subject.c.deleted.is_(None), obj.c.deleted.is_(None)))
    ends = {"out": [relations.c.subject_id == record_id], "in": [relations.c.object_id == record_id],
            "both": [sa.or_(relations.c.subject_id == record_id, relations.c.object_id == record_id)]}
    if direction not in ends:
        raise ZhulianError("bad_direction", "direction is out, in or both.", "方向应为 out、in 或 both。", 400)
    statement = statement.where(*ends[direction])
    if predicate:
        statement = statement.where(relations.c.predicate == predicate)
    result = []
    for row in connection.execute(statement.order_by(relations.c.predicate, relations.c.rank, relations.c.id)):
        outgoing = row.subject_id == record_id
        other = ({"id": row.object_id, "type": row.o_type, "name": row.o_label} if outgoing
                 else {"id": row.subject_id, "type": row.s_type, "name": row.s_label})
        item = {"predicate": row.predicate, "object" if outgoing else "subject": other}
        for key, name in (("role", "role"), ("rank", "rank"), ("valid_from", "from"), ("valid_to", "to")):
            if row._mapping[key] is not None:
                item[name] = row._mapping[key]
        result.append(item)
    return result


def _where(type_name: str | None, conditions: list[Condition], include_deleted: bool = False) -> list[Any]:
    where: list[Any] = [] if include_deleted else [records.c.deleted.is_(None)]
    if type_name:
        where.append(records.c.type == type_name)
    for condition in conditions:
        where.append(_compile(condition))
    return where


def _compile(condition: Condition) -> Any:
    values: list[Any] = [float(v) for v in condition.values] if condition.kind == "number" else list(condition.values)
    if condition.envelope:
        column = records.c[condition.field]
        if condition.field in ("year", "revision"):
            values = [int(v) for v in values]
        return _comparison(column, condition.op, values)
    target = record_fields.c.number if condition.kind == "number" else record_fields.c.value
    matching = sa.select(record_fields.c.record_id).where(record_fields.c.field == condition.field)
    if condition.op == "ne":
        return records.c.id.not_in(matching.where(target.in_(values)))
    return records.c.id.in_(matching.where(_comparison(target, condition.op, values)))


def _comparison(column: Any, op: str, values: list[Any]) -> Any:
    if op == "eq":
        return column.in_(values)
    if op == "ne":
        return sa.or_(column.is_(None), column.not_in(values))
    if op == "gt":
        return column > values[0]
    if op == "lt":
        return column < values[0]
    return column.between(values[0], values[1])


def _order(sort: str) -> list[Any]:
    order, problems = [], []
    for part in (sort or "id").split(","):
        name, _, direction = part.strip().partition(":")
        if name not in SORT_COLUMNS or direction not in ("", "asc", "desc"):
            problems.append(Problem("sort", part, f"sort by one of {', '.join(SORT_COLUMNS)}, optionally :asc or :desc",
                                    f"排序字段应为 {'、'.join(SORT_COLUMNS)} 之一，可加 :asc 或 :desc"))
            continue
        column = SORT_COLUMNS[name]
        order.append(column.desc() if direction == "desc" else column.asc())
    if problems:
        raise invalid(problems, "query")
    return [*order, records.c.id.asc()]
