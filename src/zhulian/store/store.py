"""The store: the platform's one source of truth.

Every write goes through a ``Writer`` inside one database transaction: it validates the record, resolves
its relations, writes the current row, a revision, the pid, relation and field projections, and one
entry in the change feed. Readers get records as JSON-ready dicts in the exchange envelope.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import json
import operator
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import sqlalchemy as sa

from zhulian.config import Settings, sqlalchemy_url
from zhulian.errors import Problem, ZhulianError, conflict, gone, invalid, not_found
from zhulian.model.pids import PidError, normalise_pid
from zhulian.model import ENVELOPE_FIELDS, PREDICATES, Resource, display_name, indexed_values, new_id, parse_ref, validate_record
from zhulian.store import migrate
from zhulian.store.engine import WRITE, make_engine
from zhulian.store.query import Condition, Visibility, allowed_fields, parse_filter
from zhulian.store.tables import (
    audit_log, pids, record_fields, records, relations, revision_data, revisions, revisions_and_records,
)
from zhulian.text import pinyin_sort_key

SERVER_FIELDS = ("id", "revision", "created", "updated", "deleted")
FEED_LOCK = 0x7A686C  # PostgreSQL advisory lock that orders change-feed appends ("zhl")
# On PostgreSQL a transaction's revisions wait here until it ends (``Writer.publish_feed``): a temporary table
# of the session, emptied at every commit, so the feed lock is held for one INSERT … SELECT, not the whole write.
STAGED_REVISIONS = sa.Table(
    "staged_revisions", sa.MetaData(), sa.Column("position", sa.BigInteger, sa.Identity()),
    *(sa.Column(c.name, c.type) for c in revisions.c if c.name != "seq"),
    prefixes=["TEMPORARY"], postgresql_on_commit="DELETE ROWS")
# A revision row's data while it is its record's latest: the state is written once, in ``records``
# (``tables.revision_data``).
IN_RECORDS = "null"
SORT_COLUMNS = {"id": records.c.id, "name": records.c.sort_name, "city": records.c.city, "year": records.c.year,
                "created": records.c.created, "updated": records.c.updated, "revision": records.c.revision}


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def content_of(payload: dict[str, Any]) -> dict[str, Any]:
    """What a writer controls: the payload without the fields the store sets."""
    return {k: v for k, v in payload.items() if k not in SERVER_FIELDS}


def _canonical(payload: dict[str, Any]) -> bytes:
    """A comparable text of a payload. Whole floats are written as integers because PostgreSQL's JSONB
    may hand back 3.0 as 3, and that is no change."""
    value = _whole_floats_as_ints(payload)
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: only the standard library writes it
        return json.dumps(value, sort_keys=True, ensure_ascii=False).encode()


def _whole_floats_as_ints(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_floats_as_ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(v) for v in value]
    return value


def _json(value: Any) -> str:
    """Compact JSON text, written by orjson (compiled: a tenth of the standard library's time per record)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits: the database refuses it with a clear message
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def field_units(content: dict[str, Any]) -> dict[str, Any]:
    """A record's content as the units a partial write changes one at a time: a plain field (``website``),
    one key of an object field (``name.en``, ``pids.moe``), or the relations of one predicate
    (``relations.lead_unit``). A sheet with a ``name.zh`` column and no ``name.en`` column leaves the
    English name alone; a ``partner_unit`` column leaves the ``lead_unit`` relations alone."""
    units: dict[str, Any] = {}
    for key, value in content.items():
        if key == "relations":
            for relation in value:
                units.setdefault(f"relations.{relation['predicate']}", []).append(relation)
        elif isinstance(value, dict):
            units.update({f"{key}.{sub}": item for sub, item in value.items()})
        else:
            units[key] = value
    return units


def from_units(units: dict[str, Any]) -> dict[str, Any]:
    """The content ``field_units`` took apart."""
    content: dict[str, Any] = {}
    for unit, value in units.items():
        key, _, sub = unit.partition(".")
        if key == "relations":
            content.setdefault("relations", []).extend(value)
        elif sub:
            content.setdefault(key, {})[sub] = value
        else:
            content[key] = value
    return content


def changed_units(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """The units (see ``field_units``) whose value differs between two contents, added or removed ones too."""
    old, new = field_units(before), field_units(after)
    return sorted(unit for unit in old.keys() | new.keys() if not same_value(old.get(unit), new.get(unit)))


def same_value(a: Any, b: Any) -> bool:
    """Whether two stored values are the same (3.0 and 3 are: PostgreSQL's JSONB may hand back either)."""
    return _whole_floats_as_ints(a) == _whole_floats_as_ints(b)


def covers(unit: str, names: Iterable[str]) -> bool:
    """Whether ``unit`` is one of ``names`` or lies inside one (``name.en`` inside ``name``)."""
    return any(unit == name or unit.startswith(name + ".") for name in names)


@dataclass(frozen=True)
class Partial:
    """An upsert that changes only part of an existing record: the units (see ``field_units``) the source
    gave a value for, and those it asks to clear. A record that does not exist yet is created whole."""

    record: Resource
    given: frozenset[str]
    cleared: frozenset[str] = frozenset()
    extended: frozenset[str] = frozenset()  # list units whose given items join the existing list


@dataclass
class Page:
    results: list[dict[str, Any]]
    count: int


class Store:
    def __init__(self, url: str, *, node: str | None = None) -> None:
        self.url = sqlalchemy_url(url)
        self.node = node
        self.engine = make_engine(self.url)
        self._inserts: dict[tuple[str, tuple[str, ...]], sa.engine.Compiled] = {}

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

    def compiled_insert(self, table: sa.Table, keys: tuple[str, ...]) -> sa.engine.Compiled:
        cache_key = (table.name, keys)
        if cache_key not in self._inserts:
            self._inserts[cache_key] = table.insert().compile(dialect=self.engine.dialect, column_keys=list(keys))
        return self._inserts[cache_key]

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Writer]:
        """One transaction: everything written inside commits together or not at all."""
        with self.engine.connect() as connection:
            connection = connection.execution_options(**{WRITE: True})
            with connection.begin():
                writer = Writer(self, connection)
                try:
                    yield writer
                    writer.publish_feed()
                finally:
                    writer.settle()  # a bulk write's last statements end before the commit or the rollback

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
            expand: bool = False, visible: Visibility | None = None) -> dict[str, Any]:
        """A record by id or ``scheme:value``; an earlier state with ``revision``; a deleted record is
        ``gone`` unless ``include_deleted``, and a record merged into another answers with the survivor.
        ``expand`` adds both ends of its relations with names.
        A record ``visible`` does not allow is not found, as if it did not exist."""
        with self._read() as connection:
            row = _record_row(connection, ref)
            if row.merged_into and not include_deleted and revision is None:
                row = _survivor_row(connection, row)
            record_id = row.id
            if visible is not None and not visible.allows(row.access, row.node):
                raise not_found(ref)
            if row.deleted and not include_deleted and revision is None:
                raise gone(ref, row.revision)
            if revision is None:
                payload = row.data
            else:
                payload = connection.execute(sa.select(revision_data).select_from(revisions_and_records).where(
                    revisions.c.record_id == record_id, revisions.c.revision == revision)).scalar()
                if payload is None:
                    raise ZhulianError("not_found", f"{ref} has no revision {revision} (latest: {row.revision}).",
                                       f"{ref} 没有第 {revision} 版（最新为第 {row.revision} 版）。", 404)
            if expand:
                payload = {**payload, "relations": _relations(connection, record_id, "both", None, visible)}
            return payload

    def get_many(self, ids: list[str], *, visible: Visibility | None = None) -> dict[str, dict[str, Any]]:
        """Live records by id; ids that are deleted, unknown or not ``visible`` are left out.

        This is every search page's store read, so it skips what a general read pays for: each chunk of ids is one
        statement compiled once (per dialect, visibility and number of ids) and run on the pooled driver
        connection, with no BEGIN around it (a single statement reads one snapshot on both databases).
        SQLAlchemy's statement building and the BEGIN were most of a search's store read (bench/search_bench.py).
        """
        found: dict[str, dict[str, Any]] = {}
        connection = self.engine.raw_connection()
        try:
            cursor = connection.cursor()
            for chunk in _chunks(list(dict.fromkeys(ids))):
                sql, parameters, decode = _live_by_ids(self.engine.dialect, visible, len(chunk))
                cursor.execute(sql, parameters(chunk))
                found.update({record_id: decode(data) for record_id, data in cursor.fetchall()})
            cursor.close()
        finally:
            connection.close()  # back to the pool, which ends the driver's implicit transaction (PostgreSQL)
        return found

    def revisions(self, ref: str) -> list[dict[str, Any]]:
        with self._read() as connection:
            record_id = resolve_ref(connection, ref)
            rows = connection.execute(sa.select(revisions.c.revision, revisions.c.op, revisions.c.at)
                                      .where(revisions.c.record_id == record_id).order_by(revisions.c.revision))
            return [{"revision": r.revision, "op": r.op, "at": r.at} for r in rows]

    def relations(self, ref: str, *, direction: str = "both", predicate: str | None = None,
                  visible: Visibility | None = None) -> list[dict]:
        """Relations at either end of a record: ``out`` where it is the subject, ``in`` the object."""
        with self._read() as connection:
            return _relations(connection, resolve_ref(connection, ref), direction, predicate, visible)

    def query(self, type_name: str | None = None, filter: str | list[Condition] | None = None, *,
              sort: str = "id", limit: int = 50, offset: int = 0, expand: bool = False,
              visible: Visibility | None = None) -> Page:
        conditions = parse_filter(filter, type_name) if not isinstance(filter, list) else filter
        where = _where(type_name, conditions, visible)
        order = _order(sort)
        with self._read() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(records).where(*where)).scalar_one()
            rows = connection.execute(sa.select(records.c.id, records.c.data).where(*where)
                                      .order_by(*order).limit(limit).offset(offset)).all()
            return Page([_with_relations(connection, r, expand, visible) for r in rows], count)

    def iterate(self, type_name: str | None = None, filter: str | list[Condition] | None = None, *,
                expand: bool = False, batch: int = 500, visible: Visibility | None = None) -> Iterator[dict[str, Any]]:
        """Every matching record in id order, read in batches so memory stays flat however many match."""
        conditions = parse_filter(filter, type_name) if not isinstance(filter, list) else filter
        where = _where(type_name, conditions, visible)
        after = ""
        while True:
            with self._read() as connection:
                rows = connection.execute(sa.select(records.c.id, records.c.data)
                                          .where(*where, records.c.id > after)
                                          .order_by(records.c.id).limit(batch)).all()
                results = [_with_relations(connection, r, expand, visible) for r in rows]
            yield from results
            if len(rows) < batch:
                return
            after = rows[-1].id

    def group_by(self, type_name: str | None, field: str, filter: str | None = None, *,
                 visible: Visibility | None = None) -> list[dict[str, Any]]:
        """Counts per value of a field over the records a filter selects, largest first."""
        where = _where(type_name, parse_filter(filter, type_name), visible)
        fields = allowed_fields(type_name)
        if field not in fields or field in ("id", "created", "updated"):
            choices = [f for f in fields if f not in ("id", "created", "updated")]
            raise invalid([Problem("group_by", field, f"group by one of {', '.join(choices)}",
                                   f"分组字段应为 {'、'.join(choices)} 之一")], "query")
        with self._read() as connection:
            if field in ENVELOPE_FIELDS:
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
        """The change feed after ``since``, oldest first: each upsert or tombstone with its sequence number,
        and with ``with_records`` the record as that revision left it."""
        columns = [revisions.c.seq, revisions.c.record_id, revisions.c.type, revisions.c.revision,
                   revisions.c.op, revisions.c.at] + ([revision_data.label("data")] if with_records else [])
        with self._read() as connection:
            rows = connection.execute(sa.select(*columns).select_from(revisions_and_records)
                                      .where(revisions.c.seq > since).order_by(revisions.c.seq).limit(limit)).all()
        feed = []
        for row in rows:
            entry = {"seq": row.seq, "id": row.record_id, "type": row.type, "revision": row.revision,
                     "op": "delete" if row.op == "delete" else "upsert", "at": row.at}
            if with_records:
                entry["record"] = row.data
            feed.append(entry)
        return feed

    def last_seq(self) -> int:
        with self._read() as connection:
            return connection.execute(sa.select(sa.func.coalesce(sa.func.max(revisions.c.seq), 0))).scalar_one()


