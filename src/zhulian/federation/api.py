"""The federation's web face: the node description and change feed for harvesters, OAI-PMH for everyone, the
harvest status for admins (API and page), and the scheduled harvest that runs while the app serves."""

from __future__ import annotations

import logging
import threading
from typing import Any

from fastapi import APIRouter, Body, Form, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from zhulian.access import Principal
from zhulian.errors import ZhulianError
from zhulian.federation.conflicts import KEEP, resolve, shown
from zhulian.federation.feed import MAX_LIMIT, describe, feed_page_json, parse_sets, parse_until
from zhulian.federation.harvester import Harvester
from zhulian.federation.locks import FileLock
from zhulian.federation.module_feeds import check_reader, feed_named, module_feed_page, module_feeds
from zhulian.federation.oai import SCHEMA_XSD, Repository
from zhulian.web.context import WebContext, while_serving
from zhulian.web.portal import render
from zhulian.web.session import check_csrf, csrf_token

log = logging.getLogger("zhulian.federation")


# The answers of the feeds, for the OpenAPI document: the routes answer JSON directly (see ``changes``).
class Origin(BaseModel):
    node: str = Field(description="最初写入的节点 / the node that first wrote it")
    id: str | None = None
    revision: int | None = None


class ChangeEntry(BaseModel):
    seq: int
    op: str = Field(description="upsert | delete")
    id: str
    type: str
    revision: int
    at: str
    origin: Origin
    record: dict[str, Any] | None = Field(description="该版本的记录 / the record as of this revision")


class ChangesMeta(BaseModel):
    protocol: str
    node: str
    count: int
    since: str
    next_cursor: str
    next_since: int
    has_more: bool
    last_seq: int
    sets: list[str]


class ChangesPage(BaseModel):
    """变更流的一页 / One page of the change feed."""
    meta: ChangesMeta
    results: list[ChangeEntry]


class ModuleFeedEntry(BaseModel):
    seq: int
    key: str
    at: str
    origin: Origin
    data: Any = Field(description="模块的条目（如 EPCIS 事件）/ the module's entry (an EPCIS event, …)")


class ModuleFeedMeta(BaseModel):
    protocol: str
    node: str
    feed: str
    version: int
    count: int
    since: str
    next_cursor: str
    has_more: bool


class ModuleFeedPage(BaseModel):
    """模块数据流的一页 / One page of a module feed."""
    meta: ModuleFeedMeta
    results: list[ModuleFeedEntry]



