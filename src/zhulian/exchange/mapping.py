"""Declarative mappings: a small TOML file that says how a foreign file's columns become the model's fields.

A mapping names its type and, under ``[fields]``, one entry per field key of the flat form::

    type = "organization"

    [fields]
    "name.zh" = "name"                                     # a source column
    "pids.moe" = "moe_code"
    kind = { value = "university" }                        # a constant
    city = { column = "city", lookup = "adcode", within = "province_gb_prefix" }
    keywords = { columns = ["level", "remarks"] }          # several columns into one list
    abstract = { column = "abstract", optional = true }    # the column may be absent from the file

    [ignore]
    columns = ["seq"]                                      # known source columns that are not imported

Entry keys: ``column`` | ``columns`` | ``value`` | ``format`` (``"{id}-{year}"``, from the row's columns),
and optionally ``split`` (separator for a list field, default ``;``), ``map`` (a table from source values
to model values), ``lookup`` (``adcode``: a place name to its GB/T 2260 code, ``within`` a column holding
the province's two-digit prefix), ``default``, ``optional``, and ``add`` (a list field: the values join the
record's list instead of replacing it, e.g. keywords a registry list contributes to a curated record).

Built-in mappings live beside this module in ``mappings/*.toml``; a path to a file of your own works the same.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from zhulian.errors import Problem, ZhulianError
from zhulian.exchange.convert import unreadable
from zhulian.exchange.flat import Layout, Leaf, cell_text, layout, split_items, unescape
from zhulian.model import MODELS, resolve_type
from zhulian.region.adcodes import PlaceNotFound, adcode_for

RULE_KEYS = {"column", "columns", "value", "format", "split", "map", "lookup", "within", "default", "optional", "add"}


@dataclass
class Rule:
    key: str
    leaf: Leaf
    column: str | None = None
    columns: tuple[str, ...] = ()
    value: Any = None
    format: str | None = None
    split: str | None = None
    map: dict[str, Any] | None = None
    lookup: str | None = None
    within: str | None = None
    default: Any = None
    optional: bool = False
    add: bool = False  # a list field's values join the existing list

    def __post_init__(self) -> None:
        # a plain column copied as it is: the common case, taken without the general machinery
        self.simple = bool(self.column) and not (self.map or self.lookup or self.default is not None
                                                 or (self.split not in (None, ";")))
        self.label = self.column or (", ".join(self.columns) if self.columns else self.format or "(常量 constant)")

    def sources(self) -> list[str]:
        names = [self.column] if self.column else list(self.columns)
        if self.format:
            names += re.findall(r"\{([^{}:!]+)", self.format)
        if self.within:
            names.append(self.within)
        return names


@dataclass
class Mapping:
    name: str
    type: str
    title_zh: str = ""
    title_en: str = ""
    rules: list[Rule] = field(default_factory=list)
    ignore: set[str] = field(default_factory=set)
    sheet: str | None = None

    @property
    def layout(self) -> Layout:
        return layout(self.type)

    def source_columns(self) -> set[str]:
        return {name for rule in self.rules for name in rule.sources()} | self.ignore

    def required_columns(self) -> list[str]:
        seen: list[str] = []
        for rule in self.rules:
            if rule.optional:
                continue
            for name in rule.sources():
                if name not in seen:
                    seen.append(name)
        return seen

    def apply(self, row: dict[str, Any]) -> list[tuple[Leaf, Any, str]]:
        """The row's cells as (field leaf, value, source column) entries for ``unflatten``."""
        entries = []
        for rule in self.rules:
            if rule.simple:
                value = row.get(rule.column)
                if value is None or value == "":
                    continue
            else:
                value = self._value(rule, row)
                if value is None:
                    continue
            entries.append((rule.leaf, value, rule.label))
        return entries

    def _value(self, rule: Rule, row: dict[str, Any]) -> Any:
        if rule.value is not None:
            return rule.value
        if rule.format is not None:
            value: Any = rule.format.format_map(_Cells(row))
            value = value if value.strip() else None
        elif rule.columns:
            values = [v for name in rule.columns if not _blank(v := row.get(name))]
            if rule.leaf.many:
                items: list[Any] = []
                for v in values:
                    items += _split(v, rule.split)
                value = items or None
            else:
                value = values[0] if values else None
        else:
            value = row.get(rule.column)
            if _blank(value):
                value = None
            elif rule.leaf.many and not isinstance(value, list) and rule.split:
                value = _split(value, rule.split)
        if value is None:
            return rule.default
        if rule.map:
            if isinstance(value, list):
                value = [rule.map.get(cell_text(v).strip(), v) for v in value]
            else:
                value = rule.map.get(cell_text(value).strip(), value)
        if rule.lookup:
            value = LOOKUPS[rule.lookup](cell_text(value), cell_text(row.get(rule.within)) if rule.within else "")
        return value


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _split(value: Any, separator: str | None) -> list[Any]:
    if isinstance(value, list):
        return value
    text = cell_text(value)
    if separator in (None, ";"):
        return [unescape(item) for item in split_items(text)]
    return [item.strip() for item in text.split(separator) if item.strip()]


class _Cells(dict):
    def __init__(self, row: dict[str, Any]) -> None:
        super().__init__()
        self.row = row

    def __missing__(self, key: str) -> str:
        return cell_text(self.row.get(key)).strip()


