"""Reading and writing the exchange formats, streamed: CSV and TSV (UTF-8, UTF-8 with BOM, GBK/GB18030,
UTF-16 as Excel writes "Unicode text"), XLSX (openpyxl read-only / write-only), JSON arrays (ijson) and JSONL.

A reader yields ``(row_number, cells)``: for CSV, TSV and XLSX the cells are a list in column order and the
row number is the one a spreadsheet shows (the header is row 1 unless title rows stand above it); for JSONL
it is the line number and the cells are the decoded object; for a JSON array it is the item's position (1-based).
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import orjson

from zhulian.errors import Problem, ZhulianError
from zhulian.exchange.flat import neutralise, unneutralise

FORMATS = ("csv", "tsv", "xlsx", "json", "jsonl")
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".txt": None, ".xlsx": "xlsx", ".xlsm": "xlsx",
              ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
ENCODING_NAMES = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（带 BOM with BOM）", "gb18030": "GB18030/GBK",
                  "utf-16": "UTF-16", "utf-16-le": "UTF-16LE（无 BOM without BOM）",
                  "utf-16-be": "UTF-16BE（无 BOM without BOM）"}
SAMPLE = 1 << 20
MAX_CELL = 1_000_000  # characters in one CSV or XLSX cell; the model's longest field holds 200,000
csv.field_size_limit(MAX_CELL)
# JSON: every input (request bodies, uploads, JSONL lines, harvested pages) is refused past these before it is
# built, since a deep nest costs memory and recursion far beyond its size. Records nest a handful of levels.
MAX_JSON_DEPTH = 64
MAX_JSON_TEXT = 16 * 1024 * 1024  # one JSON text read whole: a body, a JSONL line, a single-record file
# XLSX is a zip: what it unpacks to is bounded before openpyxl reads any of it (openpyxl holds the shared
# strings in memory). Spreadsheet XML packs 5-20 to 1; a bomb packs a thousand to one.
MAX_XLSX_UNPACKED = 2 * 1024 * 1024 * 1024
MAX_XLSX_MEMBER_IN_MEMORY = 128 * 1024 * 1024  # the shared strings table, which openpyxl loads whole
MAX_XLSX_RATIO = 100
XLSX_RATIO_FROM = 4 * 1024 * 1024  # small members (styles, a short sheet) may pack tighter harmlessly
MAX_XLSX_ROWS = 1_048_576  # Excel's own limit
MAX_CELL_XML = MAX_CELL * 8  # a cell's text in the sheet's XML, where a character may take eight bytes (&#21517;)
EXCERPT = 200  # characters of a refused value that a report quotes


def file_error(code: str, message: str, message_zh: str, details: list[Problem] | None = None) -> ZhulianError:
    return ZhulianError(code, message, message_zh, 400, details or [])


@dataclass
class Note:
    """A line of the import report about the file as a whole."""

    zh: str
    en: str

    def __str__(self) -> str:
        return f"{self.zh} / {self.en}"


@dataclass
class Source:
    """An open file: what it is, and its rows."""

    path: Path
    format: str
    encoding: str | None = None
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    size: int = 0
    tabular: bool = True
    _rows: Iterator[tuple[int, Any]] | None = None
    _position: Any = None
    _close: Any = None
    total_rows: int | None = None

    def rows(self) -> Iterator[tuple[int, Any]]:
        assert self._rows is not None
        return self._rows

    def position(self) -> int:
        """How far reading has got, in bytes (or rows for XLSX): for a progress bar."""
        try:
            return int(self._position()) if self._position else 0
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        if self._close:
            self._close()

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def excerpt(value: Any, limit: int = EXCERPT) -> Any:
    """At most ``limit`` characters of a value a report quotes back: a report never echoes a huge cell."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]}…（共 {len(value):,} 字符 {len(value):,} characters）"
    return value


class BadJSON(ValueError):
    """A JSON text refused: malformed, too deep or too large; ``reason_zh`` says it in Chinese."""

    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason, self.reason_zh = reason, reason_zh


