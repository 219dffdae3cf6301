"""Trace codes, their QR codes, and what the consumer page ``/t/{code}`` shows.

Every lot or item has a trace code: a platform trace-code URN (``urn:zhulian:trace:CODE``) is its own code;
any other identifier (a GS1 lot or item) gets a short code derived from it, kept in ``trace_codes``. The page
shows the product's journey back to the farm — only the events their parties made public (``zl:public``),
with their dates, places (a map when places are ``geo:`` URIs), temperatures and rapid-test results — and any
recall, which is always shown."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import io
import re
from typing import Any
from xml.sax.saxutils import escape

import segno
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from zhulian.access import ANONYMOUS, Principal
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.region.cities import city_of
from zhulian.trace.forms import STEPS, TRACE_CODE_PREFIX, lot_uri
from zhulian.trace.identifiers import canonical
from zhulian.trace.masterdata import MasterData, Place
from zhulian.trace.rapid import extension
from zhulian.trace.rights import check_capture_rights
from zhulian.trace.service import TraceService, utc_millis_now
from zhulian.trace.tables import codes
from zhulian.trace.tracing import follow
from zhulian.trace.validation import check_text

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
_GEO = re.compile(r"^geo:(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")
_STAGE = {step.biz_step: step.zh for step in STEPS.values()} | {"commissioning": "种养殖/生产加工",
                                                                  "recalled": "召回"}
_VERDICT = {"conformant": "合格", "non_conformant": "不合格"}
_BEIJING = dt.timezone(dt.timedelta(hours=8))


class ConsumerService:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.trace = TraceService(store)

    def code(self, principal: Principal, identifier: str) -> str:
        """The trace code of a lot or item (made and kept the first time it is asked for)."""
        check_capture_rights(principal)
        check_text(id=identifier)
        start = canonical(lot_uri(identifier or "")) if (identifier or "").strip() else ""
        if start.startswith(TRACE_CODE_PREFIX) and _CODE.match(start.removeprefix(TRACE_CODE_PREFIX)):
            return start.removeprefix(TRACE_CODE_PREFIX)
        if not start or len(start) > 500:
            raise invalid([Problem("id", identifier, "an EPC, a GS1 Digital Link or another identifier",
                                   "请提供 EPC、GS1 数字链接或其他标识")], "query")
        code = "G" + base64.b32encode(hashlib.sha256(start.encode()).digest()).decode()[:12]
        try:
            with self.store.transaction() as writer:
                if not writer.connection.execute(sa.select(codes.c.code).where(codes.c.code == code)).first():
                    writer.connection.execute(codes.insert().values(code=code, identifier=start,
                                                                    created=utc_millis_now()))
        except IntegrityError:  # made by another request meanwhile: the same code
            pass
        return code

    def identifier(self, code: str) -> str:
        if not _CODE.match(code or ""):
            raise _unknown(code)
        with self.store.engine.connect() as connection:
            found = connection.execute(sa.select(codes.c.identifier).where(codes.c.code == code)).scalar()
        return found or TRACE_CODE_PREFIX + code

    def page(self, code: str) -> dict[str, Any]:
        """What ``/t/{code}`` shows: the public journey, the test results and any recall."""
        start = self.identifier(code)
        with self.store.engine.connect() as connection:
            answer = follow(connection, start, "back")
        documents = self.trace.documents([e["eventID"] for e in answer["events"]])
        if not documents:
            raise _unknown(code)
        recalled = [d for d in documents if d.get("disposition") == "recalled"]
        shown = [d for d in documents if extension(d, "public") is True]
        stops = [d for d in shown if d.get("bizStep") != "inspecting"]
        places = MasterData(self.store).places(ANONYMOUS, {canonical(_place_of(d)) for d in stops if _place_of(d)})
        journey = [_stop(d, places) for d in stops]
        tests = [_result(d) for d in shown if d.get("bizStep") in ("inspecting", "sampling")]
        product = next((extension(d, "product") for d in reversed(shown) if extension(d, "product")), None)
        return {"code": code, "identifier": start, "product": product, "journey": journey, "tests": tests,
                "recalled": [{"time": _local(d["eventTime"]), "eventID": d["eventID"]} for d in recalled],
                "map": journey_map(journey)}


def qr(url: str, kind: str) -> tuple[bytes, str]:
    """The QR code of a page address as PNG or SVG (error correction M, a quiet zone of 4 modules)."""
    code = segno.make(url, error="m", micro=False)
    buffer = io.BytesIO()
    if kind == "svg":
        code.save(buffer, kind="svg", scale=4, xmldecl=False, title="溯源码 trace code")
        return buffer.getvalue(), "image/svg+xml"
    code.save(buffer, kind="png", scale=8)
    return buffer.getvalue(), "image/png"


def _unknown(code: str) -> ZhulianError:
    return ZhulianError("not_found", f"No product has the trace code {code!r}.",
                        f"没有溯源码为 {code!r} 的产品，请核对后重试。", 404)


def _place_of(document: dict[str, Any]) -> str | None:
    return (document.get("bizLocation") or document.get("readPoint") or {}).get("id")


def _stop(document: dict[str, Any], places: dict[str, Place]) -> dict[str, Any]:
    """One stop of the journey: its place by name where master data names it, on the map where a ``geo:`` URI,
    the master data or, failing both, the centre of the named place's city gives coordinates."""
    place = _place_of(document)
    named = places.get(canonical(place)) if place else None
    temperatures = [r.get("value") for element in document.get("sensorElementList", [])
                    for r in element.get("sensorReport", []) if r.get("type") == "Temperature"]
    found = _GEO.match(place or "")
    lat, lng = (float(found.group(1)), float(found.group(2))) if found else _coordinates(named)
    step = document.get("bizStep") or ""
    return {"stage": extension(document, "step") or _STAGE.get(step, step or "记录"),
            "time": _local(document["eventTime"]), "place": named.label if named else place,
            "product": extension(document, "product"), "temperature": temperatures[0] if temperatures else None,
            "lat": lat, "lng": lng}


