"""From the cells of one row to a record the model validates, remembering which column each field came
from so that every problem can be reported against the row and column a person sees."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from zhulian.errors import Problem, ZhulianError
from zhulian.exchange.flat import (
    Layout,
    Leaf,
    RelationSyntaxError,
    cell_text,
    parse_relation_item,
    split_items,
    unescape,
)
from zhulian.model import PREDICATES, parse_ref, resolve_type

_TRUE = {"true", "1", "yes", "y", "是", "对", "有", "开放", "√", "t"}
_FALSE = {"false", "0", "no", "n", "否", "不", "无", "不开放", "×", "f"}


def _truth(text: str) -> bool | str:
    """是/否, yes/no, 1/0 … as a boolean; anything else is left for the model to refuse."""
    folded = text.lower()
    return True if folded in _TRUE else False if folded in _FALSE else text


@dataclass
class Converted:
    """A row turned into a record, with where each field came from."""

    record: dict[str, Any]
    origins: dict[str, tuple[str, Any]] = field(default_factory=dict)  # field key -> (column, cell)
    relation_origins: list[tuple[str, str]] = field(default_factory=list)  # per relation: (column, item)
    problems: list[Problem] = field(default_factory=list)  # with field = column already
    name_refs: list[tuple[int, str, frozenset[str]]] = field(default_factory=list)  # (relation, name, types)
    cleared: set[str] = field(default_factory=set)  # units to clear (``clear_empty``), see ``Leaf.unit``
    extended: set[str] = field(default_factory=set)  # list units whose values join the existing list


def unflatten(layout: Layout, entries: Iterable[tuple[Leaf, Any, str]]) -> Converted:
    """``entries``: (column's leaf, raw cell value, the column as the file names it)."""
    record: dict[str, Any] = {"type": layout.type}
    result = Converted(record)
    origins = result.origins
    groups: dict[str, dict[int, dict[str, Any]]] | None = None
    for leaf, raw, column in entries:
        if raw is None:
            continue
        kind = leaf.kind
        if type(raw) is str:
            if leaf.many:
                if not raw or raw.isspace():
                    continue
                items = split_items(raw)
                if kind == "relation":
                    _relations(result, leaf, items, column)
                    continue
                if "\\" in raw:
                    items = [unescape(item) for item in items]
                if not items:
                    continue
                value: Any = items
            else:
                value = raw.strip()
                if not value:
                    continue
                if kind == "bool":
                    value = _truth(value)
        elif kind == "read_only":
            continue
        elif isinstance(raw, _Unreadable):
            result.problems.append(Problem(column, raw.value, raw.reason, raw.reason_zh))
            continue
        elif leaf.many:
            if isinstance(raw, list):
                items = [cell_text(item).strip() for item in raw if item is not None]
                items = [item for item in items if item]
                if kind == "relation":
                    items = [item.replace("\\", "\\\\") for item in items]
            else:
                text = cell_text(raw)
                items = split_items(text)
                if kind != "relation":
                    items = [unescape(item) for item in items]
            if not items:
                continue
            if kind == "relation":
                _relations(result, leaf, items, column)
                continue
            value = items
        elif kind in ("integer", "number", "amount") and isinstance(raw, (int, float)) and not isinstance(raw, bool):
            value = raw
        else:
            value = cell_text(raw).strip()
            if not value:
                continue
            if kind == "bool":
                value = _truth(value)
        if kind == "read_only":
            continue
        origins[leaf.key] = (column, raw)
        path = leaf.path
        if kind == "type":
            try:
                given = resolve_type(str(value))
            except ZhulianError:
                given = None
            if given != layout.type:
                result.problems.append(Problem(column, value, f"this file holds {layout.type} records",
                                               f"此文件导入的类型为 {layout.type}"))
            continue
        length = len(path)
        if length == 1:
            record[path[0]] = value
        elif length == 2:
            inner = record.get(path[0])
            if inner is None:
                inner = record[path[0]] = {}
            inner[path[1]] = value
        elif isinstance(path[1], int):
            if groups is None:
                groups = {}
            _set(groups.setdefault(path[0], {}).setdefault(path[1], {}), path[2:], value)
        else:
            _set(record, path, value)
    if groups:
        for name, items in groups.items():
            record[name] = [items[index] for index in sorted(items)]
            # a problem on targets.N refers to the N-th item kept; map back to the column written
            for position, index in enumerate(sorted(items)):
                if position != index:
                    prefix = f"{name}.{index}."
                    for key, origin in list(origins.items()):
                        if key.startswith(prefix):
                            origins[f"{name}.{position}.{key[len(prefix):]}"] = origin
    return result


def _set(target: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _relations(result: Converted, leaf: Leaf, items: list[str], column: str) -> None:
    subjects, objects, _zh, _en = PREDICATES[leaf.predicate]
    other_types = objects if leaf.end == "object" else subjects
    relations = result.record.setdefault("relations", [])
    for item in items:
        try:
            parsed = parse_relation_item(item)
        except RelationSyntaxError as error:
            result.problems.append(Problem(column, item, error.reason, error.reason_zh))
            continue
        relation: dict[str, Any] = {"predicate": leaf.predicate, leaf.end: parsed.pop("ref")}
        relation.update(parsed)
        if parse_ref(relation[leaf.end]) is None:
            result.name_refs.append((len(relations), relation[leaf.end], other_types))
        relations.append(relation)
        result.relation_origins.append((column, item))


@dataclass
class _Unreadable:
    """A cell the reader could not turn into a value (e.g. an XLSX formula without a computed result)."""

    value: Any
    reason: str
    reason_zh: str


def unreadable(value: Any, reason: str, reason_zh: str) -> _Unreadable:
    return _Unreadable(value, reason, reason_zh)


def locate(problem: Problem, converted: Converted) -> tuple[str, Any]:
    """The column (as the file names it) and the cell value a model problem refers to."""
    path = problem.field
    parts = path.split(".")
    if parts[0] == "relations" and len(parts) >= 2 and parts[1].isdigit():
        index = int(parts[1])
        if index < len(converted.relation_origins):
            column, item = converted.relation_origins[index]
            return column, item
    origins = converted.origins
    if path in origins:
        column, raw = origins[path]
        return column, raw if raw is not None else problem.value
    while len(parts) > 1:
        parts = parts[:-1]
        key = ".".join(parts)
        if key in origins:
            column, raw = origins[key]
            return column, problem.value if problem.value is not None else raw
    prefix = path + "."
    for key, (column, raw) in origins.items():
        if key.startswith(prefix):
            return column, raw
    return ("" if path == "(record)" else path), problem.value
