"""The REST API under /api/v1 (DESIGN §4): one collection per type with the shared list grammar, reads and
writes through the record service (keys, roles, access levels, audit), ETags and If-Match against lost
updates, and the one error shape."""

from __future__ import annotations

import base64
import binascii
import io
import json
import time
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Header, Path, Query, Request, Response, UploadFile
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor

from zhulian.access import Principal, search_levels
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.exchange.formats import BadJSON, read_json
from zhulian.exchange.service import ExchangeService
from zhulian.jobs import JobService
from zhulian.model import COLLECTIONS, TYPE_BY_COLLECTION, json_schema, resolve_type, type_of_collection
from zhulian.records import RecordService
from zhulian.region.cities import CIRCLES, CITIES
from zhulian.web.files import EXPORT_FORMATS, download, file_responses, saved_upload
from zhulian.web.imports import import_answer, submit_import

MAX_PER_PAGE = 200
MAX_INT = 2**62  # sequence numbers and revisions fit a signed 64-bit column on both databases
JSON_TYPES = ("application/json", "application/merge-patch+json")
# Bodies are read by the record service (which reports every problem at once), so the OpenAPI document
# describes them here rather than through a request model.
RECORD_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "记录：字段见 /api/v1/schema/{type} / a record; its fields are in /api/v1/schema/{type}",
    "additionalProperties": True}}}}}


def etag(record: dict[str, Any]) -> str:
    return f'"{record["id"]}.{record["revision"]}"'


def precondition(if_match: str | None, record: dict[str, Any]) -> int:
    """The revision a write to ``record`` may replace (RFC 9110 §13.1.1, RFC 6585 §3): ``If-Match`` is required
    (428 without it) and must name this record's current ETag by strong comparison, id and revision alike,
    or be ``*`` (412 otherwise; a weak tag ``W/"…"`` never matches)."""
    if if_match is None or not if_match.strip():
        raise ZhulianError("precondition_required",
                           f"Send If-Match: {etag(record)} (the ETag from your last read of the record) "
                           "so that no one else's change is overwritten.",
                           f"请发送 If-Match: {etag(record)}（最近一次读取该记录时得到的 ETag），以免覆盖他人的修改。", 428)
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or etag(record) in tags:
        return int(record["revision"])
    raise ZhulianError("stale", f"If-Match does not match {record['id']}'s current ETag {etag(record)}; "
                       "read the record again and reapply your change.",
                       f"If-Match 与记录 {record['id']} 当前的 ETag {etag(record)} 不符，请重新读取后再修改。", 412)


def cursor_offset(cursor: str | None) -> int | None:
    """Cursors are opaque to clients; inside they hold where the next page starts."""
    if cursor is None:
        return None
    if cursor == "*":
        return 0
    try:
        offset = int(json.loads(base64.urlsafe_b64decode(cursor.encode()))["offset"])
        if not 0 <= offset <= MAX_INT:
            raise ValueError(offset)
        return offset
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError, RecursionError):
        raise invalid([Problem("cursor", cursor, "use cursor=* to start and then each next_cursor as given",
                               "请先用 cursor=*，再依次使用返回的 next_cursor")], "query") from None


def make_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise ZhulianError("unsupported_media_type", f"Send JSON (Content-Type: application/json), not {content_type or 'nothing'}.",
                           f"请发送 JSON（Content-Type: application/json），而不是 {content_type or '空'}。", 415)
    try:
        return read_json(await request.body())
    except BadJSON as error:
        raise invalid([Problem("(body)", None, f"the body is refused: {error.reason}",
                               f"请求体无法读取：{error.reason_zh}")], "record") from None


class _Collection(Convertor):
    """Only the collections' names: a route for ``/api/v1/{collection}`` then never shadows a module's own path
    (``/api/v1/search``, ``/api/v1/network/…``), so the busiest routes can come first."""

    @property
    def regex(self) -> str:  # read when a route is built: the collections registered by then, modules' too
        return "|".join(sorted(TYPE_BY_COLLECTION, key=len, reverse=True))

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("collection", _Collection())