def _too_deep() -> BadJSON:
    return BadJSON(f"nested deeper than {MAX_JSON_DEPTH} levels", f"嵌套超过 {MAX_JSON_DEPTH} 层")


def read_json(text: bytes | str, *, max_bytes: int = MAX_JSON_TEXT) -> Any:
    """One JSON text, decoded only when it is at most ``max_bytes`` long and ``MAX_JSON_DEPTH`` deep: the one
    way every whole JSON input (a request body, a JSONL line, a single-record file, a harvested feed page) is
    read. orjson reads it, in half the standard library's time (a feed page, issue 14); what orjson refuses or
    may have read otherwise goes to the standard library, which then says why (too deep — 30,000 nested brackets
    are refused, not parsed, issue 20 — or not JSON) or reads it its own way."""
    if len(text) > max_bytes:
        raise BadJSON(f"over {max_bytes:,} bytes", f"超过 {max_bytes:,} 字节")
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:  # not JSON, or nested past orjson's 1,024 levels
        pass
    else:
        if _read_alike(value, MAX_JSON_DEPTH):
            return value
    try:
        # The decoder recurses once per level and stops with RecursionError near a thousand levels, long
        # before memory is at stake; the depth below that is checked on the result without recursion.
        value = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except UnicodeDecodeError:
        raise BadJSON("not UTF-8 text", "不是 UTF-8 文本") from None
    except ValueError as error:
        raise BadJSON(f"not valid JSON: {error}", f"不是合法的 JSON：{error}") from None
    if _depth_over(value, MAX_JSON_DEPTH):
        raise _too_deep()
    return value


_WALKED = frozenset({dict, list, float})
_LONG_INTEGER = 2.0 ** 63  # orjson reads an integer past 64 bits as a float; the standard library keeps it whole


def _levels(value: Any) -> Iterator[list[Any]]:
    """A decoded JSON value's containers and floats, one nesting level at a time (the value itself is level 1):
    every value looked at once, without recursion."""
    level = [value] if type(value) in _WALKED else []
    while level:
        yield level
        level = [child for item in level if type(item) is not float
                 for child in (item.values() if type(item) is dict else item) if type(child) in _WALKED]


def _too_deep_level(depth: int, level: list[Any], limit: int) -> bool:
    return depth > limit and any(type(item) is not float for item in level)


def _read_alike(value: Any, depth_limit: int) -> bool:
    """Whether ``read_json`` would have given orjson's ``value``: it nests at most ``depth_limit`` levels and
    holds no float that may have been a long integer (one walk for both)."""
    for depth, level in enumerate(_levels(value), 1):
        if _too_deep_level(depth, level, depth_limit) or any(
                type(item) is float and not -_LONG_INTEGER < item < _LONG_INTEGER for item in level):
            return False
    return True


def _depth_over(value: Any, limit: int) -> bool:
    return any(_too_deep_level(depth, level, limit) for depth, level in enumerate(_levels(value), 1))


_TOP = object()  # stands for the top-level array, whose items are yielded rather than kept


def _json_items(events: Iterator[tuple[str, Any]]) -> Iterator[Any]:
    """The items of a streamed top-level array (or the one top-level object) from ijson's ``basic_parse``
    events, each built only while it stays within ``MAX_JSON_DEPTH``: ijson's own builder would build a
    30,000-deep item, its memory growing as the square of its depth, before anyone could look at it."""
    enclosing: list[tuple[Any, Any]] = []  # (container, key) around the one being built
    current: Any = None  # the container being built: None outside everything, _TOP in the top-level array
    key: Any = None
    for event, value in events:
        if event == "map_key":
            key = value
        elif event == "start_map" or event == "start_array":
            if len(enclosing) > MAX_JSON_DEPTH:
                raise _too_deep()
            if current is None and event == "start_array":
                new: Any = _TOP
            else:
                new = {} if event == "start_map" else []
                if type(current) is dict:
                    current[key] = new
                elif type(current) is list:
                    current.append(new)
            enclosing.append((current, key))
            current, key = new, None
        elif event == "end_map" or event == "end_array":
            finished = current
            current, key = enclosing.pop()
            if finished is not _TOP and (current is _TOP or current is None):
                yield finished
        elif type(current) is dict:
            current[key] = value
        elif type(current) is list:
            current.append(value)
        elif current is _TOP:
            yield value
        else:
            raise BadJSON("a JSON file holds an array of records or one record", "JSON 文件应包含一个记录数组或单个记录")