def _coordinates(place: Place | None) -> tuple[float | None, float | None]:
    if place is None:
        return None, None
    if place.latitude is not None and place.longitude is not None:
        return place.latitude, place.longitude
    city = city_of(place.city)
    return (city.lat, city.lng) if city else (None, None)


def _result(document: dict[str, Any]) -> dict[str, Any]:
    reports = [r for element in document.get("sensorElementList", []) for r in element.get("sensorReport", [])
               if r.get("chemicalSubstance") or r.get("microorganism")]
    report = reports[0] if reports else {}
    return {"time": _local(document["eventTime"]), "analyte": extension(document, "analyteName")
            or report.get("chemicalSubstance") or report.get("microorganism"), "value": report.get("value"),
            "uom": report.get("uom"), "limit": extension(document, "limit"), "method": extension(document, "method"),
            "verdict": _VERDICT.get(document.get("disposition") or "", document.get("disposition"))}


def _local(moment: str) -> str:
    """An event's time as the page shows it, to the minute: as captured, or in Beijing time when captured in
    UTC (as the platform's own recall events are)."""
    if moment.endswith("Z"):
        moment = dt.datetime.fromisoformat(moment.replace("Z", "+00:00")).astimezone(_BEIJING).isoformat()
    return moment[:16].replace("T", " ")


def journey_map(journey: list[dict[str, Any]]) -> str | None:
    """A plain SVG map of the journey's places in order, when at least two have coordinates."""
    points = [(s["lng"], s["lat"], s["stage"]) for s in journey if s["lat"] is not None]
    if len(points) < 2:
        return None
    width, height, pad = 360, 240, 30
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    span = max(max(lngs) - min(lngs), max(lats) - min(lats), 0.01)

    def xy(lng: float, lat: float) -> tuple[float, float]:
        return (pad + (lng - min(lngs)) / span * (width - 2 * pad),
                height - pad - (lat - min(lats)) / span * (height - 2 * pad))

    placed = [(*xy(lng, lat), stage) for lng, lat, stage in points]
    line = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in placed)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
             'aria-label="产品流向地图 journey map"><title>产品流向 journey</title>',
             f'<polyline points="{line}" fill="none" stroke="#2e7d32" stroke-width="2"/>']
    for index, (x, y, stage) in enumerate(placed, start=1):
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="6" fill="#2e7d32"/>'
                     f'<text x="{x + 8:.1f}" y="{y - 8:.1f}" font-size="12">{index} {escape(stage)}</text>')
    parts.append("</svg>")
    return "".join(parts)
