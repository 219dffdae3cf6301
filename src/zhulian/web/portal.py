"""The portal: server-rendered pages in Chinese first, with English a click away, over the same
services as the API. Pages never call a CDN; maps and charts are server-drawn SVG, and the few scripts are
static files (never inline), so a strict Content-Security-Policy holds."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import DictLoader, Environment, select_autoescape

from zhulian.access import Principal, check_write, search_levels
from zhulian.access.keys import authenticate
from zhulian.errors import ZhulianError
from zhulian.exchange import write_template
from zhulian.model import COLLECTIONS, MODELS, TYPE_LABELS, record_label, type_of_collection
from zhulian.model.common import CHOICES
from zhulian.model.relations import INVERSE_LABELS, PREDICATES
from zhulian.model.types import COMPARATORS
from zhulian.exchange.service import ExchangeService
from zhulian.jobs import JobService
from zhulian.records import RecordService
from zhulian.region.adcodes import adcode_name
from zhulian.region.cities import CIRCLES, CITIES, CITY_BY_ADCODE, ROLES
from zhulian.text import pinyin_sort_key
from zhulian.web import i18n
from zhulian.web.charts import CHART_FORMATS, TABLE_FORMATS, chart_response
from zhulian.web.files import EXPORT_FORMATS, download
from zhulian.web.imports import submit_import
from zhulian.web.geo import Measure, map_table, region_map_svg
from zhulian.web.session import check_csrf, csrf_token, sign_in

STATIC = Path(__file__).parent / "static"
BEIJING = ZoneInfo("Asia/Shanghai")


def _module_templates() -> list[Path]:
    return sorted(p for p in Path(__file__).parent.parent.glob("*/templates") if p.parent.name != "web")


# Shown at the head of a record page, or not at all; every other field is listed in the model's order.
_NOT_LISTED = {"id", "type", "pids", "relations", "revision", "created", "updated", "deleted", "node", "access",
               "name", "title", "description", "targets"}

def _read_templates() -> dict[str, str]:
    """Every template's text, read once at start: reinstalling the package under a running server (``pip
    install -e``) then changes nothing until it restarts, instead of turning pages into errors. The
    portal's own templates win over a module's of the same name."""
    folders = [*_module_templates(), Path(__file__).parent / "templates"]
    return {path.name: path.read_text(encoding="utf-8") for folder in folders for path in sorted(folder.glob("*.html"))}


def _local_time(value: str | None, lang: str = "zh") -> str:
    """A stored UTC timestamp as Beijing time: 2026年11月30日 12:05 in Chinese, 2026-11-30 12:05 otherwise."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    local = moment.astimezone(BEIJING)
    if lang == "zh":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local:%Y-%m-%d %H:%M} (UTC+8)"


# A module with pages of its own keeps their templates in ``<module>/templates/`` and extends ``base.html``.
templates = Environment(loader=DictLoader(_read_templates()), autoescape=select_autoescape(["html"]),
                        trim_blocks=True, lstrip_blocks=True)
templates.filters["local_time"] = _local_time


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """One page in the reader's language, with what every page's frame needs."""
    lang = i18n.language(request)
    page = templates.get_template(template).render(
        lang=lang, w=i18n.words(lang), pick=lambda names: i18n.pick(names, lang), path=request.url.path,
        collections=COLLECTIONS, type_label=lambda t: TYPE_LABELS[t][0 if lang == "zh" else 1], label=record_label,
        place=lambda code: (adcode_name(code) or code) if code else "", **context)
    return HTMLResponse(page, status_code=status)


@cache
def _choice_of_field(type_name: str, field: str) -> str | None:
    """The CHOICES list a field draws its codes from, found by the codes its schema allows."""
    schema = MODELS[type_name].model_json_schema()["properties"].get(field, {})
    options = schema.get("enum") or next((s["enum"] for s in schema.get("anyOf", []) if "enum" in s), None)
    items = schema.get("items", {}).get("enum")
    codes = frozenset(options or items or ())
    return next((name for name, choices in CHOICES.items() if frozenset(choices) == codes), None) if codes else None


def _display(type_name: str, field: str, value: Any, lang: str) -> str:
    choice = _choice_of_field(type_name, field)
    if isinstance(value, list):
        return "、".join(_display(type_name, field, item, lang) for item in value)
    if isinstance(value, dict):
        if set(value) <= {"zh", "en", "zh_hant"}:
            return i18n.pick(value, lang)
        return "；".join(f"{k}: {_display(type_name, k, v, lang)}" for k, v in value.items())
    if isinstance(value, bool):
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    if choice and isinstance(value, str):
        zh, en = CHOICES[choice].get(value, (value, value))
        return zh if lang == "zh" else en
    if field in ("city", "node", "region") and isinstance(value, str):
        return adcode_name(value) or value
    return str(value)