# -- detection -----------------------------------------------------------------------------------------

def detect_format(path: Path, head: bytes) -> str:
    """The format from the content first (a zip is XLSX), then the file name, then the first line."""
    suffix = path.suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise file_error("unsupported_format", "This is an old binary Excel file (.xls); save it as .xlsx or CSV.",
                         "这是旧版 Excel 二进制文件（.xls），请另存为 .xlsx 或 CSV 后再导入。")
    by_name = EXTENSIONS.get(suffix)
    if by_name in ("csv", "tsv", "json", "jsonl"):
        return by_name
    text = _strip_bom(head).lstrip()
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        first_line = text.split(b"\n", 1)[0]
        try:
            read_json(first_line)
            return "jsonl"
        except BadJSON:
            return "json"
    first_line = text.split(b"\n", 1)[0]
    return "tsv" if first_line.count(b"\t") > first_line.count(b",") else "csv"


def _strip_bom(data: bytes) -> bytes:
    for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if data.startswith(bom):
            return data[len(bom):]
    return data


def detect_encoding(sample: bytes, complete: bool) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM, or GB18030 (a superset of GBK), judged line by line
    over the sample so that a file mixing two encodings is refused at the first line that differs."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if without_bom := _utf16_without_bom(sample):
        return without_bom
    lines = sample.split(b"\n")
    if not complete and len(lines) > 1:
        lines = lines[:-1]
    found: str | None = None
    for number, line in enumerate(lines, 1):
        kind = _line_kind(line, found)
        if kind is None:
            continue
        if kind == "bad":
            raise _undecodable(number, line)
        if found is None:
            found = kind
        elif kind != found:
            raise _mixed(number, line, found, kind)
    return found or "utf-8"


