"""OAI-PMH 2.0 over the store, so repository and open-data harvesters read a node with no code of ours.

Items are the public records, with deleted ones kept as ``status="deleted"`` headers (``deletedRecord:
persistent``), and so are records that were public once and are no longer (made internal or for registered users
only): a harvester must drop its public copy; identifiers are ``oai:{node}:{type}/{id}``; one set per type; formats ``oai_dc`` and ``zhulian``
(the whole record). Lists page by (datestamp, id) so a resumption token stays right while records change.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from typing import Any
from xml.etree import ElementTree as ET

import sqlalchemy as sa

from zhulian.model import TYPE_LABELS, TYPES, record_label
from zhulian.region.adcodes import adcode_name
from zhulian.store import Store, records, revisions

OAI = "http://www.openarchives.org/OAI/2.0/"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
ZHULIAN = "urn:zhulian:record:v1"
FORMATS = {
    "oai_dc": (OAI_DC, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "zhulian": (ZHULIAN, "/oai/zhulian-record.xsd"),
}
PAGE = 100
for _prefix, _uri in (("", OAI), ("oai_dc", OAI_DC), ("dc", DC), ("xsi", XSI), ("zl", ZHULIAN)):
    ET.register_namespace(_prefix, _uri)

_ARGUMENTS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SCHEMA_XSD = f"""<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{ZHULIAN}" elementFormDefault="qualified">
  <!-- The record as JSON Schema describes it at /api/v1/schema/{{type}}: an object is an element per key, a list
       is repeated item elements, a key that is not an XML name is a field element with a name attribute. -->
  <xs:element name="record"><xs:complexType><xs:sequence>
    <xs:any minOccurs="0" maxOccurs="unbounded" processContents="lax" namespace="##targetNamespace"/>
  </xs:sequence></xs:complexType></xs:element>
