"""Imports and exports under a principal's rules, built on the record service (DESIGN: a module service over the
one write path). The record service knows nothing of files; the file formats know nothing of principals."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zhulian.access import Principal, check_write, visibility
from zhulian.exchange.exporter import export_records
from zhulian.exchange.importer import ImportReport, import_file
from zhulian.records import RecordService


class ExchangeService:
    def __init__(self, records: RecordService) -> None:
        self.records = records

    def import_file(self, principal: Principal, path: Path, *, origin: str | None = None, name: str | None = None,
                    **options: Any) -> ImportReport:
        """An exchange import (``zhulian.exchange.import_file``'s ``options``) as one audited batch under the
        principal's write rules: each row, and each existing record a row would change, must be the
        principal's to write; refused rows are reported like invalid ones. ``name`` is the file's name as
        the user knows it (an upload is saved under another)."""
        check_write(principal, principal.node if not principal.is_admin else None)
        options.setdefault("node", principal.node)

        def begin() -> Any:
            return self.records.batch(principal, origin, kind="import", detail={"file": name or Path(path).name})

        return import_file(self.records.store, path, begin=begin, **options)

    def export(self, principal: Principal, type_name: str, fmt: str, target: Any, *,
               filter: str | None = None) -> Any:
        """An exchange export of what the principal may read: internal records stay with admins."""
        levels = visibility(principal)
        access = None if levels.everything else "access:" + "|".join(sorted(levels.levels))
        combined = ",".join(part for part in (filter, access) if part)
        return export_records(self.records.store, type_name, fmt, target, filter=combined or None)
