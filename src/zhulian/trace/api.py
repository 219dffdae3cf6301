"""EPCIS 2.0 over HTTP per GS1's REST binding, at ``/epcis/`` (capture, capture jobs, events, the resource
shortcuts), and the platform's trace at ``/api/v1/trace/back|forward?id=``. Every ``/epcis/`` answer carries
``GS1-EPCIS-Version`` and ``GS1-CBV-Version``; errors are the platform's one JSON error shape there too."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Literal
from urllib.parse import quote, urlencode

import anyio
from fastapi import APIRouter, Form, Query, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.trace import rapid
from zhulian.trace.consumer import ConsumerService, qr
from zhulian.trace.forms import COLUMNS as STEP_COLUMNS
from zhulian.trace.forms import STEPS, ChainForms, template
from zhulian.trace import masterdata
from zhulian.trace.recall import MAX_REASON, RecallService
from zhulian.trace.service import EPC_FORMATS, EPCIS_CONTEXT, TraceService, utc_millis_now
from zhulian.trace.subscriptions import Notifier, SubscriptionService
from zhulian.trace.validation import CAPTURE_LIMIT, parse_json
from zhulian.web.context import WebContext, while_serving
from zhulian.web.files import file_responses
from zhulian.web.portal import render
from zhulian.web.session import check_csrf, csrf_token

VERSION_HEADERS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0", "GS1-EPCIS-Min": "2.0.0",
                   "GS1-EPCIS-Max": "2.0.0", "GS1-CBV-Min": "2.0.0", "GS1-CBV-Max": "2.0.0"}
_RESOURCES = {"eventTypes": "eventType", "bizSteps": "EQ_bizStep", "dispositions": "EQ_disposition",
              "readPoints": "EQ_readPoint", "bizLocations": "EQ_bizLocation", "epcs": "MATCH_anyEPC"}


class RecallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=500, description="出问题的批次或产品 the lot or item at fault")
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="召回原因 why")


# What the EPCIS routes answer, for the OpenAPI document: events are as captured (the REST binding's JSON-LD),
# so only the fields every event has are named and the rest are allowed.
class JsonLdResponse(JSONResponse):
    media_type = "application/ld+json"


class EpcisEvent(BaseModel):
    """EPCIS 2.0 事件（JSON-LD）/ An EPCIS 2.0 event, in JSON-LD as captured."""
    model_config = ConfigDict(extra="allow")
    type: str = Field(description="ObjectEvent | AggregationEvent | TransactionEvent | TransformationEvent | "
                                  "AssociationEvent")
    eventTime: str  # noqa: N815 (the binding's names)
    eventTimeZoneOffset: str  # noqa: N815


class EpcisEventDocument(EpcisEvent):
    context: list[Any] = Field(alias="@context")


class ResultsBody(BaseModel):
    eventList: list[EpcisEvent]  # noqa: N815


class QueryResults(BaseModel):
    queryName: str  # noqa: N815
    resultsBody: ResultsBody  # noqa: N815


class QueryBody(BaseModel):
    queryResults: QueryResults  # noqa: N815


class EpcisQueryDocument(BaseModel):
    """查询结果（EPCISQueryDocument）/ Query results; the next page is in ``Link: rel="next"``."""
    context: list[Any] = Field(alias="@context")
    type: Literal["EPCISQueryDocument"]
    schemaVersion: str  # noqa: N815
    creationDate: str  # noqa: N815
    epcisBody: QueryBody  # noqa: N815


class CaptureJob(BaseModel):
    """采集任务 / A capture job, as the REST binding shows it."""
    captureID: str  # noqa: N815
    createdAt: str  # noqa: N815
    finishedAt: str | None  # noqa: N815
    running: bool
    success: bool
    captureErrorBehaviour: str = Field(description="rollback | proceed")  # noqa: N815
    eventCount: int  # noqa: N815
    storedCount: int  # noqa: N815
    errors: list[dict[str, Any]] = Field(description="未保存事件的问题 / the problems of events not stored")
    eventIDs: list[str] | None = Field(None, description="已保存的事件 / the events stored")  # noqa: N815


class CapturedEvent(BaseModel):
    eventID: str  # noqa: N815
    captureID: str  # noqa: N815


class NamedQuery(BaseModel):
    name: str
    query: dict[str, list[str]] = Field(description="SimpleEventQuery 参数 / its parameters")
    createdAt: str  # noqa: N815


class Subscription(BaseModel):
    subscriptionID: str  # noqa: N815
    queryName: str  # noqa: N815
    dest: str
    createdAt: str  # noqa: N815
    lastNotifiedAt: str | None  # noqa: N815
    initialRecordTime: str | None  # noqa: N815
    minRecordTime: str  # noqa: N815
    epcFormat: str  # noqa: N815
    reportIfEmpty: bool  # noqa: N815
    signed: bool = Field(description="报告是否带 GS1-Signature / whether reports are signed")
    stream: bool | None = None
    schedule: dict[str, Any] | None = None


class EpcisRoute(APIRoute):
    """A route under ``/epcis/``: refuses versions other than 2.0, answers errors as JSON (the portal would
    otherwise render them as pages, these paths being outside ``/api/``) and stamps the version headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                _check_versions(request)
                response = await handler(request)
            except ZhulianError as error:
                response = JSONResponse(error.as_dict(), status_code=error.status)
            except RequestValidationError as error:
                problems = [Problem(".".join(map(str, e["loc"])), None, e["msg"], "参数不合法：" + e["msg"])
                            for e in error.errors()]
                response = JSONResponse(invalid(problems, "query").as_dict(), status_code=400)
            response.headers.update(VERSION_HEADERS)
            return response

        return route


