"""What the rest of the platform asks of the model: the registered record types, their collections, the fields
each type lets a user filter, sort and group by (after OpenAlex's per-entity field registry), and validation that
lists every problem in Chinese and English.

A record type is declared once, as a ``RecordType``: the core declares its twelve in ``zhulian.model.core``, a
module declares its own in ``<module>/types.py`` (``RECORD_TYPES``), and ``zhulian.plugins`` registers them.
Every table below is derived from the registered declarations and kept current in place, so a module's type is
served by the store, exchange, search, API, portal and federation without an edit there (docs/modules.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.model.common import CHOICES
from zhulian.model.ids import ID_PATTERN, PREFIXES, TYPE_BY_PREFIX, is_id, type_of_id
from zhulian.model.relations import INVERSE_LABELS, PREDICATES, PredicateSpec
from zhulian.model.types import Resource


@dataclass(frozen=True)
class FieldSpec:
    """A field a list query can filter (and group) on. ``kind`` decides the comparisons it allows:
    keyword fields compare for equality; number and date fields also order with > and <."""

    name: str
    kind: str  # keyword | number | date
    label_zh: str
    label_en: str
    values: Callable[[Resource], Iterable[Any]]
    choices: str | None = None  # the CHOICES list that gives display names
    # The same values read from a stored record's JSON, for derived indexes that cannot afford to validate every
    # record; None when they are the field's own value(s).
    json_values: Callable[[dict[str, Any]], Iterable[Any]] | None = None


def _attr(name: str) -> Callable[[Resource], Iterable[Any]]:
    def values(record: Resource) -> Iterable[Any]:
        value = getattr(record, name, None)
        if value is None:
            return ()
        return value if isinstance(value, list) else (value,)

    return values


def filter_field(name: str, kind: str, zh: str, en: str, choices: str | None = None) -> FieldSpec:
    """A field-registry entry for one of the model's own fields (``filter=kind:university``, ``group_by=kind``)."""
    return FieldSpec(name, kind, zh, en, _attr(name), choices)


@dataclass(frozen=True)
class SearchSpec:
    """Which fields of a type the search index reads, by weight: names above keywords above body text.
    ``aliases`` always count as names; ``pinyin`` lets autocomplete match the names typed in pinyin."""

    names: tuple[str, ...] = ("name", "title")
    keywords: tuple[str, ...] = ("keywords",)
    body: tuple[str, ...] = ("description",)
    pinyin: bool = False


@dataclass(frozen=True)
class RecordType:
    """Everything the platform needs to know of one record type, declared in the folder that owns it.

    ``name`` is the ``type`` value; ``prefix`` starts its ids (2-8 lowercase letters); ``collection`` names it in
    the API and portal (``/api/v1/<collection>``); ``model`` is its pydantic model (a ``Resource`` subclass whose
    ``type`` is ``Literal[name]`` and whose field titles are the template's labels); ``fields`` are its entries in
    the field registry; ``search`` says what is searched; ``example`` is the template's example row (column key →
    cell); ``predicates`` declares relations the type brings (or extends a core predicate with the type);
    ``label`` names a stored record that has no name or title of its own; ``pid_schemes`` are the identifier
    columns its template suggests (``pids.uscc``)."""

    name: str
    prefix: str
    collection: str
    label_zh: str
    label_en: str
    model: type[Resource]
    fields: tuple[FieldSpec, ...] = ()
    search: SearchSpec = SearchSpec()
    example: dict[str, str] = field(default_factory=dict)
    predicates: tuple[PredicateSpec, ...] = ()
    label: Callable[[dict[str, Any]], str] | None = None
    pid_schemes: tuple[str, ...] = ()


# The registered types and the tables derived from them. Each is one object for the life of the process,
# refilled in place when a type is registered or removed, so ``from zhulian.model import COLLECTIONS`` stays true.
RECORD_TYPES: dict[str, RecordType] = {}
MODELS: dict[str, type[Resource]] = {}
TYPES = MODELS.keys()
COLLECTIONS: dict[str, str] = {}
TYPE_BY_COLLECTION: dict[str, str] = {}
TYPE_LABELS: dict[str, tuple[str, str]] = {}
INDEXED_FIELDS: dict[str, dict[str, FieldSpec]] = {}
_CORE_PREDICATES = dict(PREDICATES)
_CORE_INVERSE_LABELS = dict(INVERSE_LABELS)


