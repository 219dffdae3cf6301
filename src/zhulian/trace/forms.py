"""The chain in Chinese terms: a cooperative or a market records 种植/养殖 (with inputs), 生产加工, 流通 (发货,
收货, 储存 with temperatures), 销售/消费 and 快检 without knowing EPCIS — one row of a spreadsheet or one phone
form per step — and each becomes a standard EPCIS event, stored through the module's capture.

A lot or item given as a bare code (no ``:``) is the platform's trace code ``urn:zhulian:trace:<code>``; an EPC
URN or a GS1 Digital Link is taken as it is."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from zhulian.access import Principal
from zhulian.errors import Problem, invalid
from zhulian.trace.rapid import ZL, number, rapid_test_event
from zhulian.trace.service import EPCIS_CONTEXT, TraceService
from zhulian.trace.spreadsheets import blank, parse_rows
from zhulian.trace.tables import recalls

TRACE_CODE_PREFIX = "urn:zhulian:trace:"
CONTEXT = [EPCIS_CONTEXT, {"zl": ZL}]


@dataclass(frozen=True)
class Step:
    zh: str
    en: str
    biz_step: str
    disposition: str | None
    transforms: bool = False  # inputs → outputs (a TransformationEvent) when inputs are given


# 环节 → CBV 2.0: what a row's 环节 column (or the form's step) may say.
STEPS = {
    "种植": Step("种植", "planting", "commissioning", "active", True),
    "养殖": Step("养殖", "breeding", "commissioning", "active", True),
    "屠宰": Step("屠宰", "slaughtering", "killing", "active", True),
    "加工": Step("生产加工", "processing", "commissioning", "active", True),
    "发货": Step("发货", "shipping", "shipping", "in_transit"),
    "收货": Step("收货", "receiving", "receiving", "in_progress"),
    "储存": Step("储存", "storing", "storing", "in_progress"),
    "销售": Step("销售", "retail selling", "retail_selling", "retail_sold"),
    "消费": Step("消费", "dispensing to consumers", "dispensing", "dispensed"),
    "快检": Step("快检", "rapid test", "inspecting", None),
}
# Spreadsheet columns: (key, Chinese header, English header, example)
COLUMNS = (
    ("step", "环节", "step", "种植"), ("time", "时间", "time", "2026-05-01T08:00"),
    ("lot", "批次", "lot", "GZ-CAI-0501"), ("quantity", "数量", "quantity", "500"), ("uom", "单位", "unit", "KGM"),
    ("place", "地点", "place", "urn:epc:id:sgln:4012345.00001.0"),
    ("inputs", "投入品或原料批次", "inputs", "FEI-2026-01;ZHONG-2026-03"),
    ("outputs", "产出批次", "outputs", ""), ("to_place", "收货地点", "ship-to place", ""),
    ("to_party", "收货方", "ship-to party", ""), ("temperature", "温度(℃)", "temperature °C", ""),
    ("city", "城市代码", "city adcode", "440100"), ("productClass", "产品类别", "product class", "蔬菜"),
    ("product", "产品名称", "product name", "菜心"), ("public", "公开", "public", "是"),
    ("analyteName", "检测项目", "analyte", ""), ("chemicalSubstance", "化学物质URI", "chemical substance URI", ""),
    ("microorganism", "微生物URI", "microorganism URI", ""), ("value", "检测值", "value", ""),
    ("limit", "限量", "limit", ""), ("method", "检测方法", "method", ""), ("device", "检测设备", "device", ""),
    ("verdict", "判定", "verdict", ""),
)
_VERDICT_WORDS = {"合格": "conformant", "不合格": "non_conformant"}
_UOM = re.compile(r"^[A-Z0-9]{2,3}$")


def lot_uri(value: str) -> str:
    """A bare code is the platform's trace code; a URI is as given."""
    value = value.strip()
    return value if ":" in value else TRACE_CODE_PREFIX + value