def unknown_collection_router() -> APIRouter:
    """Last of all routes: any other name where a collection would be answers which collections there are."""
    router = APIRouter(prefix="/api/v1", include_in_schema=False)

    @router.api_route("/{collection}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    @router.api_route("/{collection}/{rest:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    def unknown(collection: str) -> None:
        type_of_collection(collection)  # raises not_found with the list of collections
        raise ZhulianError("not_found", "No such endpoint.", "没有这个接口。", 404)

    return router


def api_router(records: RecordService, principal_of: Callable[[Request], Principal], search: Any,
               jobs: JobService) -> APIRouter:
    exchange = ExchangeService(records)
    api = APIRouter(prefix="/api/v1")

    def origin(request: Request) -> str:
        """The audit log's origin of an API write (the key is the entry's actor)."""
        return f"api:{request.client.host if request.client else ''}"

    def record_response(record: dict[str, Any], status: int = 200) -> JSONResponse:
        return JSONResponse(record, status_code=status, headers={"ETag": etag(record)})

    @api.get("/regions")
    def regions() -> dict[str, Any]:
        return {"results": [city.as_dict() for city in CITIES], "circles": CIRCLES}

    @api.get("/schema/{type_name}")
    def schema(type_name: str) -> dict[str, Any]:
        return json_schema(resolve_type(type_name))

    @api.get("/audit")
    def audit(request: Request, since: int = Query(0, ge=0, le=MAX_INT), limit: int = Query(100, ge=1, le=1000),
              record: str | None = Query(None, max_length=300)) -> dict[str, Any]:
        entries = records.audit(principal_of(request), since=since, limit=limit, record=record)
        return {"meta": {"count": len(entries)}, "results": entries}

    @api.post("/import/{collection:collection}")
    def import_upload(request: Request, collection: str, file: UploadFile, skip_invalid: bool = Query(False),
                      dry_run: bool = Query(False), clear_empty: bool = Query(False),
                      prefer: str | None = Header(None, description="respond-async：作为后台作业运行，立即返回 202 / "
                                                                    "run as a background job and answer 202 at once")
                      ) -> JSONResponse:
        """Import a CSV, TSV, XLSX, JSON or JSONL file of one type under the key's write rules. Only the
        fields the file gives change; ``clear_empty=true`` makes an empty cell clear its field. ``changes``
        lists per row the fields it changed. With ``Prefer: respond-async`` (RFC 7240) the import runs as a
        background job: 202 at once, ``Location: /api/v1/jobs/{id}`` to follow its progress and read the report."""
        type_name = type_of_collection(collection)
        principal = principal_of(request)
        options = {"type_name": type_name, "skip_invalid": skip_invalid, "dry_run": dry_run,
                   "clear_empty": clear_empty, "name": file.filename, "origin": origin(request)}
        if prefer and "respond-async" in prefer.lower():
            return _import_job(principal, file, options)
        with saved_upload(file) as upload:
            body = import_answer(exchange.import_file(principal, upload, **options), file.filename)
        return JSONResponse(body, status_code=422 if not body["ok"] else 200)

    def _import_job(principal: Principal, file: UploadFile, options: dict[str, Any]) -> JSONResponse:
        job = submit_import(jobs, records, principal, file, options)
        return JSONResponse(job.as_dict(), status_code=202,
                            headers={"Location": f"/api/v1/jobs/{job.id}", "Preference-Applied": "respond-async"})

    @api.get("/jobs")
    def list_jobs(request: Request, limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
        """The caller's background jobs, newest first (an administrator sees everyone's)."""
        found = jobs.list(principal_of(request), limit=limit)
        return {"meta": {"count": len(found)}, "results": [job.as_dict() for job in found]}

    @api.get("/jobs/{job_id}")
    def get_job(request: Request, job_id: str = Path(max_length=40)) -> dict[str, Any]:
        """One job: its state (queued, running, succeeded, failed), progress while it runs, and its result."""
        return jobs.get(principal_of(request), job_id).as_dict()

    @api.get("/export/{collection:collection}.{fmt}", responses=file_responses(*EXPORT_FORMATS))
    def export_download(request: Request, collection: str, fmt: str,
                        filter: str | None = Query(None, max_length=4000)) -> Response:
        """Every record of a collection the key may read, as CSV, XLSX, JSON or JSONL."""
        type_name = type_of_collection(collection)
        if fmt not in EXPORT_FORMATS:
            raise ZhulianError("not_found", f"Export formats: {', '.join(EXPORT_FORMATS)}.",
                               f"导出格式为 {'、'.join(EXPORT_FORMATS)}。", 404)
        buffer = io.BytesIO()
        exchange.export(principal_of(request), type_name, fmt, buffer, filter=filter)
        return download(buffer.getvalue(), f"zhulian-{collection}.{fmt}", fmt)

    @api.get("/{collection:collection}")
    def list_collection(request: Request, collection: str,
                        filter: str | None = Query(None, max_length=4000),
                        search_text: str | None = Query(None, alias="search", max_length=2000),
                        sort: str = Query("id", max_length=200), select: str | None = Query(None, max_length=2000),
                        group_by: str | None = Query(None, max_length=100),
                        page: int = Query(1, ge=1, le=10_000), per_page: int = Query(25, ge=1, le=MAX_PER_PAGE),
                        cursor: str | None = Query(None, max_length=200)) -> dict[str, Any]:
        started = time.perf_counter()
        type_name = type_of_collection(collection)
        principal = principal_of(request)
        if search_text and search_text.strip() and search is not None:
            return search.search(search_text, type=type_name, filter=filter, group_by=group_by, page=page,
                                 per_page=per_page, sort=None if sort == "id" else sort,
                                 access=search_levels(principal))
        offset = cursor_offset(cursor)
        start = offset if offset is not None else (page - 1) * per_page
        result = records.list(principal, type_name, filter, sort=sort, limit=per_page, offset=start)
        meta: dict[str, Any] = {"count": result.count, "page": None if offset is not None else page,
                                "per_page": per_page}
        if offset is not None:
            meta["next_cursor"] = make_cursor(start + per_page) if start + per_page < result.count else None
        body: dict[str, Any] = {"meta": meta, "results": [_select(r, select) for r in result.results]}
        if group_by:
            body["group_by"] = records.group_by(principal, type_name, group_by, filter)
        meta["took_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return body

    @api.post("/{collection:collection}", status_code=201, openapi_extra=RECORD_BODY)
    async def create(request: Request, collection: str) -> JSONResponse:
        body = _typed(await json_body(request), type_of_collection(collection))
        # The write itself is synchronous database work: off the event loop.
        record = await run_in_threadpool(records.create, principal_of(request), body, origin=origin(request))
        response = record_response(record, 201)
        response.headers["Location"] = f"/api/v1/{collection}/{record['id']}"
        return response

    @api.get("/{collection:collection}/{ref}")
    def get_record(request: Request, collection: str, ref: str,
                   revision: int | None = Query(None, ge=1, le=MAX_INT),
                   if_none_match: str | None = Header(None)) -> Response:
        # A worker thread, not the event loop: the read is short on SQLite, but a database round trip on
        # PostgreSQL, and a slow one would hold every other request of this worker behind it.
        record = _in_collection(collection, records.get(principal_of(request), ref, revision=revision))
        if if_none_match and if_none_match.strip() == etag(record):
            return Response(status_code=304, headers={"ETag": etag(record)})
        return record_response(record)

    @api.put("/{collection:collection}/{ref}", openapi_extra=RECORD_BODY)
    async def replace(request: Request, collection: str, ref: str, if_match: str | None = Header(None)) -> JSONResponse:
        """PUT replaces the whole record: fields the body leaves out are removed."""
        body = _typed(await json_body(request), type_of_collection(collection))

        def write() -> dict[str, Any]:
            principal = principal_of(request)
            current = _in_collection(collection, records.get(principal, ref))
            return records.replace(principal, ref, body, expected_revision=precondition(if_match, current),
                                   origin=origin(request))

        record = await run_in_threadpool(write)
        return record_response(record)

    @api.patch("/{collection:collection}/{ref}", openapi_extra=RECORD_BODY)
    async def patch(request: Request, collection: str, ref: str, if_match: str | None = Header(None)) -> JSONResponse:
        """PATCH merges (RFC 7386): given keys replace, null removes, everything else stays."""
        changes = await json_body(request)

        def write() -> dict[str, Any]:
            principal = principal_of(request)
            current = _in_collection(collection, records.get(principal, ref))
            return records.patch(principal, ref, changes, expected_revision=precondition(if_match, current),
                                 origin=origin(request))

        record = await run_in_threadpool(write)
        return record_response(record)

    @api.delete("/{collection:collection}/{ref}")
    def delete(request: Request, collection: str, ref: str, if_match: str | None = Header(None)) -> JSONResponse:
        principal = principal_of(request)
        current = _in_collection(collection, records.get(principal, ref))
        tombstone = records.delete(principal, ref, expected_revision=precondition(if_match, current),
                                   origin=origin(request))
        return JSONResponse({"ok": True, "id": tombstone["id"], "revision": tombstone["revision"],
                             "deleted": tombstone["deleted"]})

    @api.get("/{collection:collection}/{ref}/revisions")
    def record_revisions(request: Request, collection: str, ref: str) -> dict[str, Any]:
        principal = principal_of(request)
        _in_collection(collection, records.get(principal, ref, include_deleted=True))
        return {"results": records.revisions(principal, ref)}

    @api.get("/{collection:collection}/{ref}/relations")
    def record_relations(request: Request, collection: str, ref: str,
                         direction: str = Query("both", pattern="^(in|out|both)$"),
                         predicate: str | None = Query(None, max_length=40)) -> dict[str, Any]:
        principal = principal_of(request)
        _in_collection(collection, records.get(principal, ref))
        return {"results": records.relations(principal, ref, direction=direction, predicate=predicate)}

    return api


def _in_collection(collection: str, record: dict[str, Any]) -> dict[str, Any]:
    type_name = type_of_collection(collection)
    if record["type"] != type_name:
        raise ZhulianError("not_found", f"{record['id']} is a {record['type']}, not in {collection}.",
                           f"{record['id']} 属于 {COLLECTIONS[record['type']]}，不在 {collection} 中。", 404)
    return record


def _typed(body: Any, type_name: str) -> Any:
    """A body sent to a collection is of that collection's type; saying otherwise is an error."""
    if not isinstance(body, dict):
        return body
    body = {"type": type_name, **body}
    if body["type"] != type_name:
        raise invalid([Problem("type", body["type"], f"this collection holds {type_name} records",
                               f"此集合只接受 {type_name} 类型的记录")])
    return body


def _select(record: dict[str, Any], select: str | None) -> dict[str, Any]:
    if not select:
        return record
    wanted = {name.strip() for name in select.split(",") if name.strip()} | {"id"}
    return {key: value for key, value in record.items() if key in wanted}