def register(record_type: RecordType) -> None:
    """Add a record type; a name, prefix or collection another type has is a mistake in the declaring module."""
    taken = [(what, zh, value) for what, zh, value, registered in (
        ("name", "类型名", record_type.name, RECORD_TYPES),
        ("prefix", "编号前缀", record_type.prefix, TYPE_BY_PREFIX),
        ("collection", "集合名", record_type.collection, TYPE_BY_COLLECTION)) if value in registered]
    if taken:
        what, zh, value = taken[0]
        raise ValueError(f"record type {record_type.name!r}: the {what} {value!r} is another type's / "
                         f"记录类型 {record_type.name!r} 的{zh} {value!r} 已被其他类型使用")
    if not ID_PATTERN.match(f"{record_type.prefix}_{'0' * 26}"):
        raise ValueError(f"id prefix {record_type.prefix!r} is not 2-8 lowercase letters / 编号前缀应为 2-8 个小写字母")
    if record_type.model.model_fields["type"].default != record_type.name:
        raise ValueError(f"the model of {record_type.name!r} must default its type to {record_type.name!r} / "
                         f"模型的 type 字段默认值应为 {record_type.name!r}")
    RECORD_TYPES[record_type.name] = record_type
    _derive()


def unregister(name: str) -> None:
    """Remove a record type (a module being unloaded); records of it already stored stay in the store."""
    RECORD_TYPES.pop(name, None)
    _derive()


def _derive() -> None:
    tables = (MODELS, PREFIXES, TYPE_BY_PREFIX, COLLECTIONS, TYPE_BY_COLLECTION, TYPE_LABELS, INDEXED_FIELDS,
              PREDICATES, INVERSE_LABELS)
    for table in tables:
        table.clear()
    PREDICATES.update(_CORE_PREDICATES)
    INVERSE_LABELS.update(_CORE_INVERSE_LABELS)
    for name, declared in RECORD_TYPES.items():
        MODELS[name] = declared.model
        PREFIXES[name] = declared.prefix
        TYPE_BY_PREFIX[declared.prefix] = name
        COLLECTIONS[name] = declared.collection
        TYPE_BY_COLLECTION[declared.collection] = name
        TYPE_LABELS[name] = (declared.label_zh, declared.label_en)
        INDEXED_FIELDS[name] = {spec.name: spec for spec in declared.fields}
        for spec in declared.predicates:
            _add_predicate(spec)


def _add_predicate(spec: PredicateSpec) -> None:
    """A new predicate, or more subject and object types for one that exists."""
    if spec.name in PREDICATES:
        subjects, objects, zh, en = PREDICATES[spec.name]
        PREDICATES[spec.name] = (subjects | spec.subjects, objects | spec.objects, zh, en)
        return
    PREDICATES[spec.name] = (spec.subjects, spec.objects, spec.label_zh, spec.label_en)
    INVERSE_LABELS[spec.name] = (spec.inverse_zh, spec.inverse_en)


# Envelope fields live as columns on the records table; every type has them.
ENVELOPE_FIELDS = {
    "id": ("keyword", "编号", "id"), "type": ("keyword", "类型", "type"), "city": ("keyword", "城市", "city"),
    "node": ("keyword", "节点", "node"), "access": ("keyword", "访问级别", "access"),
    "year": ("number", "年份", "year"), "created": ("date", "创建时间", "created"),
    "updated": ("date", "更新时间", "updated"), "revision": ("number", "版本", "revision"),
}
SORTABLE = ("id", "name", "city", "year", "created", "updated", "revision")


def indexed_values(record: Resource) -> list[tuple[str, str, float | None]]:
    """(field, text value, numeric value) rows the store keeps so lists can filter without reading JSON."""
    rows = []
    for spec in INDEXED_FIELDS[record.type].values():
        for value in spec.values(record):
            number = float(value) if spec.kind == "number" else None
            rows.append((spec.name, str(value)[:500], number))
    return rows


def display_name(type_name: str | None, field: str, value: str) -> str:
    """The Chinese display name of a coded value (e.g. ``university`` → 高等院校) for group_by."""
    from zhulian.region.adcodes import adcode_name

    if field in ("city", "node", "regions", "region"):
        return adcode_name(value) or value
    if field == "type":
        return TYPE_LABELS.get(value, (value,))[0]
    spec = INDEXED_FIELDS.get(type_name or "", {}).get(field)
    if spec and spec.choices:
        return CHOICES[spec.choices].get(value, (value,))[0]
    return value


def type_of_collection(collection: str) -> str:
    """The type an API or portal collection name (``orgs``) holds; ``not_found`` for any other name."""
    if collection not in TYPE_BY_COLLECTION:
        raise ZhulianError("not_found", f"No collection {collection!r}; collections: {', '.join(COLLECTIONS.values())}.",
                           f"没有 {collection!r} 这个集合；可用集合：{'、'.join(COLLECTIONS.values())}。", 404)
    return TYPE_BY_COLLECTION[collection]


