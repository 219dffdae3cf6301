"""The web application: the REST API (``api``), the search API, and the portal (``portal``), all thin over
the services, behind request limits, with one error shape for every failure."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.middleware.sessions import SessionMiddleware

from zhulian import __version__
from zhulian.config import Settings
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.jobs import JobService
from zhulian.plugins import modules_with
from zhulian.records import RecordService
from zhulian.search.service import SearchService
from zhulian.store import Store
from zhulian.web import i18n
from zhulian.web.api import api_router, unknown_collection_router
from zhulian.web.context import WebContext
from zhulian.web.discovery import discovery_router
from zhulian.web.limits import BodyLimit, RateLimit
from zhulian.web.openapi import openapi_document
from zhulian.web.portal import STATIC, portal_router, templates
from zhulian.web.search import search_router
from zhulian.web.session import SecurityHeaders, key_identifier, principal_resolver

log = logging.getLogger("zhulian.web")


def create_app(settings: Settings | None = None, store: Store | None = None) -> FastAPI:
    settings = settings or Settings()
    store = store or Store.from_settings(settings)
    search = SearchService(store, settings=settings)
    records = RecordService(store)
    jobs = JobService(store)
    principal_of = principal_resolver(store)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Handlers are synchronous and share one interpreter lock; a few threads serve more requests a
        # second than anyio's default forty, which mostly wait on each other.
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.threads
        search.start_follower()  # the index follows the change feed while the app serves
        try:
            yield
        finally:
            search.stop_follower()
            jobs.close()

    app = FastAPI(title="珠联 Zhulian API", version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan,
                  description="珠三角科技协同创新平台接口 / The PRD S&T collaborative-innovation platform's API. "
                              "Errors: {ok: false, error: {code, message, message_zh, details}}.")
    app.state.search = search
    app.state.records = records
    app.state.jobs = jobs

    def error_response(request: Request, error: ZhulianError) -> Response:
        if _wants_html(request):
            lang = i18n.language(request)
            page = templates.get_template("error.html").render(
                lang=lang, w=i18n.words(lang), path=request.url.path, message=error.message,
                message_zh=error.message_zh)
            return HTMLResponse(page, status_code=error.status)
        # A write refused as busy is sent again when the running import is likely done; other 503s soon.
        retry = jobs.retry_after() if error.code == "busy" else 1
        return JSONResponse(error.as_dict(), status_code=error.status,
                            headers={"Retry-After": str(retry)} if error.status == 503 else None)

    @app.exception_handler(ZhulianError)
    async def _zhulian_error(request: Request, error: ZhulianError) -> Response:
        return error_response(request, error)

    @app.exception_handler(RequestValidationError)
    async def _request_error(request: Request, error: RequestValidationError) -> Response:
        problems = [Problem(".".join(str(p) for p in item["loc"]), _plain(item.get("input")), item["msg"],
                            "参数不合法：" + item["msg"]) for item in error.errors()]
        return error_response(request, invalid(problems, "query"))

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, error: HTTPException) -> Response:
        if error.status_code == 404:
            return error_response(request, ZhulianError("not_found", f"No such page or endpoint: {request.url.path}",
                                                        f"没有这个页面或接口：{request.url.path}", 404))
        if error.status_code == 405:
            allowed = (error.headers or {}).get("Allow", "")
            response = error_response(request, ZhulianError(
                "method_not_allowed", f"{request.method} is not allowed here; allowed: {allowed}.",
                f"此处不允许 {request.method} 请求；允许：{allowed}。", 405))
            response.headers["Allow"] = allowed
            return response
        return error_response(request, ZhulianError("http_error", str(error.detail), str(error.detail),
                                                    error.status_code))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return error_response(request, ZhulianError("internal", "Something went wrong on our side; it has been logged.",
                                                    "服务器内部出错，已记录。", 500))

    for folder in sorted(STATIC.parent.parent.glob("*/static")):  # a module's own assets: /static/<module>/
        if folder != STATIC:
            app.mount(f"/static/{folder.parent.name}", StaticFiles(directory=folder), name=f"{folder.parent.name}-static")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    # Record reads and writes first: they are the busiest, and collection names never match a module's paths.
    app.include_router(api_router(records, principal_of, search, jobs))
    context = WebContext(settings, store, records, search, principal_of)
    app.include_router(search_router(context))
    for module in modules_with("api"):
        app.include_router(module.router(context))
    app.include_router(portal_router(records, principal_of, search, jobs))
    app.include_router(discovery_router(records, principal_of))
    app.include_router(unknown_collection_router())
    app.openapi = lambda: openapi_document(app)  # type: ignore[method-assign]
    # Outermost last: limits see every request before sessions or routes do, and every answer, theirs too,
    # gets the security headers.
    app.add_middleware(SessionMiddleware, secret_key=settings.secret(), same_site="strict", max_age=8 * 3600)
    app.add_middleware(RateLimit, per_key=settings.rate_per_key, per_address=settings.rate_per_address,
                       buckets=settings.data_dir / "rate-buckets", identify=key_identifier(store),
                       trusted_proxies=settings.trusted_proxies)
    app.add_middleware(BodyLimit, max_body=settings.max_body_bytes, max_upload=settings.max_upload_bytes)
    app.add_middleware(SecurityHeaders)
    return app


# Machine interfaces answer errors in JSON whatever the path: the API, the standards' own bindings (EPCIS,
# SensorThings), the OpenAPI document and static files. Everything else is a page a person reads.
MACHINE_PATHS = ("/api/", "/openapi", "/static/", "/epcis/", "/sta/")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith(MACHINE_PATHS)


def _plain(value: object) -> object:
    return value if isinstance(value, (str, int, float, bool, type(None))) else repr(value)[:200]