def _utf16_without_bom(sample: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark: text where every other byte is zero (ASCII and Latin letters
    in UTF-16), on the odd bytes for little-endian, the even ones for big-endian."""
    pairs = sample[:4096]
    if len(pairs) < 4 or b"\x00" not in pairs:
        return None
    odd, even = pairs[1::2].count(0), pairs[0::2].count(0)
    # Chinese characters fill both bytes (a few, such as 一 U+4E00, have one zero), so a Chinese file shows
    # zeros only at its commas, digits and line ends: on one side, and rarely on the other.
    if odd >= len(pairs) // 32 and even <= odd // 4:
        return "utf-16-le"
    if even >= len(pairs) // 32 and odd <= even // 4:
        return "utf-16-be"
    return None


_HIGH_BYTES = bytes(range(128, 256))


def _line_kind(line: bytes, expected: str | None) -> str | None:
    """Which encoding a line of bytes is in: None for plain ASCII (or too short to tell), ``utf-8``,
    ``gb18030`` or ``bad``."""
    if line.isascii():
        return None
    high = len(line) - len(line.translate(None, _HIGH_BYTES))
    if _is_valid_utf8(line):
        # a short GBK line can pass for UTF-8 by chance; only a longer one is evidence against GBK
        return "utf-8" if expected != "gb18030" or high >= 6 else None
    try:
        line.decode("gb18030")
        return "gb18030"
    except UnicodeDecodeError:
        return "bad"


def _undecodable(number: int, line: bytes) -> ZhulianError:
    return file_error("bad_encoding", f"Cannot tell the text encoding: line {number} is neither UTF-8 nor GBK/GB18030. "
                      "Save the file as UTF-8 (in Excel: CSV UTF-8); nothing was imported.",
                      f"无法识别文件编码：第 {number} 行既不是 UTF-8 也不是 GBK/GB18030。请将文件另存为 UTF-8"
                      "（Excel 中选择“CSV UTF-8”）；未导入任何内容。",
                      [Problem(f"line {number}", _hex(line[:16]), "bytes that no supported encoding reads",
                               "无法按任何支持的编码解读的字节")])


def _mixed(number: int, line: bytes, encoding: str, other: str) -> ZhulianError:
    name = ENCODING_NAMES.get(encoding, encoding)
    other_name = ENCODING_NAMES.get(other, other)
    return file_error(
        "mixed_encoding",
        f"Mixed encodings: the file reads as {name} but line {number} does not (it looks like {other_name}). "
        "Save the whole file in one encoding, preferably UTF-8; nothing was imported.",
        f"文件编码混杂：文件按 {name} 读取，但第 {number} 行不是（像是 {other_name}）。请将整个文件另存为同一种编码"
        "（建议 UTF-8）；未导入任何内容。",
        [Problem(f"line {number}", line[:80].decode(other, "replace"), f"not {name}", f"不是 {name} 编码")])


def _hex(data: bytes) -> str:
    return data.hex(" ")


def _is_valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


class _LineDecoder:
    """Binary lines decoded one by one with the detected encoding, so that a file whose encoding changes
    past the sampled part is still refused at the line where it changes instead of read as mojibake."""

    def __init__(self, handle: IO[bytes], encoding: str) -> None:
        self.handle = handle
        self.encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        first = True
        encoding = self.encoding
        for raw in self.handle:
            self.line += 1
            if first:
                first = False
                if raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8):]
            if raw.isascii():
                yield raw.decode("ascii")
                continue
            try:
                text = raw.decode(encoding)
            except UnicodeDecodeError:
                kind = _line_kind(raw, encoding)
                raise (_undecodable(self.line, raw) if kind in ("bad", None) else
                       _mixed(self.line, raw, encoding, kind)) from None
            if encoding == "gb18030" and _line_kind(raw, encoding) == "utf-8":
                raise _mixed(self.line, raw, encoding, "utf-8")
            yield text


# -- opening ---------------------------------------------------------------------------------------------

def open_source(path: str | Path, *, sheet: str | None = None, prefer_sheets: tuple[str, ...] = ()) -> Source:
    path = Path(path)
    if not path.exists():
        raise ZhulianError("not_found", f"No file {str(path)!r}.", f"找不到文件 {str(path)!r}。", 404)
    if path.is_dir():
        raise file_error("bad_file", f"{str(path)!r} is a folder, not a file.", f"{str(path)!r} 是文件夹而不是文件。")
    size = path.stat().st_size
    handle = path.open("rb")
    try:
        head = handle.read(SAMPLE)
        if not _strip_bom(head).strip():
            raise file_error("empty_file", "The file is empty: there is no header row and no data; nothing was imported.",
                             "文件为空：没有表头也没有数据，未导入任何内容。")
        fmt = detect_format(path, head)
        if fmt == "xlsx":
            handle.close()
            return _open_xlsx(path, size, sheet, prefer_sheets)
        encoding = detect_encoding(head, complete=len(head) < SAMPLE)
        handle.seek(0)
        source = Source(path, fmt, encoding, size=size, tabular=fmt in ("csv", "tsv"))
        source.notes.append(Note(f"格式 {fmt.upper()}，编码 {ENCODING_NAMES.get(encoding, encoding)}",
                                 f"format {fmt.upper()}, encoding {ENCODING_NAMES.get(encoding, encoding)}"))
        suffix_format = EXTENSIONS.get(path.suffix.lower())
        if suffix_format and suffix_format != fmt:
            source.notes.append(Note(f"文件扩展名为 {path.suffix}，但内容是 {fmt.upper()}，按 {fmt.upper()} 读取",
                                     f"the name says {path.suffix} but the content is {fmt.upper()}; read as such"))
        source._position = handle.tell
        source._close = handle.close
        if fmt in ("csv", "tsv"):
            source._rows = _csv_rows(handle, encoding, "\t" if fmt == "tsv" else ",")
        elif fmt == "jsonl":
            source._rows = _jsonl_rows(handle, encoding)
        else:
            if encoding not in ("utf-8", "utf-8-sig"):
                raise file_error("bad_encoding", "A JSON file is UTF-8 (RFC 8259); this one is not.",
                                 "JSON 文件应为 UTF-8 编码（RFC 8259），此文件不是。")
            source._rows = _json_rows(handle)
        return source
    except BaseException:
        handle.close()
        raise


def _text_lines(handle: IO[bytes], encoding: str) -> tuple[Iterator[str], Any]:
    if encoding.startswith("utf-16"):
        wrapper = io.TextIOWrapper(handle, encoding=encoding, newline="")
        counter = {"line": 0}

        def lines() -> Iterator[str]:
            for line in wrapper:
                counter["line"] += 1
                yield line

        return lines(), lambda: counter["line"]
    decoder = _LineDecoder(handle, encoding)
    return iter(decoder), lambda: decoder.line


def _csv_rows(handle: IO[bytes], encoding: str, delimiter: str) -> Iterator[tuple[int, list[Any]]]:
    lines, line_number = _text_lines(handle, encoding)
    reader = csv.reader(lines, delimiter=delimiter)
    row_number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise file_error("bad_csv", f"The CSV cannot be read at line {line_number()}: {error}. Nothing was imported.",
                             f"CSV 文件第 {line_number()} 行无法读取：{_csv_error_zh(str(error))}。未导入任何内容。",
                             [Problem(f"line {line_number()}", None, str(error), _csv_error_zh(str(error)))]) from None
        row_number += 1
        yield row_number, [unneutralise(cell) if cell.startswith("'") else cell for cell in cells]


def _csv_error_zh(message: str) -> str:
    if "field larger than field limit" in message:
        return f"单元格超过 {MAX_CELL} 个字符的上限"
    if "new-line character seen in unquoted field" in message:
        return "未加引号的单元格中含有换行符"
    if "NUL" in message or "\\x00" in message:
        return "文件含有空字符（NUL），可能不是文本文件"
    return "格式错误（常见原因：引号不成对）"


def _jsonl_rows(handle: IO[bytes], encoding: str) -> Iterator[tuple[int, Any]]:
    lines, _ = _text_lines(handle, encoding)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield number, read_json(line)
        except BadJSON as error:
            yield number, _BadLine(error.reason, excerpt(line.strip()))


@dataclass
class _BadLine:
    """A JSONL line that is not JSON: reported as that row's problem."""

    reason: str
    text: str


def _json_rows(handle: IO[bytes]) -> Iterator[tuple[int, Any]]:
    import ijson

    start = handle.read(4)
    handle.seek(3 if start.startswith(codecs.BOM_UTF8) else 0)
    number = 0
    try:
        for number, item in enumerate(_json_items(ijson.basic_parse(handle, use_float=True)), 1):
            yield number, item
    except (ijson.JSONError, BadJSON) as error:
        reason, reason_zh = (error.reason, error.reason_zh) if isinstance(error, BadJSON) else (str(error), "JSON 格式错误")
        raise file_error("bad_json", f"The JSON is refused after record {number}: {reason}. Nothing was imported.",
                         f"JSON 无法读取（第 {number} 条记录之后）：{reason_zh}。未导入任何内容。",
                         [Problem(f"record {number + 1}", None, reason, reason_zh)]) from None


# -- XLSX --------------------------------------------------------------------------------------------------

NOTES_SHEET = "说明 notes"
_MERGE = re.compile(rb"<(?:\w+:)?mergeCell\s+ref=\"([A-Z]+)(\d+):([A-Z]+)(\d+)\"")
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s>/]")