def record_label(record: dict[str, Any]) -> str:
    """A stored record's name or title as people read it: simplified Chinese, traditional, then English.
    A type without either names its records by its declared ``label``."""
    declared = RECORD_TYPES.get(record.get("type", ""))
    if declared and declared.label:
        return declared.label(record)
    names = record.get("name") or record.get("title") or {}
    return names.get("zh") or names.get("zh_hant") or names.get("en") or ""


def unknown_type(type_name: Any) -> ZhulianError:
    return ZhulianError(
        "unknown_type",
        f"Unknown type {type_name!r}. Known types: {', '.join(TYPES)}.",
        f"未知类型 {type_name!r}。可用类型：{'、'.join(TYPES)}。",
        400,
        [Problem("type", type_name, f"one of {', '.join(TYPES)}", f"应为 {'、'.join(TYPES)} 之一")],
    )


def resolve_type(name: str) -> str:
    """A type from its name, its collection (``orgs``), its id prefix (``org``) or its Chinese label."""
    name = name.strip()
    for candidates in (MODELS, TYPE_BY_COLLECTION, {p: t for t, p in PREFIXES.items()},
                       {zh: t for t, (zh, _en) in TYPE_LABELS.items()}):
        if name in candidates:
            return name if candidates is MODELS else candidates[name]
    raise unknown_type(name)


_ZH_BY_ERROR_TYPE = {
    "missing": "缺少必填字段",
    "extra_forbidden": "该类型没有此字段",
    "string_type": "应为文本",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "float_type": "应为数字", "float_parsing": "应为数字", "finite_number": "应为有限数字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表", "dict_type": "应为对象（键值对）", "model_type": "应为对象（键值对）",
    "model_attributes_type": "应为对象（键值对）",
    "literal_error": "取值不在允许范围内：{expected}",
    "string_too_long": "文本过长，最多 {max_length} 个字符",
    "string_too_short": "不能为空",
    "too_long": "项数过多，最多 {max_length} 项",
    "too_short": "项数过少，至少 {min_length} 项",
    "greater_than_equal": "应不小于 {ge}", "greater_than": "应大于 {gt}",
    "less_than_equal": "应不大于 {le}", "less_than": "应小于 {lt}",
    "string_pattern_mismatch": "格式不正确",
}


def problems_from(error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        context = item.get("ctx") or {}
        if item["type"] == "pids":
            problems += [Problem(f"pids.{scheme}", value, reason, reason_zh)
                         for scheme, value, reason, reason_zh in context["problems"]]
            continue
        reason_zh = context.get("reason_zh") or _ZH_BY_ERROR_TYPE.get(item["type"], "取值不合法").format(
            **{k: v for k, v in context.items() if isinstance(v, (str, int, float))})
        field = context.get("field") or ".".join(str(part) for part in item["loc"]) or "(record)"
        value = context["value"] if "value" in context else item.get("input")
        if isinstance(value, (dict, list)) and item["type"] not in ("extra_forbidden",):
            value = None if item["type"] == "missing" else _short(value)
        problems.append(Problem(field, value, item["msg"], reason_zh))
    return problems


def _short(value: Any) -> Any:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def validate_record(data: Any) -> Resource:
    """A validated record of its type, or ZhulianError('invalid') listing every problem."""
    if isinstance(data, Resource):
        return data
    if not isinstance(data, dict):
        raise invalid([Problem("(record)", _short(data), "a record is a JSON object", "记录应为 JSON 对象")])
    type_name = data.get("type")
    if type_name is None and isinstance(data.get("id"), str) and is_id(data["id"]):
        type_name = type_of_id(data["id"])
    if type_name not in MODELS:
        raise unknown_type(type_name)
    problems = []
    shape = ID_PATTERN.match(data["id"]) if isinstance(data.get("id"), str) else None
    if shape and shape[1] != PREFIXES[type_name]:
        problems.append(Problem("id", data["id"], f"the id prefix does not belong to type {type_name}",
                                f"编号前缀与类型 {type_name} 不符"))
    try:
        record = MODELS[type_name].model_validate({**data, "type": type_name})
    except ValidationError as error:
        problems += problems_from(error)
    if problems:
        raise invalid(problems)
    return record


def json_schema(type_name: str) -> dict[str, Any]:
    schema = MODELS[type_name].model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://zhulian.example/schema/{type_name}.json"
    schema["title"] = f"{TYPE_LABELS[type_name][0]} {type_name}"
    # The model's patterns are those of every type; a type's schema names its own id prefix and predicates.
    schema["properties"]["id"]["anyOf"][0]["pattern"] = ID_PATTERN.pattern.replace("[a-z]{2,8}", PREFIXES[type_name])
    schema["$defs"]["Relation"]["properties"]["predicate"]["enum"] = list(PREDICATES)
    return schema
