"""The record service: every read filtered by what the principal may see, every write checked against
its role and node and written to the audit log in the same transaction (after InvenioRDM: permissions
live in the service, not in the CLI or the API)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from ulid import ULID

from zhulian.access.principal import Principal, check_write, visibility
from zhulian.errors import Problem, ZhulianError, invalid, not_found
from zhulian.model import type_of_id
from zhulian.model.types import Resource
from zhulian.region.adcodes import by_city
from zhulian.store import Page, Store, WriteResult, Writer
from zhulian.store.store import changed_units, content_of, field_units
from zhulian.store.tables import audit_log

AUDIT_BATCH = 1000  # audit entries held before they are written (inside the same transaction)


class RecordService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- reading ---------------------------------------------------------------------------------

    def get(self, principal: Principal, ref: str, *, revision: int | None = None,
            include_deleted: bool = False) -> dict[str, Any]:
        return self.store.get(ref, revision=revision, include_deleted=include_deleted, expand=revision is None,
                              visible=visibility(principal))

    def list(self, principal: Principal, type_name: str | None, filter: str | None = None, *, sort: str = "id",
             limit: int = 25, offset: int = 0, expand: bool = False) -> Page:
        return self.store.query(type_name, filter, sort=sort, limit=limit, offset=offset, expand=expand,
                                visible=visibility(principal))

    def group_by(self, principal: Principal, type_name: str | None, field: str,
                 filter: str | None = None) -> list[dict[str, Any]]:
        """Counts per value of ``field``; by ``city``, districts count under their city (``by_city``)."""
        groups = self.store.group_by(type_name, field, filter, visible=visibility(principal))
        return by_city(groups) if field == "city" else groups

    def revisions(self, principal: Principal, ref: str) -> list[dict[str, Any]]:
        self.store.get(ref, include_deleted=True, visible=visibility(principal))  # not found unless visible
        return self.store.revisions(ref)

    def relations(self, principal: Principal, ref: str, *, direction: str = "both",
                  predicate: str | None = None) -> list[dict[str, Any]]:
        self.store.get(ref, visible=visibility(principal))  # not found unless visible
        return self.store.relations(ref, direction=direction, predicate=predicate, visible=visibility(principal))

    # -- writing ---------------------------------------------------------------------------------

    @contextmanager
    def batch(self, principal: Principal, origin: str | None = None, *, kind: str | None = None,
              detail: dict[str, Any] | None = None) -> Iterator[Batch]:
        """Many writes in one transaction, each permission-checked and audited in it: one audit entry per
        changed record. ``kind`` (``import``, ``region``, ``merge``, ``harvest`` …) gives the batch an id,
        ``<kind>_<ULID>``, that every entry carries in ``detail["batch"]`` with ``detail``'s keys."""
        batch_id = f"{kind}_{ULID()}" if kind else None
        with self.store.transaction() as writer:
            batch = Batch(writer, principal, origin, batch_id, detail or {})
            yield batch
            batch.flush_audit()

    def create(self, principal: Principal, data: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        with self.batch(principal, origin) as batch:
            return batch.create(data)

    def replace(self, principal: Principal, ref: str, data: dict[str, Any], *, expected_revision: int | None = None,
                origin: str | None = None) -> dict[str, Any]:
        """PUT: the record becomes ``data`` (fields it leaves out are gone)."""
        with self.batch(principal, origin) as batch:
            return batch.update(ref, data, expected_revision=expected_revision)

    def patch(self, principal: Principal, ref: str, changes: dict[str, Any], *,
              expected_revision: int | None = None, origin: str | None = None) -> dict[str, Any]:
        """PATCH: a JSON merge patch (RFC 7386) on the record's content: given keys replace, null removes,
        everything else stays."""
        with self.batch(principal, origin) as batch:
            return batch.patch(ref, changes, expected_revision=expected_revision)

    def delete(self, principal: Principal, ref: str, *, expected_revision: int | None = None,
               origin: str | None = None) -> dict[str, Any]:
        with self.batch(principal, origin) as batch:
            return batch.delete(ref, expected_revision=expected_revision)

    def audit(self, principal: Principal, *, since: int = 0, limit: int = 100,
              record: str | None = None) -> list[dict[str, Any]]:
        """The audit log, oldest first, for administrators."""
        if not principal.is_admin:
            raise ZhulianError("forbidden", "Only administrators read the audit log.", "只有管理员可以查看审计日志。", 403)
        statement = sa.select(audit_log).where(audit_log.c.seq > since).order_by(audit_log.c.seq).limit(limit)
        if record:
            statement = statement.where(audit_log.c.record_id == self.store.resolve(record))
        with self.store.engine.connect() as connection:
            return [dict(row) for row in connection.execute(statement).mappings()]


class Batch:
    """The writes of one principal inside one transaction (see ``RecordService.batch``). Every write is
    checked against the principal's rules and leaves one audit entry per record it changed; a write that
    changes nothing leaves none. ``connection`` is the transaction's, for a module's own tables."""

    def __init__(self, writer: Writer, principal: Principal, origin: str | None, batch_id: str | None,
                 detail: dict[str, Any]) -> None:
        self.writer, self.principal, self.origin, self.id = writer, principal, origin, batch_id
        writer.relatable = visibility(principal)
        self._detail = {**({"batch": batch_id} if batch_id else {}), **detail}
        self._entries: list[dict[str, Any]] = []

    @property
    def connection(self) -> sa.Connection:
        """The transaction's connection, once the writer's queued writes have run (``Writer.connection``)."""
        return self.writer.connection

    def create(self, data: dict[str, Any], *, action: str = "create",
               detail: dict[str, Any] | None = None) -> dict[str, Any]:
        if isinstance(data, dict) and "node" not in data:  # a publisher's record belongs to its node
            data = {**data, "node": self.principal.node or self.writer.store.node}
        check_write(self.principal, data.get("node") if isinstance(data, dict) else None)
        record = self.writer.create(data)
        self.log(action, record, detail, fields=sorted(field_units(content_of(record))))
        return record

    def update(self, ref: str, data: dict[str, Any], *, expected_revision: int | None = None,
               action: str = "update", detail: dict[str, Any] | None = None) -> dict[str, Any]:
        """Replace the content of a record the principal may write (its node stays unless ``data`` names one)."""
        current = self.current(ref, expected_revision=expected_revision)
        data = {**data} if isinstance(data, dict) else data
        if isinstance(data, dict):
            data.setdefault("node", current.get("node"))
            check_write(self.principal, data.get("node"), current["id"])
        record = self.writer.update(current["id"], data, expected_revision=current["revision"])
        if record["revision"] != current["revision"]:
            self.log(action, record, detail, fields=changed_units(content_of(current), content_of(record)))
        return record

    def patch(self, ref: str, changes: dict[str, Any], *, expected_revision: int | None = None,
              action: str = "update", detail: dict[str, Any] | None = None) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386) on the record as it is inside this transaction."""
        if not isinstance(changes, dict):
            raise invalid([Problem("(body)", None, "a patch is a JSON object", "补丁应为 JSON 对象")])
        current = self.current(ref, expected_revision=expected_revision)
        return self.update(current["id"], _merge(content_of(current), changes), expected_revision=current["revision"],
                           action=action, detail=detail)

    def delete(self, ref: str, *, expected_revision: int | None = None, merged_into: str | None = None,
               action: str = "delete", detail: dict[str, Any] | None = None) -> dict[str, Any]:
        current = self.current(ref, expected_revision=expected_revision)
        tombstone = self.writer.delete(current["id"], expected_revision=current["revision"], merged_into=merged_into)
        self.log(action, tombstone, detail)
        return tombstone

    def redirect(self, record_id: str, to: str | None, *, detail: dict[str, Any] | None = None) -> None:
        """Point a merged-away tombstone elsewhere, or at nothing (only where no node owns the record: it
        changes where an id resolves for everyone)."""
        check_write(self.principal, None, record_id)
        self.writer.redirect(record_id, to)
        self.log("redirect", {"id": record_id, "revision": None, "type": type_of_id(record_id)},
                 {"to": to, **(detail or {})})

    def upsert_many(self, items: Iterable[Any], *, collect_errors: bool = False,
                    authorise: Callable[[Resource, dict[str, Any] | None], None] | None = None,
                    detail: dict[str, Any] | None = None) -> list[WriteResult]:
        """``Writer.upsert_many`` (plain records or ``Partial`` ones) under the principal's rules, with
        ``authorise(record, existing)`` refusing more if given; one entry per record created or updated."""
        principal = self.principal

        def allowed(record: Resource, existing: dict[str, Any] | None) -> None:
            check_write(principal, record.node, record.id)
            if existing is not None:
                check_write(principal, existing.get("node"), existing["id"])
            if authorise is not None:
                authorise(record, existing)

        results = self.writer.upsert_many(items, collect_errors=collect_errors, authorise=allowed)
        for result in results:
            if result.outcome in ("created", "updated"):
                extra = {**(detail or {}), **({"cleared": result.cleared} if result.cleared else {})}
                self.log("create" if result.outcome == "created" else "update", result.record, extra,
                         fields=result.changed)
        return results

    def current(self, ref: str, *, expected_revision: int | None = None) -> dict[str, Any]:
        """The live record ``ref`` names, if the principal may see and write it, held for this transaction."""
        current = self.writer.current(ref, expected_revision=expected_revision)
        if not visibility(self.principal).allows(current.get("access", "public"), current.get("node")):
            raise not_found(ref)
        check_write(self.principal, current.get("node"), current["id"])
        return current

    def log(self, action: str, record: dict[str, Any] | None, detail: dict[str, Any] | None = None, *,
            fields: list[str] | None = None) -> None:
        """An audit entry for a record (or, with ``record=None``, for something else this batch changed)."""
        entry_detail = {**({"type": record["type"]} if record else {}), **self._detail, **(detail or {}),
                        **({"fields": fields} if fields else {})}
        self._entries.append({"actor": self.principal.id, "role": self.principal.role, "action": action,
                              "record_id": record["id"] if record else None,
                              "revision": record.get("revision") if record else None,
                              "origin": self.origin, "detail": entry_detail})
        if len(self._entries) >= AUDIT_BATCH:
            self.flush_audit()

    def flush_audit(self) -> None:
        entries, self._entries = self._entries, []
        self.writer.log_many(entries)


def _merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = _merge(merged.get(key), value)
    return merged