</xs:schema>
"""


class OaiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


class Repository:
    def __init__(self, store: Store, node: str, base_url: str, admin_email: str) -> None:
        self.store, self.node, self.base_url, self.admin_email = store, node, base_url, admin_email

    def respond(self, arguments: dict[str, list[str]]) -> bytes:
        root = ET.Element(f"{{{OAI}}}OAI-PMH", {
            f"{{{XSI}}}schemaLocation": f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
        ET.SubElement(root, f"{{{OAI}}}responseDate").text = _stamp(dt.datetime.now(dt.UTC))
        request = ET.SubElement(root, f"{{{OAI}}}request")
        request.text = self.base_url
        try:
            verb, args = _checked(arguments)
            request.attrib.update({"verb": verb, **args})
            root.append(getattr(self, f"_{verb}")(args))
        except OaiError as error:
            ET.SubElement(root, f"{{{OAI}}}error", {"code": error.code}).text = error.message
        return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")

    # -- verbs --------------------------------------------------------------------------------------

    def _Identify(self, _args: dict[str, str]) -> ET.Element:  # noqa: N802 - OAI verbs are named so
        element = ET.Element(f"{{{OAI}}}Identify")
        with self.store.engine.connect() as connection:
            earliest = connection.execute(sa.select(sa.func.min(records.c.updated))).scalar()
        for tag, text in (("repositoryName", f"珠联 Zhulian node {self.node}"), ("baseURL", self.base_url),
                          ("protocolVersion", "2.0"), ("adminEmail", self.admin_email),
                          ("earliestDatestamp", _datestamp(earliest) if earliest else "2000-01-01T00:00:00Z"),
                          ("deletedRecord", "persistent"), ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
            ET.SubElement(element, f"{{{OAI}}}{tag}").text = text
        return element

    def _ListMetadataFormats(self, args: dict[str, str]) -> ET.Element:  # noqa: N802
        if "identifier" in args:
            self._row(args["identifier"])
        element = ET.Element(f"{{{OAI}}}ListMetadataFormats")
        for prefix, (namespace, schema) in FORMATS.items():
            fmt = ET.SubElement(element, f"{{{OAI}}}metadataFormat")
            ET.SubElement(fmt, f"{{{OAI}}}metadataPrefix").text = prefix
            ET.SubElement(fmt, f"{{{OAI}}}schema").text = schema if schema.startswith("http") else self._absolute(schema)
            ET.SubElement(fmt, f"{{{OAI}}}metadataNamespace").text = namespace
        return element

    def _ListSets(self, args: dict[str, str]) -> ET.Element:  # noqa: N802
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "ListSets answers in one response; there is nothing to resume.")
        element = ET.Element(f"{{{OAI}}}ListSets")
        for type_name in TYPES:
            entry = ET.SubElement(element, f"{{{OAI}}}set")
            ET.SubElement(entry, f"{{{OAI}}}setSpec").text = type_name
            ET.SubElement(entry, f"{{{OAI}}}setName").text = f"{TYPE_LABELS[type_name][0]} {type_name}"
        return element

    def _GetRecord(self, args: dict[str, str]) -> ET.Element:  # noqa: N802
        prefix = _format(args["metadataPrefix"])
        element = ET.Element(f"{{{OAI}}}GetRecord")
        element.append(self._record(self._row(args["identifier"]), prefix, with_metadata=True))
        return element

    def _ListIdentifiers(self, args: dict[str, str]) -> ET.Element:  # noqa: N802
        return self._list("ListIdentifiers", args, with_metadata=False)

    def _ListRecords(self, args: dict[str, str]) -> ET.Element:  # noqa: N802
        return self._list("ListRecords", args, with_metadata=True)

    # -- lists --------------------------------------------------------------------------------------

    def _list(self, verb: str, args: dict[str, str], *, with_metadata: bool) -> ET.Element:
        query = _decode_token(args["resumptionToken"]) if "resumptionToken" in args else _new_query(args)
        _format(query["prefix"])
        conditions = [_ITEM]
        if query.get("set"):
            conditions.append(records.c.type == query["set"])
        if query.get("from"):
            conditions.append(records.c.updated >= query["from"])
        if query.get("until"):
            conditions.append(records.c.updated <= query["until"])
        with self.store.engine.connect() as connection:
            total = connection.execute(sa.select(sa.func.count()).select_from(records).where(*conditions)).scalar_one()
            page_conditions = list(conditions)
            if query.get("after"):
                stamp, record_id = query["after"]
                page_conditions.append(sa.or_(records.c.updated > stamp,
                                              sa.and_(records.c.updated == stamp, records.c.id > record_id)))
            rows = connection.execute(sa.select(*_COLUMNS).where(*page_conditions)
                                      .order_by(records.c.updated, records.c.id).limit(PAGE + 1)).all()
        if not rows:
            raise OaiError("noRecordsMatch", "No records match these arguments.")
        element = ET.Element(f"{{{OAI}}}{verb}")
        for row in rows[:PAGE]:
            element.append(self._record(row, query["prefix"], with_metadata=with_metadata)
                           if with_metadata else self._header(row))
        cursor = query.get("cursor", 0)
        token = ET.SubElement(element, f"{{{OAI}}}resumptionToken",
                              {"completeListSize": str(total), "cursor": str(cursor)})
        if len(rows) > PAGE:
            last = rows[PAGE - 1]
            token.text = _encode_token({**query, "after": [last.updated, last.id], "cursor": cursor + PAGE})
        return element

    # -- records ------------------------------------------------------------------------------------

    def _row(self, identifier: str) -> sa.Row:
        match = re.fullmatch(rf"oai:{re.escape(self.node)}:([a-z]+)/([a-z]{{3}}_[0-9A-Za-z]+)", identifier)
        with self.store.engine.connect() as connection:
            row = match and connection.execute(
                sa.select(*_COLUMNS).where(records.c.id == match.group(2), records.c.type == match.group(1),
                                           _ITEM)).first()
        if not row:
            raise OaiError("idDoesNotExist", f"No item {identifier!r} here; identifiers look like "
                           f"oai:{self.node}:organization/org_01J…")
        return row

    def _header(self, row: sa.Row) -> ET.Element:
        header = ET.Element(f"{{{OAI}}}header", {"status": "deleted"} if _gone(row) else {})
        ET.SubElement(header, f"{{{OAI}}}identifier").text = f"oai:{self.node}:{row.type}/{row.id}"
        ET.SubElement(header, f"{{{OAI}}}datestamp").text = _datestamp(row.updated)
        ET.SubElement(header, f"{{{OAI}}}setSpec").text = row.type
        return header

    def _record(self, row: sa.Row, prefix: str, *, with_metadata: bool) -> ET.Element:
        element = ET.Element(f"{{{OAI}}}record")
        element.append(self._header(row))
        if with_metadata and not _gone(row):
            metadata = ET.SubElement(element, f"{{{OAI}}}metadata")
            metadata.append(_dublin_core(row.data) if prefix == "oai_dc" else _whole(row.data))
        return element

    def _absolute(self, path: str) -> str:
        return self.base_url.rsplit("/oai", 1)[0] + path


# An item is a record that is public, or was public in some revision: once public, a harvester may hold a copy,
# so a record withdrawn from the public stays an item, as a deletion. (The latest revision's own data is JSON null,
# its state being in ``records``, which the first test reads.)
_ITEM = sa.or_(records.c.access == "public", sa.exists().where(
    revisions.c.record_id == records.c.id, revisions.c.data["access"].as_string() == "public"))
_COLUMNS = (records.c.id, records.c.type, records.c.updated, records.c.deleted, records.c.access, records.c.data)


def _gone(row: sa.Row) -> bool:
    """Deleted, or no longer public: either way a harvester drops its copy."""
    return row.deleted is not None or row.access != "public"


def _dublin_core(record: dict[str, Any]) -> ET.Element:
    dc = ET.Element(f"{{{OAI_DC}}}dc", {
        f"{{{XSI}}}schemaLocation": f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"})

    def add(tag: str, value: Any) -> None:
        if value not in (None, "", [], {}):
            ET.SubElement(dc, f"{{{DC}}}{tag}").text = str(value)

    names = record.get("name") or record.get("title") or {}
    for lang in ("zh", "en", "zh_hant"):
        add("title", names.get(lang))
    add("identifier", record["id"])
    for scheme, value in record.get("pids", {}).items():
        add("identifier", f"{scheme}:{value}")
    for person in record.get("authors", []) + record.get("inventors", []):
        add("creator", person)
    for subject in record.get("keywords", []) + record.get("disciplines", []):
        add("subject", subject)
    description = record.get("abstract") or (record.get("description") or {}).get("zh")
    add("description", description)
    add("publisher", record.get("issuer") or record.get("venue"))
    for key in ("issued", "publication_date", "year_published", "year_completed", "founded", "established"):
        add("date", record.get(key))
    add("type", record["type"])
    add("language", record.get("language"))
    add("coverage", adcode_name(record["city"]) if record.get("city") else None)
    for relation in record.get("relations", []):
        add("relation", f"{relation.get('predicate')}:{relation.get('object') or relation.get('subject')}")
    if not names:
        add("title", record_label(record))
    return dc


def _whole(record: dict[str, Any]) -> ET.Element:
    root = ET.Element(f"{{{ZHULIAN}}}record", {
        f"{{{XSI}}}schemaLocation": f"{ZHULIAN} /oai/zhulian-record.xsd"})
    _fill(root, record)
    return root


def _fill(parent: ET.Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if _NAME.fullmatch(key) and not key.lower().startswith("xml"):
                child = ET.SubElement(parent, f"{{{ZHULIAN}}}{key}")
            else:
                child = ET.SubElement(parent, f"{{{ZHULIAN}}}field", {"name": key})
            _fill(child, item)
    elif isinstance(value, list):
        for item in value:
            _fill(ET.SubElement(parent, f"{{{ZHULIAN}}}item"), item)
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    elif value is not None:
        parent.text = str(value)


# -- arguments ------------------------------------------------------------------------------------

def _checked(arguments: dict[str, list[str]]) -> tuple[str, dict[str, str]]:
    verbs = arguments.get("verb", [])
    if len(verbs) != 1 or verbs[0] not in _ARGUMENTS:
        raise OaiError("badVerb", "The verb is missing, repeated or not one of "
                       + ", ".join(_ARGUMENTS) + ".")
    verb = verbs[0]
    required, optional = _ARGUMENTS[verb]
    args = {}
    for key, values in arguments.items():
        if key == "verb":
            continue
        if key not in required | optional:
            raise OaiError("badArgument", f"{verb} takes no argument {key!r}.")
        if len(values) != 1:
            raise OaiError("badArgument", f"The argument {key!r} is repeated.")
        args[key] = values[0]
    if "resumptionToken" in args:
        if len(args) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument.")
        return verb, args
    missing = required - set(args)
    if missing:
        raise OaiError("badArgument", f"{verb} needs {', '.join(sorted(missing))}.")
    return verb, args


def _format(prefix: str) -> str:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"No metadata format {prefix!r}; this node offers "
                       + ", ".join(FORMATS) + ".")
    return prefix


def _new_query(args: dict[str, str]) -> dict[str, Any]:
    query: dict[str, Any] = {"prefix": _format(args["metadataPrefix"])}
    if "set" in args:
        if args["set"] not in TYPES:
            raise OaiError("badArgument", f"No set {args['set']!r}; sets are the record types: "
                           + ", ".join(TYPES) + ".")
        query["set"] = args["set"]
    bounds = {key: args[key] for key in ("from", "until") if key in args}
    for key, value in bounds.items():
        if not (_SECOND.fullmatch(value) or _DAY.fullmatch(value)) or not _valid_date(value):
            raise OaiError("badArgument", f"{key}={value!r} is not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ.")
    if len(bounds) == 2 and len(bounds["from"]) != len(bounds["until"]):
        raise OaiError("badArgument", "from and until must have the same granularity.")
    if "from" in bounds:
        query["from"] = _lower(bounds["from"])
    if "until" in bounds:
        query["until"] = _upper(bounds["until"])
    if "from" in query and "until" in query and query["from"] > query["until"]:
        raise OaiError("badArgument", "from is later than until.")
    return query


def _valid_date(value: str) -> bool:
    try:
        dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def _lower(value: str) -> str:
    return (value + "T00:00:00Z" if len(value) == 10 else value)[:-1] + ".000000Z"


def _upper(value: str) -> str:
    return (value + "T23:59:59Z" if len(value) == 10 else value)[:-1] + ".999999Z"


def _encode_token(query: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(query, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_token(token: str) -> dict[str, Any]:
    try:
        query = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(query, dict) or query.get("prefix") not in FORMATS or not isinstance(query.get("cursor"), int):
            raise ValueError(token)
        after = query.get("after")
        if not (isinstance(after, list) and len(after) == 2 and all(isinstance(a, str) for a in after)):
            raise ValueError(token)
        for key in ("from", "until", "set"):
            if key in query and not isinstance(query[key], str):
                raise ValueError(token)
        return query
    except ValueError:
        raise OaiError("badResumptionToken", "The resumption token is not one this node issued.") from None


def _datestamp(stamp: str) -> str:
    return stamp[:19] + "Z"


def _stamp(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
