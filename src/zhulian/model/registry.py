"""What the rest of the platform asks of the model: the types, their collections, the fields each type
lets a user filter, sort and group by (after OpenAlex's per-entity field registry), and validation that
lists every problem in Chinese and English."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.model.common import CHOICES
from zhulian.model.ids import PREFIXES, is_id, type_of_id
from zhulian.model.types import MODELS, Resource, observation_label

TYPES = tuple(MODELS)

COLLECTIONS = {
    "organization": "orgs", "person": "people", "achievement": "achievements", "patent": "patents",
    "paper": "papers", "standard": "standards", "project": "projects", "platform": "platforms",
    "instrument": "instruments", "policy": "policies", "demand": "demands", "news": "news",
    "observation": "observations",
}
TYPE_BY_COLLECTION = {collection: type_name for type_name, collection in COLLECTIONS.items()}

TYPE_LABELS = {
    "organization": ("机构", "organisation"), "person": ("专家", "person"), "achievement": ("科技成果", "achievement"),
    "patent": ("专利", "patent"), "paper": ("论文", "paper"), "standard": ("标准", "standard"),
    "project": ("项目", "project"), "platform": ("创新平台", "platform"), "instrument": ("仪器设备", "instrument"),
    "policy": ("政策", "policy"), "demand": ("企业需求", "demand"), "news": ("资讯", "news"),
    "observation": ("指标观测值", "observation"),
}


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


def _attr(name: str) -> Callable[[Resource], Iterable[Any]]:
    def values(record: Resource) -> Iterable[Any]:
        value = getattr(record, name, None)
        if value is None:
            return ()
        return value if isinstance(value, list) else (value,)

    return values


def _field(name: str, kind: str, zh: str, en: str, choices: str | None = None) -> FieldSpec:
    return FieldSpec(name, kind, zh, en, _attr(name), choices)


# Envelope fields live as columns on the records table; every type has them.
ENVELOPE_FIELDS = {
    "id": ("keyword", "编号", "id"), "type": ("keyword", "类型", "type"), "city": ("keyword", "城市", "city"),
    "node": ("keyword", "节点", "node"), "access": ("keyword", "访问级别", "access"),
    "year": ("number", "年份", "year"), "created": ("date", "创建时间", "created"),
    "updated": ("date", "更新时间", "updated"), "revision": ("number", "版本", "revision"),
}
SORTABLE = ("id", "name", "city", "year", "created", "updated", "revision")

# Keywords are found through search (DESIGN's search part), not list filters: indexing each keyword of
# every record as a row would cost the store more than everything else it writes for that record.
_COMMON: tuple[FieldSpec, ...] = ()
_PER_TYPE: dict[str, tuple[FieldSpec, ...]] = {
    "organization": (_field("kind", "keyword", "机构类型", "kind", "org_kind"),
                     _field("authority", "keyword", "主管部门", "authority"),
                     _field("disciplines", "keyword", "学科领域", "discipline")),
    "person": (_field("research_fields", "keyword", "研究领域", "research field"),),
    "achievement": (_field("maturity", "keyword", "成熟度", "maturity", "maturity"),
                    _field("transfer_modes", "keyword", "转化方式", "transfer mode", "transfer_mode"),
                    _field("disciplines", "keyword", "学科领域", "discipline")),
    "patent": (_field("kind", "keyword", "专利类型", "kind", "patent_kind"),
               _field("legal_status", "keyword", "法律状态", "legal status", "legal_status"),
               _field("ipc", "keyword", "IPC 分类号", "IPC code"),
               FieldSpec("ipc_class", "keyword", "IPC 小类", "IPC subclass",
                         lambda r: {code[:4] for code in r.ipc}),
               _field("applicants", "keyword", "申请人", "applicant"),
               _field("application_date", "date", "申请日", "application date")),
    "paper": (_field("disciplines", "keyword", "学科", "discipline"),
              _field("category", "keyword", "门类", "category"),
              _field("venue", "keyword", "期刊/会议", "venue"),
              _field("language", "keyword", "语种", "language", "language")),
    "standard": (_field("level", "keyword", "标准层级", "level", "std_level"),
                 _field("status", "keyword", "状态", "status", "std_status"),
                 _field("issuer", "keyword", "发布机构", "issuer"),
                 _field("issued", "date", "发布日期", "issued")),
    "project": (_field("status", "keyword", "状态", "status", "project_status"),
                _field("programme", "keyword", "计划类别", "programme"),
                _field("funder", "keyword", "资助机构", "funder"),
                _field("budget_wan", "number", "经费（万元）", "budget (10k CNY)")),
    "platform": (_field("kind", "keyword", "平台类型", "kind", "platform_kind"),
                 _field("level", "keyword", "级别", "level", "level"),
                 _field("disciplines", "keyword", "学科领域", "discipline")),
    "instrument": (_field("category", "keyword", "仪器类别", "category"),
                   _field("value_wan", "number", "原值（万元）", "value (10k CNY)"),
                   FieldSpec("bookable", "keyword", "可预约", "bookable",
                             lambda r: (str(bool(r.booking and r.booking.open)).lower(),))),
    "policy": (_field("status", "keyword", "状态", "status", "policy_status"),
               _field("issuer", "keyword", "发布机构", "issuer"),
               _field("regions", "keyword", "适用地区", "region"),
               FieldSpec("indicator", "keyword", "目标指标", "target indicator",
                         lambda r: {t.indicator for t in r.targets})),
    "demand": (_field("kind", "keyword", "需求类型", "kind", "demand_kind"),
               _field("status", "keyword", "状态", "status", "demand_status"),
               _field("disciplines", "keyword", "技术领域", "discipline")),
    "news": (_field("source", "keyword", "来源", "source"),
             _field("published", "date", "发布日期", "published")),
    "observation": (_field("indicator", "keyword", "指标", "indicator", "indicator"),
                    _field("region", "keyword", "地区", "region"),
                    _field("value", "number", "数值", "value"),
                    _field("source", "keyword", "来源", "source")),
}
INDEXED_FIELDS: dict[str, dict[str, FieldSpec]] = {
    type_name: {spec.name: spec for spec in _COMMON + _PER_TYPE[type_name]} for type_name in TYPES
}


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
    An observation has no name of its own and is named by what it measures: 广州市 每万人发明专利拥有量 2018."""
    if record.get("type") == "observation":
        return observation_label(record.get("indicator", ""), record.get("region", ""), record.get("year", ""))
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
    if isinstance(data.get("id"), str) and is_id(data["id"]) and type_of_id(data["id"]) != type_name:
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
    return schema
