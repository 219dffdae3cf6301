"""Export: the records of one type, as a filter selects them, to CSV, TSV, XLSX, JSON or JSONL, streamed.

JSON and JSONL carry records exactly as the store holds them. CSV and XLSX carry the flat form (the same
columns as the type's template, plus the identifier schemes, numbered items and relation columns in use),
with text that a spreadsheet would run as a formula neutralised (by ``TableWriter``). Importing an export into an empty store and
exporting again gives the same records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from zhulian.exchange.flat import (
    READ_ONLY,
    Leaf,
    flatten,
    group_leaf,
    layout,
    pid_leaf,
    relation_leaf,
    type_label,
)
from zhulian.errors import ZhulianError
from zhulian.exchange.formats import TableWriter, file_error
from zhulian.model import PREDICATES, resolve_type

XLSX_CELL_LIMIT = 32_767
# Which identifier names a related record in a CSV/XLSX export, best first; then any other scheme.
REFERENCE_SCHEMES = ("uscc", "moe", "orcid", "doi", "patent_no", "std_no", "cstr")


@dataclass
class ExportReport:
    type: str
    format: str
    count: int = 0
    warnings: list[str] = field(default_factory=list)


def export_format(fmt: str | None, output: str | Path | None) -> str:
    if fmt:
        fmt = fmt.lower().lstrip(".")
    elif output is not None and Path(output).suffix:
        fmt = Path(output).suffix.lower().lstrip(".")
        fmt = {"ndjson": "jsonl", "tab": "tsv"}.get(fmt, fmt)
    else:
        fmt = "csv"
    if fmt not in ("csv", "tsv", "xlsx", "json", "jsonl"):
        raise file_error("bad_format", f"Export formats are csv, tsv, xlsx, json and jsonl, not {fmt!r}.",
                         f"导出格式应为 csv、tsv、xlsx、json 或 jsonl，而不是 {fmt!r}。")
    return fmt


def columns_for(store: Any, type_name: str, filter: str | None) -> list[Leaf]:
    """The type's template columns plus what the selected records use: more identifier schemes, more
    numbered items, relation columns. Found by a first pass over the records, so memory stays flat."""
    the_layout = layout(type_name)
    schemes: dict[str, None] = {}
    counts: dict[str, int] = {name: 0 for name in the_layout.groups}
    relations: set[tuple[str, str]] = set()
    for record in store.iterate(type_name, filter):
        for scheme in record.get("pids") or {}:
            schemes.setdefault(scheme)
        for name in counts:
            counts[name] = max(counts[name], len(record.get(name) or []))
        for relation in record.get("relations") or []:
            relations.add((relation["predicate"], "object" if "object" in relation else "subject"))
    static = [leaf for key, leaf in the_layout.static.items() if key not in READ_ONLY]
    known_pids = {leaf.key for leaf in static if leaf.kind == "pid"}
    extra_pids = [pid_leaf(s) for s in schemes if f"pids.{s}" not in known_pids]
    if extra_pids:
        last_pid = max((i for i, leaf in enumerate(static) if leaf.kind == "pid"), default=None)
        if last_pid is None:  # after the names, or first of all for a type with neither (observations)
            last_pid = max((i for i, leaf in enumerate(static) if leaf.required == "one_of"), default=-1)
        static[last_pid + 1:last_pid + 1] = extra_pids
    columns = static
    for name, group in the_layout.groups.items():
        for index in range(counts[name]):
            columns += [group_leaf(group, index, sub) for sub in group.leaves]
    for end in ("object", "subject"):
        for predicate in PREDICATES:
            if (predicate, end) in relations:
                columns.append(relation_leaf(predicate, end))
    columns += [the_layout.static[key] for key in READ_ONLY]
    return columns


class _References:
    """Related records named by an identifier (``moe:4144010558``) rather than by this store's id, so that
    a file exported here imports into another node that holds the same records under other ids. A record
    without any identifier keeps its id."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.known: dict[str, str] = {}

    def __call__(self, record_id: str) -> str:
        found = self.known.get(record_id)
        if found is None:
            if len(self.known) > 50_000:
                self.known.clear()
            found = self.known[record_id] = self._best(record_id)
        return found

    def _best(self, record_id: str) -> str:
        try:
            pids = self.store.get(record_id, include_deleted=True).get("pids") or {}
        except ZhulianError:
            return record_id
        for scheme in (*REFERENCE_SCHEMES, *sorted(pids)):
            if scheme in pids:
                return f"{scheme}:{pids[scheme]}"
        return record_id


def export_records(store: Any, type_name: str, fmt: str, target: str | Path | IO[bytes], *,
                   filter: str | None = None, header: str = "label", encoding: str = "utf-8-sig",
                   references: str = "pid") -> ExportReport:
    """Write every live record of a type that ``filter`` selects (the list grammar) to ``target``.
    In CSV and XLSX, ``references="pid"`` names related records by an identifier where they have one,
    ``"id"`` by their id; JSON and JSONL keep the store's form (ids)."""
    type_name = resolve_type(type_name)
    fmt = export_format(fmt, None)
    report = ExportReport(type_name, fmt)
    if fmt in ("json", "jsonl"):
        _export_json(store, type_name, fmt, target, filter, report)
        return report
    columns = columns_for(store, type_name, filter)
    writer = TableWriter(target, fmt, sheet=type_label(type_name), encoding=encoding,
                         widths=[max(12, min(40, len(c.header) + 4)) for c in columns])
    try:
        writer.header([c.header if header == "label" else c.key for c in columns])
        the_layout = layout(type_name)
        reference = _References(store) if references == "pid" else None
        for record in store.iterate(type_name, filter):
            cells = flatten(record, the_layout, reference)
            row = []
            for column in columns:
                value = cells.get(column.key)
                if isinstance(value, str):
                    if fmt == "xlsx" and len(value) > XLSX_CELL_LIMIT and len(report.warnings) < 100:
                        report.warnings.append(
                            f"{record['id']} 的 {column.key} 超过 Excel 单元格 {XLSX_CELL_LIMIT} 字符上限，Excel 打开时可能被截断"
                            f" / {column.key} of {record['id']} exceeds Excel's {XLSX_CELL_LIMIT}-character cell limit")
                elif isinstance(value, bool) and fmt != "xlsx":
                    value = "true" if value else "false"
                elif isinstance(value, float) and fmt != "xlsx":
                    value = repr(value)
                row.append(value)
            writer.row(row)
            report.count += 1
    except UnicodeEncodeError as error:
        raise file_error("bad_encoding", f"A record holds characters that {encoding} cannot write ({error.object[error.start:error.end]!r}); "
                         "export as UTF-8 instead.", f"记录中含有 {encoding} 无法表示的字符"
                         f"（{error.object[error.start:error.end]!r}），请改用 UTF-8 导出。") from None
    finally:
        writer.close()
    return report


def _export_json(store: Any, type_name: str, fmt: str, target: str | Path | IO[bytes], filter: str | None,
                 report: ExportReport) -> None:
    own = isinstance(target, (str, Path))
    handle: IO[bytes] = Path(target).open("wb") if own else target  # type: ignore[assignment]
    try:
        if fmt == "json":
            handle.write(b"[")
        for record in store.iterate(type_name, filter):
            line = json.dumps(record, ensure_ascii=False).encode("utf-8")
            if fmt == "json":
                handle.write((b",\n" if report.count else b"\n") + line)
            else:
                handle.write(line + b"\n")
            report.count += 1
        if fmt == "json":
            handle.write(b"\n]\n")
    finally:
        if own:
            handle.close()
        else:
            handle.flush()
