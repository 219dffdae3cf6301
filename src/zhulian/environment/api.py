"""The environment API: ``/api/v1/env/…`` (stations, AQI, hourly series, alerts, webhooks, report status), the
SensorThings API 1.1 at ``/sta/v1.1``, and the pages of the public platform and the monitoring centre. The router's
lifespan runs the alert thread, the HJ 212 listener when ``ZHULIAN_HJ212_PORT`` is set, and the MQTT subscriber
when ``ZHULIAN_MQTT_HOST`` is."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Form, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from zhulian.environment.alerts import AlertService, AlertWorker
from zhulian.environment.ingest import Ingestor, IngestSettings, Listener, MqttIngest
from zhulian.environment.public import PublicView, chart_parameter, line_chart, station_map
from zhulian.environment.aqi import CHINA
from zhulian.environment.reports import FLOW, MAX_PHOTO_BYTES, STATE_NAMES, ReportService
from zhulian.environment.reports import KINDS as REPORT_KINDS
from zhulian.environment.service import DAY, HOUR, EnvironmentService, china_day_start, parse_time
from zhulian.environment.sta import SETS, SensorThings
from zhulian.environment.sta_query import parse_options
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.web.context import WebContext, while_serving
from zhulian.web.portal import render
from zhulian.web.session import check_csrf, csrf_token

TAGS = ["environment"]
STA_TAGS = ["SensorThings API 1.1"]
STA_ROOT = "/sta/v1.1"


class StaEntity(BaseModel):
    """新建的实体，如读取时所见 / The created entity, as a read of it answers."""
    model_config = ConfigDict(extra="allow")
    iot_id: int | str = Field(alias="@iot.id")
    iot_self_link: str = Field(alias="@iot.selfLink")


# A created entity, or at CreateObservations the link of each Observation created.
STA_CREATED = {201: {"model": StaEntity | list[str], "description": "已创建 / created"}}

_SEGMENT = re.compile(r"^([A-Za-z]+)(?:\((\d+|'[^'/]*')\))?$")


class StaRoute(APIRoute):
    """A route under ``/sta/v1.1``: errors answer in the platform's JSON error shape (the portal would otherwise
    render them as pages, these paths being outside ``/api/``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ZhulianError as error:
                return JSONResponse(error.as_dict(), status_code=error.status)
            except RequestValidationError as error:
                problems = [Problem(".".join(map(str, e["loc"])), None, e["msg"], "参数不合法：" + e["msg"])
                            for e in error.errors()]
                return JSONResponse(invalid(problems, "query").as_dict(), status_code=400)

        return route