def router(context: WebContext) -> APIRouter:
    store, settings, principal_of = context.store, context.settings, context.principal_of
    node = settings.node_identity()
    api = APIRouter(lifespan=while_serving(lambda: Scheduler(context)))  # harvests nodes when they are due

    @api.get("/api/v1/node", tags=["federation"])
    def node_description() -> dict[str, Any]:
        """这个节点是谁、提供什么 / Who this node is and what its feed offers (protocol zhulian-feed/1)."""
        return describe(store, node, [feed.offer() for feed in module_feeds().values()])

    @api.get("/api/v1/changes", tags=["federation"], responses={200: {"model": ChangesPage}})
    def changes(request: Request, since: str = Query("", max_length=200, description="上一页的 next_cursor / cursor"),
                set: str | None = Query(None, max_length=500, description="类型，逗号分隔 / types, comma-separated"),
                until: str | None = Query(None, max_length=40, description="截止时间 ISO-8601 / up to this time"),
                limit: int = Query(100, ge=1, le=MAX_LIMIT)) -> Response:
        """变更流：按序的更新与墓碑，附来源 / The change feed: upserts and tombstones in order, with origins."""
        _require_harvester(principal_of(request))
        # Straight to JSON: a page of a thousand records is plain JSON already, and FastAPI's generic encoder
        # would walk every value of it first.
        return Response(feed_page_json(store, node, since=since, sets=parse_sets(set), until=parse_until(until),
                                       limit=limit), media_type="application/json")

    @api.get("/api/v1/feeds/{name}", tags=["federation"], responses={200: {"model": ModuleFeedPage}})
    def module_feed(request: Request, name: str,
                    since: str = Query("", max_length=200, description="上一页的 next_cursor / cursor"),
                    limit: int = Query(100, ge=1, le=MAX_LIMIT)) -> JSONResponse:
        """模块数据流（如溯源事件），附来源 / A module's feed (trace events, …) in order, with origins
        (protocol zhulian-module-feed/1; the feeds are listed by GET /api/v1/node)."""
        feed = feed_named(name)
        check_reader(feed, principal_of(request))
        return JSONResponse(module_feed_page(store, node, feed, since=since, limit=limit))

    @api.api_route("/oai", methods=["GET", "POST"], include_in_schema=False)
    async def oai(request: Request) -> Response:
        arguments: dict[str, list[str]] = {}
        pairs = request.query_params.multi_items()
        if request.method == "POST":
            pairs = (await request.form()).multi_items()
        for key, value in pairs:
            arguments.setdefault(key, []).append(str(value))
        base = str(request.base_url).rstrip("/") + "/oai"
        repository = Repository(store, node, base, settings.admin_email)
        answer = await run_in_threadpool(repository.respond, arguments)  # database work, off the event loop
        return Response(answer, media_type="text/xml; charset=utf-8")

    @api.get("/oai/zhulian-record.xsd", include_in_schema=False)
    def oai_schema() -> Response:
        return Response(SCHEMA_XSD, media_type="application/xml")

    @api.get("/api/v1/nodes", tags=["federation"])
    def harvested_nodes(request: Request) -> dict[str, Any]:
        """管理员：采集的节点及其进度与冲突 / Admins: the harvested nodes, their progress and conflicts."""
        _require_admin(principal_of(request))
        harvester = Harvester(store, settings)
        try:
            return {"results": harvester.list(), "conflicts": harvester.conflicts()}
        finally:
            harvester.close()

    @api.post("/api/v1/nodes/conflicts/{seq}", tags=["federation"])
    def settle_conflict(request: Request, seq: int, keep: str = Body(..., embed=True, max_length=10,
                                                                       description="local | remote | merged")
                        ) -> dict[str, Any]:
        """管理员：处理采集冲突（审计）/ Admins: settle a harvest conflict, keeping local, remote or merged."""
        principal = principal_of(request)
        _require_admin(principal)
        return resolve(store, principal, seq, keep, origin=_client(request))

    @api.get("/admin/nodes", include_in_schema=False)
    def nodes_page(request: Request, settled: int | None = Query(None, ge=1)) -> HTMLResponse:
        _require_admin(principal_of(request))
        harvester = Harvester(store, settings)
        try:
            return render(request, "nodes.html", node=node, nodes=harvester.list(), conflicts=harvester.conflicts(),
                          keep=KEEP, shown=shown, settled=settled,
                          csrf=csrf_token(request))
        finally:
            harvester.close()

    @api.post("/admin/nodes/conflicts/{seq}", include_in_schema=False)
    def settle_conflict_page(request: Request, seq: int, keep: str = Form(..., max_length=10),
                             csrf: str = Form("", max_length=100)) -> RedirectResponse:
        check_csrf(request, csrf)
        principal = principal_of(request)
        _require_admin(principal)
        resolve(store, principal, seq, keep, origin=_client(request))
        return RedirectResponse(f"/admin/nodes?settled={seq}", status_code=303)

    return api


class Scheduler:
    """Harvests each node whose interval has passed, one at a time, in a thread beside the web app."""

    def __init__(self, context: WebContext, poll_s: float = 1.0) -> None:
        self.context, self.poll_s = context, poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="zhulian-harvest", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        harvester = Harvester(self.context.store, self.context.settings)
        lock = FileLock(self.context.settings.data_dir / "harvest.lock")  # one worker of this server schedules
        try:
            while not self._stop.wait(self.poll_s):
                if not lock.acquire():  # another worker of this server harvests
                    continue
                try:
                    for name in harvester.due():
                        if self._stop.is_set():
                            return
                        outcome = harvester.harvest_if_free(name)  # None: another process harvests it now
                        if outcome is not None and not outcome.ok:
                            log.warning("harvest of %s failed: %s", name, outcome.error)
                except Exception:  # the scheduler outlives any one failure; the next round tries again
                    log.exception("scheduled harvest round failed")
        finally:
            lock.release()
            harvester.close()


def _require_harvester(principal: Principal) -> None:
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", "The change feed needs a harvester key (Authorization: Bearer KEY).",
                           "读取变更流需要采集者密钥（Authorization: Bearer 密钥）。", 401)
    if principal.role not in ("admin", "harvester"):
        raise ZhulianError("forbidden", "The change feed is for harvester and admin keys.",
                           "变更流仅供采集者和管理员密钥使用。", 403)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _require_admin(principal: Principal) -> None:
    if principal.role == "anonymous":
        raise ZhulianError("unauthorized", "Sign in with an admin key first.", "请先用管理员密钥登录。", 401)
    if not principal.is_admin:
        raise ZhulianError("forbidden", "Only admins see the harvest status and settle conflicts.",
                           "只有管理员可以查看采集状态和处理冲突。", 403)
