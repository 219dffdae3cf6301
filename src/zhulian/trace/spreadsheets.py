"""The module's CSV/XLSX sheets (chain steps, location master data): a blank template with Chinese headers and
an example row, and the rows of a filled one. Columns are ``(key, Chinese header, English header, example)``;
a filled sheet may use either header or the key."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from typing import Any

from openpyxl import Workbook, load_workbook

from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.exchange import check_workbook_size
from zhulian.exchange.flat import unneutralise

Columns = Sequence[tuple[str, str, str, str]]


def blank(kind: str, columns: Columns, title: str, notes: list[list[str]]) -> tuple[bytes, str]:
    """A blank sheet (``csv`` or ``xlsx``, the latter with a 说明 sheet of ``notes``): (content, media type)."""
    headers, example = [zh for _, zh, _, _ in columns], [ex for _, _, _, ex in columns]
    if kind == "csv":
        buffer = io.StringIO()
        csv.writer(buffer).writerows([headers, example])
        return ("\ufeff" + buffer.getvalue()).encode(), "text/csv; charset=utf-8"
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.append(headers)
    sheet.append(example)
    explained = book.create_sheet("说明")
    for line in notes:
        explained.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def read_rows(content: bytes, filename: str, columns: Columns) -> list[tuple[int, dict[str, Any]]]:
    """Rows by their number in the sheet (the header is row 1), as ``{column key: value}``."""
    if filename.lower().endswith(".xlsx"):
        check_workbook_size(io.BytesIO(content))
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception:  # openpyxl raises many kinds for a file that is not a workbook
            raise invalid([Problem("file", filename, "not a readable XLSX workbook", "不是可读取的 XLSX 文件")],
                          "file") from None
        table = [list(row) for row in sheet.iter_rows(values_only=True)]
    else:
        text = content.decode("utf-8-sig", errors="replace")
        try:  # newline="" lets the reader see a lone CR as the line break it is, not as text inside a field
            table = list(csv.reader(io.StringIO(text, newline="")))
        except csv.Error as error:
            raise invalid([Problem("file", filename, f"not a readable CSV file: {error}", "不是可读取的 CSV 文件")],
                          "file") from None
    if not table:
        return []
    by_header = {h: key for key, zh, en, _ in columns for h in (zh, en, key)}
    keys = [by_header.get(str(h or "").strip()) for h in table[0]]
    unknown = [str(h) for h, k in zip(table[0], keys, strict=True) if h not in (None, "") and k is None]
    if unknown:
        raise invalid([Problem("header", h, "a column of the template", "不是模板中的列") for h in unknown], "file")
    rows = []
    for line, values in enumerate(table[1:], start=2):
        row = {key: _cell(value) for key, value in zip(keys, values, strict=False) if key}
        if any(v not in (None, "") for v in row.values()):
            rows.append((line, row))
    return rows


def _cell(value: Any) -> Any:
    return unneutralise(value.strip()) if isinstance(value, str) else value


def parse_rows(content: bytes, filename: str, columns: Columns, parse: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """Each row of a filled sheet through ``parse``: all of them, or an error naming every bad row's problems.
    A file with no data rows is refused too."""
    problems, found = [], []
    for line, row in read_rows(content, filename, columns):
        try:
            found.append(parse(row))
        except ZhulianError as error:
            problems += [Problem(f"第 {line} 行 row {line} · {p.field}", p.value, p.reason, p.reason_zh)
                         for p in error.details]
    if problems:
        raise invalid(problems, "file")
    if not found:
        raise invalid([Problem("file", filename, "no rows", "文件中没有数据行")], "file")
    return found
