"""The JSON API (DESIGN §4) and a plain portal page, thin over the store.

This is the foundation's read API; writes, keys and roles, and the full portal arrive with the API
issue. Every error answers in the one error shape with its status; nothing here computes what the store
can answer.
"""

from __future__ import annotations

import html
import time
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse

from zhulian import __version__
from zhulian.config import Settings
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.model import COLLECTIONS, TYPE_BY_COLLECTION, TYPE_LABELS, json_schema, resolve_type
from zhulian.region.cities import CIRCLES, CITIES
from zhulian.store import Store

MAX_PER_PAGE = 200


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    store = store or Store.from_settings(settings or Settings())
    app = FastAPI(title="珠联 Zhulian API", version=__version__, docs_url=None, redoc_url=None)

    @app.exception_handler(ZhulianError)
    async def _zhulian_error(_request: Request, error: ZhulianError) -> JSONResponse:
        return JSONResponse(error.as_dict(), status_code=error.status)

    @app.exception_handler(RequestValidationError)
    async def _request_error(_request: Request, error: RequestValidationError) -> JSONResponse:
        problems = [Problem(".".join(str(p) for p in item["loc"]), item.get("input"), item["msg"], "参数不合法")
                    for item in error.errors()]
        return JSONResponse(invalid(problems, "query").as_dict(), status_code=400)

    @app.get("/api/v1/regions")
    def regions() -> dict[str, Any]:
        return {"results": [city.as_dict() for city in CITIES], "circles": CIRCLES}

    @app.get("/api/v1/schema/{type_name}")
    def schema(type_name: str) -> dict[str, Any]:
        return json_schema(resolve_type(type_name))

    @app.get("/api/v1/changes")
    def changes(since: int = Query(0, ge=0), limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        feed = store.changes(since, limit, with_records=True)
        return {"meta": {"count": len(feed), "since": since, "next_since": feed[-1]["seq"] if feed else since},
                "results": feed}

    @app.get("/api/v1/{collection}")
    def list_collection(collection: str, filter: str | None = None, sort: str = "id", group_by: str | None = None,
                        page: int = Query(1, ge=1, le=10_000),
                        per_page: int = Query(25, ge=1, le=MAX_PER_PAGE)) -> dict[str, Any]:
        started = time.perf_counter()
        type_name = _type_of(collection)
        result = store.query(type_name, filter, sort=sort, limit=per_page, offset=(page - 1) * per_page)
        body: dict[str, Any] = {"meta": {"count": result.count, "page": page, "per_page": per_page},
                                "results": result.results}
        if group_by:
            body["group_by"] = store.group_by(type_name, group_by, filter)
        body["meta"]["took_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return body

    @app.get("/api/v1/{collection}/{ref}")
    def get_record(collection: str, ref: str, revision: int | None = Query(None, ge=1)) -> dict[str, Any]:
        return _in_collection(collection, store.get(ref, revision=revision, expand=revision is None))

    @app.get("/api/v1/{collection}/{ref}/revisions")
    def record_revisions(collection: str, ref: str) -> dict[str, Any]:
        _in_collection(collection, store.get(ref, include_deleted=True))
        return {"results": store.revisions(ref)}

    @app.get("/api/v1/{collection}/{ref}/relations")
    def record_relations(collection: str, ref: str, direction: str = "both",
                         predicate: str | None = None) -> dict[str, Any]:
        _in_collection(collection, store.get(ref))
        return {"results": store.relations(ref, direction=direction, predicate=predicate)}

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return _home_page(store)

    return app


def _type_of(collection: str) -> str:
    if collection not in TYPE_BY_COLLECTION:
        raise ZhulianError("not_found", f"No collection {collection!r}; collections: {', '.join(COLLECTIONS.values())}.",
                           f"没有 {collection!r} 这个集合；可用集合：{'、'.join(COLLECTIONS.values())}。", 404)
    return TYPE_BY_COLLECTION[collection]


def _in_collection(collection: str, record: dict[str, Any]) -> dict[str, Any]:
    type_name = _type_of(collection)
    if record["type"] != type_name:
        raise ZhulianError("not_found", f"{record['id']} is a {record['type']}, not in {collection}.",
                           f"{record['id']} 属于 {COLLECTIONS[record['type']]}，不在 {collection} 中。", 404)
    return record


def _name(record: dict[str, Any]) -> str:
    names = record.get("name") or record.get("title") or {}
    return names.get("zh") or names.get("zh_hant") or names.get("en") or ""


def _home_page(store: Store) -> str:
    """A plain, dependency-free page: what the platform holds, the region, the centres and the targets."""
    counts = store.counts()
    esc = html.escape
    rows = "".join(f"<li><a href='/api/v1/{COLLECTIONS[t]}'>{esc(TYPE_LABELS[t][0])} {t}</a>：{n}</li>"
                   for t, n in sorted(counts.items()))
    cities = "".join(f"<li>{esc(c.zh)} {esc(c.en)} <code>{c.adcode}</code>"
                     f"{'（' + esc(CIRCLES[c.circle]['zh']) + '）' if c.circle else ''}</li>" for c in CITIES)
    platforms = "".join(f"<li><a href='/api/v1/platforms/{r['id']}'>{esc(_name(r))}</a></li>"
                        for r in store.query("platform", limit=50, sort="name").results)
    targets = "".join(
        f"<li>{esc(_name(p))}：{esc(t['indicator'])} {esc(t['comparator'])} {t['value']:g}{esc(t.get('unit', ''))}"
        f"{'（' + str(t['year']) + '年）' if t.get('year') else ''}</li>"
        for p in store.query("policy", limit=50).results for t in p.get("targets", []))
    return f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>珠联 · 珠三角科技协同创新平台</title>
<style>body{{font-family:system-ui,"Noto Sans CJK SC","Microsoft YaHei",sans-serif;max-width:60rem;margin:2rem auto;
padding:0 1rem;line-height:1.6}}h1 small{{font-size:.5em;color:#666}}code{{color:#555}}</style></head>
<body><h1>珠联 <small>Zhulian — Pearl River Delta S&amp;T collaborative-innovation platform</small></h1>
<p>珠三角九市与港澳的科技资源共享平台。接口 API：<a href="/api/v1/orgs">/api/v1/orgs</a>、
<a href="/api/v1/regions">/api/v1/regions</a>、<a href="/openapi.json">/openapi.json</a></p>
<h2>资源 Resources</h2><ul>{rows}</ul>
<h2>区域 Region（1+1+7 与港澳）</h2><ul>{cities}</ul>
<h2>协同创新平台 Platforms</h2><ul>{platforms}</ul>
<h2>政策目标 Policy targets</h2><ul>{targets}</ul>
</body></html>"""
