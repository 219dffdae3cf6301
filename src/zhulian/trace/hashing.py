"""Event hash IDs per CBV 2.0 §8.8: an event's canonical pre-hash string — its fields in the standard's order,
each ``name=value`` with values canonicalised (times to UTC at milliseconds, numbers without trailing zeros,
CBV bare words and CURIEs to their web URIs, GS1 keys to canonical Digital Links), repeated elements sorted,
user extensions last as ``{namespace}name`` — hashed with SHA-256 into ``ni:///sha-256;<hex>?ver=CBV2.0``.
``eventID``, ``recordTime``, ``errorDeclaration`` and comments are left out, so an event and its error
declaration share one hash, and two spellings of one event (URN or Digital Link, any time-zone offset) hash alike.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from zhulian.trace.identifiers import gs1_digital_link

Node = tuple[str, str, list]  # (name, value, children): the event as the XML model sees it
Order = list[tuple[str, "Order | None"]]

_QUANTITY: Order = [("epcClass", None), ("quantity", None), ("uom", None)]
_SENSOR_METADATA: Order = [(name, None) for name in (
    "time", "startTime", "endTime", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "bizRules")]
_SENSOR_REPORT: Order = [(name, None) for name in (
    "type", "exception", "deviceID", "deviceMetadata", "rawData", "dataProcessingMethod", "time", "microorganism",
    "chemicalSubstance", "value", "component", "stringValue", "booleanValue", "hexBinaryValue", "uriValue",
    "minValue", "maxValue", "meanValue", "sDev", "percRank", "percValue", "uom", "coordinateReferenceSystem")]
EVENT_ORDER: Order = [
    ("eventTime", None), ("eventTimeZoneOffset", None), ("certificationInfo", None),
    ("epcList", [("epc", None)]), ("parentID", None), ("inputEPCList", [("epc", None)]),
    ("childEPCs", [("epc", None)]), ("quantityList", [("quantityElement", _QUANTITY)]),
    ("childQuantityList", [("quantityElement", _QUANTITY)]), ("inputQuantityList", [("quantityElement", _QUANTITY)]),
    ("outputEPCList", [("epc", None)]), ("outputQuantityList", [("quantityElement", _QUANTITY)]),
    ("action", None), ("transformationID", None), ("bizStep", None), ("disposition", None),
    ("persistentDisposition", [("set", None), ("unset", None)]), ("readPoint", [("id", None)]),
    ("bizLocation", [("id", None)]),
    ("sensorElementList", [("sensorElement", [("sensorMetadata", _SENSOR_METADATA),
                                              ("sensorReport", _SENSOR_REPORT)])]),
]
# A list's items are named as in the XML binding (epcList → epc, inputQuantityList → quantityElement, …).
_ITEM_NAMES = {"epcList": "epc", "inputEPCList": "epc", "outputEPCList": "epc", "childEPCs": "epc",
               "quantityList": "quantityElement", "childQuantityList": "quantityElement",
               "inputQuantityList": "quantityElement", "outputQuantityList": "quantityElement"}
# Items whose XML element carries its value and a type attribute: rendered ``type=…name=…`` without a name.
_TYPED_ITEMS = {"bizTransactionList": "bizTransaction", "sourceList": "source", "destinationList": "destination"}
_LEFT_OUT = {"type", "eventID", "recordTime", "errorDeclaration", "comment", "rdfs:comment", "@context", "#text"}
_CBV = "https://ref.gs1.org/cbv/"
_GS1_VOC = "https://gs1.org/voc/"
# Which CBV vocabulary a bare word in a field belongs to, by (parent, field).
_VOCABULARY = {("event", "bizStep"): _CBV + "BizStep-", ("event", "disposition"): _CBV + "Disp-",
               ("persistentDisposition", "set"): _CBV + "Disp-", ("persistentDisposition", "unset"): _CBV + "Disp-",
               ("bizTransactionList", "type"): _CBV + "BTT-", ("sourceList", "type"): _CBV + "SDT-",
               ("destinationList", "type"): _CBV + "SDT-", ("sensorReport", "type"): _GS1_VOC,
               ("sensorReport", "exception"): _GS1_VOC, ("sensorReport", "component"): _CBV + "Comp-"}
_OLD_CBV_URNS = (("urn:epcglobal:cbv:bizstep:", _CBV + "BizStep-"), ("urn:epcglobal:cbv:disp:", _CBV + "Disp-"),
                 ("urn:epcglobal:cbv:btt:", _CBV + "BTT-"), ("urn:epcglobal:cbv:sdt:", _CBV + "SDT-"),
                 ("urn:epcglobal:cbv:er:", _CBV + "ER-"))
STANDARD_PREFIXES = {"gs1": _GS1_VOC, "cbv": _CBV, "epcis": "https://ref.gs1.org/epcis/",
                     "cbvmda": "urn:epcglobal:cbv:mda:"}
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BARE_WORD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def event_hash(event: dict[str, Any], prefixes: dict[str, str] | None = None,
               ignore: frozenset[str] = frozenset()) -> str:
    digest = hashlib.sha256(pre_hash(event, prefixes, ignore).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"


def pre_hash(event: dict[str, Any], prefixes: dict[str, str] | None = None,
             ignore: frozenset[str] = frozenset()) -> str:
    """The canonical string an event's hash is taken of; ``prefixes`` are the document's context namespaces,
    ``ignore`` the extension fields a document names in its ``…:ignoreFields`` (fields a repository adds)."""
    namespaces = {**STANDARD_PREFIXES, **(prefixes or {})}
    children = _children({k: v for k, v in event.items() if k not in ignore}, "event", namespaces)
    return f"eventType={event.get('type', '')}" + _render_event(children)


def context_prefixes(context: Any) -> dict[str, str]:
    """The namespace prefixes a document's ``@context`` declares (``{"ex": "https://ns.example.com/"}``)."""
    found: dict[str, str] = {}
    for entry in context if isinstance(context, list) else [context]:
        if isinstance(entry, dict):
            found.update({k: v for k, v in entry.items() if isinstance(v, str) and not k.startswith("@")})
    return found


