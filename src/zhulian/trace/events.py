"""What is stored beside an event so queries never read its JSON: the UTC event time, CBV words without their
URI prefixes, canonical read point and business location, and every identifier with its role."""

from __future__ import annotations

from typing import Any

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
