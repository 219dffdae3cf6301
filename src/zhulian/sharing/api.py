"""Shared instruments and vouchers over HTTP: profiles, calendars and bookings under ``/api/v1/instruments/{id}/``
and ``/api/v1/bookings``, statements and the yearly evaluation under ``/api/v1/sharing/``, vouchers under
``/api/v1/vouchers``; and the portal's instrument page with its calendar (``/sharing/instruments/{id}``), the
yearly report (``/sharing/report``) and the voucher flows between cities (``/sharing/vouchers/flows``)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from zhulian.region.cities import CITIES
from zhulian.sharing.charts import flows_svg, flows_xlsx, report_svg, report_xlsx
from zhulian.sharing.evaluation import yearly_report
from zhulian.sharing.profile import CHINA, UNITS, USER_CLASSES
from zhulian.sharing.service import CALENDAR_DAYS, STATES, SharingService
from zhulian.sharing.vouchers import VoucherService
from zhulian.store import FeedFollower
from zhulian.web import i18n
from zhulian.web.context import WebContext, while_serving
from zhulian.web.portal import render

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Year = Query(..., ge=2000, le=2100, description="年度 year")
Format = Query("json", description="json | xlsx | svg")
ADCODE = r"^\d{6}$"
RELAY_INTERVAL_S = 2.0  # how often decisions on forwarded bookings are pulled back


class Names(BaseModel):
    zh: str
    en: str


class Tally(BaseModel):
    """一年的使用与开放情况 / A year's use and openness."""
    instruments: int
    bookings: int
    hours: float
    external_hours: float = Field(description="外单位机时 / hours of users from elsewhere")
    external_share: float
    users_inside: int
    users_outside: int
    users_by_city: dict[str, int]
    income: float = Field(description="收入（元）/ income, yuan")
    rating: float | None
    ratings: int


class CityTally(Tally):
    city: str
    name: Names


class HostTally(Tally):
    host: str
    city: str
    name: Names


class InstrumentTally(Tally):
    id: str
    name: str
    host: str | None
    city: str | None


class YearlyReport(BaseModel):
    """开放共享年度评价 / The yearly open-sharing evaluation."""
    year: int
    city: str | None
    region: Tally
    cities: list[CityTally]
    hosts: list[HostTally]
    instruments: list[InstrumentTally]


class FlowCity(BaseModel):
    key: str
    name: Names


class VoucherFlows(BaseModel):
    """创新券跨市流向：行为发券城市，列为服务方城市 / Rows: issuing cities; columns: providers' cities."""
    year: int | None
    settled_only: bool
    cities: list[FlowCity]
    matrix: list[list[float]] = Field(description="金额（元）/ yuan")
    counts: list[list[int]]
    total: float
    across_cities: float
    unit: Names