def ignored_fields(document: dict[str, Any]) -> frozenset[str]:
    """The extension fields a document (or its query results) says to leave out of event hashes
    (``"x:ignoreFields": [...]``)."""
    results = (document.get("epcisBody") or {}).get("queryResults") or {}
    return frozenset(str(name) for level in (document, results) if isinstance(level, dict)
                     for key, value in level.items() if key.endswith(":ignoreFields") and isinstance(value, list)
                     for name in value)


# -- from JSON to the XML model ---------------------------------------------------------------------

def _children(obj: dict[str, Any], parent: str, namespaces: dict[str, str]) -> list[Node]:
    nodes: list[Node] = []
    for key, value in obj.items():
        if (parent == "event" and key in _LEFT_OUT) or key in ("comment", "rdfs:comment", "#text", "@context"):
            continue
        if key.startswith("@xmlns"):
            continue
        name = _key(key, namespaces)
        if isinstance(value, list):
            if key in _TYPED_ITEMS:
                nodes.append((name, "", [_typed_item(item, key, _TYPED_ITEMS[key], namespaces) for item in value]))
            elif key in _ITEM_NAMES or key.endswith("List"):
                item = _ITEM_NAMES.get(key, key[:-4])
                nodes.append((name, "", [_node(item, v, key, namespaces) for v in value]))
            else:  # a repeated element, e.g. sensorReport
                nodes.extend(_node(name, v, parent, namespaces) for v in value)
        else:
            nodes.append(_node(name, value, parent, namespaces))
    return nodes


def _node(name: str, value: Any, parent: str, namespaces: dict[str, str]) -> Node:
    if isinstance(value, dict):
        return name, "", _children(value, name, namespaces)
    return name, _value(value, parent, name, namespaces), []


def _typed_item(item: dict[str, Any], parent: str, field: str, namespaces: dict[str, str]) -> Node:
    parts = []
    if item.get("type"):
        parts.append(("type", _value(item["type"], parent, "type", namespaces), []))
    parts.append((field, _value(item.get(field, ""), parent, field, namespaces), []))
    return "", "", parts


def _key(key: str, namespaces: dict[str, str]) -> str:
    prefix, sep, local = key.partition(":")
    if sep and prefix in namespaces:
        return "{" + namespaces[prefix] + "}" + local
    return key