def step_event(form: dict[str, Any]) -> dict[str, Any]:
    """One step of the chain, as a form or a spreadsheet row gives it, as an EPCIS event."""
    step = STEPS.get(str(form.get("step") or "").strip())
    if step is None:
        raise invalid([Problem("step", form.get("step"), f"one of {', '.join(STEPS)}",
                               f"环节应为 {'、'.join(STEPS)} 之一")], "record")
    if step.biz_step == "inspecting":
        verdict = _VERDICT_WORDS.get(str(form.get("verdict") or ""), form.get("verdict") or None)
        return rapid_test_event({**form, "lot": lot_uri(str(form.get("lot") or "")) if form.get("lot") else "",
                                 "verdict": verdict, "step": "inspecting", "public": _public(form)})
    problems: list[Problem] = []
    when = _time(form.get("time"), problems)
    lot = str(form.get("lot") or "").strip()
    inputs = [lot_uri(i) for i in re.split(r"[;；,，]", str(form.get("inputs") or "")) if i.strip()]
    outputs = [lot_uri(o) for o in re.split(r"[;；,，]", str(form.get("outputs") or "")) if o.strip()] or (
        [lot_uri(lot)] if lot else [])
    if not outputs:
        problems.append(Problem("lot", None, "the lot or item of this step", "请填写批次"))
    quantity = _quantity(form, problems)
    temperature = number(form, "temperature", problems)
    if problems:
        raise invalid(problems, "record")
    event: dict[str, Any] = {"eventID": f"urn:uuid:{uuid.uuid4()}", "eventTime": when.isoformat(timespec="seconds"),
                             "eventTimeZoneOffset": when.strftime("%z")[:3] + ":" + when.strftime("%z")[3:],
                             "bizStep": step.biz_step}
    if step.disposition:
        event["disposition"] = step.disposition
    event["zl:step"] = step.zh  # the farmer's word for it: commissioning is 种植, 养殖 and 加工 alike
    if step.transforms and inputs:
        event |= {"type": "TransformationEvent", "inputQuantityList": [{"epcClass": i} for i in inputs],
                  "outputQuantityList": [_quantity_element(o, quantity) for o in outputs]}
    else:
        event |= {"type": "ObjectEvent", "action": "ADD" if step.transforms else "OBSERVE",
                  "quantityList": [_quantity_element(o, quantity) for o in outputs]}
    if form.get("place"):
        event["readPoint"] = event["bizLocation"] = {"id": lot_uri(str(form["place"]))}
    destinations = [{"type": kind, "destination": lot_uri(str(form[field]))}
                    for field, kind in (("to_place", "location"), ("to_party", "possessing_party")) if form.get(field)]
    if destinations:
        event["destinationList"] = destinations
    if temperature is not None:
        event["sensorElementList"] = [{"sensorReport": [{"type": "Temperature", "value": temperature, "uom": "CEL"}]}]
    for name in ("city", "productClass", "product"):
        if form.get(name):
            event[f"zl:{name}"] = str(form[name])
    if _public(form):
        event["zl:public"] = True
    return event


def _public(form: dict[str, Any]) -> bool:
    """Whether the party makes this step public on the consumer page (``是`` in a sheet, a ticked box)."""
    given = form.get("public")
    return given is True or str(given or "").strip().lower() in ("是", "yes", "true", "1", "on")


def _quantity_element(lot: str, quantity: tuple[float, str] | None) -> dict[str, Any]:
    element: dict[str, Any] = {"epcClass": lot}
    if quantity:
        element["quantity"], element["uom"] = quantity
    return element


def _quantity(form: dict[str, Any], problems: list[Problem]) -> tuple[float, str] | None:
    if form.get("quantity") in (None, ""):
        return None
    uom = str(form.get("uom") or "KGM").strip().upper()
    amount = number(form, "quantity", problems)
    if amount is None:
        return None
    if not _UOM.match(uom):
        problems.append(Problem("uom", uom, "a UN/ECE Rec 20 unit code such as KGM (kg) or H87 (piece)",
                                "单位应为 UN/ECE 20 单位代码，如 KGM（千克）、H87（件）"))
    return amount, uom


def _time(given: Any, problems: list[Problem]) -> dt.datetime:
    china = dt.timezone(dt.timedelta(hours=8))
    if given in (None, ""):
        return dt.datetime.now(china).replace(microsecond=0)
    if isinstance(given, dt.datetime):
        moment = given
    else:
        try:
            moment = dt.datetime.fromisoformat(str(given).strip())
        except ValueError:
            problems.append(Problem("time", given, "a date and time such as 2026-05-01T08:00",
                                    "时间应为如 2026-05-01T08:00 的格式"))
            return dt.datetime.now(china)
    return moment if moment.tzinfo else moment.replace(tzinfo=china)  # a cooperative's clock is Beijing time


# -- recording -------------------------------------------------------------------------------------------

class ChainForms:
    """Record steps from a phone form or a spreadsheet, through the module's capture (all rows or none)."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.trace = TraceService(store)

    def record(self, principal: Principal, form: dict[str, Any], *, origin: str | None = None) -> dict[str, Any]:
        """One step; its eventID, and the recall case a non-conformant rapid test opened."""
        event = step_event(form)
        job = self.trace.capture(principal, _document([event]), origin=origin)
        with self.store.engine.connect() as connection:
            case = connection.execute(sa.select(recalls.c.id).where(
                recalls.c.source_event == event["eventID"])).scalar()
        return {"eventID": job["eventIDs"][0], "captureID": job["captureID"], "recallCase": case,
                "bizStep": event["bizStep"], "disposition": event.get("disposition")}

    def import_rows(self, principal: Principal, content: bytes, filename: str, *, origin: str | None = None
                    ) -> dict[str, Any]:
        """A CSV or XLSX of steps (``template``'s columns, Chinese or English headers): every row valid or
        nothing stored, each problem named by its row."""
        found = parse_rows(content, filename, COLUMNS, step_event)
        job = self.trace.capture(principal, _document(found), origin=origin)
        return {"captureID": job["captureID"], "storedCount": job["storedCount"], "eventIDs": job["eventIDs"]}


def template(kind: str) -> tuple[bytes, str]:
    """A blank sheet with Chinese headers, an example row and the steps explained: (content, media type)."""
    notes = [["环节 step", "CBV 业务步骤 bizStep", "说明 meaning"]]
    notes += [[word, step.biz_step, f"{step.zh} / {step.en}"] for word, step in STEPS.items()]
    return blank(kind, COLUMNS, "溯源记录", notes)


def _document(found: list[dict[str, Any]]) -> dict[str, Any]:
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "epcisBody": {"eventList": found}}