@dataclass
class WriteResult:
    """What became of one item of ``Writer.upsert_many``."""

    index: int
    outcome: str  # created | updated | unchanged | invalid
    record: dict[str, Any] | None = None
    error: ZhulianError | None = None
    changed: list[str] = field(default_factory=list)  # the units (see ``field_units``) the write changed
    cleared: list[str] = field(default_factory=list)  # of those, the ones it emptied on request


@dataclass
class _State:
    """A stored (or, within a batch, planned) record as the writer needs to know it."""

    id: str
    type: str
    revision: int
    created: str
    node: str | None
    deleted: str | None
    data: dict[str, Any]


@dataclass
class _Pending:
    """Rows planned for the next flush, in the order the database needs them."""

    new_records: list[dict[str, Any]] = field(default_factory=list)
    changed_records: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    pids: list[dict[str, Any]] = field(default_factory=list)
    relations: list[dict[str, Any]] = field(default_factory=list)
    fields: list[dict[str, Any]] = field(default_factory=list)
    handed_over: list[tuple[str, str]] = field(default_factory=list)  # pids a tombstone held
    touched: set[str] = field(default_factory=set)


class Writer:
    """Writes inside one transaction; see ``Store.transaction``.

    Writes are planned in memory against what the writer knows of the store (looked up once per batch),
    then flushed as a few multi-row statements; every public method flushes before it returns. A bulk
    ``upsert_many`` flushes on the writer's own thread, and the next use of ``connection`` waits for it.
    """

    BATCH = 1000
    BACKGROUND_FROM = 100  # rows in one ``upsert_many`` chunk from which its inserts run beside the next planning

    def __init__(self, store: Store, connection: sa.Connection) -> None:
        self.store = store
        self._connection = connection
        # A bulk write's inserts run on a thread of this writer's while the caller reads and plans what comes
        # next: the database's work (SQLite's B-trees, PostgreSQL's server) goes on beside Python's, on another
        # core. Statements run in the order given; any other use of the connection waits for them (``connection``).
        self._background: ThreadPoolExecutor | None = None
        self._queued: list[Future[None]] = []
        self._staged = False  # revisions wait in STAGED_REVISIONS (PostgreSQL)
        # The records relations may name: what the writing principal may read (set by the record service),
        # so that a public record never carries the id and pids of one its readers may not see. None: any.
        self.relatable: Visibility | None = None
        self._states: dict[str, _State | None] = {}
        self._pid_owners: dict[tuple[str, str], str | None] = {}
        self._pending = _Pending()

    @property
    def connection(self) -> sa.Connection:
        """The transaction's connection, once every write queued on it has run."""
        self._wait_for_queued()
        return self._connection

    def settle(self) -> None:
        """Wait for the queued writes (raising the first that failed) and end the background thread."""
        try:
            self._wait_for_queued()
        finally:
            if self._background is not None:
                self._background.shutdown(wait=True, cancel_futures=True)
                self._background = None

    def _wait_for_queued(self) -> None:
        queued, self._queued = self._queued, []
        for future in queued:
            future.result()

    def _run(self, work: Callable[[sa.Connection], None]) -> None:
        """Statements that only write: queued behind the bulk write under way, if there is one, else run now."""
        if self._background is None:
            work(self.connection)
        else:
            self._queued.append(self._background.submit(work, self._connection))

    def create(self, data: dict[str, Any] | Resource) -> dict[str, Any]:
        record = validate_record(data)
        if record.id and self._state(record.id) is not None:
            raise conflict(f"Record {record.id} already exists; update it instead.",
                           f"记录 {record.id} 已存在，请改用更新。")
        payload = self._plan(record, None)
        self._flush()
        return payload

    def update(self, ref: str, data: dict[str, Any] | Resource, *,
               expected_revision: int | None = None) -> dict[str, Any]:
        """Replace a record's content; a write that changes nothing makes no new revision."""
        record_id = self._resolve(ref)
        previous = self._live(record_id, ref, expected_revision)
        record = validate_record(data)
        if record.id and record.id != record_id:
            raise invalid([Problem("id", record.id, f"the body names another record than {record_id}",
                                   f"请求体中的编号与 {record_id} 不符")])
        if record.type != previous.type:
            raise invalid([Problem("type", record.type, f"{record_id} is a {previous.type}; a type never changes",
                                   f"{record_id} 的类型是 {previous.type}，类型不能更改")])
        payload = self._plan(record, previous)
        self._flush()
        return payload

    def upsert(self, data: dict[str, Any] | Resource) -> tuple[dict[str, Any], str]:
        """Create, or update the record the id or any pid names. Returns the record and
        ``created``, ``updated`` or ``unchanged``."""
        [result] = self.upsert_many([data])
        return result.record, result.outcome

    def upsert_many(self, items: Iterable[dict[str, Any] | Resource | Partial], *, collect_errors: bool = False,
                    authorise: Callable[[Resource, dict[str, Any] | None], None] | None = None) -> list[WriteResult]:
        """``upsert`` for many items, in batches. With ``collect_errors`` an item that cannot be written
        (invalid, a reference to nothing, an identifier held by another record) is reported in its
        result and skipped; otherwise the first such error is raised. ``authorise(record, existing)``
        may refuse an item by raising, once the existing record it would change is known. A ``Partial``
        item changes only the units it gives (or clears) of an existing record."""
        results: list[WriteResult] = []
        iterator = iter(items)
        index = 0
        while chunk := list(itertools.islice(iterator, self.BATCH)):
            validated = []
            for index, item in enumerate(chunk, index):
                try:
                    validated.append((index, item if isinstance(item, Partial) else validate_record(item)))
                except ZhulianError as error:
                    if not collect_errors:
                        raise
                    results.append(WriteResult(index, "invalid", error=error))
            index += 1
            self._prefetch([item.record if isinstance(item, Partial) else item for _, item in validated])
            for position, record in validated:
                try:
                    results.append(self._upsert_one(position, record, authorise))
                except ZhulianError as error:
                    if not collect_errors:
                        raise
                    results.append(WriteResult(position, "invalid", error=error))
            if len(chunk) >= self.BACKGROUND_FROM and self._background is None:
                self._background = ThreadPoolExecutor(1, thread_name_prefix="zhulian-write")
            self._flush()
        results.sort(key=lambda result: result.index)
        return results

    def delete(self, ref: str, *, expected_revision: int | None = None,
               merged_into: str | None = None) -> dict[str, Any]:
        """Leave a tombstone: the record answers ``gone``, its revisions stay readable. With
        ``merged_into`` (a live record's id) the tombstone redirects there: ``Store.get`` answers with it."""
        record_id = self._resolve(ref)
        previous = self._live(record_id, ref, expected_revision)
        if merged_into is not None:
            self._live(self._resolve(merged_into), merged_into, None)
        stamp, revision = now(), previous.revision + 1
        tombstone = {**previous.data, "revision": revision, "updated": stamp, "deleted": stamp}
        self._keep_replaced(self.connection, [{"_id": record_id, "_revision": previous.revision}])
        self.connection.execute(records.update().where(records.c.id == record_id).values(
            revision=revision, updated=stamp, deleted=stamp, data=tombstone, merged_into=merged_into))
        # A deleted record asserts nothing: its relations and filterable fields go; pids stay so that
        # its identifiers still answer "gone" rather than "not found".
        self.connection.execute(relations.delete().where(relations.c.owner_id == record_id))
        self.connection.execute(record_fields.delete().where(record_fields.c.record_id == record_id))
        self._append_feed(self.connection, [{"record_id": record_id, "revision": revision, "type": previous.type,
                                             "op": "delete", "at": stamp, "data": IN_RECORDS}])
        self._forget()
        return tombstone

    def current(self, ref: str, *, expected_revision: int | None = None) -> dict[str, Any]:
        """The live record a reference names, held for this transaction: a concurrent writer of the same
        record waits for it and then finds the revision moved on."""
        return self._live(self._resolve(ref), ref, expected_revision).data

    def existing(self, data: dict[str, Any] | Resource) -> dict[str, Any] | None:
        """The stored record (a tombstone too) that ``data`` names by id or any identifier, or None."""
        record_id = self._identify(validate_record(data))
        return self._state(record_id).data if record_id else None

    def content(self, data: dict[str, Any] | Resource) -> dict[str, Any]:
        """The content a write of ``data`` would store (validated, relations resolved to ids), written nowhere."""
        record = validate_record(data)
        payload = record.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=set(SERVER_FIELDS))
        payload["relations"] = [_declared(row) for row in self._resolve_relations(record.id or "", record)]
        return payload

    def redirect(self, ref: str, to: str | None) -> None:
        """Point a merged-away tombstone at another survivor, or (``None``) at nothing any more."""
        record_id = self._resolve(ref)
        if not self._state(record_id).deleted:
            raise conflict(f"{ref} is not deleted; only a tombstone redirects.", f"{ref} 未删除，只有墓碑可以重定向。")
        target = self._live(self._resolve(to), to, None).id if to is not None else None
        self.connection.execute(records.update().where(records.c.id == record_id).values(merged_into=target))
        self._forget()

    # -- what the writer knows ---------------------------------------------------------------------

    def _state(self, record_id: str) -> _State | None:
        if record_id not in self._states:
            self._load_states([record_id])
        return self._states[record_id]

    def _pid_owner(self, scheme: str, value: str) -> str | None:
        if (scheme, value) not in self._pid_owners:
            self._load_pids([(scheme, value)])
        return self._pid_owners[(scheme, value)]

    def _load_states(self, ids: Iterable[str]) -> None:
        wanted = [i for i in set(ids) if i not in self._states]
        for chunk in _chunks(wanted):
            self._states.update(dict.fromkeys(chunk))
            rows = self.connection.execute(sa.select(
                records.c.id, records.c.type, records.c.revision, records.c.created, records.c.node,
                records.c.deleted, records.c.data).where(records.c.id.in_(chunk)))
            for row in rows:
                self._states[row.id] = _State(*row)

    def _load_pids(self, keys: Iterable[tuple[str, str]]) -> None:
        wanted = [k for k in set(keys) if k not in self._pid_owners]
        self._pid_owners.update(dict.fromkeys(wanted))
        for scheme, values in _by_scheme(wanted).items():
            for chunk in _chunks(values):
                rows = self.connection.execute(sa.select(pids.c.value, pids.c.record_id)
                                               .where(pids.c.scheme == scheme, pids.c.value.in_(chunk)))
                for value, owner in rows:
                    self._pid_owners[(scheme, value)] = owner

    def _prefetch(self, batch: list[Resource]) -> None:
        """Look up, in a few queries, every id and identifier a batch names or refers to."""
        ids, keys = set(), set()
        for record in batch:
            if record.id:
                ids.add(record.id)
            keys.update(record.pids.items())
            for relation in record.relations:
                ref = parse_ref(relation.object or relation.subject)
                if ref.id:
                    ids.add(ref.id)
                else:
                    keys.add((ref.scheme, _normalised(ref.scheme, ref.value)))
        self._load_pids(keys)
        self._load_states(ids | {owner for key in keys if (owner := self._pid_owners[key])})

    def _forget(self) -> None:
        self._states.clear()
        self._pid_owners.clear()

    def _resolve(self, ref: str) -> str:
        parsed = parse_ref(ref) if isinstance(ref, str) else None
        if parsed is None:
            raise bad_ref(ref)
        found = parsed.id if parsed.id else self._pid_owner(parsed.scheme, _normalised(parsed.scheme, parsed.value))
        if found is None or self._state(found) is None:
            raise not_found(ref)
        return found

    def _live(self, record_id: str, ref: str, expected_revision: int | None) -> _State:
        state = self._state(record_id)
        if self.store.is_postgres:
            # Lock the row before comparing revisions: a concurrent writer of the same record waits here until
            # this transaction ends, then sees the revision it made (SQLite serialises writers at BEGIN).
            # FOR NO KEY UPDATE: it excludes other writers of the record but not transactions that merely
            # relate to it (a foreign key takes KEY SHARE), such as an import whose rows name it.
            locked = self.connection.execute(sa.select(records.c.revision).where(records.c.id == record_id)
                                             .with_for_update(key_share=True)).scalar_one()
            if locked != state.revision:
                self._forget()
                state = self._state(record_id)
        if state.deleted:
            raise gone(ref, state.revision)
        if expected_revision is not None and expected_revision != state.revision:
            raise ZhulianError("stale", f"{ref} is at revision {state.revision}, not {expected_revision}; "
                               "read it again and reapply your change.",
                               f"{ref} 当前为第 {state.revision} 版而非第 {expected_revision} 版，请重新读取后再修改。",
                               412)
        return state

    # -- planning ----------------------------------------------------------------------------------

    def _upsert_one(self, index: int, item: Resource | Partial,
                    authorise: Callable[[Resource, dict[str, Any] | None], None] | None = None) -> WriteResult:
        record = item.record if isinstance(item, Partial) else item
        existing = self._identify(record)
        previous = self._state(existing) if existing else None
        if previous is not None and previous.type != record.type:
            raise conflict(f"The identifiers belong to {previous.id}, a {previous.type}, not a {record.type}.",
                           f"这些标识符属于 {previous.id}（类型 {previous.type}），而非 {record.type}。")
        cleared: list[str] = []
        if isinstance(item, Partial) and previous is not None and not previous.deleted:
            record, cleared = _merged(previous, item)
        if authorise is not None:
            authorise(record, previous.data if previous is not None and not previous.deleted else None)
        if previous is not None and previous.id in self._pending.touched:
            self._flush()  # the same record twice in one batch: write the first before planning the second
        if previous is not None and previous.deleted:
            record, previous = record.model_copy(update={"id": None}), None
        payload = self._plan(record, previous)
        if previous is None:
            return WriteResult(index, "created", payload, changed=sorted(field_units(content_of(payload))))
        if payload["revision"] == previous.revision:
            return WriteResult(index, "unchanged", payload)
        return WriteResult(index, "updated", payload, changed=changed_units(content_of(previous.data),
                                                                            content_of(payload)), cleared=cleared)

    def _identify(self, record: Resource) -> str | None:
        """The existing record this one names by id or pids; an error when they name different records."""
        found = {record.id} if record.id and self._state(record.id) is not None else set()
        found.update(owner for scheme, value in record.pids.items() if (owner := self._pid_owner(scheme, value)))
        if len(found) > 1:
            raise conflict("The record's id and identifiers name different existing records: "
                           + ", ".join(sorted(found)), "该记录的编号和标识符指向多个不同的已有记录："
                           + "、".join(sorted(found)))
        return found.pop() if found else None

    def _plan(self, record: Resource, previous: _State | None) -> dict[str, Any]:
        """Work out every row one write makes and queue them; returns the record as it will be stored."""
        record_id = previous.id if previous is not None else (record.id or new_id(record.type))
        relation_rows = self._resolve_relations(record_id, record)
        payload = record.model_dump(mode="json", by_alias=True, exclude_none=True, exclude=set(SERVER_FIELDS))
        payload["relations"] = [_declared(row) for row in relation_rows]
        node = payload.get("node") or (previous.node if previous is not None else self.store.node)
        payload.pop("node", None)
        if node:
            payload["node"] = node
        if previous is not None and _canonical(payload) == _canonical(content_of(previous.data)):
            return previous.data
        self._check_pids(record_id, record.pids)
        stamp = now()
        revision = previous.revision + 1 if previous is not None else 1
        created = previous.created if previous is not None else stamp
        payload = {"id": record_id, **payload, "revision": revision, "created": created, "updated": stamp}
        label = record.label()
        row = {"type": record.type, "revision": revision, "label": label[:500], "sort_name": pinyin_sort_key(label),
               "city": record.city, "node": node, "access": record.access, "year": record.filter_year(), "updated": stamp, "deleted": None,
               "data": payload}
        pending = self._pending
        if previous is None:
            pending.new_records.append({"id": record_id, "created": created, **row, "data": _json(payload)})
        else:
            pending.changed_records.append({"_id": record_id, **row})
        pending.touched.add(record_id)
        pending.revisions.append({"record_id": record_id, "revision": revision, "type": record.type,
                                  "op": "create" if previous is None else "update", "at": stamp,
                                  "data": IN_RECORDS})
        pending.pids += [{"scheme": s, "value": v, "record_id": record_id} for s, v in record.pids.items()]
        pending.relations += relation_rows
        pending.fields += [{"record_id": record_id, "field": f, "value": v, "number": n}
                           for f, v, n in indexed_values(record)]
        if previous is not None:
            for key in previous.data.get("pids", {}).items():
                self._pid_owners[key] = None
        self._pid_owners.update({key: record_id for key in record.pids.items()})
        self._states[record_id] = _State(record_id, record.type, revision, created, node, None, payload)
        return payload

    def _check_pids(self, record_id: str, wanted: dict[str, str]) -> None:
        problems = []
        for scheme, value in wanted.items():
            owner = self._pid_owner(scheme, value)
            if not owner or owner == record_id:
                continue
            if self._state(owner).deleted:
                self._pending.handed_over.append((scheme, value))
            else:
                problems.append(Problem(f"pids.{scheme}", value, f"already identifies {owner}",
                                        f"该标识已属于记录 {owner}"))
        if problems:
            raise ZhulianError("conflict", "Identifiers already belong to other records.",
                               "标识符已属于其他记录。", 409, problems)

    def _resolve_relations(self, record_id: str, record: Resource) -> list[dict[str, Any]]:
        rows, problems = [], []
        for index, relation in enumerate(record.relations):
            end = "object" if relation.object is not None else "subject"
            ref = relation.object if relation.object is not None else relation.subject
            field_path = f"relations.{index}.{end}"
            try:
                other_id = self._resolve(ref)
            except ZhulianError as error:
                problems.append(Problem(field_path, ref, error.message, error.message_zh))
                continue
            other = self._state(other_id)
            subject_type, object_type = ((record.type, other.type) if end == "object" else (other.type, record.type))
            subjects, objects, zh, en = PREDICATES[relation.predicate]
            if self.relatable is not None and not self.relatable.allows(other.data.get("access", "public"), other.node):
                problems.append(Problem(field_path, ref, f"relation {relation.predicate} ({en}) names {ref}, which "
                                        "you may not read; relate only records you can see",
                                        f"关系 {relation.predicate}（{zh}）指向的 {ref} 不是您可读取的记录，只能关联您可见的记录"))
            elif other.deleted:
                problems.append(Problem(field_path, ref, f"{other_id} was deleted", f"{other_id} 已删除"))
            elif subject_type not in subjects or object_type not in objects:
                problems.append(Problem(
                    field_path, ref, f"{relation.predicate} joins {'/'.join(sorted(subjects))} to "
                    f"{'/'.join(sorted(objects))}, not {subject_type} to {object_type}",
                    f"关系 {relation.predicate} 只能从 {'/'.join(sorted(subjects))} 指向 "
                    f"{'/'.join(sorted(objects))}，不能从 {subject_type} 指向 {object_type}"))
            elif other_id == record_id:
                problems.append(Problem(field_path, ref, "a record cannot relate to itself", "记录不能与自身建立关系"))
            else:
                rows.append({"owner_id": record_id,
                             "subject_id": record_id if end == "object" else other_id,
                             "object_id": other_id if end == "object" else record_id,
                             "predicate": relation.predicate, "role": relation.role, "rank": relation.rank,
                             "valid_from": relation.from_, "valid_to": relation.to})
        if problems:
            raise invalid(problems)
        return rows

    # -- flushing ----------------------------------------------------------------------------------

    def _flush(self) -> None:
        pending = self._pending
        if not pending.touched:
            return
        self._pending = _Pending()
        self._forget()
        self._run(functools.partial(self._write_pending, pending))

    def _write_pending(self, pending: _Pending, connection: sa.Connection) -> None:
        if pending.new_records:
            self._insert(connection, records, pending.new_records)
        if pending.changed_records:
            self._keep_replaced(connection, [{"_id": row["_id"], "_revision": row["revision"] - 1}
                                             for row in pending.changed_records])
            connection.execute(records.update().where(records.c.id == sa.bindparam("_id")), pending.changed_records)
        for chunk in _chunks([row["_id"] for row in pending.changed_records]):
            connection.execute(pids.delete().where(pids.c.record_id.in_(chunk)))
            connection.execute(relations.delete().where(relations.c.owner_id.in_(chunk)))
            connection.execute(record_fields.delete().where(record_fields.c.record_id.in_(chunk)))
        # An identifier a tombstone held passes to the record that claims it now.
        for scheme, values in _by_scheme(pending.handed_over).items():
            for chunk in _chunks(values):
                connection.execute(pids.delete().where(pids.c.scheme == scheme, pids.c.value.in_(chunk)))
        for table, rows in ((pids, pending.pids), (relations, pending.relations), (record_fields, pending.fields)):
            if rows:
                self._insert(connection, table, rows)
        self._append_feed(connection, pending.revisions)

    def _keep_replaced(self, connection: sa.Connection, replaced: list[dict[str, Any]]) -> None:
        """Copy into each revision about to be replaced (``_id``, ``_revision``) the state that only ``records``
        held while it was the latest; on PostgreSQL it may still be staged in this transaction."""
        for table in (revisions, STAGED_REVISIONS) if self._staged else (revisions,):
            connection.execute(table.update().where(table.c.record_id == sa.bindparam("_id"),
                                                    table.c.revision == sa.bindparam("_revision"))
                               .values(data=sa.select(records.c.data).where(records.c.id == sa.bindparam("_id"))
                                       .scalar_subquery()), replaced)

    def _insert(self, connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
        """A multi-row insert straight through the driver — COPY on PostgreSQL, executemany on SQLite:
        imports write millions of small rows, and per-row statement and parameter handling would cost
        more than the database itself. JSON columns are serialised here for the same reason."""
        keys = tuple(rows[0])
        for key in keys:
            if isinstance(table.c[key].type, sa.JSON):
                for row in rows:
                    if not isinstance(row[key], str):
                        row[key] = _json(row[key])
        if self.store.is_postgres:
            values = map(operator.itemgetter(*keys), rows)
            cursor = connection.connection.driver_connection.cursor()
            with cursor, cursor.copy(f"COPY {table.name} ({', '.join(keys)}) FROM STDIN") as copy:
                for value in values:
                    copy.write_row(value)
            return
        statement = self.store.compiled_insert(table, keys)
        # the rows' values in the statement's parameter order, picked out in C
        connection.exec_driver_sql(statement.string, list(map(operator.itemgetter(*statement.positiontup), rows)))

    def log_many(self, entries: list[dict[str, Any]]) -> None:
        """Audit-log entries (``log``'s keywords, ``at`` filled in), written as one multi-row insert."""
        if entries:
            stamp = now()
            rows = [{"at": stamp, "actor": e["actor"], "role": e["role"], "action": e["action"],
                     "record_id": e.get("record_id"), "revision": e.get("revision"), "origin": e.get("origin"),
                     "detail": e.get("detail")} for e in entries]
            self._run(lambda connection: self._insert(connection, audit_log, rows))

    def log(self, *, actor: str, role: str, action: str, record_id: str | None = None,
            revision: int | None = None, origin: str | None = None, detail: dict[str, Any] | None = None) -> None:
        """An audit-log entry, committed with the write it describes or not at all."""
        self.connection.execute(audit_log.insert().values(
            at=now(), actor=actor, role=role, action=action, record_id=record_id, revision=revision,
            origin=origin, detail=detail))

    def _append_feed(self, connection: sa.Connection, rows: list[dict[str, Any]]) -> None:
        """Revisions for the change feed: on SQLite written at once (its one write lock already orders
        transactions); on PostgreSQL staged until the transaction ends (``publish_feed``)."""
        if not self.store.is_postgres:
            self._insert(connection, revisions, rows)
            return
        if not self._staged:
            connection.execute(sa.schema.CreateTable(STAGED_REVISIONS, if_not_exists=True))
            self._staged = True
        self._insert(connection, STAGED_REVISIONS, rows)

    def keep_order(self, table: str) -> None:
        """Hold, until commit, the lock that makes ``table``'s serial numbers visible in the order they were
        handed out, so that a module feed read "after seq N" misses nothing (docs/modules.md §8). Take it just
        before inserting; on SQLite the one write lock orders transactions already."""
        if self.store.is_postgres:
            self.connection.exec_driver_sql(order_lock(table))

    def publish_feed(self) -> None:
        """Move the staged revisions into the feed just before commit. Sequence numbers are handed out at
        insert but become visible at commit; the advisory lock, held from here until commit, makes them
        visible in order, so a follower reading "after seq N" misses nothing. Taking it only now means a
        long import holds it for one statement, and writers of other records never wait behind it."""
        self._wait_for_queued()
        if not self._staged:
            return
        # Keyed by schema too: two stores sharing a database (one schema each) have two feeds to order.
        self.connection.execute(sa.select(sa.func.pg_advisory_xact_lock(
            FEED_LOCK, sa.func.hashtext(sa.func.current_schema()))))
        staged = [c for c in STAGED_REVISIONS.c if c.name != "position"]
        self.connection.execute(revisions.insert().from_select(
            [c.name for c in staged], sa.select(*staged).order_by(STAGED_REVISIONS.c.position)))
        self._staged = False


def order_lock(table: str) -> str:
    """PostgreSQL's statement taking ``Writer.keep_order``'s lock for ``table`` (a table's name, not user input),
    for a writer that sends it together with other statements in one round trip."""
    return f"SELECT pg_advisory_xact_lock(hashtext('{table}'), hashtext(current_schema()))"


def _merged(previous: _State, partial: Partial) -> tuple[Resource, list[str]]:
    """The record ``partial`` makes of ``previous``: its given units replace, its cleared units go, the rest
    stays. Returns the record (validated whole, so a required field left empty is refused) and the units
    actually cleared."""
    current = field_units(content_of(previous.data))
    incoming = field_units(partial.record.model_dump(mode="json", by_alias=True, exclude_none=True,
                                                     exclude=set(SERVER_FIELDS)))
    cleared = sorted(unit for unit in current if covers(unit, partial.cleared) and unit not in partial.given)
    units = {unit: value for unit, value in current.items() if unit not in cleared}
    units.update({unit: _joined(units.get(unit), value) if unit in partial.extended else value
                  for unit, value in incoming.items() if covers(unit, partial.given)})
    return validate_record({**from_units(units), "id": previous.id, "type": previous.type}), cleared


def _joined(existing: Any, items: list[Any]) -> list[Any]:
    """The existing list with the new items it lacks appended, in order."""
    kept = existing if isinstance(existing, list) else []
    return kept + [item for item in items if item not in kept]


def _by_scheme(keys: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for scheme, value in keys:
        grouped.setdefault(scheme, []).append(value)
    return grouped


def _chunks(items: list[Any], size: int = 500) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


@functools.lru_cache(maxsize=1024)
def _live_by_ids(dialect: sa.Dialect, visible: Visibility | None, count: int
                 ) -> tuple[str, Callable[[list[str]], Any], Callable[[Any], Any]]:
    """``get_many``'s statement for ``count`` ids, compiled for the driver: its SQL, a function giving the driver's
    parameters for the ids (positional or named, as the dialect wants them), and the decoder of the JSON column
    (SQLite returns text; psycopg decodes JSONB itself)."""
    names = [f"id_{n}" for n in range(count)]
    statement = sa.select(records.c.id, records.c.data).where(
        records.c.id.in_([sa.bindparam(name, "") for name in names]), *_where(None, [], visible))
    compiled = statement.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    constants = {key: value for key, value in compiled.params.items() if key not in names}
    order = compiled.positiontup

    def parameters(ids: list[str]) -> Any:
        values = {**constants, **dict(zip(names, ids, strict=True))}
        return [values[key] for key in order] if order else values

    decode = records.c.data.type.dialect_impl(dialect).result_processor(dialect, None) or (lambda data: data)
    return compiled.string, parameters, decode


def _normalised(scheme: str, value: str) -> str:
    """A pid in its canonical form when the scheme knows one, so references match however written."""
    try:
        return normalise_pid(scheme, value)
    except PidError:
        return value


def bad_ref(ref: Any) -> ZhulianError:
    return ZhulianError("bad_ref", f"{ref!r} is neither a record id (org_01…) nor scheme:value.",
                        f"{ref!r} 既不是记录编号（org_01…）也不是“方案:值”形式的标识符。", 400)


def _declared(row: dict[str, Any]) -> dict[str, Any]:
    """A relation as its owner declares it in the payload (the owner's own end left implicit)."""
    owner_is_subject = row["subject_id"] == row["owner_id"]
    declared = {"predicate": row["predicate"],
                "object" if owner_is_subject else "subject": row["object_id"] if owner_is_subject else row["subject_id"]}
    for key, name in (("role", "role"), ("rank", "rank"), ("valid_from", "from"), ("valid_to", "to")):
        if row[key] is not None:
            declared[name] = row[key]
    return declared


def _record_row(connection: sa.Connection, ref: str) -> sa.Row:
    """The current row a reference names, in one query whether it is an id or a pid."""
    parsed = parse_ref(ref) if isinstance(ref, str) else None
    if parsed is None:
        raise bad_ref(ref)
    columns = (records.c.id, records.c.data, records.c.deleted, records.c.revision, records.c.access,
               records.c.node, records.c.merged_into)
    if parsed.id:
        statement = sa.select(*columns).where(records.c.id == parsed.id)
    else:
        statement = sa.select(*columns).join(pids, pids.c.record_id == records.c.id).where(
            pids.c.scheme == parsed.scheme, pids.c.value == _normalised(parsed.scheme, parsed.value))
    row = connection.execute(statement).one_or_none()
    if row is None:
        raise not_found(ref)
    return row


def _survivor_row(connection: sa.Connection, row: sa.Row) -> sa.Row:
    """The record a chain of merges ends at (a chain, because a survivor may itself be merged later)."""
    for _ in range(100):
        if not row.merged_into:
            return row
        row = _record_row(connection, row.merged_into)
    return row


def resolve_ref(connection: sa.Connection, ref: str) -> str:
    """The id a reference names: an id that exists, or the record holding a pid."""
    parsed = parse_ref(ref) if isinstance(ref, str) else None
    if parsed is None:
        raise bad_ref(ref)
    if parsed.id:
        found = connection.execute(sa.select(records.c.id).where(records.c.id == parsed.id)).scalar()
    else:
        found = connection.execute(sa.select(pids.c.record_id).where(
            pids.c.scheme == parsed.scheme, pids.c.value == _normalised(parsed.scheme, parsed.value))).scalar()
    if found is None:
        raise not_found(ref)
    return found


def _with_relations(connection: sa.Connection, row: sa.Row, expand: bool, visible: Visibility | None) -> dict:
    if not expand:
        return row.data
    return {**row.data, "relations": _relations(connection, row.id, "both", None, visible)}


@functools.cache
def _relations_statement(direction: str, with_predicate: bool, scope: str) -> sa.Select:
    """The query for a record's relations, built once per shape: building it (two aliases of ``records``)
    costs more than running it, and a record page or API read asks for it every time."""
    subject, obj = records.alias("subject"), records.alias("object")
    record_id = sa.bindparam("record_id")
    ends = {"out": relations.c.subject_id == record_id, "in": relations.c.object_id == record_id,
            "both": sa.or_(relations.c.subject_id == record_id, relations.c.object_id == record_id)}
    statement = (sa.select(relations, subject.c.type.label("s_type"), subject.c.label.label("s_label"),
                           obj.c.type.label("o_type"), obj.c.label.label("o_label"))
                 .join(subject, subject.c.id == relations.c.subject_id)
                 .join(obj, obj.c.id == relations.c.object_id)
                 .where(subject.c.deleted.is_(None), obj.c.deleted.is_(None), ends[direction]))
    if scope != "all":
        for end in (subject, obj):
            allowed = end.c.access.in_(sa.bindparam("levels", expanding=True))
            if scope == "node":
                allowed = sa.or_(allowed, sa.and_(end.c.access == "internal", end.c.node == sa.bindparam("node")))
            statement = statement.where(allowed)
    if with_predicate:
        statement = statement.where(relations.c.predicate == sa.bindparam("predicate"))
    return statement.order_by(relations.c.predicate, relations.c.rank, relations.c.id)


def _relations(connection: sa.Connection, record_id: str, direction: str, predicate: str | None,
               visible: Visibility | None = None) -> list[dict]:
    if direction not in ("out", "in", "both"):
        raise ZhulianError("bad_direction", "direction is out, in or both.", "方向应为 out、in 或 both。", 400)
    scope = "all" if visible is None or visible.everything else ("node" if visible.node else "levels")
    statement = _relations_statement(direction, predicate is not None, scope)
    parameters: dict[str, Any] = {"record_id": record_id, "predicate": predicate}
    if scope != "all":
        parameters |= {"levels": sorted(visible.levels), "node": visible.node}
    result = []
    for row in connection.execute(statement, parameters):
        outgoing = row.subject_id == record_id
        other = ({"id": row.object_id, "type": row.o_type, "name": row.o_label} if outgoing
                 else {"id": row.subject_id, "type": row.s_type, "name": row.s_label})
        item = {"predicate": row.predicate, "object" if outgoing else "subject": other}
        for key, name in (("role", "role"), ("rank", "rank"), ("valid_from", "from"), ("valid_to", "to")):
            if row._mapping[key] is not None:
                item[name] = row._mapping[key]
        result.append(item)
    return result


def _visible(table: sa.FromClause, visible: Visibility | None) -> list[Any]:
    if visible is None or visible.everything:
        return []
    allowed = table.c.access.in_(sorted(visible.levels))
    if visible.node:
        allowed = sa.or_(allowed, sa.and_(table.c.access == "internal", table.c.node == visible.node))
    return [allowed]


def _where(type_name: str | None, conditions: list[Condition], visible: Visibility | None = None) -> list[Any]:
    where: list[Any] = [records.c.deleted.is_(None), *_visible(records, visible)]
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
        # Records without the value come last either way, the same on both databases.
        order.append((column.desc() if direction == "desc" else column.asc()).nulls_last())
    if problems:
        raise invalid(problems, "query")
    return [*order, records.c.id.asc()]
