"""Loading the region's reference data: created, never forced.

Loading creates the records that are missing and fills the fields of existing ones that nobody has set;
it never overwrites a value, so a user's edit or an import stands and a second load changes nothing at
all. Every value the loader writes is kept in its audit entry (``detail["reference"]``): that is how a
later load tells a field the packaged data changed since (shown by ``region_diff``, written only on
request by ``reconcile_region(…, apply_upstream=True)``) from one a person changed (kept, always). Fields are compared as the units of
``zhulian.store.store.field_units`` (``name.en``, ``pids.moe``, ``relations.lead_unit`` …).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from zhulian.access import SYSTEM, Principal
from zhulian.model import record_label
from zhulian.records import RecordService
from zhulian.records.service import Batch
from zhulian.region.reference import reference_records
from zhulian.store import Store
from zhulian.store.store import content_of, field_units, from_units, same_value
from zhulian.store.tables import audit_log

REFERENCE = "reference"  # the audit detail key holding the reference values a load wrote


@dataclass
class RecordDiff:
    """How one packaged record stands against the store."""

    ref: str
    name: str
    id: str | None = None
    missing: bool = False  # not in the store: a load creates it
    deleted: bool = False  # deleted locally: never brought back
    fill: dict[str, Any] = field(default_factory=dict)  # unset locally: a load fills them
    upstream: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # (local, packaged): the package changed
    kept: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # (local, packaged): changed locally, kept
    applied: bool = False  # the upstream changes were written

    @property
    def outcome(self) -> str:
        if self.missing:
            return "created"
        if self.deleted:
            return "deleted"  # left deleted
        return "updated" if self.fill or self.applied else "unchanged"

    @property
    def differs(self) -> bool:
        return bool(self.missing or self.fill or self.upstream or self.kept)

    def as_dict(self) -> dict[str, Any]:
        return {"ref": self.ref, "name": self.name, "id": self.id, "missing": self.missing, "deleted": self.deleted,
                "fill": sorted(self.fill),
                "upstream": [{"field": k, "local": a, "packaged": b} for k, (a, b) in sorted(self.upstream.items())],
                "kept": [{"field": k, "local": a, "packaged": b} for k, (a, b) in sorted(self.kept.items())]}


class _DryRun(Exception):
    pass


def load_region(store: Store, principal: Principal = SYSTEM, origin: str | None = None) -> Counter[str]:
    """Create the missing reference records and fill unset fields, in one audited transaction. Returns how
    many records were ``created``, ``updated`` (fields filled) and left ``unchanged``."""
    return _counts(reconcile_region(store, principal, origin, apply_upstream=False))


def region_diff(store: Store) -> list[RecordDiff]:
    """Every packaged record that differs from the store, and how: what a load would create or fill, what
    an apply (``reconcile_region(…, apply_upstream=True)``) would change, and the local edits both keep.
    Nothing is written."""
    diffs: list[RecordDiff] = []
    try:
        with RecordService(store).batch(SYSTEM, kind="region") as batch:
            diffs = _reconcile(batch, apply_upstream=True)
            raise _DryRun  # the records created along the way only served to resolve later references
    except _DryRun:
        pass
    return [diff for diff in diffs if diff.differs]


def reconcile_region(store: Store, principal: Principal, origin: str | None, *,
                     apply_upstream: bool) -> list[RecordDiff]:
    """A load (``apply_upstream`` False) or an apply, returning how each packaged record stood before it."""
    with RecordService(store).batch(principal, origin, kind="region") as batch:
        return _reconcile(batch, apply_upstream=apply_upstream)


def _counts(diffs: list[RecordDiff]) -> Counter[str]:
    return Counter(diff.outcome for diff in diffs)


def _reconcile(batch: Batch, *, apply_upstream: bool) -> list[RecordDiff]:
    """Bring the packaged records into the store in order (each refers only to earlier ones)."""
    writer = batch.writer
    existing = {ref: writer.existing(record) for ref, record in _packaged()}
    baselines = _baselines(batch, [e["id"] for e in existing.values() if e is not None])
    diffs = []
    for ref, record in _packaged():
        diff = RecordDiff(ref, record_label(record))
        current = existing[ref]
        packaged = field_units(writer.content(record))
        if current is None:
            diff.missing = True
            diff.id = batch.create(record, detail={REFERENCE: packaged})["id"]
        elif current.get("deleted"):
            diff.id, diff.deleted = current["id"], True
        else:
            diff.id = current["id"]
            _compare(diff, field_units(content_of(current)), packaged, baselines.get(current["id"], {}))
            written = {**diff.fill, **({k: new for k, (_old, new) in diff.upstream.items()} if apply_upstream else {})}
            diff.applied = bool(apply_upstream and diff.upstream)
            if written:
                units = {**field_units(content_of(current)), **written}
                batch.update(current["id"], from_units(units), detail={REFERENCE: written})
        diffs.append(diff)
    return diffs


def _compare(diff: RecordDiff, local: dict[str, Any], packaged: dict[str, Any], baseline: dict[str, Any]) -> None:
    """Sort each packaged field: unset locally (and never loaded) → fill; still as last loaded but changed in
    the package → upstream; anything else that differs was changed locally → kept."""
    for unit, value in packaged.items():
        if unit not in local:
            if unit in baseline:
                diff.kept[unit] = (None, value)  # loaded once, removed by someone since
            else:
                diff.fill[unit] = value
        elif same_value(local[unit], value):
            continue
        elif unit in baseline and same_value(local[unit], baseline[unit]):
            diff.upstream[unit] = (local[unit], value)
        else:
            diff.kept[unit] = (local[unit], value)


def _baselines(batch: Batch, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per record, each field's value as the region loads last wrote it, from their audit entries."""
    baselines: dict[str, dict[str, Any]] = {}
    if not ids:
        return baselines
    rows = batch.connection.execute(sa.select(audit_log.c.record_id, audit_log.c.detail)
                                    .where(audit_log.c.record_id.in_(ids)).order_by(audit_log.c.seq))
    for record_id, detail in rows:
        if isinstance(detail, dict) and isinstance(detail.get(REFERENCE), dict):
            baselines.setdefault(record_id, {}).update(detail[REFERENCE])
    return baselines


def _packaged() -> list[tuple[str, dict[str, Any]]]:
    return [(record["pids"]["ref"], record) for record in reference_records()]
