"""Import: one path for every format and every mapping.

The file is read as a stream; each row is converted to a record, validated, checked against the rows before
it for a duplicated id or identifier, and written in batches inside **one** transaction. Relation
references are resolved by the store at write time; a row that refers to a record further down the file is
retried once the rest has been written. Imports are partial updates: a row changes only the fields its file
gives a value for (an empty cell or a missing column changes nothing; ``clear_empty`` makes an empty cell in a
column the file has clear that field), and the report says per row which fields it changed. Every write goes
through one audited batch of the record service (one audit entry per changed record, with the import's id).
By default the import is all or nothing: when any row is invalid
the transaction is rolled back and the report lists every problem (row, column, value, reason in Chinese and
English); with ``skip_invalid`` the valid rows are committed and the rest reported; ``dry_run`` always rolls
back. A process killed mid-import leaves the store as it was, because nothing commits before the end.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson
import sqlalchemy as sa

from zhulian import hooks
from zhulian.errors import Problem, ZhulianError
from zhulian.exchange.convert import Converted, locate, unflatten, unreadable
from zhulian.exchange.flat import Layout, Leaf, cell_text, header_key, layout
from zhulian.exchange.formats import FormulaWithoutValue, Note, Source, _BadLine, excerpt, file_error, open_source
from zhulian.exchange.mapping import Mapping, load_mapping
from zhulian.exchange.template import example_row
from zhulian.model import COLLECTIONS, MODELS, PREFIXES, TYPE_LABELS, is_id, resolve_type, type_of_id, validate_record
from zhulian.model.types import Resource
from zhulian.region.adcodes import adcode_name, is_adcode
from zhulian.store import Partial, changed_units, field_units

BATCH = 1000
HEADER_SEARCH = 10  # rows looked at to find the header below any title rows
KEEP_IN_MEMORY = 500  # problems kept for printing; all are spooled to disk for the report file
MAX_DEFERRED = 50_000  # rows held back for a forward reference before they are reported instead
MAX_WARNINGS = 1000


@dataclass
class RowProblem:
    """One problem, where a person finds it: the row number, the column as the file names it, the cell."""

    row: int | None
    column: str
    value: Any
    reason: str
    reason_zh: str
    field: str = ""
    level: str = "error"

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if not isinstance(value, (str, int, float, bool, type(None))):
            value = cell_text(value) if not isinstance(value, (list, dict)) else json.dumps(value, ensure_ascii=False)
        value = excerpt(value)  # a report never echoes a huge cell back
        return {"row": self.row, "column": self.column, "field": self.field, "value": value,
                "reason_zh": self.reason_zh, "reason": self.reason, "level": self.level}

    def __str__(self) -> str:
        where = f"第 {self.row} 行 row {self.row}" if self.row is not None else "文件 file"
        column = f"，列 column「{self.column}」" if self.column else ""
        value = f"，值 value {excerpt(self.value)!r}" if self.value not in (None, "") else ""
        return f"{where}{column}{value}：{self.reason_zh} / {self.reason}"


class ProblemLog:
    """Every row problem (or row change) of an import: the first few in memory, all of them spooled to a
    temporary file so that a file with a million rows does not fill memory."""

    def __init__(self) -> None:
        self.head: list[Any] = []
        self.count = 0
        self._spool: IO[str] | None = None

    def add(self, item: RowProblem | dict[str, Any]) -> None:
        self.count += 1
        if len(self.head) < KEEP_IN_MEMORY:
            self.head.append(item)
        if self._spool is None:
            self._spool = tempfile.TemporaryFile("w+", encoding="utf-8")
        entry = item.as_dict() if isinstance(item, RowProblem) else item
        try:  # orjson: one change line per imported row, so the standard library's encoder showed in profiles
            line = orjson.dumps(entry).decode()
        except orjson.JSONEncodeError:  # a cell holding an integer beyond 64 bits
            line = json.dumps(entry, ensure_ascii=False)
        self._spool.write(line + "\n")

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if self._spool is None:
            return
        self._spool.flush()
        self._spool.seek(0)
        for line in self._spool:
            yield json.loads(line)
        self._spool.seek(0, io.SEEK_END)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()


@dataclass
class ImportReport:
    path: str
    format: str = ""
    encoding: str | None = None
    sheet: str | None = None
    type: str | None = None
    mapping: str | None = None
    dry_run: bool = False
    skip_invalid: bool = False
    clear_empty: bool = False
    import_id: str | None = None  # the audit log's detail["batch"] of every record this import changed
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    blank: int = 0
    committed: bool = False
    notes: list[Note] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    errors: ProblemLog = field(default_factory=ProblemLog)
    # per created or updated row: {"row", "id", "outcome", "changed": [fields], "cleared": [fields]}
    changes: ProblemLog = field(default_factory=ProblemLog)

    @property
    def refused(self) -> bool:
        """Invalid rows stopped the import (nothing was written)."""
        return self.invalid > 0 and not self.skip_invalid

    def warn(self, problem: RowProblem) -> None:
        problem.level = "warning"
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(problem)

    def summary(self) -> dict[str, Any]:
        return {"path": self.path, "format": self.format, "encoding": self.encoding, "sheet": self.sheet,
                "type": self.type, "mapping": self.mapping, "dry_run": self.dry_run,
                "skip_invalid": self.skip_invalid, "clear_empty": self.clear_empty,
                "import_id": self.import_id if self.committed else None,
                "committed": self.committed, "refused": self.refused,
                "rows": self.rows, "created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "invalid": self.invalid, "blank_rows": self.blank, "problems": self.errors.count,
                "warnings": len(self.warnings), "notes": [{"zh": n.zh, "en": n.en} for n in self.notes]}

    def outcome_text(self) -> tuple[str, str]:
        if self.dry_run:
            return "试运行，未写入任何内容", "dry run: nothing was written"
        if self.refused:
            return (f"有 {self.invalid} 行无效，按“全部或全不”规则未写入任何内容（可用 --skip-invalid 只导入有效行）",
                    f"{self.invalid} invalid row(s): nothing was written (all or nothing; --skip-invalid "
                    "imports the valid rows)")
        if self.invalid:
            return f"已导入有效行，跳过 {self.invalid} 行无效数据", f"valid rows imported, {self.invalid} invalid row(s) skipped"
        return "已全部导入", "all rows imported"

    def close(self) -> None:
        self.errors.close()
        self.changes.close()

    def write(self, path: str | Path) -> None:
        """The report as ``.csv`` (one problem or changed row a line, Excel-friendly) or ``.json``."""
        path = Path(path)
        suffix = path.suffix.lower()
        problems = [w.as_dict() for w in self.warnings]
        if suffix == ".json":
            with path.open("w", encoding="utf-8") as handle:
                handle.write(json.dumps({"summary": self.summary()}, ensure_ascii=False, indent=2)[:-2])
                handle.write(',\n  "problems": [')
                first = True
                for item in [*self.errors, *problems]:
                    handle.write(("" if first else ",") + "\n    " + json.dumps(item, ensure_ascii=False))
                    first = False
                handle.write('\n  ],\n  "changes": [')
                first = True
                for item in self.changes:
                    handle.write(("" if first else ",") + "\n    " + json.dumps(item, ensure_ascii=False))
                    first = False
                handle.write("\n  ]\n}\n")
            return
        if suffix != ".csv":
            raise file_error("bad_report", f"A report is written as .csv or .json, not {suffix or 'no extension'}.",
                             f"报告文件应为 .csv 或 .json，而不是 {suffix or '无扩展名'}。")
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["行 row", "列 column", "字段 field", "值 value", "原因 reason (中文)", "reason (English)",
                             "级别 level"])
            for item in [*self.errors, *problems]:
                writer.writerow([item["row"] if item["row"] is not None else "", item["column"], item["field"],
                                 _report_cell(item["value"]), item["reason_zh"], item["reason"], item["level"]])
            for item in self.changes:
                zh, en = change_text(item)
                writer.writerow([item["row"], "", "; ".join(item["changed"]), item["id"], zh, en, item["outcome"]])


def change_text(change: dict[str, Any]) -> tuple[str, str]:
    """One changed row in words, Chinese and English."""
    fields = "、".join(change["changed"]) or "—"
    cleared = change.get("cleared") or []
    verb_zh, verb_en = ("新建", "created") if change["outcome"] == "created" else ("更新", "updated")
    zh = f"{verb_zh} {change['id']}，字段：{fields}" + (f"；已清空：{'、'.join(cleared)}" if cleared else "")
    en = f"{verb_en} {change['id']}, fields: {', '.join(change['changed']) or '-'}" + (
        f"; cleared: {', '.join(cleared)}" if cleared else "")
    if place := change.get("city"):
        resolved = f"city: {place['given']} → {place['code']} {place['name']}"
        zh, en = f"{zh}；{resolved}", f"{en}; {resolved}"
    return zh, en


def _place_named(pending: _Pending) -> dict[str, Any]:
    """The city a row named by a place name (广州市, 深圳, 番禺区) and the code it was read as, so that whoever
    imported it can see which place was understood: ``{"city": {"given", "code", "name"}}``, or nothing."""
    given, code = pending.converted.record.get("city"), pending.record.city
    if not isinstance(given, str) or code is None or given.strip() == code:
        return {}
    return {"city": {"given": given.strip(), "code": code, "name": adcode_name(code) or code}}


def file_report(path: str, error: ZhulianError) -> ImportReport:
    """A report for a file refused as a whole (empty, wrong encoding, missing columns…)."""
    report = ImportReport(path)
    report.notes.append(Note(f"文件被拒绝 [{error.code}]：{error.message_zh}", f"file refused [{error.code}]: {error.message}"))
    for problem in error.details or [Problem("(file)", None, error.message, error.message_zh)]:
        report.errors.add(RowProblem(None, problem.field, problem.value, problem.reason, problem.reason_zh,
                                     error.code))
    return report


def _report_cell(value: Any) -> str:
    from zhulian.exchange.flat import neutralise

    return neutralise(cell_text(value)) if value is not None else ""


ProgressCallback = Callable[[int, int, int], None]  # (rows read, position, total)


@dataclass
class _Pending:
    row: int
    record: Resource
    converted: Converted


class _Rollback(Exception):
    pass


class _SeenKeys:
    """Ids and identifiers met so far in the file, on disk (a temporary SQLite file) so that memory stays
    flat however many rows the file has."""

    def __init__(self) -> None:
        self.db = sqlite3.connect("")
        self.db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY, row INTEGER) WITHOUT ROWID")

    def check(self, rows: list[tuple[int, list[str]]]) -> dict[int, list[tuple[str, int]]]:
        """Per row index of ``rows``: the keys an earlier row already had, with that row's number.
        Keys of rows without a clash are remembered."""
        found: dict[str, int] = {}
        keys = [key for _, row_keys in rows for key in row_keys]
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            query = f"SELECT key, row FROM seen WHERE key IN ({','.join('?' * len(chunk))})"
            found.update(self.db.execute(query, chunk).fetchall())
        clashes: dict[int, list[tuple[str, int]]] = {}
        fresh = []
        for index, (row, row_keys) in enumerate(rows):
            mine = [(key, found[key]) for key in row_keys if key in found]
            if mine:
                clashes[index] = mine
                continue
            for key in row_keys:
                found[key] = row
                fresh.append((key, row))
        self.db.executemany("INSERT OR IGNORE INTO seen VALUES (?, ?)", fresh)
        return clashes

    def close(self) -> None:
        self.db.close()


def upsert_batch(batch: Any, items: list[Partial], authorise: Callable[..., None] | None = None) -> list[Any]:
    """The one place the importer writes: the record service batch's ``upsert_many`` of partial records,
    collecting per-item errors, after the registry has matched incoming organisations to existing ones (and
    queued the uncertain for review). What the registry adds to a row (kept names, aliases) counts as given."""
    resolutions = hooks.resolve_incoming(batch, [item.record for item in items])
    partials = [item if resolved is item.record else
                Partial(resolved, item.given | set(changed_units(_dumped(item.record), _dumped(resolved))),
                        item.cleared, item.extended)
                for item, resolved in zip(items, resolutions[-1].records, strict=True)]
    results = batch.upsert_many(partials, collect_errors=True, authorise=authorise)
    for resolution in resolutions:
        resolution.after_write(batch, results)
    return results


def _dumped(record: Resource) -> dict[str, Any]:
    return record.model_dump(mode="json", by_alias=True, exclude_none=True)


def given_units(record: dict[str, Any]) -> frozenset[str]:
    """The units (``zhulian.store.store.field_units``) a converted row gives a value for."""
    return frozenset(field_units({k: v for k, v in record.items() if k not in ("id", "type")}))


def type_names(type_name: str) -> tuple[str, ...]:
    """What a sheet of this type may be called: ``organization``, ``orgs``, ``机构``, ``机构 organization``."""
    zh, en = TYPE_LABELS[type_name]
    return (type_name, COLLECTIONS[type_name], zh, en, PREFIXES[type_name])


def import_file(store: Any, path: str | Path, *, type_name: str | None = None, mapping: str | Mapping | None = None,
                node: str | None = None, skip_invalid: bool = False, dry_run: bool = False, sheet: str | None = None,
                clear_empty: bool = False, progress: ProgressCallback | None = None, batch_size: int = BATCH,
                begin: Callable[[], Any] | None = None) -> ImportReport:
    """Import one file into the store; see the module docstring. Raises ZhulianError for a file that
    cannot be read at all (empty, wrong encoding, missing columns…); row problems go into the report.
    ``begin()`` opens the record service batch the import writes through (``RecordService.import_file``
    passes one under its principal's rules); without it the import is the ``SYSTEM`` principal's."""
    if begin is None:
        from zhulian.access import SYSTEM
        from zhulian.records import RecordService

        def begin() -> Any:
            return RecordService(store).batch(SYSTEM, kind="import", detail={"file": Path(path).name})

    the_mapping = load_mapping(mapping) if isinstance(mapping, (str, Path)) else mapping
    if type_name:
        type_name = resolve_type(type_name)
    if the_mapping is not None:
        if type_name and type_name != the_mapping.type:
            raise file_error("type_mismatch", f"The mapping {the_mapping.name!r} imports {the_mapping.type}, not {type_name}.",
                             f"映射 {the_mapping.name!r} 导入的类型是 {the_mapping.type}，不是 {type_name}。")
        type_name = the_mapping.type
    if node is not None and not is_adcode(str(node)):
        raise file_error("bad_node", f"--node takes a GB/T 2260 division code such as 440100, not {node!r}.",
                         f"--node 应为 GB/T 2260 行政区划代码（如 440100），而不是 {node!r}。",
                         [Problem("node", node, "not an adcode", "不是行政区划代码")])
    prefer = type_names(type_name) if type_name else tuple(n for t in MODELS for n in type_names(t))
    report = ImportReport(str(path), type=type_name, mapping=the_mapping.name if the_mapping else None,
                          dry_run=dry_run, skip_invalid=skip_invalid, clear_empty=clear_empty)
    with open_source(path, sheet=sheet or (the_mapping.sheet if the_mapping else None), prefer_sheets=prefer) as source:
        report.format, report.encoding, report.sheet = source.format, source.encoding, source.sheet
        run = _Run(begin, source, report, the_mapping, node, progress, batch_size)
        try:
            run.execute()
        except sa.exc.SQLAlchemyError as error:
            raise ZhulianError("store_error", f"The database refused the import ({type(error).__name__}: "
                               f"{str(error).splitlines()[0][:300]}); nothing was imported.",
                               f"数据库拒绝了本次导入（{type(error).__name__}），未导入任何内容。", 503) from error
        finally:
            report.notes.extend(n for n in source.notes if n not in report.notes)
            run.close()
    return report


class _Run:
    def __init__(self, begin: Callable[[], Any], source: Source, report: ImportReport, mapping: Mapping | None,
                 node: str | None, progress: ProgressCallback | None, batch_size: int) -> None:
        self.begin, self.source, self.report, self.mapping = begin, source, report, mapping
        self.node, self.progress, self.batch_size = node, progress, batch_size
        self.seen = _SeenKeys()
        self.batch: list[_Pending] = []
        self.deferred: list[_Pending] = []
        self.writer: Any = None
        self.names: dict[tuple[str, frozenset[str]], Any] = {}
        self.types_seen: set[str] = set()
        self.headerless: set[int] = set()
        self.headerless_seen: set[int] = set()
        self.total = source.total_rows if source.format == "xlsx" else source.size

    def close(self) -> None:
        self.seen.close()

    # -- the run -----------------------------------------------------------------------------------

    def execute(self) -> None:
        rows = self._rows()
        try:
            with self.begin() as batch:
                self.writer = batch
                self.report.import_id = batch.id
                for number, record_or_problems in rows:
                    self._take(number, record_or_problems)
                self._flush()
                self._retry_deferred()
                if self.report.rows == 0:
                    raise self._no_rows()
                if self.types_seen and not self.report.type:
                    self.report.type = ",".join(sorted(t for t in self.types_seen if t))
                if self.report.dry_run or self.report.refused:
                    raise _Rollback
            self.report.committed = True
        except _Rollback:
            self.report.committed = False
            if self.report.refused:  # nothing was written, and nothing would be until the file is fixed
                self.report.changes.close()
                self.report.changes = ProblemLog()
        if self.progress:
            self.progress(self.report.rows, self.total or 0, self.total or 0)

    def _no_rows(self) -> ZhulianError:
        if self.source.tabular:
            return file_error("no_rows", "The file has a header row but no data rows; nothing was imported.",
                              "文件只有表头，没有数据行，未导入任何内容。")
        return file_error("no_rows", "The file holds no records; nothing was imported.", "文件中没有记录，未导入任何内容。")

    def _rows(self) -> Iterator[tuple[int, Converted | list[RowProblem]]]:
        if self.source.tabular:
            return self._tabular_rows()
        return self._json_rows()

    # -- tabular files -------------------------------------------------------------------------------

    def _tabular_rows(self) -> Iterator[tuple[int, Converted | list[RowProblem]]]:
        rows = self.source.rows()
        buffered: list[tuple[int, list[Any]]] = []
        for number, cells in rows:
            if _blank_row(cells):
                continue
            buffered.append((number, cells))
            if len(buffered) >= HEADER_SEARCH:
                break
        if not buffered:
            raise file_error("empty_file", "The file is empty: there is no header row and no data; nothing was imported.",
                             "文件为空：没有表头也没有数据，未导入任何内容。")
        header_index = self._find_header(buffered)
        header_number, header = buffered[header_index]
        for number, cells in buffered[:header_index]:
            text = " ".join(cell_text(c) for c in cells if c not in (None, ""))[:60]
            self.report.notes.append(Note(f"第 {number} 行像是标题（{text}），已跳过；表头在第 {header_number} 行",
                                          f"row {number} looks like a title ({text}); skipped; the header is row "
                                          f"{header_number}"))
        rest = [item for item in buffered[header_index + 1:]]
        header = [cell_text(h).replace("\ufeff", "").strip() if h is not None else "" for h in header]
        type_name = self._tabular_type(header, rest[0][1] if rest else None)
        the_layout = layout(type_name)
        plan = self._plan(header, the_layout)
        example = self._example_cells(the_layout, plan)
        skipped_example = False
        for number, cells in _chain(rest, rows):
            if _blank_row(cells):
                self.report.blank += 1
                continue
            if example is not None and not skipped_example and _row_cells(plan, cells) == example:
                skipped_example = True
                self.report.notes.append(Note(f"第 {number} 行是模板的示例行，已跳过",
                                              f"row {number} is the template's example row; skipped"))
                continue
            yield number, self._convert_tabular(number, plan, the_layout, header, cells)

    def _find_header(self, buffered: list[tuple[int, list[Any]]]) -> int:
        """The first row that names at least one known column (rows above it are titles)."""
        for index, (_number, cells) in enumerate(buffered):
            texts = [cell_text(c).replace("\ufeff", "").strip() for c in cells if c not in (None, "")]
            if self.mapping is not None:
                known = self.mapping.source_columns()
                if any(text in known for text in texts):
                    return index
            else:
                layouts = [layout(self.report.type)] if self.report.type else [layout(t) for t in MODELS]
                if any(header_key(the_layout, text) for the_layout in layouts for text in texts):
                    return index
        return 0

    def _tabular_type(self, header: list[str], first: list[Any] | None) -> str:
        if self.report.type:
            return self.report.type
        sheet = (self.source.sheet or "").strip().lower()
        for type_name in MODELS:
            if sheet and any(sheet == name.lower() or name.lower() in sheet.split() for name in type_names(type_name)):
                self.report.type = type_name
                return type_name
        if first is not None:
            probe = layout("organization")
            for index, name in enumerate(header):
                key = header_key(probe, name)
                value = cell_text(first[index]).strip() if index < len(first) else ""
                if key == "type" and value:
                    try:
                        self.report.type = resolve_type(value)
                        return self.report.type
                    except ZhulianError:
                        pass
                if key == "id" and is_id(value):
                    self.report.type = type_of_id(value)
                    return self.report.type
        raise file_error("type_unknown", "Cannot tell which type of record the file holds: give --type (e.g. "
                         "--type organization), or add a type column.",
                         "无法判断文件中的记录类型：请用 --type 指定（如 --type organization），或在文件中加入“类型 (type)”列。")

    def _plan(self, header: list[str], the_layout: Layout) -> list[tuple[int, Leaf | None, str]]:
        """For each column: its position, the field it fills (None with a mapping), its header."""
        plan: list[tuple[int, Leaf | None, str]] = []
        if self.mapping is not None:
            present = {name for name in header if name}
            missing = [name for name in self.mapping.required_columns() if name not in present]
            if missing:
                raise _missing_columns(missing, f"the mapping {self.mapping.name!r} needs",
                                       f"映射 {self.mapping.name!r} 需要")
            known = self.mapping.source_columns()
            for index, name in enumerate(header):
                if name and name not in known:
                    self.report.warn(RowProblem(None, name, None, "column not used by the mapping; ignored",
                                                "映射未使用此列，已忽略"))
                plan.append((index, None, name))
            duplicates = sorted({name for name in header if name and header.count(name) > 1})
            if duplicates:
                raise _duplicate_columns(duplicates)
            return plan
        seen: dict[str, str] = {}
        for index, name in enumerate(header):
            if not name:
                self.headerless.add(index)
                plan.append((index, None, f"第 {index + 1} 列 column {index + 1}"))
                continue
            key = header_key(the_layout, name)
            if key is None:
                self.report.warn(RowProblem(None, name, None, f"unknown column: {the_layout.type} has no such field; "
                                            "ignored", f"未知列：{the_layout.type} 类型没有此字段，已忽略"))
                plan.append((index, None, name))
                continue
            if key in seen:
                raise _duplicate_columns([f"{seen[key]} / {name} → {key}"])
            seen[key] = name
            plan.append((index, the_layout.leaf(key), name))
        keys = set(seen)
        missing = []
        groups: dict[str, list[str]] = {}
        for key, leaf in the_layout.static.items():
            if leaf.required == "yes" and key not in keys:
                missing.append(leaf.header)
            elif leaf.required == "one_of":
                groups.setdefault(leaf.path[0], []).append(leaf.key)
        for members in groups.values():
            if not keys & set(members):
                missing.append(" / ".join(the_layout.static[m].header for m in members))
        if missing:
            raise _missing_columns(missing, f"{the_layout.type} records need", f"{the_layout.type} 类型记录需要")
        return plan

    def _example_cells(self, the_layout: Layout, plan: list[tuple[int, Leaf | None, str]]) -> dict[int, str] | None:
        """The template's example row as this file's cells, when the file has every column it fills."""
        if self.mapping is not None:
            return None
        example = {key: value for key, value in example_row(the_layout.type).items() if value}
        positions = {leaf.key: index for index, leaf, _ in plan if leaf is not None}
        if not set(example) <= set(positions):
            return None
        return {positions[key]: value for key, value in example.items()}

    def _convert_tabular(self, number: int, plan: list[tuple[int, Leaf | None, str]], the_layout: Layout,
                         header: list[str], cells: list[Any]) -> Converted | list[RowProblem]:
        if self.source.format == "xlsx":
            cells = [_cell(c) for c in cells]
        problems: list[Problem] = []
        if len(cells) > len(header) and not _blank_row(cells[len(header):]):
            extra = [cell_text(c) for c in cells[len(header):] if c not in (None, "")]
            problems.append(Problem(f"第 {len(header) + 1} 列起 columns {len(header) + 1}+", "; ".join(extra)[:200],
                                    "more cells than the header has columns (an unquoted comma in a value?)",
                                    "单元格数多于表头列数（值中是否有未加引号的逗号？）"))
        if self.mapping is not None:
            if len(cells) < len(header):
                cells = [*cells, *([None] * (len(header) - len(cells)))]
            row = dict(zip(header, cells, strict=False))
            row.pop("", None)
            entries = self.mapping.apply(row)
            converted = unflatten(the_layout, entries)
            converted.extended = {rule.leaf.unit for rule in self.mapping.rules if rule.add}
            if self.report.clear_empty:
                given = {leaf.unit for leaf, _value, _column in entries}
                converted.cleared = {rule.leaf.unit for rule in self.mapping.rules
                                     if rule.leaf.unit not in given and rule.leaf.clearable}
        else:
            entries, empty = [], []
            for index, leaf, name in plan:
                value = cells[index] if index < len(cells) else None
                if leaf is not None and self.report.clear_empty and leaf.clearable and _blank_row([value]):
                    empty.append((leaf, name))
                if leaf is None:
                    if index in self.headerless and value not in (None, "") and index not in self.headerless_seen:
                        self.headerless_seen.add(index)
                        self.report.warn(RowProblem(number, name, value, "data under a column without a header; "
                                                    "the column is ignored", "该列没有表头，其中的数据已忽略"))
                    continue
                entries.append((leaf, value, name))
            converted = unflatten(the_layout, entries)
            self._note_cleared(converted, empty)
        converted.problems = problems + converted.problems
        return converted

    @staticmethod
    def _note_cleared(converted: Converted, empty: list[tuple[Leaf, str]]) -> None:
        """With ``clear_empty``: the fields of the row's empty cells are to be cleared (where no other column
        of the row gives them a value); their columns are where a problem about them is reported."""
        given = given_units(converted.record)
        for leaf, column in empty:
            if leaf.unit not in given:
                converted.cleared.add(leaf.unit)
                converted.origins.setdefault(leaf.key, (column, ""))

    # -- JSON and JSONL ------------------------------------------------------------------------------

    def _json_rows(self) -> Iterator[tuple[int, Converted | list[RowProblem]]]:
        unknown_warned: set[str] = set()
        for number, item in self.source.rows():
            if isinstance(item, _BadLine):
                yield number, [RowProblem(number, "", item.text, f"not valid JSON: {item.reason}",
                                          "不是有效的 JSON", "(record)")]
                continue
            if not isinstance(item, dict):
                yield number, [RowProblem(number, "", cell_text(item)[:200] if not isinstance(item, list) else "[…]",
                                          "a record is a JSON object", "记录应为 JSON 对象", "(record)")]
                continue
            yield number, self._convert_json(number, item, unknown_warned)

    def _convert_json(self, number: int, item: dict[str, Any], warned: set[str]) -> Converted | list[RowProblem]:
        type_name = self.report.type
        if self.mapping is not None:
            return unflatten(self.mapping.layout, self.mapping.apply(item))
        given = item.get("type")
        if given is None and isinstance(item.get("id"), str) and is_id(item["id"]):
            given = type_of_id(item["id"])
        if given is not None:
            try:
                given = resolve_type(str(given))
            except ZhulianError as error:
                return [RowProblem(number, "type", item.get("type"), error.details[0].reason if error.details else
                                   error.message, error.details[0].reason_zh if error.details else error.message_zh,
                                   "type")]
            if type_name and given != type_name:
                return [RowProblem(number, "type", item.get("type"), f"this import is for {type_name} records",
                                   f"本次导入的类型为 {type_name}", "type")]
        record_type = given or type_name
        if record_type is None:
            return [RowProblem(number, "type", None, "the record has no type: add \"type\" or give --type",
                               "记录缺少类型：请加入 \"type\" 字段或用 --type 指定", "type")]
        the_layout = layout(record_type)
        if any("." in key for key in item):
            entries, empty = [], []
            for key, value in item.items():
                found = header_key(the_layout, key)
                if found is None:
                    self._warn_unknown(key, record_type, warned)
                    continue
                leaf = the_layout.leaf(found)
                if self.report.clear_empty and leaf.clearable and _empty(value):
                    empty.append((leaf, key))
                entries.append((leaf, value, key))
            converted = unflatten(the_layout, entries)
            self._note_cleared(converted, empty)
            return converted
        fields = MODELS[record_type].model_fields
        record, cleared = {}, set()
        for key, value in item.items():
            if key not in fields:
                self._warn_unknown(key, record_type, warned)
            elif _empty(value):
                cleared.add(key)  # null, "" and [] give no value
            elif isinstance(value, dict):
                given = {sub: v for sub, v in value.items() if not _empty(v)}
                cleared.update(f"{key}.{sub}" for sub, v in value.items() if _empty(v))
                if given:
                    record[key] = given
            else:
                record[key] = value
        record["type"] = record_type
        converted = Converted(record)
        if self.report.clear_empty:
            converted.cleared = cleared - {"id", "type"}
        return converted

    def _warn_unknown(self, key: str, type_name: str, warned: set[str]) -> None:
        if key not in warned:
            warned.add(key)
            self.report.warn(RowProblem(None, key, None, f"unknown field: {type_name} has no such field; ignored",
                                        f"未知字段：{type_name} 类型没有此字段，已忽略"))

    # -- validating and writing ------------------------------------------------------------------------

    def _take(self, number: int, converted: Converted | list[RowProblem]) -> None:
        report = self.report
        report.rows += 1
        if isinstance(converted, list):
            self._fail(number, converted)
            return
        if not self.source.tabular:
            self.types_seen.add(converted.record.get("type"))
        if self.node and not converted.record.get("node"):
            converted.record["node"] = self.node
        problems = [RowProblem(number, p.field, p.value, p.reason, p.reason_zh) for p in converted.problems]
        self._resolve_names(number, converted, problems)
        record = None
        try:
            record = validate_record(converted.record)
        except ZhulianError as error:
            problems += self._located(number, error, converted)
        if problems or record is None:
            self._fail(number, problems)
        else:
            self.batch.append(_Pending(number, record, converted))
            if len(self.batch) >= self.batch_size:
                self._flush()
        if self.progress and report.rows % 200 == 0:
            self.progress(report.rows, self.source.position(), self.total or 0)

    def _located(self, number: int, error: ZhulianError, converted: Converted) -> list[RowProblem]:
        if not error.details:
            return [RowProblem(number, "", None, error.message, error.message_zh, "(record)")]
        located = []
        for problem in error.details:
            column, value = locate(problem, converted)
            located.append(RowProblem(number, column, value, problem.reason, problem.reason_zh, problem.field))
        return located

    def _fail(self, number: int, problems: list[RowProblem]) -> None:
        """A row refused: each row is refused at most once (when read, when checked for duplicates, or
        when written), so counting here counts rows."""
        self.report.invalid += 1
        for problem in problems:
            self.report.errors.add(problem)

    def _resolve_names(self, number: int, converted: Converted, problems: list[RowProblem]) -> None:
        """A relation cell may name a record by its exact name; it must name exactly one."""
        for index, name, types in converted.name_refs:
            key = (name, types)
            if key not in self.names:
                if len(self.names) > 10_000:
                    self.names.clear()
                self.names[key] = self._find_by_name(name, types)
            found = self.names[key]
            relation = converted.record["relations"][index]
            end = "object" if "object" in relation else "subject"
            column, item = converted.relation_origins[index]
            if isinstance(found, str):
                relation[end] = found
            elif not found:
                problems.append(RowProblem(number, column, item, f"no {'/'.join(sorted(types))} record is named {name!r}; "
                                           "give its id or scheme:value", f"找不到名为“{name}”的记录，请填写其编号或“方案:值”",
                                           f"relations.{index}.{end}"))
                relation[end] = f"missing:{index}"
            else:
                problems.append(RowProblem(number, column, item, f"{name!r} names {len(found)} records ({', '.join(found)}); "
                                           "give the id or scheme:value of the one meant",
                                           f"名称“{name}”对应多条记录（{'、'.join(found)}），请改填编号或“方案:值”",
                                           f"relations.{index}.{end}"))
                relation[end] = f"ambiguous:{index}"

    def _find_by_name(self, name: str, types: frozenset[str]) -> str | list[str]:
        from zhulian.store import records

        self._flush()
        rows = self.writer.connection.execute(
            sa.select(records.c.id).where(records.c.label == name, records.c.type.in_(sorted(types)),
                                          records.c.deleted.is_(None)).limit(5)).scalars().all()
        return rows[0] if len(rows) == 1 else list(rows)

    def _flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        keys = []
        for pending in batch:
            record = pending.record
            row_keys = [f"{scheme}\x00{value}" for scheme, value in record.pids.items()]
            if record.id:
                row_keys.append(f"id\x00{record.id}")
            keys.append((pending.row, row_keys))
        clashes = self.seen.check(keys)
        writable = []
        for index, pending in enumerate(batch):
            if index in clashes:
                self._fail(pending.row, [self._duplicate(pending, key, first) for key, first in clashes[index]])
            else:
                writable.append(pending)
        self._write(writable, final=False)

    def _duplicate(self, pending: _Pending, key: str, first: int) -> RowProblem:
        scheme, _, value = key.partition("\x00")
        field_name = "id" if scheme == "id" else f"pids.{scheme}"
        column, _cell_value = locate(Problem(field_name, value, "", ""), pending.converted)
        return RowProblem(pending.row, column, value,
                          f"duplicated within the file: row {first} has the same {field_name} {value!r} (rows {first} "
                          f"and {pending.row})",
                          f"文件内重复：第 {first} 行与第 {pending.row} 行的 {field_name} 都是 {value!r}", field_name)

    def _write(self, batch: list[_Pending], final: bool) -> None:
        if not batch:
            return
        items = [Partial(pending.record, given_units(pending.converted.record), frozenset(pending.converted.cleared),
                         frozenset(pending.converted.extended)) for pending in batch]
        results = upsert_batch(self.writer, items)
        for result in results:
            pending = batch[result.index]
            if result.outcome != "invalid":
                setattr(self.report, result.outcome, getattr(self.report, result.outcome) + 1)
                if result.outcome != "unchanged":
                    self.report.changes.add({"row": pending.row, "id": result.record["id"], "outcome": result.outcome,
                                             "changed": result.changed, "cleared": result.cleared,
                                             **_place_named(pending)})
                continue
            error = result.error
            if not final and _only_relations(error) and len(self.deferred) < MAX_DEFERRED:
                self.deferred.append(pending)
                continue
            self._fail(pending.row, self._located(pending.row, error, pending.converted))

    def _retry_deferred(self) -> None:
        """Rows whose references named records further down the file, tried again until no more succeed."""
        while self.deferred:
            waiting, self.deferred = self.deferred, []
            before = len(waiting)
            for start in range(0, len(waiting), self.batch_size):
                self._write(waiting[start:start + self.batch_size], final=False)
            if len(self.deferred) == before:
                last, self.deferred = self.deferred, []
                for start in range(0, len(last), self.batch_size):
                    self._write(last[start:start + self.batch_size], final=True)
                return


def _only_relations(error: ZhulianError | None) -> bool:
    return bool(error and error.code == "invalid" and error.details
                and all(p.field.startswith("relations.") for p in error.details))


def _missing_columns(missing: list[str], what: str, what_zh: str) -> ZhulianError:
    return file_error("missing_columns", f"Required column(s) missing: {', '.join(missing)} ({what} them); nothing was "
                      "imported.", f"缺少必需的列：{'、'.join(missing)}（{what_zh}这些列），未导入任何内容。",
                      [Problem(name, None, f"{what} this column", f"{what_zh}此列") for name in missing])


def _duplicate_columns(names: list[str]) -> ZhulianError:
    return file_error("duplicate_columns", f"Column(s) given twice: {', '.join(names)}; nothing was imported.",
                      f"有重复的列：{'、'.join(names)}，未导入任何内容。",
                      [Problem(name, None, "the same column appears twice", "同一列出现了两次") for name in names])


def _empty(value: Any) -> bool:
    return value is None or value == [] or value == {} or (isinstance(value, str) and not value.strip())


def _blank_row(cells: list[Any]) -> bool:
    for cell in cells:
        if cell is not None and (type(cell) is not str or (cell and not cell.isspace())):
            return False
    return True


def _cell(value: Any) -> Any:
    if isinstance(value, FormulaWithoutValue):
        return unreadable(value.formula, "a formula without a computed value: open the file in Excel or WPS and save "
                          "it, or paste the column as values", "公式没有计算结果：请用 Excel 或 WPS 打开并保存，或将该列“粘贴为数值”")
    return value


def _row_cells(plan: list[tuple[int, Leaf | None, str]], cells: list[Any]) -> dict[int, str]:
    found = {}
    for index, leaf, _ in plan:
        if leaf is not None and index < len(cells):
            text = cell_text(cells[index]).strip()
            if text:
                found[index] = text
    return found


def _chain(first: list[tuple[int, Any]], rest: Iterator[tuple[int, Any]]) -> Iterator[tuple[int, Any]]:
    yield from first
    yield from rest