def _column_number(letters: bytes) -> int:
    number = 0
    for char in letters.decode():
        number = number * 26 + (ord(char) - 64)
    return number


def _scan_sheet(archive: zipfile.ZipFile, member: str) -> tuple[list[tuple[int, int, int, int]], bool]:
    """Merged ranges and whether any formula is present, read from the sheet's XML in one streamed pass
    (openpyxl's read-only mode reports neither); on the way, a text longer than any cell may hold is refused
    before openpyxl would build it whole in memory."""
    merged, formulas, tail = [], False, b""
    text_run = 0  # bytes since the last '<': a cell's text, as far as it has come
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 20):
            last_tag = chunk.rfind(b"<")
            if text_run + (chunk.find(b"<") if last_tag >= 0 else len(chunk)) > MAX_CELL_XML:
                raise _cell_too_long(None, None, None)
            text_run = len(chunk) - 1 - last_tag if last_tag >= 0 else text_run + len(chunk)
            data = tail + chunk
            if not formulas and _FORMULA.search(data):
                formulas = True
            for match in _MERGE.finditer(data):
                merged.append((int(match[2]), _column_number(match[1]), int(match[4]), _column_number(match[3])))
            tail = data[-200:]
            # a match that straddles the boundary is found again in the next window; drop duplicates below
    return sorted(set(merged)), formulas


