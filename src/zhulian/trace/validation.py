"""Reading and checking EPCIS 2.0 input: bytes → JSON (a UTF-8 BOM accepted) → GS1's JSON Schema with format
checking (``date-time`` by rfc3339-validator, ``uri`` by rfc3986-validator; without them jsonschema silently
accepts a bare-word ``bizStep`` such as ``transforming``) → the checks the schema cannot express (time-zone
offsets within ±14:00, well-formed GS1 identifiers). Every problem carries the JSON pointer of what it is about,
in the project's one error shape."""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft7Validator, ValidationError

from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.trace.identifiers import identifier_problem

CAPTURE_LIMIT = 10_000  # events in one capture (GS1-EPCIS-Capture-Limit)
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_BOM = b"\xef\xbb\xbf"
_IDENTIFIER_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_CLASS_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")


@cache
def validator() -> Draft7Validator:
    schema = json.loads(resources.files("zhulian.trace").joinpath("schema/EPCIS-JSON-Schema.json").read_text("utf-8"))
    checker = Draft7Validator.FORMAT_CHECKER
    missing = {"uri", "date-time"} - set(checker.checkers)
    if missing:  # refuse to run half a validation: bare words would pass as URIs
        raise RuntimeError(f"format checkers missing for {sorted(missing)}: install rfc3986-validator and "
                           "rfc3339-validator")
    return Draft7Validator(schema, format_checker=checker)


def parse_json(body: bytes, *, limit: int) -> Any:
    """JSON from a request body or file: too large → 413; not UTF-8 or not JSON → 400, with where and why."""
    if len(body) > limit:
        raise ZhulianError("too_large", f"The document is {len(body):,} bytes; the capture limit is {limit:,} bytes.",
                           f"文档大小为 {len(body):,} 字节，超过采集上限 {limit:,} 字节。", 413)
    if body.startswith(_BOM):
        body = body[len(_BOM):]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid([Problem("", f"byte {error.start}", "the document is not UTF-8 text",
                               f"文档不是 UTF-8 编码（第 {error.start} 字节处）")], "file") from None
    if not text.strip():
        raise invalid([Problem("", "", "the document is empty", "文档为空")], "file")
    try:
        return json.loads(text, parse_constant=_no_constant)
    except ValueError as error:
        if not isinstance(error, json.JSONDecodeError):  # NaN or Infinity: JSON has no such numbers
            raise invalid([Problem("", str(error), "NaN and Infinity are not JSON numbers",
                                   "NaN 与 Infinity 不是合法的 JSON 数值")], "file") from None
        raise invalid([Problem("", f"line {error.lineno}, column {error.colno}", f"not JSON: {error.msg}",
                               f"不是合法的 JSON（第 {error.lineno} 行第 {error.colno} 列）：{error.msg}")],
                      "file") from None


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def text_problems(value: Any, pointer: str = "") -> list[Problem]:
    """NUL characters anywhere in a value's strings (or keys), which no database stores as text."""
    if isinstance(value, str):
        return [Problem(pointer, value.replace("\x00", "\\0")[:200], "contains a NUL character (U+0000)",
                        "含有 NUL 字符（U+0000）")] if "\x00" in value else []
    if isinstance(value, dict):
        return [p for key, item in value.items()
                for p in text_problems(key, pointer) + text_problems(item, f"{pointer}/{key}")]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in text_problems(item, f"{pointer}/{index}")]
    return []


def check_text(**fields: Any) -> None:
    """A 400 naming each parameter that holds a NUL character."""
    problems = [p for name, value in fields.items() for p in text_problems(value, name)]
    if problems:
        raise invalid(problems, "query")


def document_problems(document: Any) -> list[Problem]:
    """Every problem with an EPCISDocument or a single event, each at its JSON pointer."""
    if not isinstance(document, dict):
        return [Problem("", type(document).__name__, "an EPCIS document or event is a JSON object",
                        "EPCIS 文档或事件应为 JSON 对象")]
    problems = [_schema_problem(error) for error in sorted(validator().iter_errors(document), key=_order)]
    problems += text_problems(document)
    events, base = events_of(document)
    for index, event in enumerate(events):
        if isinstance(event, dict):
            problems += event_problems(event, f"{base}/{index}" if base is not None else "")
    return problems


def events_of(document: dict[str, Any]) -> tuple[list[Any], str | None]:
    """A document's events and the pointer of their list; a single event is its own list (pointer None)."""
    if document.get("type") in ("EPCISDocument", "EPCISQueryDocument"):
        body = document.get("epcisBody") or {}
        if "queryResults" in body:
            events = ((body.get("queryResults") or {}).get("resultsBody") or {}).get("eventList")
            return (events if isinstance(events, list) else []), "/epcisBody/queryResults/resultsBody/eventList"
        events = body.get("eventList")
        return (events if isinstance(events, list) else []), "/epcisBody/eventList"
    return [document], None


