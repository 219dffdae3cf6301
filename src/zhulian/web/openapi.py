"""The OpenAPI document at ``/openapi.json``: FastAPI's generated paths, with the record routes' answers typed by
the record types' own models (every type in the registry, modules' too), the one error shape on every error
status the API answers, the key as a bearer security scheme, and parameters described in Chinese and English."""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from zhulian.model import MODELS, TYPE_LABELS, json_schema

REF = "#/components/schemas/"

# What the API answers besides success, in the one error shape (FastAPI's own 422 is answered as 400).
ERRORS = {"400": "请求不合法 / bad request", "401": "缺少或无效的密钥 / no valid key",
          "403": "无权限或 CSRF 令牌缺失 / not allowed, or no CSRF token", "404": "不存在 / not found",
          "410": "已删除 / deleted", "429": "请求过于频繁 / too many requests (Retry-After)",
          "500": "服务器内部出错（已记录）/ an error on our side (logged)",
          "503": "暂时无法处理，稍后重试（Retry-After）/ unavailable for now: retry (Retry-After)"}
WRITE_ERRORS = {"409": "冲突 / conflict", "412": "If-Match 不符 / If-Match does not match",
                "413": "请求体过大 / body too large", "415": "请发送 JSON / send JSON",
                "428": "缺少 If-Match / If-Match required"}

# Parameters by name, for every operation that does not describe its own.
PARAMETERS = {
    "collection": "集合，见 GET /api/v1/ / a collection, listed at GET /api/v1/ (orgs, people, papers …)",
    "ref": "记录编号或“方案:值”标识（如 moe:4144010558）/ a record id, or a scheme:value identifier",
    "type_name": "记录类型、集合名或中文名（organization、orgs、机构）/ a record type, collection or Chinese name",
    "filter": "筛选：字段:值，逗号为且，| 为或，! 为非，> < 与 a-b 比较（city:广州,year:>2015）/ "
              "conditions field:value, ANDed by commas; | ORs, ! negates, > < and a-b compare",
    "search": "全文检索词；给出时按相关度排序 / full-text query; results are then ranked by relevance",
    "sort": "排序字段（id、name 按拼音、city、year、created、updated、revision），可加 :desc / "
            "sort field (name sorts by pinyin), optionally :asc or :desc",
    "select": "只返回这些字段，逗号分隔（id 总会返回）/ only these fields, comma-separated (id always)",
    "group_by": "按此字段分组计数 / count the matches by this field",
    "page": "页码，从 1 开始 / page number, from 1",
    "per_page": "每页条数 / results per page",
    "cursor": "游标：首页用 *，之后用返回的 next_cursor / cursor: * for the first page, then next_cursor",
    "revision": "读取该历史版本 / read this past revision",
    "if-match": "该记录的 ETag（修改或删除时必需；不符为 412，缺少为 428）/ the record's ETag: required to change "
                "or delete it (412 when it does not match, 428 without)",
    "if-none-match": "上次读取时的 ETag；未变时返回 304 / the ETag from your last read: 304 when unchanged",
    "since": "只返回此序号之后的条目 / only entries after this sequence number",
    "limit": "最多返回条数 / at most this many entries",
    "record": "只看此记录的条目 / only this record's entries",
    "job_id": "作业编号 / the job's id",
    "fmt": "文件格式 / file format",
    "direction": "out：本记录为主体；in：为客体；both：两者 / out: the record is the subject; in: the object",
    "predicate": "只看此谓词的关系 / only relations of this predicate",
    "skip_invalid": "跳过不合格的行，导入其余行 / skip invalid rows and import the rest",
    "dry_run": "只校验，不写入 / check every row, write nothing",
    "clear_empty": "文件已有列中的空单元格清空对应字段 / empty cells in the file's columns clear their fields",
    "q": "检索词 / query",
    "type": "类型，逗号分隔 / types, comma-separated",
}


