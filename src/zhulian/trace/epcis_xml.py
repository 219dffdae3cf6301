"""EPCIS XML (1.2 and 2.0) events in the JSON binding's shape, so that one event hash (``hashing``) serves both
syntaxes: lists of ``<epc>`` become arrays, ``<quantityElement>`` objects, ``type`` attributes of business
transactions, sources and destinations their ``type`` fields, sensor metadata and report attributes object
fields, the 1.2 ``<extension>`` and ``<baseExtension>`` wrappers are unwrapped, and user extensions keep their
namespace as ``{namespace}name``. Used for event hashes only: documents come from files the operator
chose, and ElementTree resolves no external entities."""

from __future__ import annotations

import io
from typing import Any
from xml.etree import ElementTree

EVENT_TYPES = ("ObjectEvent", "AggregationEvent", "TransactionEvent", "TransformationEvent", "AssociationEvent")
_EPC_LISTS = ("epcList", "childEPCs", "inputEPCList", "outputEPCList")
_QUANTITY_LISTS = ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList")
_TYPED_LISTS = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
_WRAPPERS = ("extension", "baseExtension")


def xml_document(text: str) -> tuple[list[dict[str, Any]], dict[str, str], frozenset[str]]:
    """A document's events (JSON shape), its namespace prefixes, and the fields it says hashes ignore."""
    prefixes: dict[str, str] = {}
    for _, (prefix, uri) in ElementTree.iterparse(io.StringIO(text), events=("start-ns",)):
        prefixes.setdefault(prefix, uri)
    root = ElementTree.fromstring(text)
    found = []
    for event_list in root.iter():
        if _local(event_list.tag) == "EventList":
            found += [_event(child) for child in _unwrapped(list(event_list)) if _local(child.tag) in EVENT_TYPES]
    ignore = frozenset(_key(field.tag) for element in root.iter() if _local(element.tag) == "ignoreFields"
                       for field in element)
    return found, prefixes, ignore


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _key(tag: str) -> str:
    """A standard field by its name; a user extension as ``{namespace}name``."""
    return tag if tag.startswith("{") and not tag.startswith("{urn:epcglobal:epcis") else _local(tag)


def _unwrapped(children: list[ElementTree.Element]) -> list[ElementTree.Element]:
    flat = []
    for child in children:
        flat += _unwrapped(list(child)) if _local(child.tag) in _WRAPPERS else [child]
    return flat


def _text(element: ElementTree.Element) -> str:
    return (element.text or "").strip()


def _event(element: ElementTree.Element) -> dict[str, Any]:
    event: dict[str, Any] = {"type": _local(element.tag)}
    for child in _unwrapped(list(element)):
        name = _key(child.tag)
        if name in _EPC_LISTS:
            event[name] = [_text(epc) for epc in child]
        elif name in _QUANTITY_LISTS:
            event[name] = [{_local(part.tag): _text(part) for part in quantity} for quantity in child]
        elif name in _TYPED_LISTS:
            event[name] = [{**({"type": item.get("type")} if item.get("type") else {}), _TYPED_LISTS[name]: _text(item)}
                           for item in child]
        elif name in ("readPoint", "bizLocation"):
            event[name] = _object(child)
        elif name == "persistentDisposition":
            event[name] = _repeated(child)
        elif name == "sensorElementList":
            event[name] = [_sensor_element(sensor) for sensor in child]
        else:
            event[name] = _value(child)
    return event


def _value(element: ElementTree.Element) -> Any:
    """An element's text, or — when it has children or attributes — an object of them."""
    return _object(element) if list(element) or element.attrib else _text(element)


def _object(element: ElementTree.Element) -> dict[str, Any]:
    return _repeated(element, single=True)


def _repeated(element: ElementTree.Element, *, single: bool = False) -> dict[str, Any]:
    """Attributes and children as fields; a name given more than once becomes a list (``set``, ``unset``,
    repeated extensions)."""
    fields: dict[str, Any] = {_key(attribute): value for attribute, value in element.attrib.items()}
    for child in _unwrapped(list(element)):
        name = _key(child.tag)
        value = _value(child)
        if name in fields:
            fields[name] = [*fields[name], value] if isinstance(fields[name], list) else [fields[name], value]
        else:
            fields[name] = value if single else [value]
    return fields


def _sensor_element(element: ElementTree.Element) -> dict[str, Any]:
    sensor: dict[str, Any] = {}
    for child in element:
        name = _key(child.tag)
        fields = {_key(attribute): value for attribute, value in child.attrib.items()}
        if name == "sensorReport":
            sensor.setdefault("sensorReport", []).append(fields)
        elif name == "sensorMetadata":
            sensor[name] = fields
        else:
            sensor[name] = _value(child)
    return sensor
