"""API discovery: ``GET /api/v1/`` lists every collection with its names, count and links, and the names people
try first (``organizations``, ``persons`` …) redirect to the collection they mean. (``/api/v1/experts`` is the
match module's expert finder; without a topic it redirects to ``people`` itself.)"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from zhulian.access import Principal
from zhulian.model import COLLECTIONS, TYPE_LABELS
from zhulian.records import RecordService
from zhulian.web.files import EXPORT_FORMATS

API = "/api/v1"
# Names users type for a collection, each the canonical collection it means.
ALIASES = {"organizations": "orgs", "organisations": "orgs", "organization": "orgs", "organisation": "orgs",
           "institutions": "orgs", "persons": "people", "person": "people", "expert": "people",
           "researchers": "people"}


def collections() -> list[tuple[str, str, str, str]]:
    """Every collection as (type, collection, Chinese name, English name): the one place that reads the model's
    collection list, so a registry of record types can take its place here alone."""
    return [(type_name, collection, *TYPE_LABELS[type_name]) for type_name, collection in COLLECTIONS.items()]


def discovery_router(records: RecordService, principal_of: Callable[[Request], Principal]) -> APIRouter:
    router = APIRouter()

    @router.get(f"{API}/", tags=["discovery"])
    def index(request: Request) -> dict[str, Any]:
        """接口目录：每个集合的中英文名称、记录数与链接 / The API's index: every collection with its names, the
        number of records the caller can see, and links to list, schema, export and template."""
        counts = {g["key"]: g["count"] for g in records.group_by(principal_of(request), None, "type")}
        results = [{"collection": collection, "type": type_name, "name": {"zh": zh, "en": en},
                    "count": counts.get(type_name, 0),
                    "links": {"list": f"{API}/{collection}", "schema": f"{API}/schema/{type_name}",
                              "export": {fmt: f"{API}/export/{collection}.{fmt}" for fmt in EXPORT_FORMATS},
                              "page": f"/{collection}"}}
                   for type_name, collection, zh, en in collections()]
        return {"meta": {"count": len(results)}, "results": results,
                "aliases": {**ALIASES, "experts": "people"},
                "links": {"search": f"{API}/search", "changes": f"{API}/changes", "regions": f"{API}/regions",
                          "openapi": "/openapi.json", "docs": "/docs"}}

    def redirect(alias: str) -> Callable[..., RedirectResponse]:
        def to_canonical(request: Request, rest: str = "") -> RedirectResponse:
            target = f"{API}/{ALIASES[alias]}" + (f"/{rest}" if rest else "")
            query = request.url.query
            # 308 keeps the method and body, so a POST to /organizations still creates an organisation.
            return RedirectResponse(target + (f"?{query}" if query else ""), status_code=308)
        return to_canonical

    for alias in ALIASES:
        methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
        router.add_api_route(f"{API}/{alias}", redirect(alias), methods=methods, include_in_schema=False)
        router.add_api_route(f"{API}/{alias}/{{rest:path}}", redirect(alias), methods=methods, include_in_schema=False)
    return router
