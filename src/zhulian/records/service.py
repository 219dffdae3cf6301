"""The record service: every read filtered by what the principal may see, every write checked against
its role and node and written to the audit log in the same transaction (after InvenioRDM: permissions
live in the service, not in the CLI or the API)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from zhulian.access.principal import Principal, check_write, visibility
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.store import Page, Store
from zhulian.store.store import content_of
from zhulian.store.tables import audit_log


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
        return self.store.group_by(type_name, field, filter, visible=visibility(principal))

    def revisions(self, principal: Principal, ref: str) -> list[dict[str, Any]]:
        self.store.get(ref, include_deleted=True, visible=visibility(principal))  # not found unless visible
        return self.store.revisions(ref)

    def relations(self, principal: Principal, ref: str, *, direction: str = "both",
                  predicate: str | None = None) -> list[dict[str, Any]]:
        self.store.get(ref, visible=visibility(principal))  # not found unless visible
        return self.store.relations(ref, direction=direction, predicate=predicate, visible=visibility(principal))

    # -- writing ---------------------------------------------------------------------------------

    def create(self, principal: Principal, data: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        data = self._with_node(principal, data)
        check_write(principal, data.get("node"))
        with self.store.transaction() as writer:
            record = writer.create(data)
            self._log(writer, principal, "create", record, origin)
        return record

    def replace(self, principal: Principal, ref: str, data: dict[str, Any], *, expected_revision: int | None = None,
                origin: str | None = None) -> dict[str, Any]:
        current = self._writable(principal, ref)
        data = {**data}
        data.setdefault("node", current.get("node"))
        check_write(principal, data.get("node"), current["id"])
        with self.store.transaction() as writer:
            record = writer.update(current["id"], data, expected_revision=expected_revision)
            if record["revision"] != current["revision"]:
                self._log(writer, principal, "update", record, origin)
        return record

    def patch(self, principal: Principal, ref: str, changes: dict[str, Any], *,
              expected_revision: int | None = None, origin: str | None = None) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386) on the record's content: given keys replace, null removes."""
        if not isinstance(changes, dict):
            raise invalid([Problem("(body)", None, "a patch is a JSON object", "补丁应为 JSON 对象")])
        current = self._writable(principal, ref)
        return self.replace(principal, current["id"], _merge(content_of(current), changes),
                            expected_revision=expected_revision, origin=origin)

    def delete(self, principal: Principal, ref: str, *, expected_revision: int | None = None,
               origin: str | None = None) -> dict[str, Any]:
        current = self._writable(principal, ref)
        with self.store.transaction() as writer:
            tombstone = writer.delete(current["id"], expected_revision=expected_revision)
            self._log(writer, principal, "delete", tombstone, origin)
        return tombstone

    def export(self, principal: Principal, type_name: str, fmt: str, target: Any, *,
               filter: str | None = None) -> Any:
        """An exchange export of what the principal may read: internal records stay with admins."""
        from zhulian.exchange import export_records

        levels = visibility(principal)
        access = None if levels.everything else "access:" + "|".join(sorted(levels.levels))
        combined = ",".join(part for part in (filter, access) if part)
        return export_records(self.store, type_name, fmt, target, filter=combined or None)

    def import_file(self, principal: Principal, path: Path, *, type_name: str | None = None,
                    skip_invalid: bool = False, dry_run: bool = False, origin: str | None = None) -> Any:
        """An exchange import under the principal's write rules: each row, and each existing record a row
        would change, must be the principal's to write; refused rows are reported like invalid ones."""
        from zhulian.exchange import import_file

        check_write(principal, principal.node if not principal.is_admin else None)

        def authorise(record: Any, existing: dict[str, Any] | None) -> None:
            check_write(principal, record.node, record.id)
            if existing is not None:
                check_write(principal, existing.get("node"), existing["id"])

        report = import_file(self.store, path, type_name=type_name, skip_invalid=skip_invalid, dry_run=dry_run,
                             node=principal.node, authorise=authorise)
        if report.committed and (report.created or report.updated):
            with self.store.transaction() as writer:
                writer.log(actor=principal.id, role=principal.role, action="import", origin=origin,
                           detail={"file": Path(path).name, "type": report.type, "created": report.created,
                                   "updated": report.updated, "invalid": report.invalid})
        return report

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

    def _with_node(self, principal: Principal, data: Any) -> Any:
        """A publisher's record belongs to its node unless it says otherwise (which the check refuses)."""
        if isinstance(data, dict) and "node" not in data:
            return {**data, "node": principal.node or self.store.node}
        return data

    def _writable(self, principal: Principal, ref: str) -> dict[str, Any]:
        current = self.store.get(ref, visible=visibility(principal))
        check_write(principal, current.get("node"), current["id"])
        return current

    @staticmethod
    def _log(writer: Any, principal: Principal, action: str, record: dict[str, Any], origin: str | None) -> None:
        writer.log(actor=principal.id, role=principal.role, action=action, record_id=record["id"],
                   revision=record["revision"], origin=origin, detail={"type": record["type"]})


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
