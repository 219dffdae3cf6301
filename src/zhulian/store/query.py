"""The list grammar's ``filter=`` part (DESIGN §4, after OpenAlex), parsed and checked against the
field registry of the type being listed.

``city:440100,kind:university|institute,year:>2015,type:!news,year:2015-2020``: conditions are ANDed;
``|`` ORs values; ``!`` negates; ``>``/``<`` and ``a-b`` ranges compare number and date fields.
``city:`` takes place names as well as codes (``city:广州``), and a city means its districts too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zhulian.errors import Problem, invalid
from zhulian.model import ENVELOPE_FIELDS, INDEXED_FIELDS
from zhulian.region.adcodes import PlaceNotFound, adcode_for, with_districts

MAX_CONDITIONS = 20
MAX_VALUES = 100
MAX_DIGITS = 15  # a number in a filter: beyond this no year, count or amount is meant, and SQL would overflow


@dataclass(frozen=True)
class Visibility:
    """Which records a reader may see: every access level in ``levels``, plus ``internal`` records of
    ``node``; ``everything`` for administrators. ``zhulian.access`` decides who gets which."""

    levels: frozenset[str]
    node: str | None = None
    everything: bool = False

    def allows(self, access: str, node: str | None) -> bool:
        return self.everything or access in self.levels or (access == "internal" and node is not None
                                                             and node == self.node)


@dataclass(frozen=True)
class Condition:
    field: str
    op: str  # eq | ne | gt | lt | range
    values: tuple[str, ...]
    kind: str  # keyword | number | date
    envelope: bool


def allowed_fields(type_name: str | None) -> dict[str, str]:
    """Field name -> kind, for the envelope and (when a type is given) that type's indexed fields."""
    fields = {name: kind for name, (kind, _zh, _en) in ENVELOPE_FIELDS.items()}
    if type_name:
        fields |= {name: spec.kind for name, spec in INDEXED_FIELDS[type_name].items()}
    return fields


def parse_filter(text: str | None, type_name: str | None) -> list[Condition]:
    if not text or not text.strip():
        return []
    if "\x00" in text:
        raise invalid([Problem("filter", text.replace("\x00", "\\x00")[:200], "a filter holds no NUL character (\\x00)",
                               "筛选条件中不能含有空字符（\\x00）")], "query")
    fields = allowed_fields(type_name)
    conditions, problems = [], []
    parts = [part for part in text.split(",") if part.strip()]
    if len(parts) > MAX_CONDITIONS:
        problems.append(Problem("filter", text[:200], f"at most {MAX_CONDITIONS} conditions",
                                f"最多 {MAX_CONDITIONS} 个条件"))
    for part in parts[:MAX_CONDITIONS]:
        name, sep, raw = part.strip().partition(":")
        name, raw = name.strip(), raw.strip()
        if not sep or not raw:
            problems.append(Problem("filter", part, "each condition is field:value",
                                    "每个条件应写作 字段:值"))
        elif name not in fields:
            problems.append(Problem(f"filter.{name}", raw, f"cannot filter on {name!r}; fields: {', '.join(fields)}",
                                    f"不能按 {name!r} 筛选；可用字段：{'、'.join(fields)}"))
        else:
            condition = _condition(name, raw, fields[name], name in ENVELOPE_FIELDS)
            if isinstance(condition, Problem):
                problems.append(condition)
            else:
                conditions.append(condition)
    if problems:
        raise invalid(problems, "query")
    return conditions


def _condition(name: str, raw: str, kind: str, envelope: bool) -> Condition | Problem:
    ordered = kind in ("number", "date")
    if raw.startswith("!"):
        op, values = "ne", raw[1:].split("|")
    elif raw[0] in "<>" and ordered:
        op, values = ("gt" if raw[0] == ">" else "lt"), [raw[1:]]
    elif ordered and kind == "number" and re.fullmatch(r"-?\d+(\.\d+)?--?\d+(\.\d+)?", raw):
        low, high = re.fullmatch(r"(-?\d+(?:\.\d+)?)-(-?\d+(?:\.\d+)?)", raw).groups()
        op, values = "range", [low, high]
    else:
        op, values = "eq", raw.split("|")
    values = [v.strip() for v in values if v.strip()]
    if not values or len(values) > MAX_VALUES:
        return Problem(f"filter.{name}", raw, f"give 1 to {MAX_VALUES} values", f"应给出 1 至 {MAX_VALUES} 个值")
    if kind == "number" and not all(re.fullmatch(r"-?\d{1,%d}(\.\d{1,%d})?" % (MAX_DIGITS, MAX_DIGITS), v) for v in values):
        return Problem(f"filter.{name}", raw[:200], f"{name} takes numbers of at most {MAX_DIGITS} digits",
                       f"{name} 应为不超过 {MAX_DIGITS} 位的数字")
    if name == "city":
        return _places(raw, op, values)
    return Condition(name, op, tuple(values), kind, envelope)


def _places(raw: str, op: str, values: list[str]) -> Condition | Problem:
    """``city:`` values as codes, whatever name was given, each city with its districts (番禺区 440113 is in
    广州市 440100), so that a record placed in a district is found by its city."""
    if op not in ("eq", "ne"):
        return Problem("filter.city", raw, "a city is one place or several joined by |, not a range",
                       "城市应为一个或以 | 分隔的多个地名或代码，不能是范围")
    codes: list[str] = []
    for value in values:
        if value.isdigit():  # a code, known or not (an unknown one simply matches nothing)
            codes += with_districts(value)
            continue
        try:
            codes += with_districts(adcode_for(value, within="44"))
        except PlaceNotFound as error:
            return Problem("filter.city", value, f"{error.reason}: give a GB/T 2260 code (440100) or a place name "
                           "(广州市, Guangzhou)", f"{error.reason_zh}：请填写行政区划代码（如 440100）或地名（如 广州市）")
    return Condition("city", op, tuple(dict.fromkeys(codes)), "keyword", True)