def check_workbook_size(workbook: Path | IO[bytes]) -> None:
    """Refuses a workbook that would unpack to far more than it weighs before anything is unpacked. The
    sizes a zip declares are upper bounds: Python's zipfile reads no further than them."""
    try:
        with zipfile.ZipFile(workbook) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise file_error("bad_xlsx", f"Not a readable .xlsx workbook ({error}). Save it again from Excel or WPS.",
                         f"不是可读取的 .xlsx 工作簿（{error}）。请用 Excel 或 WPS 重新保存。") from None
    total = sum(member.file_size for member in members)
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        in_memory = member.filename.lower().endswith("sharedstrings.xml")
        if ((member.file_size > XLSX_RATIO_FROM and ratio > MAX_XLSX_RATIO)
                or (in_memory and member.file_size > MAX_XLSX_MEMBER_IN_MEMORY) or total > MAX_XLSX_UNPACKED):
            raise file_error(
                "xlsx_too_large",
                f"The workbook unpacks to {total:,} bytes ({member.filename}: {member.file_size:,} bytes from "
                f"{member.compress_size:,}), beyond what an import reads (at most {MAX_XLSX_UNPACKED:,} bytes, "
                f"{MAX_XLSX_RATIO}:1 compression, {MAX_XLSX_MEMBER_IN_MEMORY:,} bytes of shared text). "
                "Split the sheet into smaller files or save it as CSV; nothing was imported.",
                f"工作簿解压后达 {total:,} 字节（{member.filename}：由 {member.compress_size:,} 字节解压为 "
                f"{member.file_size:,} 字节），超出导入的上限（解压后至多 {MAX_XLSX_UNPACKED:,} 字节、压缩比至多 "
                f"{MAX_XLSX_RATIO}:1、共享文本至多 {MAX_XLSX_MEMBER_IN_MEMORY:,} 字节）。请拆分为较小的文件或另存为 CSV；"
                "未导入任何内容。")


def _open_xlsx(path: Path, size: int, sheet: str | None, prefer: tuple[str, ...]) -> Source:
    import openpyxl

    check_workbook_size(path)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise file_error("bad_xlsx", f"Not a readable .xlsx workbook ({error}). Save it again from Excel or WPS.",
                         f"不是可读取的 .xlsx 工作簿（{error}）。请用 Excel 或 WPS 重新保存。") from None
    names = list(workbook.sheetnames)
    chosen = _choose_sheet(names, sheet, prefer)
    source = Source(path, "xlsx", None, chosen, names, size=size)
    source.notes.append(Note("格式 XLSX", "format XLSX"))
    if len(names) > 1:
        source.notes.append(Note(f"工作簿有 {len(names)} 个工作表（{'、'.join(names)}），导入的是「{chosen}」",
                                 f"the workbook has {len(names)} sheets ({', '.join(names)}); imported {chosen!r}"))
    worksheet = workbook[chosen]
    member = getattr(worksheet, "_worksheet_path", None)
    merged, formulas = ([], False)
    if member:
        merged, formulas = _scan_sheet(workbook._archive, member)
    values_workbook = None
    if formulas:
        values_workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    source.total_rows = worksheet.max_row
    # Some writers record a wrong sheet size; read every row there is rather than trust it.
    worksheet.reset_dimensions()
    state = {"row": 0, "formulas": 0, "uncached": 0}

    def close() -> None:
        workbook.close()
        if values_workbook is not None:
            values_workbook.close()

    source._close = close
    source._position = lambda: state["row"]
    values_sheet = None
    if values_workbook is not None:
        values_sheet = values_workbook[chosen]
        values_sheet.reset_dimensions()
    source._rows = _xlsx_rows(worksheet, values_sheet, merged, state, source)
    if merged:
        source.notes.append(Note(f"工作表有 {len(merged)} 处合并单元格，合并区域内每格都取左上角的值",
                                 f"{len(merged)} merged ranges: every cell in a range takes its top-left value"))
    return source