def event_problems(event: dict[str, Any], pointer: str) -> list[Problem]:
    """What the schema leaves open: an offset outside ±14:00, a malformed EPC URN or GS1 Digital Link."""
    problems = []
    offset = event.get("eventTimeZoneOffset")
    if isinstance(offset, str) and not _offset_ok(offset):
        problems.append(Problem(f"{pointer}/eventTimeZoneOffset", offset,
                                "a time-zone offset is ±hh:mm between -14:00 and +14:00",
                                "时区偏移应为 ±hh:mm，且在 -14:00 至 +14:00 之间"))
    for name in _IDENTIFIER_LISTS:
        for index, value in enumerate(event.get(name) or [] if isinstance(event.get(name), list) else []):
            problems += _identifier(f"{pointer}/{name}/{index}", value)
    for name in ("parentID",):
        problems += _identifier(f"{pointer}/{name}", event.get(name))
    for name in _CLASS_LISTS:
        for index, element in enumerate(event.get(name) or [] if isinstance(event.get(name), list) else []):
            if isinstance(element, dict):
                problems += _identifier(f"{pointer}/{name}/{index}/epcClass", element.get("epcClass"))
    return problems


def _identifier(pointer: str, value: Any) -> list[Problem]:
    if not isinstance(value, str):
        return []
    reason = identifier_problem(value)
    return [Problem(pointer, value, reason[0], reason[1])] if reason else []


def _offset_ok(offset: str) -> bool:
    found = _OFFSET.match(offset)
    if not found:
        return False
    hours, minutes = int(found.group(2)), int(found.group(3))
    return minutes < 60 and hours * 60 + minutes <= 14 * 60


def _order(error: ValidationError) -> tuple:
    return tuple(str(p) for p in error.absolute_path), error.message


def pointer_of(error: ValidationError) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in error.absolute_path)


def _schema_problem(error: ValidationError) -> Problem:
    pointer = pointer_of(error)
    if error.validator == "required" and "'" in error.message:  # point at the missing field itself
        pointer += "/" + error.message.split("'")[1]
    field = str(error.absolute_path[-1]) if error.absolute_path else ""
    value = error.instance if isinstance(error.instance, (str, int, float, bool, type(None))) else None
    if isinstance(value, str) and len(value) > 200:
        value = value[:200] + "…"
    english, chinese = _reasons(error, field)
    return Problem(pointer, value, english, chinese)


_VOCABULARY_FIELDS = {
    "bizStep": ("a CBV 2.0 business step (e.g. shipping) or a URI", "CBV 2.0 业务步骤（如 shipping）或 URI"),
    "disposition": ("a CBV 2.0 disposition (e.g. in_transit) or a URI", "CBV 2.0 处置状态（如 in_transit）或 URI"),
    "type": ("a type the EPCIS 2.0 vocabulary defines or a URI", "EPCIS 2.0 词表中的类型或 URI"),
}


def _reasons(error: ValidationError, field: str) -> tuple[str, str]:
    kind = error.validator
    if kind == "anyOf" and field in _VOCABULARY_FIELDS:
        wanted, wanted_zh = _VOCABULARY_FIELDS[field]
        return f"{error.instance!r} is not {wanted}", f"{error.instance!r} 不是{wanted_zh}"
    if kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"the required field {missing!r} is missing", f"缺少必填字段 {missing!r}"
    if kind == "format":
        what = {"date-time": ("an ISO 8601 date-time with a time-zone offset", "带时区偏移的 ISO 8601 日期时间"),
                "uri": ("an absolute URI (a namespace-qualified name for extensions)", "绝对 URI（扩展字段需带命名空间）")}
        wanted, wanted_zh = what.get(str(error.validator_value), (str(error.validator_value),) * 2)
        return f"{error.instance!r} is not {wanted}", f"{error.instance!r} 不是{wanted_zh}"
    if kind == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not one of {allowed}", f"{error.instance!r} 应为以下之一：{allowed}"
    if kind == "type":
        return f"should be of type {error.validator_value}", f"类型应为 {error.validator_value}"
    if kind == "additionalProperties":
        return error.message, f"有不允许的字段：{error.message}"
    if kind == "pattern":
        pattern = error.validator_value
        return f"{error.instance!r} does not match {pattern}", f"{error.instance!r} 格式不符（{pattern}）"
    return (f"does not conform to the EPCIS 2.0 JSON Schema ({kind}): {error.message[:300]}",
            f"不符合 EPCIS 2.0 JSON Schema（{kind}）：{error.message[:300]}")