def portal_router(records: RecordService, principal_of: Callable[[Request], Principal], search: Any,
                  jobs: JobService) -> APIRouter:
    exchange = ExchangeService(records)
    router = APIRouter(include_in_schema=False)

    @router.get("/lang/{lang}")
    def switch_language(lang: str, next: str = "/") -> RedirectResponse:
        # Only local paths: the switch must not become an open redirect.
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(i18n.COOKIE, lang if lang in i18n.LANGUAGES else "zh", max_age=365 * 86400,
                            samesite="lax", httponly=True)
        return response

    def records_by_city(request: Request, type_name: str | None) -> dict[str, float]:
        """Visible records per city of the region (a district's counted with its city by the record service)."""
        return {group["key"]: group["count"] for group in records.group_by(principal_of(request), type_name, "city")
                if group["key"] in CITY_BY_ADCODE}

    def records_measure(request: Request, type_name: str | None) -> Measure:
        zh, en = TYPE_LABELS[type_name] if type_name else ("全部记录", "All records")
        collection = COLLECTIONS[type_name] if type_name else "orgs"
        return Measure(f"{zh}数量", f"{en}: number of records", records_by_city(request, type_name),
                       f"/{collection}?filter=city:{{adcode}}")

    def chosen_type(type_name: str | None) -> str | None:
        return type_name if type_name in COLLECTIONS else None

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request, type: str | None = Query(None, max_length=40)) -> HTMLResponse:
        type_name = chosen_type(type)
        measure = records_measure(request, type_name)
        counts = {g["key"]: g["count"] for g in records.group_by(principal_of(request), None, "type")}
        return render(request, "home.html", map_svg=region_map_svg(measure, i18n.language(request)),
                      measure_type=type_name, cities=CITIES, by_city=measure.values, circles=CIRCLES, roles=ROLES,
                      counts=counts, chart_formats=CHART_FORMATS, table_formats=TABLE_FORMATS)

    @router.get("/map/records.{fmt}")
    def records_map(request: Request, fmt: str, type: str | None = Query(None, max_length=40),
                    lang: str | None = Query(None, max_length=2)) -> Response:
        """The home page's map as SVG or PNG, or its figures as CSV or XLSX."""
        type_name = chosen_type(type)
        measure = records_measure(request, type_name)
        name = f"zhulian-map-{COLLECTIONS[type_name] if type_name else 'records'}"
        if fmt in TABLE_FORMATS:
            return download(map_table(measure, fmt), f"{name}.{fmt}", fmt)
        language = lang if lang in i18n.LANGUAGES else i18n.language(request)
        return chart_response(region_map_svg(measure, language), fmt, name)

    @router.get("/docs", response_class=HTMLResponse)
    def docs(request: Request) -> HTMLResponse:
        """The OpenAPI 3.1 document in Swagger UI 5, shipped in ``static/vendor/swagger-ui``."""
        return render(request, "docs.html")

    @router.get("/search", response_class=HTMLResponse)
    def search_page(request: Request, q: str = Query("", max_length=500), type: str | None = Query(None, max_length=40),
                    city: str | None = Query(None, max_length=6), page: int = Query(1, ge=1, le=400)) -> HTMLResponse:
        found = None
        if q.strip() and search is not None:
            type_name = type if type in COLLECTIONS else None
            filter = f"city:{city}" if city and city.isdigit() else None
            found = search.search(q, type=type_name, filter=filter, group_by="type,city", page=page, per_page=20,
                                  access=search_levels(principal_of(request)))
        groups = (found or {}).get("groups") or {}
        return render(request, "search.html", q=q, found=found, type=type, city=city, page=page,
                      type_groups=groups.get("type", []), city_groups=groups.get("city", []))

    @router.get("/signin", response_class=HTMLResponse)
    def signin_page(request: Request) -> HTMLResponse:
        return render(request, "signin.html", csrf=csrf_token(request), principal=principal_of(request))

    @router.post("/signin", response_model=None)
    def signin(request: Request, key: str = Form(..., max_length=200), csrf: str = Form("", max_length=100)
               ) -> HTMLResponse | RedirectResponse:
        check_csrf(request, csrf)
        try:
            principal = authenticate(records.store, f"Bearer {key.strip()}")
        except ZhulianError as error:
            return render(request, "signin.html", status=401, csrf=csrf_token(request), error=error,
                          principal=principal_of(request))
        sign_in(request, principal)
        return RedirectResponse("/data", status_code=303)

    @router.post("/signout")
    def signout(request: Request, csrf: str = Form("", max_length=100)) -> RedirectResponse:
        check_csrf(request, csrf)
        request.session.clear()
        return RedirectResponse("/", status_code=303)

    @router.get("/data", response_class=HTMLResponse)
    def data_page(request: Request) -> HTMLResponse:
        principal = principal_of(request)
        return render(request, "data.html", principal=principal, csrf=csrf_token(request),
                      can_import=principal.is_admin or principal.role == "publisher", formats=EXPORT_FORMATS)

    @router.get("/data/templates/{type_name}.{fmt}")
    def template_download(type_name: str, fmt: str) -> Response:
        if type_name not in COLLECTIONS or fmt not in ("csv", "xlsx"):
            raise ZhulianError("not_found", "No such template.", "没有这个模板。", 404)
        buffer = io.BytesIO()
        write_template(type_name, fmt, buffer)
        return download(buffer.getvalue(), f"zhulian-{type_name}-template.{fmt}", fmt)

    @router.get("/data/export/{type_name}.{fmt}")
    def export_download(request: Request, type_name: str, fmt: str) -> Response:
        if type_name not in COLLECTIONS or fmt not in EXPORT_FORMATS:
            raise ZhulianError("not_found", "No such export.", "没有这个导出。", 404)
        buffer = io.BytesIO()
        exchange.export(principal_of(request), type_name, fmt, buffer)
        return download(buffer.getvalue(), f"zhulian-{type_name}.{fmt}", fmt)

    @router.post("/data/import")
    def data_import(request: Request, file: UploadFile, type_name: str = Form(..., alias="type"),
                    csrf: str = Form("", max_length=100), skip_invalid: bool = Form(False),
                    clear_empty: bool = Form(False)) -> RedirectResponse:
        """The upload becomes a background job, as an API import with ``Prefer: respond-async`` does: a large
        sheet never holds a request open, and the job's page shows its progress and then its report."""
        check_csrf(request, csrf)
        principal = principal_of(request)
        check_write(principal, principal.node)  # who may upload at all; each row is checked again on import
        if type_name not in COLLECTIONS:
            raise ZhulianError("invalid", "Choose a record type.", "请选择记录类型。", 400)
        options = {"type_name": type_name, "skip_invalid": skip_invalid, "dry_run": False, "clear_empty": clear_empty,
                   "name": file.filename, "origin": f"portal:{request.client.host if request.client else ''}"}
        job = submit_import(jobs, records, principal, file, options)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @router.get("/jobs", response_class=HTMLResponse)
    def jobs_page(request: Request) -> HTMLResponse:
        principal = principal_of(request)
        found = jobs.list(principal) if principal.role != "anonymous" else []
        return render(request, "jobs.html", principal=principal, jobs=found)

    @router.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_page(request: Request, job_id: str) -> HTMLResponse:
        job = jobs.get(principal_of(request), job_id)
        result = job.result or {}
        return render(request, "job.html", job=job, result=result, summary=result.get("summary") or {},
                      ended=job.state in ("succeeded", "failed"))

    @router.get("/collaboration", response_class=HTMLResponse)
    def collaboration(request: Request) -> HTMLResponse:
        principal = principal_of(request)
        platforms = [records.get(principal, p["id"]) for p in records.list(
            principal, "platform", "kind:collaborative_innovation_center|alliance", limit=200).results]
        platforms.sort(key=lambda p: pinyin_sort_key(i18n.pick(p.get("name"), "zh")))
        return render(request, "collaboration.html", platforms=platforms, units=_units)

    @router.get("/policies", response_class=HTMLResponse)
    def policies(request: Request) -> HTMLResponse:
        found = records.list(principal_of(request), "policy", sort="year:desc", limit=200).results
        return render(request, "policies.html", policies=found, comparators=COMPARATORS)

    @router.get("/{collection:collection}", response_class=HTMLResponse)
    def collection_page(request: Request, collection: str, page: int = Query(1, ge=1, le=10_000),
                        filter: str | None = None) -> HTMLResponse:
        type_name = type_of_collection(collection)
        per_page = 50
        result = records.list(principal_of(request), type_name, filter, sort="name", limit=per_page,
                              offset=(page - 1) * per_page)
        return render(request, "list.html", type_name=type_name, collection=collection, result=result, page=page,
                      pages=max(1, -(-result.count // per_page)))

    @router.get("/{collection:collection}/{ref}", response_class=HTMLResponse)
    def record_page(request: Request, collection: str, ref: str) -> HTMLResponse:
        principal = principal_of(request)
        type_name = type_of_collection(collection)
        record = records.get(principal, ref)
        if record["type"] != type_name:
            return RedirectResponse(f"/{COLLECTIONS[record['type']]}/{record['id']}", status_code=303)
        lang = i18n.language(request)
        model = MODELS[type_name]
        fields = [(i18n.half(info.title or name, lang), _display(type_name, name, record[name], lang))
                  for name, info in model.model_fields.items()
                  if name not in _NOT_LISTED and record.get(name) not in (None, [], {}, "")]
        relations = [(_predicate_label(r["predicate"], "object" in r, lang), r.get("object") or r.get("subject"),
                      r.get("role")) for r in record["relations"]]
        return render(request, "record.html", record=record, fields=fields, relations=relations,
                      revisions=records.revisions(principal, record["id"]), comparators=COMPARATORS,
                      principal=principal, csrf=csrf_token(request))

    return router


def _predicate_label(predicate: str, outgoing: bool, lang: str) -> str:
    _subjects, _objects, zh, en = PREDICATES[predicate]
    if not outgoing:
        zh, en = INVERSE_LABELS[predicate]
    return zh if lang == "zh" else en


def _units(platform: dict[str, Any], predicate: str) -> list[dict[str, Any]]:
    return [{**r["object"], "role": r.get("role")} for r in platform["relations"]
            if r["predicate"] == predicate and "object" in r]