def _choose_sheet(names: list[str], wanted: str | None, prefer: tuple[str, ...]) -> str:
    if wanted:
        if wanted in names:
            return wanted
        raise file_error("no_sheet", f"The workbook has no sheet {wanted!r}; it has {', '.join(names)}.",
                         f"工作簿中没有工作表「{wanted}」，现有：{'、'.join(names)}。")
    lowered = [p.lower() for p in prefer if p]
    for name in names:
        folded = name.strip().lower()
        if any(folded == p or p in folded.split() for p in lowered):
            return name
    usable = [n for n in names if n != NOTES_SHEET and "notes" not in n.lower() and n.strip() != "说明"]
    return (usable or names)[0]


@dataclass
class FormulaWithoutValue:
    """An XLSX cell holding a formula whose result was never computed (the file was not saved by Excel/WPS)."""

    formula: str


def _xlsx_rows(worksheet: Any, values_sheet: Any, merged: list[tuple[int, int, int, int]], state: dict[str, int],
               source: Source) -> Iterator[tuple[int, list[Any]]]:
    by_row: dict[int, list[tuple[int, int, int, int]]] = {}
    for area in merged:
        for row in range(area[0], area[2] + 1):
            by_row.setdefault(row, []).append(area)
    top_left: dict[tuple[int, int, int, int], Any] = {}
    values_rows = values_sheet.iter_rows(values_only=True) if values_sheet is not None else None
    values_row_number = 0
    cached: tuple[Any, ...] = ()
    for number, row in enumerate(worksheet.iter_rows(), 1):
        if number > MAX_XLSX_ROWS:
            raise file_error("too_many_rows", f"A sheet has at most {MAX_XLSX_ROWS:,} rows; split the file. "
                             "Nothing was imported.", f"工作表最多 {MAX_XLSX_ROWS:,} 行，请拆分文件。未导入任何内容。")
        state["row"] = number
        cells = []
        has_formula = False
        for cell in row:
            value = getattr(cell, "value", None)
            if isinstance(value, str) and len(value) > MAX_CELL:
                raise _cell_too_long(number, getattr(cell, "column_letter", "?"), value)
            if getattr(cell, "data_type", None) == "f":
                has_formula = True
                cells.append(_Formula(str(value)))
            else:
                cells.append(value)
        if has_formula and values_rows is not None:
            while values_row_number < number:
                cached = next(values_rows, ())
                values_row_number += 1
            for index, value in enumerate(cells):
                if isinstance(value, _Formula):
                    state["formulas"] += 1
                    result = cached[index] if index < len(cached) else None
                    if result is None:
                        state["uncached"] += 1
                        cells[index] = FormulaWithoutValue(value.text)
                    else:
                        cells[index] = result
        for area in by_row.get(number, ()):
            first_row, first_col, last_row, last_col = area
            if number == first_row:
                top_left[area] = cells[first_col - 1] if first_col - 1 < len(cells) else None
            while len(cells) < last_col:
                cells.append(None)
            for column in range(first_col, last_col + 1):
                cells[column - 1] = top_left.get(area)
            if number == last_row:
                top_left.pop(area, None)
        cells = [unneutralise(c) if isinstance(c, str) and c.startswith("'") else c for c in cells]
        yield number, cells
    if state["formulas"]:
        source.notes.append(Note(f"工作表含 {state['formulas']} 个公式单元格，已导入其计算结果",
                                 f"{state['formulas']} formula cells: their computed values were imported"))


