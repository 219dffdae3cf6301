"""What is stored beside an event so queries never read its JSON: the UTC event time, CBV words without their
URI prefixes, canonical read point and business location, and every identifier with its role."""

from __future__ import annotations

from typing import Any

from zhulian.trace.hashing import utc_millis
from zhulian.trace.identifiers import canonical

# (list field, role for an instance identifier) and (quantity list, role for a class)
INSTANCE_LISTS = (("epcList", "epc"), ("childEPCs", "child"), ("inputEPCList", "input"), ("outputEPCList", "output"))
CLASS_LISTS = (("quantityList", "epc_class"), ("childQuantityList", "child_class"),
               ("inputQuantityList", "input_class"), ("outputQuantityList", "output_class"))
_VOCABULARY_PREFIXES = {
    "BizStep": ("https://ref.gs1.org/cbv/BizStep-", "https://gs1.org/voc/BizStep-", "urn:epcglobal:cbv:bizstep:",
                "cbv:BizStep-", "gs1:BizStep-"),
    "Disp": ("https://ref.gs1.org/cbv/Disp-", "https://gs1.org/voc/Disp-", "urn:epcglobal:cbv:disp:", "cbv:Disp-",
             "gs1:Disp-"),
    "Measurement": ("https://gs1.org/voc/", "https://ref.gs1.org/voc/", "gs1:"),
    "ER": ("https://ref.gs1.org/cbv/ER-", "https://gs1.org/voc/ER-", "urn:epcglobal:cbv:er:", "cbv:ER-", "gs1:ER-"),
    "SDT": ("https://ref.gs1.org/cbv/SDT-", "https://gs1.org/voc/SDT-", "urn:epcglobal:cbv:sdt:", "cbv:SDT-",
            "gs1:SDT-"),
}


def cbv_word(value: Any, vocabulary: str) -> str | None:
    """``shipping`` for every spelling of the CBV business step (bare word, URN, web URI, CURIE); any other
    URI as given."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    for prefix in _VOCABULARY_PREFIXES[vocabulary]:
        if value.startswith(prefix):
            return value[len(prefix):]
    return value


def place(value: Any) -> str | None:
    """A read point or business location (``{"id": …}``) as its canonical identifier."""
    if isinstance(value, dict) and isinstance(value.get("id"), str):
        return canonical(value["id"])
    return None


def identifier_rows(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Every identifier an event names, canonical, with its role (see ``tables.event_ids``)."""
    rows = []

    def add(role: str, identifier: Any, kind: str | None = None, quantity: Any = None, uom: Any = None) -> None:
        if isinstance(identifier, str) and identifier.strip():
            rows.append({"role": role, "identifier": canonical(identifier)[:500], "kind": kind,
                         "quantity": float(quantity) if isinstance(quantity, (int, float)) else None,
                         "uom": uom if isinstance(uom, str) else None})

    for field, role in INSTANCE_LISTS:
        for identifier in _list(event.get(field)):
            add(role, identifier)
    add("parent", event.get("parentID"))
    for field, role in CLASS_LISTS:
        for element in _list(event.get(field)):
            if isinstance(element, dict):
                add(role, element.get("epcClass"), None, element.get("quantity"), element.get("uom"))
    for field, role in (("sourceList", "source"), ("destinationList", "destination")):
        for element in _list(event.get(field)):
            if isinstance(element, dict):
                add(role, element.get(role), cbv_word(element.get("type"), "SDT"))
    return rows


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# sensorReport / sensorMetadata fields → trace_sensor_reports columns, by kind
_SENSOR_TEXT = {"deviceID": "device_id", "dataProcessingMethod": "data_processing_method",
                "microorganism": "microorganism", "chemicalSubstance": "chemical_substance", "bizRules": "biz_rules",
                "stringValue": "string_value", "uriValue": "uri_value", "hexBinaryValue": "hex_binary_value",
                "uom": "uom"}
_SENSOR_NUMBERS = {"value": "value", "minValue": "min_value", "maxValue": "max_value", "meanValue": "mean_value",
                   "sDev": "s_dev", "percValue": "perc_value"}
_SENSOR_TIMES = {"time": "time", "startTime": "start_time", "endTime": "end_time"}
SENSOR_IDENTIFIERS = ("device_id", "data_processing_method", "biz_rules")  # compared in canonical form


def sensor_rows(event: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per sensorReport: its own fields over its sensorMetadata's (``tables.sensor_reports``)."""
    rows = []
    for element in _list(event.get("sensorElementList")):
        if not isinstance(element, dict):
            continue
        metadata = element.get("sensorMetadata") if isinstance(element.get("sensorMetadata"), dict) else {}
        for report in _list(element.get("sensorReport")):
            if isinstance(report, dict):
                rows.append(_sensor_row({**metadata, **report}))
    return rows


def _sensor_row(fields: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"type": cbv_word(fields.get("type"), "Measurement")}
    for field, column in _SENSOR_TEXT.items():
        value = fields.get(field)
        row[column] = str(value)[:500] if value is not None else None
    for column in SENSOR_IDENTIFIERS:
        row[column] = canonical(row[column]) if row[column] else None
    for field, column in _SENSOR_NUMBERS.items():
        value = fields.get(field)
        row[column] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    for field, column in _SENSOR_TIMES.items():
        row[column] = utc_millis(fields[field]) if isinstance(fields.get(field), str) else None
    value = fields.get("booleanValue")
    row["boolean_value"] = value if isinstance(value, bool) else None
    return row
