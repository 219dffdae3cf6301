"""The search API: ``GET /api/v1/search`` across every type and ``GET /api/v1/autocomplete/{collection}``,
answering in the list envelope and the one error shape."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from zhulian.access import search_levels
from zhulian.search.service import MAX_PER_PAGE
from zhulian.web.context import WebContext


def search_router(context: WebContext) -> APIRouter:
    service, principal_of = context.search, context.principal_of
    api = APIRouter()

    @api.get("/api/v1/search", response_model=dict[str, Any])
    def search(request: Request, q: str = Query("", max_length=20_000, description="检索词 query: words AND, OR, \"phrase\", -exclude"),
               type: str | None = Query(None, description="类型，逗号分隔 / types, comma-separated"),
               filter: str | None = Query(None, description="筛选 / filter, e.g. city:440100,year:>2015"),
               sort: str | None = Query(None, description="relevance（默认）或 field[:asc|desc]"),
               group_by: str | None = Query(None, description="分组统计字段 / field to count by"),
               page: int = Query(1, ge=1, le=10_000),
               per_page: int = Query(25, ge=1, le=MAX_PER_PAGE)) -> JSONResponse:
        # In a worker thread, not on the event loop: a search reads the store, and may wait for the first
        # index while it is built. Straight to JSON: the answer is plain JSON already.
        return JSONResponse(service.search(q, type=type, filter=filter, sort=sort, group_by=group_by, page=page,
                                           per_page=per_page, access=search_levels(principal_of(request))))

    @api.get("/api/v1/autocomplete/{collection}")
    def autocomplete(request: Request, collection: str, q: str = Query("", max_length=20_000)) -> dict[str, Any]:
        return service.autocomplete(collection, q, access=search_levels(principal_of(request)))

    @api.get("/api/v1/search/status")
    def status() -> dict[str, Any]:
        return service.status()

    return api