# -- lookups -------------------------------------------------------------------------------------------------

def _adcode_lookup(value: str, within: str) -> Any:
    try:
        return adcode_for(value, within)
    except PlaceNotFound as error:
        return unreadable(value, error.reason, error.reason_zh)


LOOKUPS = {"adcode": _adcode_lookup}


# -- loading -------------------------------------------------------------------------------------------------

def builtin_mappings() -> dict[str, str]:
    """Built-in mapping names with their one-line description."""
    found = {}
    for entry in resources.files("zhulian.exchange").joinpath("mappings").iterdir():
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[entry.name[:-5]] = f"{data.get('title', '')} / {data.get('title_en', '')}"
    return dict(sorted(found.items()))


def bad_mapping(name: str, problems: list[Problem], reason: str = "", reason_zh: str = "") -> ZhulianError:
    return ZhulianError("bad_mapping", f"The mapping {name!r} cannot be used{': ' + reason if reason else ''}.",
                        f"映射 {name!r} 无法使用{'：' + reason_zh if reason_zh else ''}。", 400, problems)


def load_mapping(name_or_path: str | Path) -> Mapping:
    """A built-in mapping by name (``moe-universities``) or a mapping file by path."""
    text_name = str(name_or_path)
    path = Path(text_name)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ZhulianError("not_found", f"No mapping file {text_name!r}.", f"找不到映射文件 {text_name!r}。", 404)
        text = path.read_text(encoding="utf-8")
        name = path.stem
    else:
        resource = resources.files("zhulian.exchange").joinpath("mappings", f"{text_name}.toml")
        if not resource.is_file():
            known = ", ".join(builtin_mappings())
            raise ZhulianError("unknown_mapping", f"No built-in mapping {text_name!r}; built-in: {known}; or give a path "
                               "to a .toml file.", f"没有名为 {text_name!r} 的内置映射；内置映射：{known}；也可给出 .toml 文件路径。",
                               400, [Problem("mapping", text_name, f"one of {known}", f"应为 {known} 之一")])
        text = resource.read_text(encoding="utf-8")
        name = text_name
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise bad_mapping(name, [Problem("(file)", None, str(error), "TOML 语法错误")], "TOML syntax error",
                          "TOML 语法错误") from None
    return parse_mapping(name, data)


def parse_mapping(name: str, data: dict[str, Any]) -> Mapping:
    problems: list[Problem] = []
    try:
        type_name = resolve_type(str(data.get("type", "")))
    except ZhulianError:
        raise bad_mapping(name, [Problem("type", data.get("type"), f"one of {', '.join(MODELS)}",
                                         f"应为 {'、'.join(MODELS)} 之一")]) from None
    mapping = Mapping(data.get("name", name), type_name, data.get("title", ""), data.get("title_en", ""),
                      sheet=data.get("sheet"))
    the_layout = layout(type_name)
    fields = data.get("fields")
    if not isinstance(fields, dict) or not fields:
        problems.append(Problem("fields", None, "a mapping lists its fields under [fields]", "映射应在 [fields] 下列出字段"))
        fields = {}
    for key, spec in fields.items():
        leaf = the_layout.leaf(key)
        if leaf is None or leaf.kind == "read_only":
            problems.append(Problem(f"fields.{key}", key, f"{type_name} has no field {key!r}",
                                    f"{type_name} 类型没有字段 {key!r}"))
            continue
        if isinstance(spec, str):
            spec = {"column": spec}
        if not isinstance(spec, dict):
            problems.append(Problem(f"fields.{key}", spec, "a column name or a table such as { column = \"…\" }",
                                    "应为列名或形如 { column = \"…\" } 的表"))
            continue
        unknown = set(spec) - RULE_KEYS
        sources = [k for k in ("column", "columns", "value", "format") if k in spec]
        if unknown:
            problems.append(Problem(f"fields.{key}", sorted(unknown), f"unknown keys; allowed: {', '.join(sorted(RULE_KEYS))}",
                                    f"未知的键；可用：{'、'.join(sorted(RULE_KEYS))}"))
            continue
        if len(sources) != 1:
            problems.append(Problem(f"fields.{key}", spec, "give exactly one of column, columns, value or format",
                                    "column、columns、value、format 必须且只能给出一个"))
            continue
        if spec.get("add") and not leaf.many:
            problems.append(Problem(f"fields.{key}.add", spec["add"], "add joins values to a list field only",
                                    "add 只适用于列表字段"))
            continue
        if spec.get("lookup") and spec["lookup"] not in LOOKUPS:
            problems.append(Problem(f"fields.{key}.lookup", spec["lookup"], f"lookups: {', '.join(LOOKUPS)}",
                                    f"可用的查找：{'、'.join(LOOKUPS)}"))
            continue
        mapping.rules.append(Rule(key, leaf, column=spec.get("column"), columns=tuple(spec.get("columns", ())),
                                  value=spec.get("value"), format=spec.get("format"), split=spec.get("split"),
                                  map=spec.get("map"), lookup=spec.get("lookup"), within=spec.get("within"),
                                  default=spec.get("default"), optional=bool(spec.get("optional", False)),
                                  add=bool(spec.get("add", False))))
    ignore = data.get("ignore", {})
    mapping.ignore = set(ignore.get("columns", ())) if isinstance(ignore, dict) else set()
    if problems:
        raise bad_mapping(name, problems)
    return mapping
