"""The network's API under ``/api/v1/network/…`` and its page ``/network``, thin over the network service.
The router's lifespan runs the follower that keeps the network tables current from the change feed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from zhulian.analytics import charts
from zhulian.analytics.derive import LINK_KINDS
from zhulian.analytics.service import EXPORT_TABLES, MAX_GRAPH_NODES, MAX_PARTNERS, NetworkService, export_rows
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.model.common import CHOICES
from zhulian.region.cities import CITIES
from zhulian.web import i18n
from zhulian.web.charts import TABLE_FORMATS, png, table_file
from zhulian.web.context import WebContext, while_serving
from zhulian.web.files import download, file_responses
from zhulian.web.geo import Measure, region_map_svg
from zhulian.web.portal import render

TAGS = ["network"]
MEDIA = {"svg": "image/svg+xml", "png": "image/png"}
CHART_FILES = {200: {"description": "图表文件 / a chart file: svg, png",
                     "content": {media: {} for media in MEDIA.values()}}}
Year = Query(None, ge=1900, le=2100)


def router(context: WebContext) -> APIRouter:
    service = NetworkService(context.store)
    principal_of = context.principal_of

    api = APIRouter(lifespan=while_serving(service.follower))  # the network tables follow the change feed

    @api.get("/api/v1/network/status", tags=TAGS)
    def status() -> dict[str, Any]:
        """网络表状态：变更流位置与滞后 / The network tables' feed position, lag and size."""
        return service.status()

    @api.get("/api/v1/network/cities", tags=TAGS)
    def cities(link: str | None = Query(None, max_length=20, description="合作类型 link type: " + ", ".join(LINK_KINDS)),
               year_from: int | None = Year, year_to: int | None = Year) -> dict[str, Any]:
        """城市间合作矩阵（九市与港澳），按创新圈与“1+1+7”定位汇总 / The cross-city matrix, by circle and by role."""
        return service.cities(link=link, year_from=year_from, year_to=year_to)

    @api.get("/api/v1/network/graph", tags=TAGS)
    def graph(request: Request, city: str | None = Query(None, max_length=6), kind: str | None = Query(None, max_length=20),
              link: str | None = Query(None, max_length=20), year_from: int | None = Year, year_to: int | None = Year,
              limit: int = Query(120, ge=1, le=MAX_GRAPH_NODES)) -> dict[str, Any]:
        """合作最多的机构及其之间的合作，附布局 / The best-connected organisations, their links and a layout."""
        return service.graph(principal_of(request), city=city, kind=kind, link=link, year_from=year_from,
                             year_to=year_to, limit=limit)

    @api.get("/api/v1/network/organisations", tags=TAGS)
    def organisations(request: Request, sort: str = Query("degree", max_length=20), city: str | None = Query(None, max_length=6),
                      kind: str | None = Query(None, max_length=20), page: int = Query(1, ge=1, le=10_000),
                      per_page: int = Query(50, ge=1, le=200)) -> dict[str, Any]:
        """机构的度、中介中心性与社群 / Organisations with degree, betweenness and community."""
        return service.nodes(principal_of(request), sort=sort, city=city, kind=kind, page=page, per_page=per_page)

    @api.get("/api/v1/network/organisations/{ref}", tags=TAGS)
    def organisation(request: Request, ref: str) -> dict[str, Any]:
        """一个机构在网络中的位置与合作伙伴 / One organisation's metrics and partners."""
        return service.node(principal_of(request), ref)

    @api.get("/api/v1/network/organisations/{ref}/partners", tags=TAGS)
    def partners(request: Request, ref: str, limit: int = Query(10, ge=1, le=MAX_PARTNERS)) -> dict[str, Any]:
        """推荐合作伙伴及理由 / Recommended partners, ranked, with reasons."""
        return service.partners(principal_of(request), ref, limit=limit)

    @api.get("/api/v1/network/export/{table}.{fmt}", tags=TAGS, response_class=Response,
             responses=file_responses("csv", "xlsx"))
    def export(request: Request, table: str, fmt: str, link: str | None = Query(None, max_length=20),
               year_from: int | None = Year, year_to: int | None = Year) -> Response:
        """导出网络数据表（CSV/XLSX）/ A network table as CSV or XLSX: organisations, links, cities, circles,
        roles."""
        if fmt not in TABLE_FORMATS:
            raise ZhulianError("not_found", "Tables export as csv or xlsx.", "数据表可导出为 csv 或 xlsx。", 404)
        sheet, headers, rows = export_rows(service, principal_of(request), table, link=link, year_from=year_from,
                                           year_to=year_to)
        return download(table_file(headers, rows, fmt, sheet), f"zhulian-network-{table}.{fmt}", fmt)

    @api.get("/api/v1/network/charts/{chart}.{fmt}", tags=TAGS, response_class=Response, responses=CHART_FILES)
    def chart(request: Request, chart: str, fmt: str, lang: str | None = Query(None, max_length=2),
              city: str | None = Query(None, max_length=6), kind: str | None = Query(None, max_length=20),
              link: str | None = Query(None, max_length=20), year_from: int | None = Year, year_to: int | None = Year,
              limit: int = Query(120, ge=1, le=MAX_GRAPH_NODES)) -> Response:
        """图表（SVG/PNG）：cities 城市矩阵热力图，graph 机构网络 / Charts: the city heatmap or the graph."""
        if chart not in ("cities", "graph", "map") or fmt not in charts.CHART_FORMATS:
            raise ZhulianError("not_found", "Charts are cities, graph or map, as svg or png.",
                               "图表为 cities、graph 或 map，格式为 svg 或 png。", 404)
        # PNG defaults to English labels: the server may have no Chinese font to draw them with.
        language = lang if lang in i18n.LANGUAGES else ("en" if fmt == "png" else i18n.language(request))
        if chart == "map":
            svg = region_map_svg(_collaboration_measure(service.cities(link=link, year_from=year_from,
                                                                       year_to=year_to)), language)
        elif chart == "cities":
            svg = charts.matrix_svg(service.cities(link=link, year_from=year_from, year_to=year_to), language)
        else:
            svg = charts.graph_svg(service.graph(principal_of(request), city=city, kind=kind, link=link,
                                                 year_from=year_from, year_to=year_to, limit=limit), language)
        content = svg.encode("utf-8") if fmt == "svg" else png(svg)
        return Response(content, media_type=MEDIA[fmt],
                        headers={"Content-Disposition": f'inline; filename="zhulian-network-{chart}.{fmt}"'})

    @api.get("/network", response_class=HTMLResponse, include_in_schema=False)
    def page(request: Request, city: str = Query("", max_length=6), kind: str = Query("", max_length=20),
             link: str = Query("", max_length=20), year_from: str = Query("", max_length=4),
             year_to: str = Query("", max_length=4), limit: int = Query(80, ge=1, le=MAX_GRAPH_NODES)) -> HTMLResponse:
        # The filter form sends empty fields for "any": they mean no filter, not a bad value.
        lang = i18n.language(request)
        city, kind, link = city or None, kind or None, link or None
        year_from, year_to = _year(year_from, "year_from"), _year(year_to, "year_to")
        matrix = service.cities(link=link, year_from=year_from, year_to=year_to)
        graph_body = service.graph(principal_of(request), city=city, kind=kind, link=link, year_from=year_from,
                                   year_to=year_to, limit=limit)
        query = "&".join(f"{k}={v}" for k, v in (("city", city), ("kind", kind), ("link", link),
                                                  ("year_from", year_from), ("year_to", year_to)) if v)
        return render(request, "network.html", matrix=matrix, heatmap=charts.matrix_svg(matrix, lang),
                      map_svg=region_map_svg(_collaboration_measure(matrix), lang),
                      graph=graph_body, graph_svg=charts.graph_svg(graph_body, lang), state=service.status(),
                      cities=CITIES, kinds=CHOICES["org_kind"], links=LINK_KINDS, tables=EXPORT_TABLES,
                      filters={"city": city, "kind": kind, "link": link, "year_from": year_from,
                               "year_to": year_to, "limit": limit}, query=query)

    return api


def _collaboration_measure(matrix: dict[str, Any]) -> Measure:
    """Each region's collaborations (within it and with others), for the region map; a click filters the graph."""
    return Measure("合作数量", "Collaborations", {card["key"]: card["total"] for card in matrix["cities"]},
                   "/network?city={adcode}#org-network")


def _year(text: str, name: str) -> int | None:
    if not text.strip():
        return None
    if not text.strip().isdigit():
        raise invalid([Problem(name, text, "a year such as 2015", "年份应形如 2015")], "query")
    return int(text)
