"""The indicators API (``/api/v1/targets/…``, ``/api/v1/indicators/…``) and pages (``/indicators``: dashboards
per city and per indicator, and the review form that turns proposals from a policy text into targets)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from zhulian.errors import ZhulianError
from zhulian.indicators.charts import CHART_FORMATS
from zhulian.indicators.extract import MAX_TEXT_CHARS, warning_text
from zhulian.indicators.progress import STATUSES
from zhulian.indicators.service import (
    SERIES_COLUMNS, TABLE_COLUMNS, TABLE_FORMATS, IndicatorService, indicator_chart, progress_chart, unknown_indicator,
    write_table,
)
from zhulian.model.common import Adcode, Year
from zhulian.model.indicators import INDICATORS
from zhulian.model.types import COMPARATORS
from zhulian.region.cities import CITIES
from zhulian.web.charts import chart_response, png
from zhulian.web.context import WebContext
from zhulian.web.files import download, file_responses
from zhulian.web.geo import Measure, region_map_svg
from zhulian.web.i18n import language
from zhulian.web.portal import render
from zhulian.web.session import check_csrf, csrf_token

_MEDIA = {"json": "application/json", "svg": "image/svg+xml", "png": "image/png"}
CHART_FILES = {200: {"description": "图表文件 / a chart file: svg, png",
                     "content": {_MEDIA[fmt]: {} for fmt in CHART_FORMATS}}}
_PROPOSAL_FIELDS = ("indicator", "indicator_code", "comparator", "value", "value_max", "unit", "year", "region",
                    "clause", "aspirational")


class ExtractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(max_length=MAX_TEXT_CHARS, description="政策文本 / the policy text")
    region: Adcode | None = Field(None, description="默认地区 / default region for targets naming no city")
    base_year: Year | None = Field(None, description="发布年份 / issue year, turns 5年内 into a year")


class AcceptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    policy: str = Field(max_length=200, description="政策编号或 方案:值 / policy id or scheme:value")
    proposals: list[dict[str, Any]] = Field(max_length=200, description="审核后的目标 / reviewed proposals")


class SeriesPoint(BaseModel):
    year: int
    value: float | None
    derived: bool = Field(description="由分项计算 / computed from its parts")


class TargetCheck(BaseModel):
    year: int
    met: bool


class ProgressRow(BaseModel):
    """一个政策目标的进展 / One policy target's progress."""
    policy: str
    policy_title: str
    target_index: int
    indicator: str | None
    indicator_code: str | None
    comparator: str | None
    value: float | None
    value_max: float | None
    unit: str | None
    year: int | None
    deadline: int | None
    region: str | None
    regions: list[str] = Field(description="目标不限于一地时合计的地区 / the regions summed for a target of several "
                                           "regions together")
    region_name: str | None
    status: str = Field(description=" | ".join(STATUSES))
    status_zh: str
    status_display: dict[str, str] = Field(description="{zh, en}")
    latest_year: int | None
    latest_value: float | None
    gap: float | None
    projected: float | None
    series: list[SeriesPoint]
    checks: list[TargetCheck]


class SeriesRow(BaseModel):
    """一个地区一年的值 / One region's value in one year."""
    indicator_code: str
    region: str
    region_name: str
    year: int
    value: float
    unit: str
    derived: bool = Field(description="由分项计算 / computed from its parts")


