"""The list grammar's ``filter=`` part (DESIGN §4, after OpenAlex), parsed and checked against the
field registry of the type being listed.

``city:440100,kind:university|institute,year:>2015,type:!news,year:2015-2020``: conditions are ANDed;
``|`` ORs values; ``!`` negates; ``>``/``<`` and ``a-b`` ranges compare number and date fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from zhulian.errors import Problem, invalid
from zhulian.model import ENVELOPE_FIELDS, INDEXED_FIELDS

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
    return Condition(name, op, tuple(values), kind, envelope)