def openapi_document(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(_record_schemas() | ENVELOPES)
    components["securitySchemes"] = {"key": {
        "type": "http", "scheme": "bearer",
        "description": "API 密钥（zhulian keys create）；读取公开记录无需密钥 / an API key from `zhulian keys create`; "
                       "reading public records needs none"}}
    document["security"] = [{}, {"key": []}]  # optional: public reads need no key
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            _type_answers(path, method, operation)
            _describe_parameters(operation)
    app.openapi_schema = document
    return document


def _type_answers(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    responses.pop("422", None)
    for status, schema in ANSWERS.get((method, path.removeprefix("/api/v1")), {}).items():
        answer = responses.setdefault(status, {"description": "成功 / success"})
        answer["content"] = {**answer.get("content", {}), "application/json": {"schema": schema}}
    for answer in responses.values():  # a file answer (CSV, XLSX, JSON Lines, SVG …) is bytes
        for media_type, content in answer.get("content", {}).items():
            if not content.get("schema") and not _is_json(media_type):
                content["schema"] = {"type": "string", "format": "binary"}
    errors = ERRORS | (WRITE_ERRORS if method in ("post", "put", "patch", "delete") else {})
    for status, description in errors.items():
        responses.setdefault(status, {"description": description, "content": {
            "application/json": {"schema": {"$ref": REF + "Error"}}}})


def _is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def _describe_parameters(operation: dict[str, Any]) -> None:
    for parameter in operation.get("parameters", []):
        if not parameter.get("description") and parameter["name"].lower() in PARAMETERS:
            parameter["description"] = PARAMETERS[parameter["name"].lower()]


# -- record schemas -----------------------------------------------------------------------------------

def _record_schemas() -> dict[str, Any]:
    """Each record type's JSON Schema (``zhulian.model.json_schema``) as a component named by its type, as the
    API serves it: relations read from a record name the record at their other end ({id, type, name})."""
    schemas: dict[str, Any] = {}
    for type_name in MODELS:
        schema = json_schema(type_name)
        definitions = schema.pop("$defs", {})
        for name, definition in definitions.items():
            if name == "Relation":
                definition = _served_relation(definition)
            schemas.setdefault(name, definition)
        for key in ("$schema", "$id"):
            schema.pop(key, None)
        schema["title"] = f"{TYPE_LABELS[type_name][0]} {type_name}"
        schemas[type_name] = schema
    schemas = _rewrite_refs(schemas)
    schemas["Record"] = {"oneOf": [{"$ref": REF + name} for name in MODELS],
                         "discriminator": {"propertyName": "type", "mapping": {n: REF + n for n in MODELS}}}
    return schemas


def _served_relation(declared: dict[str, Any]) -> dict[str, Any]:
    served = copy.deepcopy(declared)
    for end in ("subject", "object"):
        served["properties"][end]["anyOf"].append({"$ref": REF + "RelationEnd"})
    served["title"] = "Relation"
    return served


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: value.replace("#/$defs/", REF) if key == "$ref" else _rewrite_refs(value)
                for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(item) for item in node]
    return node


# -- the envelopes the record routes answer in -------------------------------------------------------------

def _object(required: list[str], properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties, **extra}


_INT, _STR, _NUM = {"type": "integer"}, {"type": "string"}, {"type": "number"}
_NULLABLE_INT, _NULLABLE_STR = {"type": ["integer", "null"]}, {"type": ["string", "null"]}
ENVELOPES: dict[str, Any] = {
    "Error": _object(["ok", "error"], {
        "ok": {"const": False},
        "error": _object(["code", "message", "message_zh", "details"], {
            "code": _STR, "message": _STR, "message_zh": _STR,
            "details": {"type": "array", "items": _object(["field", "reason", "reason_zh"], {
                "field": _STR, "value": {}, "reason": _STR, "reason_zh": _STR})}})}),
    "RelationEnd": _object(["id", "type", "name"], {"id": _STR, "type": _STR, "name": _STR},
                           description="关系另一端的记录 / the record at the relation's other end"),
    "Group": _object(["key", "key_display_name", "count"], {
        "key": {"type": ["string", "number", "null"]}, "key_display_name": _STR, "count": _INT,
        "districts": {"type": "array", "items": {"$ref": REF + "Group"},
                      "description": "按城市分组时，计入该市的区县 / grouped by city: its districts counted in it"}}),
    "SelectedFields": _object(["id"], {"id": _STR}, description="select= 所选的字段 / the fields select= asked for"),
    "RecordPage": _object(["meta", "results"], {
        "meta": _object(["count", "per_page"], {"count": _INT, "page": _NULLABLE_INT, "per_page": _INT,
                                                "next_cursor": _NULLABLE_STR, "took_ms": _NUM}),
        "results": {"type": "array", "items": {"anyOf": [{"$ref": REF + "Record"}, {"$ref": REF + "SelectedFields"}]}},
        "group_by": {"type": "array", "items": {"$ref": REF + "Group"}}}),
    "SearchPage": _object(["meta", "results"], {
        "meta": _object(["count", "page", "per_page", "q", "sort"], {
            "count": _INT, "page": _INT, "per_page": _INT, "q": _STR, "query_mode": _STR, "sort": _STR,
            "notice": _STR, "notice_zh": _STR, "took_ms": _NUM}),
        "results": {"type": "array", "items": _object(["id", "type", "score"], {
            "id": _STR, "type": _STR, "score": {"type": ["number", "null"]}, "highlights": {"type": "object"}},
            description="记录（字段见 Record）及其得分与高亮 / a record (its fields as in Record) with its score and "
                        "highlights")},
        "group_by": {"type": "array", "items": {"$ref": REF + "Group"}},
        "groups": {"type": "object", "additionalProperties": {"type": "array", "items": {"$ref": REF + "Group"}}}}),
    "Deleted": _object(["ok", "id", "revision", "deleted"], {"ok": {"const": True}, "id": _STR, "revision": _INT,
                                                            "deleted": _STR}),
    "Revisions": _object(["results"], {"results": {"type": "array", "items": _object(
        ["revision", "op", "at"], {"revision": _INT, "op": _STR, "at": _STR})}}),
    "Relations": _object(["results"], {"results": {"type": "array", "items": {"$ref": REF + "Relation"}}}),
    "Job": _object(["id", "kind", "owner", "state", "links"], {
        "id": _STR, "kind": _STR, "owner": _STR, "state": {"enum": ["queued", "running", "succeeded", "failed"]},
        "detail": {"type": ["object", "null"]}, "progress": {"type": ["object", "null"]},
        "result": {"type": ["object", "null"]}, "error": {"type": ["object", "string", "null"]},
        "created": _STR, "started": _NULLABLE_STR, "finished": _NULLABLE_STR, "links": {"type": "object"}}),
    "ImportReport": _object(["ok", "summary", "outcome", "outcome_zh", "problems", "changes"], {
        "ok": {"type": "boolean"}, "summary": {"type": "object"}, "outcome": _STR, "outcome_zh": _STR,
        "problems": {"type": "array", "items": {"type": "object"}},
        "changes": {"type": "array", "items": {"type": "object"}}}),
    "AuditLog": _object(["meta", "results"], {"meta": _object(["count"], {"count": _INT}), "results": {
        "type": "array", "items": _object(["seq", "at", "actor", "role", "action"], {
            "seq": _INT, "at": _STR, "actor": _STR, "role": _STR, "action": _STR, "record_id": _NULLABLE_STR,
            "revision": _NULLABLE_INT, "origin": _NULLABLE_STR, "detail": {"type": ["object", "null"]}})}}),
    "Regions": _object(["results", "circles"], {"results": {"type": "array", "items": {"type": "object"}},
                                               "circles": {"type": "object"}}),
    "JsonSchema": {"type": "object", "required": ["$schema", "properties"],
                   "description": "一类记录的 JSON Schema（2020-12）/ a record type's JSON Schema (2020-12)"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF + name}


# Success answers of the record routes (paths under /api/v1), by method and path.
ANSWERS: dict[tuple[str, str], dict[str, Any]] = {
    ("get", "/{collection}"): {"200": {"anyOf": [_ref("RecordPage"), _ref("SearchPage")]}},
    ("post", "/{collection}"): {"201": _ref("Record")},
    ("get", "/{collection}/{ref}"): {"200": _ref("Record")},
    ("put", "/{collection}/{ref}"): {"200": _ref("Record")},
    ("patch", "/{collection}/{ref}"): {"200": _ref("Record")},
    ("delete", "/{collection}/{ref}"): {"200": _ref("Deleted")},
    ("get", "/{collection}/{ref}/revisions"): {"200": _ref("Revisions")},
    ("get", "/{collection}/{ref}/relations"): {"200": _ref("Relations")},
    ("get", "/schema/{type_name}"): {"200": _ref("JsonSchema")},
    ("get", "/regions"): {"200": _ref("Regions")},
    ("get", "/audit"): {"200": _ref("AuditLog")},
    ("get", "/jobs"): {"200": _object(["meta", "results"], {"meta": _object(["count"], {"count": _INT}),
                                                           "results": {"type": "array", "items": _ref("Job")}})},
    ("get", "/jobs/{job_id}"): {"200": _ref("Job")},
    ("post", "/import/{collection}"): {"200": _ref("ImportReport"), "202": _ref("Job"), "422": _ref("ImportReport")},
    ("get", "/search"): {"200": _ref("SearchPage")},
    ("get", "/export/{collection}.{fmt}"): {"200": {"type": "array", "items": _ref("Record")}},
}