def router(context: WebContext) -> APIRouter:
    service = TraceService(context.store)
    standing = SubscriptionService(context.store, context.settings.trace_webhook_hosts)
    recalls = RecallService(context.store)
    forms = ChainForms(context.store)
    consumer = ConsumerService(context.store)
    master = masterdata.MasterData(context.store)
    upload_limit = context.settings.max_upload_bytes
    principal_of = context.principal_of
    file_limit = context.settings.max_body_bytes
    limits = {"GS1-EPCIS-Capture-Limit": str(CAPTURE_LIMIT), "GS1-EPCIS-Capture-File-Size-Limit": str(file_limit)}
    epcis = APIRouter(prefix="/epcis", route_class=EpcisRoute, tags=["EPCIS 2.0"])

    def origin(request: Request) -> str | None:
        return request.client.host if request.client else None

    async def off_the_loop(request: Request, work: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
        """Read the body on the loop; parse it, check it and store it in a worker thread."""
        body = await request.body()
        return await anyio.to_thread.run_sync(lambda: work(parse_json(body, limit=file_limit)))

    @epcis.get("/")
    def discovery() -> dict[str, Any]:
        """EPCIS 2.0 资源 / The resources this EPCIS 2.0 repository offers."""
        return {"resources": ["capture", "events", *_RESOURCES], "epcisVersion": "2.0.0", "cbvVersion": "2.0.0",
                "captureLimit": CAPTURE_LIMIT, "captureFileSizeLimit": file_limit}

    @epcis.options("/capture", status_code=204, response_class=Response)
    def capture_options() -> Response:
        return Response(status_code=204, headers={**limits, "Allow": "OPTIONS, GET, POST"})

    @epcis.get("/capture")
    def capture_jobs(request: Request, perPage: int = Query(30, ge=1, le=200)) -> dict[str, Any]:  # noqa: N803
        """采集任务列表 / The latest capture jobs, newest first."""
        return {"captureJobs": service.capture_jobs(principal_of(request), perPage)}

    @epcis.post("/capture", status_code=202, responses={202: {"model": CaptureJob}})
    async def capture(request: Request) -> JSONResponse:
        """采集 EPCISDocument / Capture an EPCISDocument: 202 and ``Location`` of the capture job.
        ``GS1-Capture-Error-Behaviour``: ``rollback`` (default, all or nothing) or ``proceed``."""
        behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").strip().lower()
        job = await off_the_loop(request, lambda document: service.capture(
            principal_of(request), document, behaviour=behaviour, origin=origin(request)))
        return JSONResponse(job, status_code=202,
                            headers={**limits, "Location": f"/epcis/capture/{job['captureID']}"})

    @epcis.get("/capture/{capture_id}")
    def capture_job(request: Request, capture_id: str) -> dict[str, Any]:
        """采集任务状态 / A capture job: running, success, captureErrorBehaviour, errors."""
        return service.capture_job(principal_of(request), capture_id)

    @epcis.post("/events", status_code=201, responses={201: {"model": CapturedEvent}})
    async def add_event(request: Request) -> JSONResponse:
        """采集单个事件 / Capture one event (201); a duplicate answers 409."""
        created = await off_the_loop(request, lambda event: service.add_event(
            principal_of(request), event, origin=origin(request)))
        return JSONResponse(created, status_code=201,
                            headers={"Location": f"/epcis/events/{quote(created['eventID'], safe='')}"})

    @epcis.get("/events", response_class=JsonLdResponse, responses={200: {"model": EpcisQueryDocument}})
    def query_events(request: Request) -> JSONResponse:
        """SimpleEventQuery（查询参数见 REST 绑定）/ Events by SimpleEventQuery parameters, paged with
        ``perPage`` and ``nextPageToken`` (``Link: rel="next"``)."""
        return _query(request, _parameters(request))

    @epcis.get("/events/{event_id:path}", response_class=JsonLdResponse,
                responses={200: {"model": EpcisEventDocument}})
    def get_event(request: Request, event_id: str) -> JSONResponse:
        """按 eventID 读取事件 / One event by its eventID (or its hash)."""
        event = service.event(principal_of(request), event_id, epc_format=_epc_format(request))
        return JsonLdResponse({"@context": [EPCIS_CONTEXT], **event})

    @epcis.get("/queries")
    def named_queries(request: Request) -> dict[str, Any]:
        """命名查询 / The named queries."""
        return {"queries": standing.queries(principal_of(request))}

    @epcis.post("/queries", status_code=201, responses={201: {"model": NamedQuery}})
    async def create_query(request: Request) -> JSONResponse:
        """创建命名查询 / Name a query: ``{"name": …, "query": {SimpleEventQuery parameters}}``."""
        created = await off_the_loop(request, lambda body: standing.create_query(
            principal_of(request), body.get("name") if isinstance(body, dict) else None,
            body.get("query") if isinstance(body, dict) else None))
        return JSONResponse(created, status_code=201,
                            headers={"Location": f"/epcis/queries/{quote(created['name'], safe='')}"})

    @epcis.get("/queries/{name}")
    def named_query(request: Request, name: str) -> dict[str, Any]:
        return standing.query(principal_of(request), name)

    @epcis.delete("/queries/{name}", status_code=204)
    def delete_query(request: Request, name: str) -> Response:
        """删除命名查询及其订阅 / Delete a named query and its subscriptions."""
        standing.delete_query(principal_of(request), name)
        return Response(status_code=204)

    @epcis.get("/queries/{name}/events", response_class=JsonLdResponse,
                responses={200: {"model": EpcisQueryDocument}})
    def named_query_events(request: Request, name: str) -> JSONResponse:
        """运行命名查询 / The named query's events now, paged like ``/epcis/events``."""
        paging = {k: v for k, v in _parameters(request).items() if k in ("perPage", "nextPageToken")}
        found, token = standing.query_events(principal_of(request), name, paging, epc_format=_epc_format(request))
        return _results(request, name, found, token, paging)

    @epcis.get("/queries/{name}/subscriptions")
    def query_subscriptions(request: Request, name: str) -> dict[str, Any]:
        return {"subscriptions": standing.subscriptions(principal_of(request), name)}

    @epcis.post("/queries/{name}/subscriptions", status_code=201, responses={201: {"model": Subscription}})
    async def subscribe(request: Request, name: str) -> JSONResponse:
        """订阅（webhook）/ Subscribe a webhook ``dest`` with ``stream: true`` or a ``schedule``; reports are
        signed with ``GS1-Signature`` (HMAC-SHA256 of the body) when a ``signatureToken`` is given."""
        epc_format = _epc_format(request)
        created = await off_the_loop(request, lambda body: standing.subscribe(
            principal_of(request), name, body, epc_format=epc_format))
        location = f"/epcis/queries/{quote(name, safe='')}/subscriptions/{created['subscriptionID']}"
        return JSONResponse(created, status_code=201, headers={"Location": location})

    @epcis.get("/queries/{name}/subscriptions/{subscription_id}")
    def query_subscription(request: Request, name: str, subscription_id: str) -> dict[str, Any]:
        return standing.subscription(principal_of(request), name, subscription_id)

    @epcis.delete("/queries/{name}/subscriptions/{subscription_id}", status_code=204)
    def unsubscribe(request: Request, name: str, subscription_id: str) -> Response:
        standing.unsubscribe(principal_of(request), name, subscription_id)
        return Response(status_code=204)

    @epcis.get("/{resource}")
    def list_resource(request: Request, resource: str) -> dict[str, Any]:
        """事件类型、业务步骤、处置、读取点、业务地点、EPC 列表 / What a resource holds."""
        return {"member": service.distinct(principal_of(request), _resource(resource))}

    @epcis.get("/{resource}/{value:path}/events", response_class=JsonLdResponse,
                responses={200: {"model": EpcisQueryDocument}})
    def resource_events(request: Request, resource: str, value: str) -> JSONResponse:
        """资源下的事件 / Events of one event type, business step, disposition, place or EPC."""
        return _query(request, {**_parameters(request), _RESOURCES[_resource(resource)]: value})

    def _query(request: Request, parameters: dict[str, str]) -> JSONResponse:
        found, token = service.query(principal_of(request), parameters, epc_format=_epc_format(request))
        return _results(request, "SimpleEventQuery", found, token, parameters)

    def _results(request: Request, name: str, found: list[dict[str, Any]], token: str | None,
                 parameters: dict[str, str]) -> JSONResponse:
        document = {"@context": [EPCIS_CONTEXT], "type": "EPCISQueryDocument", "schemaVersion": "2.0",
                    "creationDate": utc_millis_now(),
                    "epcisBody": {"queryResults": {"queryName": name, "resultsBody": {"eventList": found}}}}
        headers = {}
        if token:
            following = {k: v for k, v in parameters.items() if k != "nextPageToken"} | {"nextPageToken": token}
            headers["Link"] = f'<{request.url.path}?{urlencode(following)}>; rel="next"'
        return JsonLdResponse(document, headers=headers)

    trace_api = APIRouter(tags=["trace 溯源"])

    @trace_api.post("/api/v1/trace/recalls", status_code=201)
    def recall(request: Request, body: RecallRequest) -> dict[str, Any]:
        """召回（管理员、发布者）/ Recall (admins, publishers): back to the source lots, forward to every affected
        lot, a ``recalled`` event captured for each; the recall list."""
        return recalls.recall(principal_of(request), body.id, body.reason, origin=origin(request))

    @trace_api.get("/api/v1/trace/recalls")
    def recall_cases(request: Request) -> dict[str, Any]:
        """召回案件，最新在前 / Recall cases, newest first (executed, or opened by a rapid test for review)."""
        return {"recalls": recalls.cases(principal_of(request))}

    @trace_api.get("/api/v1/trace/recalls/{case_id}")
    def recall_case(request: Request, case_id: str) -> dict[str, Any]:
        return recalls.case(principal_of(request), case_id)

    @trace_api.post("/api/v1/trace/recalls/{case_id}/execute")
    def execute_recall(request: Request, case_id: str) -> dict[str, Any]:
        """执行待审核的召回 / Execute a recall case under review."""
        return recalls.execute(principal_of(request), case_id, origin=origin(request))

    @trace_api.get("/api/v1/trace/recalls/{case_id}/list.xlsx", response_class=Response,
                   responses=file_responses("xlsx"))
    def recall_list(request: Request, case_id: str) -> Response:
        """召回清单（XLSX，中文表头，可筛选排序）/ The recall list as a sortable spreadsheet."""
        return Response(recalls.spreadsheet(principal_of(request), case_id), headers={
            "Content-Disposition": f'attachment; filename="recall-{case_id}.xlsx"'},
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    @trace_api.get("/admin/trace/recalls", response_class=HTMLResponse, include_in_schema=False)
    def recalls_page(request: Request) -> HTMLResponse:
        return render(request, "trace_recalls.html", cases=recalls.cases(principal_of(request)),
                      csrf=csrf_token(request))

    @trace_api.post("/admin/trace/recalls", include_in_schema=False)
    def recall_from_page(request: Request, id: str = Form(..., max_length=500),
                         reason: str = Form(..., max_length=MAX_REASON),
                         csrf: str = Form("", max_length=100)) -> RedirectResponse:
        check_csrf(request, csrf)
        recalls.recall(principal_of(request), id, reason, origin=origin(request))
        return RedirectResponse("/admin/trace/recalls", status_code=303)

    @trace_api.post("/admin/trace/recalls/{case_id}/execute", include_in_schema=False)
    def execute_from_page(request: Request, case_id: str, csrf: str = Form("", max_length=100)) -> RedirectResponse:
        check_csrf(request, csrf)
        recalls.execute(principal_of(request), case_id, origin=origin(request))
        return RedirectResponse("/admin/trace/recalls", status_code=303)

    @trace_api.post("/api/v1/trace/steps", status_code=201)
    async def record_step(request: Request) -> dict[str, Any]:
        """记录一个环节（种植、养殖、加工、发货、收货、储存、销售、消费、快检）/ Record one step of the chain in
        Chinese terms (the template's columns as JSON); stored as an EPCIS event through capture."""
        return await off_the_loop(request, lambda form: forms.record(
            principal_of(request), form if isinstance(form, dict) else {}, origin=origin(request)))

    @trace_api.post("/api/v1/trace/steps/import", status_code=201)
    async def import_steps(request: Request, file: UploadFile) -> dict[str, Any]:
        """从 CSV/XLSX 导入环节（全部或全不）/ Steps from a CSV or XLSX (all rows or none)."""
        content = await file.read(upload_limit + 1)
        if len(content) > upload_limit:
            raise ZhulianError("too_large", f"The file is over {upload_limit:,} bytes.",
                               f"文件超过 {upload_limit:,} 字节。", 413)
        return await anyio.to_thread.run_sync(lambda: forms.import_rows(
            principal_of(request), content, file.filename or "", origin=origin(request)))

    @trace_api.get("/api/v1/trace/steps/template", response_class=Response, responses=file_responses("xlsx", "csv"))
    def step_template(format: str = Query("xlsx", pattern="^(xlsx|csv)$")) -> Response:
        """环节模板（中文表头、示例行）/ The steps template: Chinese headers and an example row."""
        content, media_type = template(format)
        return Response(content, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="trace-steps.{format}"'})

    @trace_api.post("/api/v1/trace/locations/import", status_code=201)
    async def import_locations(request: Request, file: UploadFile) -> dict[str, Any]:
        """地点与参与方主数据（GLN → 名称、城市）从 CSV/XLSX 导入（全部或全不）/ Location and party master data
        (GLN → name, city) from a CSV or XLSX (all rows or none)."""
        content = await file.read(upload_limit + 1)
        if len(content) > upload_limit:
            raise ZhulianError("too_large", f"The file is over {upload_limit:,} bytes.",
                               f"文件超过 {upload_limit:,} 字节。", 413)
        return await anyio.to_thread.run_sync(lambda: master.import_rows(
            principal_of(request), content, file.filename or ""))

    @trace_api.get("/api/v1/trace/locations/template", response_class=Response,
                   responses=file_responses("xlsx", "csv"))
    def location_template(format: str = Query("xlsx", pattern="^(xlsx|csv)$")) -> Response:
        """地点主数据模板 / The location master-data template: Chinese headers and an example row."""
        content, media_type = masterdata.template(format)
        return Response(content, media_type=media_type,
                        headers={"Content-Disposition": f'attachment; filename="trace-locations.{format}"'})

    @trace_api.get("/api/v1/trace/locations")
    def locations(request: Request, id: list[str] = Query(..., description="GLN、SGLN/PGLN 或 GS1 数字链接")
                  ) -> dict[str, Any]:
        """GLN 对应的名称与城市 / What each GLN names (master data, then organisations by their gln pid)."""
        return {"places": master.lookup(principal_of(request), id)}

    @trace_api.get("/api/v1/trace/rapid-tests/supervision")
    def supervision(request: Request, since: str | None = Query(None, max_length=30),
                    until: str | None = Query(None, max_length=30)) -> dict[str, Any]:
        """快检监管：按城市、产品类别、检测项目统计，按月不合格率 / Rapid tests by city, product class and
        analyte; the monthly non-conformance rate."""
        return rapid.supervision(context.store, principal_of(request), since, until)

    @trace_api.get("/trace/supervision", response_class=HTMLResponse, include_in_schema=False)
    def supervision_page(request: Request, since: str | None = Query(None, max_length=30),
                         until: str | None = Query(None, max_length=30)) -> HTMLResponse:
        views = rapid.supervision(context.store, principal_of(request), since, until)
        title = "快检不合格率（按月）/ Non-conformance rate by month"
        return render(request, "trace_supervision.html", views=views, since=since or "", until=until or "",
                      chart=rapid.rate_chart(views["byMonth"], title))

    @trace_api.get("/trace/record", response_class=HTMLResponse, include_in_schema=False)
    def record_page(request: Request) -> HTMLResponse:
        return render(request, "trace_record.html", steps=STEPS, csrf=csrf_token(request), recorded=None)

    @trace_api.post("/trace/record", response_class=HTMLResponse, include_in_schema=False)
    async def record_from_page(request: Request) -> HTMLResponse:
        form = dict((await request.form()).items())
        check_csrf(request, str(form.pop("csrf", "")))
        fields = {key: str(form[key]).strip() for key, _, _, _ in STEP_COLUMNS if key in form}

        def record_and_show() -> HTMLResponse:  # the store and the template off the event loop
            recorded = forms.record(principal_of(request), fields, origin=origin(request))
            return render(request, "trace_record.html", steps=STEPS, csrf=csrf_token(request), recorded=recorded)

        return await anyio.to_thread.run_sync(record_and_show)

    @trace_api.get("/api/v1/trace/codes")
    def trace_code(request: Request, id: str = Query(..., min_length=1, max_length=500)) -> dict[str, Any]:
        """批次或产品的溯源码与二维码（发布者、管理员）/ The trace code of a lot or item, its consumer page and
        QR codes (publishers, admins)."""
        code = consumer.code(principal_of(request), id)
        page = f"/t/{quote(code)}"
        return {"id": id, "code": code, "url": str(request.base_url).rstrip("/") + page,
                "qrPng": f"{page}/qr.png", "qrSvg": f"{page}/qr.svg"}

    @trace_api.get("/t/{code}/qr.{kind}", include_in_schema=False)
    def trace_qr(request: Request, code: str, kind: str) -> Response:
        if kind not in ("png", "svg"):
            raise ZhulianError("not_found", "QR codes are qr.png or qr.svg.", "二维码为 qr.png 或 qr.svg。", 404)
        consumer.identifier(code)
        content, media_type = qr(str(request.base_url).rstrip("/") + f"/t/{quote(code)}", kind)
        return Response(content, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"})

    @trace_api.get("/t/{code}", response_class=HTMLResponse, include_in_schema=False)
    def consumer_page(request: Request, code: str) -> HTMLResponse:
        """The consumer page behind a QR code: public, phone first, in Chinese."""
        return render(request, "trace_consumer.html", view=consumer.page(code))

    @trace_api.get("/api/v1/trace/{direction}")
    def trace(request: Request, direction: str,
              id: str = Query(..., min_length=1, max_length=500, description="EPC、GS1 数字链接或其他标识")
              ) -> dict[str, Any]:
        """溯源（back）与追踪（forward）/ Trace back (sources) or forward (destinations) from an identifier."""
        return service.trace(principal_of(request), id, direction)

    # Reports to webhook subscribers, with retries, while the app serves.
    api = APIRouter(lifespan=while_serving(
        lambda: Notifier(context.store, webhook_hosts=context.settings.trace_webhook_hosts)))
    api.include_router(epcis)
    api.include_router(trace_api)
    return api


def _parameters(request: Request) -> dict[str, str]:
    """Query parameters; one given twice counts as both values (``a|b``, the binding's pipe-delimited list)."""
    found: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        found[name] = f"{found[name]}|{value}" if name in found else value
    return found


def _resource(resource: str) -> str:
    if resource not in _RESOURCES:
        raise ZhulianError("not_found", f"No EPCIS resource {resource!r}; resources: {', '.join(_RESOURCES)}.",
                           f"没有 EPCIS 资源 {resource!r}；可用资源：{'、'.join(_RESOURCES)}。", 404)
    return resource


def _epc_format(request: Request) -> str:
    wanted = request.headers.get("GS1-EPC-Format", "No_Preference")
    if wanted not in EPC_FORMATS:
        raise invalid([Problem("GS1-EPC-Format", wanted, f"one of {', '.join(EPC_FORMATS)}",
                               f"应为 {'、'.join(EPC_FORMATS)} 之一")], "query")
    return wanted


def _check_versions(request: Request) -> None:
    """A client asking for an EPCIS or CBV version this repository does not speak is told 406: an exact
    version other than 2.0.x, a minimum above it or a maximum below it."""
    for header, refused in (("Version", lambda v: v[:2] != (2, 0)), ("Min", lambda v: v[:2] > (2, 0)),
                            ("Max", lambda v: v[:2] < (2, 0))):
        for standard in ("EPCIS", "CBV"):
            wanted = request.headers.get(f"GS1-{standard}-{header}")
            if wanted and refused(_version(wanted)):
                _refuse_version(f"GS1-{standard}-{header}", wanted)


def _version(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.strip().split("."))
    except ValueError:
        return (-1,)


def _refuse_version(header: str, wanted: str) -> None:
    raise ZhulianError("not_acceptable", f"{header}: {wanted} is not served; this repository speaks EPCIS 2.0.0 "
                       "and CBV 2.0.0.", f"不支持 {header}: {wanted}；本库支持 EPCIS 2.0.0 与 CBV 2.0.0。", 406)