def _json_xlsx_or_svg(model: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The answer of a route whose ``format`` is json, xlsx or svg."""
    return {200: {"model": model, "description": "json | xlsx | svg", "content": {XLSX: {}, "image/svg+xml": {}}}}


class BookingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str = Field(max_length=40, description="开始 ISO 8601; without an offset, China's time (UTC+8)")
    end: str = Field(max_length=40, description="结束 ISO 8601")
    service: str = Field(max_length=40, description="服务代码 a service the profile offers")
    samples: int = Field(0, ge=0, le=10_000, description="样品数 samples")
    purpose: str = Field(max_length=2_000, description="用途 what the instrument is for")
    organization: str | None = Field(None, max_length=300, description="预约单位 the booking organisation's record")
    on_behalf_of: str | None = Field(None, max_length=200, description="代为预约 the user a forwarding node books for")


class Reason(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(max_length=2_000, description="原因 why")


class Usage(BaseModel):
    model_config = ConfigDict(extra="forbid")

    hours: float = Field(description="使用机时 hours used")
    samples: int | None = Field(None, description="样品数 samples run (the booked number if left out)")


class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rating: int = Field(description="评分 1–5")
    comment: str | None = Field(None, max_length=2_000, description="评价 comment")


class ProgramRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: str = Field(max_length=6)
    year: int
    name: str = Field(max_length=200)
    budget: float = Field(description="预算（元）budget, yuan")
    share: float = Field(0.5, description="最高抵扣比例 the most of a fee a voucher pays")
    rules: dict[str, Any] | None = Field(None, description="资格规则 {enterprise_types, sizes, cities}")


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    program: str = Field(max_length=40)
    firm: str = Field(max_length=300, description="企业 the firm's organisation record")
    amount: float = Field(description="面额（元）yuan")
    size: str = Field(max_length=10, description="micro | small | medium | large")
    enterprise_type: str = Field(max_length=20, description="sme | high_tech | startup | other")


class RedeemRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    booking: str = Field(max_length=40, description="已完成的预约 a completed booking")
    amount: float | None = Field(None, description="金额（元）; the most allowed if left out")


def router(context: WebContext) -> APIRouter:
    sharing = SharingService(context.store)
    vouchers = VoucherService(context.store)
    principal_of = context.principal_of
    # Decisions on bookings forwarded to other nodes come back while the app serves.
    api = APIRouter(lifespan=while_serving(
        lambda: FeedFollower("zhulian-sharing-relay", sharing.pull_decisions, RELAY_INTERVAL_S)))

    def origin(request: Request) -> str | None:
        return request.client.host if request.client else None

    # -- profiles, calendars, bookings ---------------------------------------------------------------

    @api.get("/api/v1/instruments/{ref}/profile")
    def get_profile(request: Request, ref: str) -> dict[str, Any]:
        """仪器服务档案 / An instrument's services, fees, operators and opening hours."""
        return sharing.profile(principal_of(request), ref)

    @api.put("/api/v1/instruments/{ref}/profile")
    def put_profile(request: Request, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        """发布服务档案 / The host node publishes the profile (publisher of the node or admin)."""
        return sharing.set_profile(principal_of(request), ref, body, origin=origin(request))

    @api.get("/api/v1/instruments/{ref}/calendar")
    def calendar(request: Request, ref: str, start: dt.date | None = Query(None, alias="from"),
                 days: int = Query(14, ge=1, le=CALENDAR_DAYS)) -> dict[str, Any]:
        """可预约日历 / Opening windows, closures and taken slots, day by day (UTC+8)."""
        return sharing.calendar(principal_of(request), ref, first=start, days=days)

    @api.post("/api/v1/instruments/{ref}/bookings", status_code=201)
    def book(request: Request, ref: str, body: BookingRequest) -> dict[str, Any]:
        """预约仪器 / Book a slot: 201 with the booking, or 409 with the slot it clashes with."""
        return sharing.book(principal_of(request), ref, start=body.start, end=body.end, service=body.service,
                            samples=body.samples, purpose=body.purpose, organization=body.organization,
                            on_behalf_of=body.on_behalf_of, origin=origin(request))

    @api.get("/api/v1/bookings")
    def list_bookings(request: Request, box: str = Query("mine", max_length=10, description="mine | host"),
                      state: str | None = Query(None, max_length=12, description=" | ".join(STATES)),
                      instrument: str | None = Query(None, max_length=40),
                      since: str | None = Query(None, max_length=32, description="changed after this UTC time"),
                      limit: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
        found = sharing.list(principal_of(request), box, state=state, instrument=instrument, since=since, limit=limit)
        return {"meta": {"count": len(found), "box": box}, "results": found}

    @api.get("/api/v1/bookings/{booking}")
    def get_booking(request: Request, booking: str) -> dict[str, Any]:
        return sharing.get(principal_of(request), booking)

    @api.post("/api/v1/bookings/{booking}/confirm")
    def confirm(request: Request, booking: str) -> dict[str, Any]:
        return sharing.confirm(principal_of(request), booking, origin=origin(request))

    @api.post("/api/v1/bookings/{booking}/refuse")
    def refuse(request: Request, booking: str, body: Reason) -> dict[str, Any]:
        return sharing.refuse(principal_of(request), booking, body.reason, origin=origin(request))

    @api.post("/api/v1/bookings/{booking}/cancel")
    def cancel(request: Request, booking: str, body: Reason) -> dict[str, Any]:
        return sharing.cancel(principal_of(request), booking, body.reason, origin=origin(request))

    @api.post("/api/v1/bookings/{booking}/begin")
    def begin(request: Request, booking: str) -> dict[str, Any]:
        return sharing.begin_use(principal_of(request), booking, origin=origin(request))

    @api.post("/api/v1/bookings/{booking}/complete")
    def complete(request: Request, booking: str, body: Usage) -> dict[str, Any]:
        return sharing.complete(principal_of(request), booking, hours=body.hours, samples=body.samples,
                                origin=origin(request))

    @api.post("/api/v1/bookings/{booking}/rate")
    def rate(request: Request, booking: str, body: Rating) -> dict[str, Any]:
        return sharing.rate(principal_of(request), booking, body.rating, body.comment, origin=origin(request))

    @api.get("/api/v1/sharing/statements")
    def statement(request: Request, user: str | None = Query(None, max_length=200),
                  host: str | None = Query(None, pattern=ADCODE, description="仪器所属节点 host node adcode"),
                  year: int | None = Query(None, ge=2000, le=2100)) -> dict[str, Any]:
        """账单 / A user's (default: the caller's) or a host node's used bookings and fees."""
        return sharing.statement(principal_of(request), user=user, host=host, year=year)

    @api.get("/api/v1/sharing/report", response_model=None, responses=_json_xlsx_or_svg(YearlyReport))
    def report(year: int = Year, city: str | None = Query(None, pattern=ADCODE, description="城市 adcode"),
               format: Literal["json", "xlsx", "svg"] = Format) -> dict[str, Any] | Response:
        """开放共享年度评价 / The yearly open-sharing evaluation per instrument, host, city and the region."""
        body = yearly_report(context.store, year, city)
        if format == "xlsx":
            return _download(report_xlsx(body), XLSX, f"sharing-report-{year}{'-' + city if city else ''}.xlsx")
        if format == "svg":
            return Response(report_svg(body), media_type="image/svg+xml")
        return body

    # -- vouchers ------------------------------------------------------------------------------------

    @api.post("/api/v1/vouchers/programs", status_code=201)
    def create_program(request: Request, body: ProgramRequest) -> dict[str, Any]:
        return vouchers.create_program(principal_of(request), city=body.city, year=body.year, name=body.name,
                                       budget=body.budget, share=body.share, rules=body.rules, origin=origin(request))

    @api.get("/api/v1/vouchers/programs")
    def list_programs(city: str | None = Query(None, pattern=ADCODE, description="城市 adcode"),
                      year: int | None = Query(None, ge=2000, le=2100)) -> dict[str, Any]:
        found = vouchers.programs(city=city, year=year)
        return {"meta": {"count": len(found)}, "results": found}

    @api.get("/api/v1/vouchers/flows", response_model=None, responses=_json_xlsx_or_svg(VoucherFlows))
    def flows(year: int | None = Query(None, ge=2000, le=2100), settled: bool = False,
              format: Literal["json", "xlsx", "svg"] = Format) -> dict[str, Any] | Response:
        """创新券跨市流向 / Which city's vouchers paid providers in which city (yuan)."""
        body = vouchers.flows(year=year, settled_only=settled)
        if format == "xlsx":
            return _download(flows_xlsx(body), XLSX, f"voucher-flows{'-' + str(year) if year else ''}.xlsx")
        if format == "svg":
            return Response(flows_svg(body), media_type="image/svg+xml")
        return body

    @api.post("/api/v1/vouchers", status_code=201)
    def issue(request: Request, body: IssueRequest) -> dict[str, Any]:
        return vouchers.issue(principal_of(request), body.program, firm=body.firm, amount=body.amount,
                              size=body.size, enterprise_type=body.enterprise_type, origin=origin(request))

    @api.get("/api/v1/vouchers/{voucher}")
    def get_voucher(request: Request, voucher: str) -> dict[str, Any]:
        return vouchers.voucher(principal_of(request), voucher)

    @api.post("/api/v1/vouchers/{voucher}/redemptions", status_code=201)
    def redeem(request: Request, voucher: str, body: RedeemRequest) -> dict[str, Any]:
        return vouchers.redeem(principal_of(request), voucher, body.booking, amount=body.amount,
                               origin=origin(request))

    @api.post("/api/v1/redemptions/{redemption}/claim")
    def claim(request: Request, redemption: str) -> dict[str, Any]:
        return vouchers.claim(principal_of(request), redemption, origin=origin(request))

    @api.post("/api/v1/redemptions/{redemption}/settle")
    def settle(request: Request, redemption: str) -> dict[str, Any]:
        return vouchers.settle(principal_of(request), redemption, origin=origin(request))

    # -- portal ----------------------------------------------------------------------------------------

    @api.get("/sharing/instruments/{ref}", response_class=HTMLResponse, include_in_schema=False)
    def instrument_page(request: Request, ref: str, start: dt.date | None = Query(None, alias="from")) -> HTMLResponse:
        principal = principal_of(request)
        profile = sharing.profile(principal, ref)
        calendar = sharing.calendar(principal, ref, first=start, days=14)
        return render(request, "sharing_instrument.html", item=profile["instrument"], profile=profile["profile"],
                      calendar=calendar["days"], classes=USER_CLASSES, units=UNITS)

    @api.get("/sharing/report", response_class=HTMLResponse, include_in_schema=False)
    def report_page(request: Request, year: int | None = Query(None, ge=2000, le=2100),
                    city: str = Query("", pattern=r"^(\d{6})?$")) -> HTMLResponse:
        year = year or dt.datetime.now(CHINA).year
        body = yearly_report(context.store, year, city or None)
        return render(request, "sharing_report.html", report=body, year=year, city=city, cities=CITIES,
                      chart=report_svg(body, i18n.language(request)))

    @api.get("/sharing/vouchers/flows", response_class=HTMLResponse, include_in_schema=False)
    def flows_page(request: Request, year: int | None = Query(None, ge=2000, le=2100)) -> HTMLResponse:
        body = vouchers.flows(year=year)
        return render(request, "sharing_flows.html", flows=body, year=year, chart=flows_svg(body, i18n.language(request)))

    return api


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'})