def _cell_too_long(row: int | None, column: str | None, value: str | None) -> ZhulianError:
    """A cell over ``MAX_CELL`` characters, where it is known (the first scan of the XML knows only that one is)."""
    where = f"Cell {column}{row}" if row else "A cell"
    where_zh = f"单元格 {column}{row}" if row else "有单元格"
    size = f" holds {len(value):,} characters;" if value else " is longer than a cell may be;"
    size_zh = f"有 {len(value):,} 个字符，" if value else "过长，"
    return file_error("cell_too_long", f"{where}{size} a cell holds at most {MAX_CELL:,} characters. Nothing was imported.",
                      f"{where_zh}{size_zh}单元格最多 {MAX_CELL:,} 个字符。未导入任何内容。",
                      [Problem(f"{column}{row}" if row else "(sheet)", excerpt(value),
                               f"at most {MAX_CELL:,} characters", f"最多 {MAX_CELL:,} 个字符")])


@dataclass
class _Formula:
    text: str


# -- writing -------------------------------------------------------------------------------------------------

def _safe(value: Any) -> Any:
    return neutralise(value) if isinstance(value, str) else value


class TableWriter:
    """Rows of cells to CSV, TSV or XLSX: the one writer of every table file the platform produces. Text a
    spreadsheet would run as a formula is written neutralised (``=1+1`` as ``'=1+1``; readers here undo it)."""

    def __init__(self, target: Path | IO[bytes], fmt: str, *, sheet: str = "data", encoding: str = "utf-8-sig",
                 widths: list[int] | None = None) -> None:
        self.fmt = fmt
        self._own = isinstance(target, (str, Path))
        if fmt == "xlsx":
            import openpyxl

            self.workbook = openpyxl.Workbook(write_only=True)
            self.sheet = self.workbook.create_sheet(sheet[:31])
            self.sheet.freeze_panes = "A2"
            if widths:
                from openpyxl.utils import get_column_letter

                for index, width in enumerate(widths, 1):
                    self.sheet.column_dimensions[get_column_letter(index)].width = width
            self.target = target
            self._header_done = False
        else:
            binary = Path(target).open("wb") if self._own else target
            self.binary = binary
            self.text = io.TextIOWrapper(binary, encoding=encoding, newline="", errors="strict", write_through=False)
            self.csv = csv.writer(self.text, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\r\n")

    def header(self, cells: list[str]) -> None:
        if self.fmt == "xlsx":
            from openpyxl.cell import WriteOnlyCell
            from openpyxl.styles import Font, PatternFill

            row = []
            for text in cells:
                cell = WriteOnlyCell(self.sheet, value=_safe(text))
                cell.font = Font(bold=True)
                cell.fill = PatternFill("solid", fgColor="DDEBF7")
                row.append(cell)
            self.sheet.append(row)
        else:
            self.csv.writerow([_safe(c) for c in cells])

    def row(self, cells: list[Any]) -> None:
        if self.fmt == "xlsx":
            self.sheet.append([_safe(c) for c in cells])
        else:
            self.csv.writerow(["" if c is None else _safe(c) for c in cells])

    def extra_sheet(self, title: str, rows: list[list[Any]], widths: list[int] | None = None) -> None:
        if self.fmt != "xlsx":
            return
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font

        sheet = self.workbook.create_sheet(title[:31])
        if widths:
            from openpyxl.utils import get_column_letter

            for index, width in enumerate(widths, 1):
                sheet.column_dimensions[get_column_letter(index)].width = width
        for number, values in enumerate(rows):
            cells = []
            for value in values:
                cell = WriteOnlyCell(sheet, value=_safe(value))
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if number == 0:
                    cell.font = Font(bold=True)
                cells.append(cell)
            sheet.append(cells)

    def close(self) -> None:
        if self.fmt == "xlsx":
            self.workbook.save(self.target)
        else:
            self.text.flush()
            if self._own:
                self.text.close()
            else:
                self.text.detach()