def _table_answer(row: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """A table's answer: its rows as JSON, or the file as CSV or XLSX."""
    answer = file_responses("json", "csv", "xlsx")
    answer[200]["model"] = list[row]
    return answer


def _table(rows: list[dict[str, Any]], columns: Any, fmt: str, name: str) -> Response:
    content = write_table(rows, columns, fmt)
    if fmt == "json":
        return Response(content, media_type=_MEDIA["json"])
    return download(content, f"{name}.{fmt}", fmt)


def _known(code: str) -> str:
    if code not in INDICATORS:
        raise unknown_indicator(code)
    return code


def _regions(region: str | None) -> list[str] | None:
    return [part for part in region.split(",") if part] if region else None


def _latest_measure(series: dict[str, list[Any]], code: str) -> Measure:
    """Each region's latest observed value of one indicator, for the region map."""
    indicator = INDICATORS[code]
    latest = {region: max(points, key=lambda p: p.year).value for region, points in series.items() if points}
    return Measure(f"{indicator.zh}（{indicator.unit}，最新）", f"{indicator.en} ({indicator.unit}, latest)", latest,
                   "/indicators/city/{adcode}")


def router(context: WebContext) -> APIRouter:
    service = IndicatorService(context.records)
    principal_of = context.principal_of
    api = APIRouter()

    # -- API -------------------------------------------------------------------------------------

    @api.post("/api/v1/targets/extract", tags=["indicators"])
    def extract(body: ExtractRequest) -> dict[str, Any]:
        """从政策文本提出量化目标 / Propose the numeric targets a policy text states (nothing is written)."""
        return service.extract(body.text, region=body.region, base_year=body.base_year).as_dict()

    @api.post("/api/v1/targets/accept", tags=["indicators"])
    def accept(request: Request, body: AcceptRequest) -> dict[str, Any]:
        """把审核后的目标写入政策 / Add reviewed targets to a policy (needs a key that may write it)."""
        return service.accept(principal_of(request), body.policy, body.proposals)

    @api.get("/api/v1/targets/progress", tags=["indicators"], responses=_table_answer(ProgressRow))
    def progress(request: Request, city: Adcode | None = Query(None),
                 indicator: str | None = Query(None, max_length=64),
                 format: str = Query("json", pattern="^(json|csv|xlsx)$")) -> Response:
        """各政策目标的最新值、差距与状态 / Latest value, gap and status of every target (json, csv or xlsx)."""
        rows = service.progress_rows(service.progress(principal_of(request), city=city,
                                                      indicator=_known(indicator) if indicator else None))
        return _table(rows, TABLE_COLUMNS, format, "zhulian-target-progress")

    @api.get("/api/v1/indicators", tags=["indicators"])
    def vocabulary() -> dict[str, Any]:
        """指标代码表 / The indicator vocabulary."""
        results = [{"code": i.code, "name": {"zh": i.zh, "en": i.en}, "unit": i.unit, "synonyms": list(i.synonyms),
                    "higher_is_better": i.higher_is_better} for i in INDICATORS.values()]
        return {"meta": {"count": len(results)}, "results": results}

    @api.get("/api/v1/indicators/{code}/series", tags=["indicators"], responses=_table_answer(SeriesRow))
    def series(request: Request, code: str, region: str | None = Query(None, max_length=200),
               format: str = Query("json", pattern="^(json|csv|xlsx)$")) -> Response:
        """指标的年度序列 / An indicator's yearly values per region (region: comma-separated adcodes)."""
        rows = service.series_rows(_known(code), service.series(principal_of(request), code, _regions(region)))
        return _table(rows, SERIES_COLUMNS, format, f"zhulian-{code}")

    @api.get("/api/v1/indicators/{code}/chart.{fmt}", tags=["indicators"], response_class=Response,
             responses=CHART_FILES)
    def chart(request: Request, code: str, fmt: str, region: str | None = Query(None, max_length=200),
              lang: str = Query("zh", pattern="^(zh|en)$")) -> Response:
        """指标折线图 / The indicator's line chart as SVG or PNG."""
        if fmt not in CHART_FORMATS:
            raise ZhulianError("not_found", "Charts are served as .svg or .png.", "图表提供 .svg 或 .png 两种格式。", 404)
        svg = indicator_chart(service, principal_of(request), _known(code), _regions(region), lang=lang)
        return Response(png(svg) if fmt == "png" else svg, media_type=_MEDIA[fmt],
                        headers={"Content-Disposition": f'inline; filename="{code}.{fmt}"'})

    # -- pages -----------------------------------------------------------------------------------

    def page(request: Request, template: str, **values: Any) -> HTMLResponse:
        return render(request, template, statuses=STATUSES, comparators=COMPARATORS, indicators=INDICATORS,
                      cities=CITIES, formats=TABLE_FORMATS, **values)

    @api.get("/indicators", response_class=HTMLResponse, include_in_schema=False)
    def overview(request: Request, city: Adcode | None = Query(None),
                 indicator: str | None = Query(None, max_length=64)) -> HTMLResponse:
        principal = principal_of(request)
        rows = service.progress_rows(service.progress(principal, city=city))
        counts = {status: sum(1 for row in rows if row["status"] == status) for status in STATUSES}
        code = _known(indicator) if indicator else _first_observed(principal)
        lang = language(request)
        return page(request, "indicators.html", rows=rows, counts=counts, city=city, code=code,
                    chart=indicator_chart(service, principal, code, lang=lang),
                    map_svg=region_map_svg(_latest_measure(service.series(principal, code), code), lang))

    @api.get("/api/v1/indicators/{code}/map.{fmt}", tags=["indicators"], response_class=Response,
             responses=CHART_FILES)
    def indicator_map(request: Request, code: str, fmt: str,
                      lang: str = Query("zh", pattern="^(zh|en)$")) -> Response:
        """各市最新值地图 / Each region's latest value on the region map, as SVG or PNG."""
        measure = _latest_measure(service.series(principal_of(request), _known(code)), code)
        return chart_response(region_map_svg(measure, lang), fmt, f"{code}-map")

    def _first_observed(principal: Any) -> str:
        """The indicator the overview opens with: the first one with observations, else the first one."""
        return next((code for code in INDICATORS if any(service.series(principal, code).values())),
                    next(iter(INDICATORS)))

    @api.get("/indicators/review", response_class=HTMLResponse, include_in_schema=False)
    def review_form(request: Request) -> HTMLResponse:
        return page(request, "indicators_review.html", csrf=csrf_token(request), policies=_policies(request),
                    text="", extraction=None, warning_text=warning_text)

    @api.post("/indicators/review", response_class=HTMLResponse, include_in_schema=False)
    def review_extract(request: Request, text: str = Form("", max_length=MAX_TEXT_CHARS),
                       region: str = Form("", max_length=6), base_year: str = Form("", max_length=4),
                       csrf: str = Form("", max_length=100)) -> HTMLResponse:
        check_csrf(request, csrf)
        extraction = service.extract(text, region=region or None,
                                     base_year=int(base_year) if base_year.isdigit() else None)
        return page(request, "indicators_review.html", csrf=csrf_token(request), policies=_policies(request),
                    text=text, extraction=extraction, warning_text=warning_text)

    @api.post("/indicators/review/accept", include_in_schema=False)
    async def review_accept(request: Request) -> Response:
        form = await request.form()
        check_csrf(request, str(form.get("csrf", "")))
        kept = [{name: str(form.get(f"{name}_{number}", "")) for name in _PROPOSAL_FIELDS}
                for number in range(200) if form.get(f"keep_{number}")]
        for proposal in kept:
            proposal["aspirational"] = proposal["aspirational"] == "on"
        # accepting writes the policy through the record service: database work, off the event loop
        result = await run_in_threadpool(service.accept, principal_of(request), str(form.get("policy", "")), kept)
        return RedirectResponse(f"/policies/{result['policy']}", status_code=303)

    @api.get("/indicators/city/{adcode}", response_class=HTMLResponse, include_in_schema=False)
    def city_page(request: Request, adcode: Adcode) -> HTMLResponse:
        items = service.progress(principal_of(request), city=adcode)
        lang = language(request)
        charts = {item.indicator_code: progress_chart(item, lang=lang) for item in items if item.series}
        return page(request, "indicators_city.html", adcode=adcode, rows=service.progress_rows(items), charts=charts)

    @api.get("/indicators/{code}", response_class=HTMLResponse, include_in_schema=False)
    def indicator_page(request: Request, code: str) -> HTMLResponse:
        principal = principal_of(request)
        series_by_region = service.series(principal, _known(code))
        chart_svg = indicator_chart(service, principal, code, lang=language(request))
        rows = service.progress_rows(service.progress(principal, indicator=code))
        return page(request, "indicators_indicator.html", code=code, indicator=INDICATORS[code], chart=chart_svg,
                    series=service.series_rows(code, series_by_region), rows=rows)

    def _policies(request: Request) -> list[dict[str, Any]]:
        return context.records.list(principal_of(request), "policy", sort="name", limit=200).results

    return api