def _value(value: Any, parent: str, field: str, namespaces: dict[str, str]) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _number(str(value))
    text = str(value).strip()
    if not text:
        return ""
    lowered = field.lower()
    if "time" in lowered and "offset" not in lowered and not lowered.startswith("{"):
        return utc_millis(text) or text
    vocabulary = _VOCABULARY.get((parent, field))
    if vocabulary and _BARE_WORD.match(text):
        return vocabulary + text
    for old, new in _OLD_CBV_URNS:
        if text.startswith(old):
            return new + text[len(old):]
    prefix, sep, local = text.partition(":")
    if sep and prefix in ("gs1", "cbv") and prefix in namespaces:
        return namespaces[prefix] + local
    if _NUMBER.match(text):
        return _number(text)
    return gs1_digital_link(text) or text


def _number(text: str) -> str:
    number = float(text)
    return str(int(number)) if number.is_integer() else str(number)


def utc_millis(text: str) -> str | None:
    """An ISO 8601 date-time with an offset as UTC at milliseconds (``2022-02-17T02:33:31.116Z``), sub-millisecond
    digits rounded half up; None when it is not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    seconds = Decimal(moment.second) + Decimal(moment.microsecond) / Decimal(1_000_000)
    # Sub-millisecond digits round half up (…03.1415 → 03.142); the microsecond parse keeps six digits.
    fraction = _fraction(text)
    if fraction is not None:
        seconds = Decimal(moment.second) + fraction
    rounded = seconds.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    moment = moment.replace(second=0, microsecond=0).astimezone(UTC)
    whole = moment.timestamp() + float(rounded)
    stamp = datetime.fromtimestamp(int(whole), UTC)
    millis = int((rounded * 1000) % 1000)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + f".{millis:03d}Z"


def _fraction(text: str) -> Decimal | None:
    found = re.search(r"T\d{2}:\d{2}:\d{2}(\.\d+)", text)
    return Decimal("0" + found.group(1)) if found else None


# -- rendering ---------------------------------------------------------------------------------------

def _render_event(children: list[Node]) -> str:
    """The event's fields in the standard order, then — sorted together — the fields outside it: user
    extensions, lists the order leaves out, and fields unknown where they stand (moved here with their path)."""
    strays: list[str] = []
    ordered = _render_ordered(children, EVENT_ORDER, [], strays)
    rest = [_render(c, None, [], strays) for c in children if c[0] not in {name for name, _ in EVENT_ORDER}]
    return ordered + "".join(sorted(filter(None, rest + strays)))


def _render(node: Node, order: Order | None, path: list[str], strays: list[str]) -> str:
    name, value, children = node
    if order is None and not name and len(children) in (1, 2):  # a typed item: type first, then its value
        order = [(child[0], None) for child in children]
    text = f"{name}={value}" if value else ""
    inner = _render_children(children, order or [], [*path, name], strays)
    if not value and not inner:
        return ""  # an empty element (an empty epcList) counts for nothing
    return (text or name) + inner


def _render_children(children: list[Node], order: Order, path: list[str], strays: list[str]) -> str:
    """Ordered children first; then user extensions (``{namespace}name``) sorted. Where the standard fixes
    the children (a sensor report, a quantity element), a field without a namespace it does not know is a
    stray: rendered with its path at the end of the event."""
    names = {name for name, _ in order}
    rest = [c for c in children if c[0] not in names]
    if order:
        for stray in (c for c in rest if not c[0].startswith("{")):
            rendered = _render(stray, None, path, strays)
            if rendered:
                strays.append("".join(path) + rendered)
        rest = [c for c in rest if c[0].startswith("{")]
    inline = sorted(filter(None, (_render(c, None, path, strays) for c in rest)))
    return _render_ordered(children, order, path, strays) + "".join(inline)


def _render_ordered(children: list[Node], order: Order, path: list[str], strays: list[str]) -> str:
    out: list[str] = []
    for name, sub_order in order:
        out += sorted(filter(None, (_render(c, sub_order, path, strays) for c in children if c[0] == name)))
    return "".join(out)