def router(context: WebContext) -> APIRouter:
    service = EnvironmentService(context.store)

    alert_service = AlertService(service)

    def alert_worker() -> AlertWorker | None:
        interval = IngestSettings().env_alert_interval_s
        return AlertWorker(alert_service, interval) if interval else None

    alerting = while_serving(alert_worker)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with alerting(app), ingesting(IngestSettings()):  # the listener is the event loop's, not a thread's
            yield

    @asynccontextmanager
    async def ingesting(settings: IngestSettings) -> AsyncIterator[None]:
        if settings.hj212_port is None and settings.mqtt_host is None:
            yield
            return
        ingestor = Ingestor(service)
        ingestor.start()
        server: asyncio.Server | None = None
        mqtt: MqttIngest | None = None
        try:  # a listener that cannot bind fails the start, and the writer thread stops with it
            if settings.hj212_port:
                server = await Listener(ingestor).start(settings.hj212_host, settings.hj212_port)
            if settings.mqtt_host:
                mqtt = MqttIngest(ingestor, settings.mqtt_host, settings.mqtt_port, settings.mqtt_topic)
                mqtt.start()
            yield
        finally:
            if server:
                server.close()
                await server.wait_closed()
            if mqtt:
                mqtt.stop()
            await asyncio.to_thread(ingestor.stop)  # joins the writer thread: off the event loop

    api = APIRouter(lifespan=lifespan)

    @api.get("/api/v1/env/stations", tags=TAGS)
    def stations(city: str | None = Query(None, max_length=6, description="城市 adcode")) -> dict[str, Any]:
        """监测站点 / Monitoring stations, optionally of one city."""
        found = service.stations(city)
        return {"meta": {"count": len(found)}, "results": found}

    @api.get("/api/v1/env/aqi", tags=TAGS)
    def aqi(time: str = Query(..., max_length=40, description="时间 ISO 8601；无时区按北京时间 China time if no offset"),
            station: str | None = Query(None, max_length=24, description="站点 MN"),
            city: str | None = Query(None, max_length=6, description="城市 adcode"),
            kind: str = Query("hourly", max_length=8, description="hourly | daily")) -> dict[str, Any]:
        """空气质量指数，按数据时间适用 HJ 633-2012 或 HJ 633-2026 / The AQI of a station, or of each air station
        in a city and the city itself, per the HJ 633 version in force at that time."""
        return service.aqi(station=station, city=city, at=parse_time(time), kind=kind)

    @api.get("/api/v1/env/hourly", tags=TAGS)
    def hourly(since: str = Query(..., alias="from", max_length=40, description="开始 ISO 8601"),
               until: str = Query(..., alias="to", max_length=40, description="结束 ISO 8601（不含 exclusive）"),
               pollutant: str = Query("PM2.5", max_length=8, description="PM2.5 | PM10 | SO2 | NO2 | CO | O3"),
               station: str | None = Query(None, max_length=24, description="站点 MN"),
               city: str | None = Query(None, max_length=6, description="城市 adcode")) -> dict[str, Any]:
        """小时值序列（图表用，最长 366 天）/ Hourly values of a pollutant for a station or a city's stations, as
        chart series ``[[UTC seconds, value], …]`` (up to 366 days)."""
        return service.hourly_series(station=station, city=city, pollutant=pollutant, since=parse_time(since),
                                     until=parse_time(until))

    @api.get("/api/v1/env/alerts", tags=TAGS)
    def alert_list(request: Request, state: str = Query("active", max_length=12,
                                                         description="active | open | acknowledged | closed")
                   ) -> dict[str, Any]:
        """告警（监控中心工作人员）/ Alerts, for the monitoring centre's staff (a publisher sees its city's)."""
        found = alert_service.alerts(context.principal_of(request), state)
        return {"meta": {"count": len(found)}, "results": found}

    @api.post("/api/v1/env/alerts/{alert_id}/{action}", tags=TAGS)
    async def alert_action(request: Request, alert_id: int, action: str) -> dict[str, Any]:
        """确认或关闭告警 / Acknowledge or close an alert (``action``: acknowledge | close), with an optional
        ``{"note": …}``."""
        if action not in ("acknowledge", "close"):
            raise ZhulianError("not_found", "The action is acknowledge or close.", "操作须为 acknowledge 或 close。", 404)
        body = await request.body()
        principal = context.principal_of(request)

        def work() -> dict[str, Any]:
            note = _json(body).get("note", "") if body.strip() else ""
            act = alert_service.acknowledge if action == "acknowledge" else alert_service.close
            return act(principal, alert_id, note if isinstance(note, str) else "")

        return await anyio.to_thread.run_sync(work)

    @api.get("/api/v1/env/webhooks", tags=TAGS)
    def webhook_list(request: Request) -> dict[str, Any]:
        """告警 Webhook（管理员）/ The webhooks alerts are delivered to (administrators)."""
        return {"results": alert_service.webhooks(context.principal_of(request))}

    @api.post("/api/v1/env/webhooks", tags=TAGS, status_code=201)
    async def webhook_add(request: Request) -> dict[str, Any]:
        """登记 Webhook（管理员）：``{"url": …}`` / Register a webhook (administrators)."""
        body = await request.body()
        principal = context.principal_of(request)

        def work() -> dict[str, Any]:
            parsed = _json(body)
            url = parsed.get("url") if isinstance(parsed, dict) else None
            return alert_service.add_webhook(principal, url if isinstance(url, str) else "")

        return await anyio.to_thread.run_sync(work)

    pages(api, context, service, alert_service)
    sensorthings = SensorThings(service)
    sta = APIRouter(route_class=StaRoute, tags=STA_TAGS)

    def sta_base(request: Request) -> str:
        return str(request.base_url).rstrip("/") + STA_ROOT

    @sta.get(STA_ROOT)
    @sta.get(STA_ROOT + "/", include_in_schema=False)
    def sta_root(request: Request) -> dict[str, Any]:
        """SensorThings 1.1 服务根 / The service root: each entity set and the conformance classes served."""
        base = sta_base(request)
        return {"value": [{"name": name, "url": f"{base}/{name}"} for name in SETS],
                "serverSettings": {"conformance": [
                    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
                    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
                    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
                    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete/create-entity",
                    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete/deep-insert",
                    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array"]}}

    @sta.get(STA_ROOT + "/{path:path}")
    def sta_read(request: Request, path: str) -> dict[str, Any]:
        """SensorThings 读取（公开）/ Read an entity or a collection, with $filter, $orderby, $top, $skip, $count,
        $select, $expand and $resultFormat=dataArray."""
        options = parse_options({k: v for k, v in request.query_params.items() if k.startswith("$")})
        return sensorthings.read(sta_base(request), resource_path(path), options)[0]

    @sta.post(STA_ROOT + "/{path:path}", status_code=201, responses=STA_CREATED)
    async def sta_create(request: Request, path: str) -> JSONResponse:
        """SensorThings 写入（需发布者或管理员密钥）/ Create an entity, with deep insert, or Observations by
        dataArray at ``CreateObservations``; needs a publisher's or an administrator's key."""
        body = await request.body()
        principal = context.principal_of(request)
        base = sta_base(request)

        def work() -> JSONResponse:
            parsed = _json(body)
            if path.strip("/") == "CreateObservations":
                return JSONResponse(sensorthings.create_observations(principal, base, parsed), status_code=201)
            link = sensorthings.create(principal, base, resource_path(path), parsed)
            entity = sensorthings.read(base, resource_path(link[len(base) + 1:]), parse_options({}))[0]
            return JSONResponse(entity, status_code=201, headers={"Location": link})

        return await anyio.to_thread.run_sync(work)

    api.include_router(sta)
    return api


def resource_path(path: str) -> list[tuple[str, str | None]]:
    """``Things(1)/Datastreams`` as ``[("Things", "1"), ("Datastreams", None)]``."""
    segments = []
    for segment in path.strip("/").split("/"):
        match = _SEGMENT.match(segment)
        if not match:
            raise ZhulianError("not_found", f"No SensorThings resource {path!r}; the service root {STA_ROOT} lists "
                               "the entity sets.", f"没有 SensorThings 资源 {path!r}；服务根 {STA_ROOT} 列出全部实体集。",
                               404)
        segments.append((match.group(1), match.group(2)))
    return segments


def _json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise invalid([Problem("(body)", None, f"the body is not valid JSON: {error}", "请求体不是合法的 JSON")]) from None


def pages(api: APIRouter, context: WebContext, service: EnvironmentService, alert_service: AlertService) -> None:
    """The public interaction platform (map, station pages, daily report, citizen reports) and the monitoring
    centre for staff."""
    view = PublicView(service)
    reports = ReportService(context.store)
    principal_of = context.principal_of

    @api.get("/env", response_class=HTMLResponse, include_in_schema=False)
    def map_page(request: Request) -> HTMLResponse:
        stations = [s | {"status": view.status(s)} for s in service.stations()]
        return render(request, "env_map.html", stations=stations, map_svg=station_map(stations))

    @api.get("/env/stations/{mn}", response_class=HTMLResponse, include_in_schema=False)
    def station_page(request: Request, mn: str) -> HTMLResponse:
        station = service.station(mn[:24])
        _, name, unit = chart_parameter(station)
        day = line_chart(view.series(station, 24), f"{name} 小时值 hourly", unit)
        month = line_chart(view.series(station, 30 * 24, daily=True), f"{name} 日均值 daily mean", unit, daily=True)
        return render(request, "env_station.html", station=station, reading=view.status(station), chart_day=day,
                      chart_month=month)

    @api.get("/env/daily", response_class=HTMLResponse, include_in_schema=False)
    def daily_page(request: Request, day: str = Query("", max_length=10)) -> HTMLResponse:
        yesterday = china_day_start(int(time.time())) - DAY
        moment = parse_time(day + "T12:00") if day else datetime.fromtimestamp(yesterday + 12 * HOUR, CHINA)
        rows = [service.aqi(station=s["mn"], at=moment, kind="daily")["results"][0]
                for s in service.stations() if s["kind"] == "air"]
        return render(request, "env_daily.html", day=moment.date().isoformat(), rows=rows)

    @api.get("/env/reports/new", response_class=HTMLResponse, include_in_schema=False)
    def report_form(request: Request) -> HTMLResponse:
        return render(request, "env_report_new.html", kinds=REPORT_KINDS, form={}, csrf=csrf_token(request))

    @api.post("/env/reports", include_in_schema=False, response_model=None)
    async def report_submit(request: Request) -> HTMLResponse | RedirectResponse:
        form = await request.form(max_files=1, max_fields=10)
        check_csrf(request, _text(form.get("csrf")))
        upload = form.get("photo")
        photo = await upload.read(MAX_PHOTO_BYTES + 1) if hasattr(upload, "read") else b""
        fields = {key: _text(form.get(key))[:2100] for key in ("kind", "place", "text", "lon", "lat")}
        address = request.client.host if request.client else "unknown"

        def work() -> HTMLResponse | RedirectResponse:
            try:
                made = reports.submit(kind=fields["kind"], place=fields["place"], text=fields["text"],
                                      lon=_number(fields["lon"], "lon"), lat=_number(fields["lat"], "lat"),
                                      photo=photo or None, address=address)
            except ZhulianError as error:
                reasons = "；".join(p.reason_zh for p in error.details) or error.message_zh
                return render(request, "env_report_new.html", status=error.status, kinds=REPORT_KINDS, form=fields,
                              csrf=csrf_token(request), error=f"{reasons} / {error.message}")
            return RedirectResponse(f"/env/reports/{made['tracking']}", status_code=303)

        return await anyio.to_thread.run_sync(work)

    @api.get("/env/reports", response_class=HTMLResponse, include_in_schema=False, response_model=None)
    def report_lookup(request: Request, tracking: str = Query("", max_length=20)) -> HTMLResponse | RedirectResponse:
        if tracking.strip():
            return RedirectResponse(f"/env/reports/{tracking.strip().upper()}", status_code=303)
        return render(request, "env_report.html", report=None, flow=FLOW, names=STATE_NAMES)

    @api.get("/env/reports/{tracking}", response_class=HTMLResponse, include_in_schema=False)
    def report_page(request: Request, tracking: str) -> HTMLResponse:
        return render(request, "env_report.html", report=reports.public(tracking[:20]), flow=FLOW, names=STATE_NAMES)

    @api.get("/env/reports/{tracking}/photo", include_in_schema=False)
    def report_photo(tracking: str) -> Response:
        photo, media_type = reports.photo(tracking[:20])
        return Response(photo, media_type=media_type, headers={"X-Content-Type-Options": "nosniff",
                                                               "Cache-Control": "private, max-age=300"})

    @api.get("/api/v1/env/reports/{tracking}", tags=TAGS)
    def report_status(tracking: str) -> dict[str, Any]:
        """市民诉求办理进度（公开）/ A citizen report's status and public replies, by its tracking number."""
        found = reports.public(tracking[:20])
        return {key: value for key, value in found.items() if key != "id"}

    @api.get("/env/centre", response_class=HTMLResponse, include_in_schema=False)
    def centre_page(request: Request) -> HTMLResponse:
        principal = principal_of(request)
        staff = principal.role in ("admin", "publisher")
        return render(request, "env_centre.html", staff=staff, csrf=csrf_token(request), names=STATE_NAMES,
                      alerts=alert_service.alerts(principal) if staff else [],
                      reports=reports.for_staff(principal) if staff else [])

    @api.post("/env/centre/alerts/{alert_id}/{action}", include_in_schema=False)
    def centre_alert(request: Request, alert_id: int, action: str, csrf: str = Form("", max_length=100)
                     ) -> RedirectResponse:
        check_csrf(request, csrf)
        if action not in ("acknowledge", "close"):
            raise ZhulianError("not_found", "The action is acknowledge or close.", "操作须为 acknowledge 或 close。", 404)
        act = alert_service.acknowledge if action == "acknowledge" else alert_service.close
        act(principal_of(request), alert_id)
        return RedirectResponse("/env/centre", status_code=303)

    @api.post("/env/centre/reports/{tracking}/{action}", include_in_schema=False)
    def centre_report(request: Request, tracking: str, action: str, csrf: str = Form("", max_length=100),
                      state: str = Form("", max_length=12), reply: str = Form("", max_length=2000)
                      ) -> RedirectResponse:
        check_csrf(request, csrf)
        principal = principal_of(request)
        if action == "advance":
            reports.advance(principal, tracking[:20], state, reply)
        elif action == "hide":
            reports.hide(principal, tracking[:20])
        else:
            raise ZhulianError("not_found", "The action is advance or hide.", "操作须为 advance 或 hide。", 404)
        return RedirectResponse("/env/centre", status_code=303)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _number(text: str, field: str) -> float | None:
    if not text.strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise invalid([Problem(field, text, "give a decimal number or leave it empty", "请填写小数或留空")]) from None
