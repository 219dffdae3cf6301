"""Master data: what a GLN (a location ``urn:epc:id:sgln:…``, a party ``urn:epc:id:pgln:…``, or their GS1
Digital Link forms) names, so that people read "广州某某食品有限公司 (广州市)" where an event says a URN.

A GLN is named, first found first:

1. by a row of ``trace_locations`` for that very identifier (a sub-location such as ``…/254/12`` included),
   filled from the ``epcisMasterData`` vocabulary of captured documents (EPCIS 2.0 §9.3, the header's
   ``vocabularyList``) and from a CSV/XLSX upload (``template``'s columns);
2. by the platform's organisation record whose ``gln`` pid is that GLN (read live through the record service,
   so a renamed organisation is shown renamed, and only to whoever may see it);
3. by the row of the GLN without its extension (a warehouse named by its company's row).

An identifier nothing names is shown as it is."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa
from zhulian.access import Principal
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.records import RecordService
from zhulian.store import pids
from zhulian.region.adcodes import PlaceNotFound, adcode_for, adcode_name
from zhulian.region.cities import city_of
from zhulian.trace.identifiers import canonical, check_digit
from zhulian.trace.rights import check_capture_rights, check_read_rights
from zhulian.trace.spreadsheets import blank, parse_rows
from zhulian.trace.tables import locations
from zhulian.trace.validation import check_text, text_problems

MAX_LOOKUP = 100
_GLN = re.compile(r"^https://id\.gs1\.org/(?:414|417)/(\d{13})(?:/254/.+)?$")
# Spreadsheet columns: (key, Chinese header, English header, example)
COLUMNS = (("id", "GLN 或地点标识", "GLN or location identifier", "urn:epc:id:sgln:6901234.00001.0"),
           ("name", "名称", "name", "广州某某食品有限公司"), ("city", "城市", "city", "广州市"),
           ("latitude", "纬度", "latitude", "23.1291"), ("longitude", "经度", "longitude", "113.2644"))
# Built once (a trace names its places on every answer): the identifiers are expanding parameters.
_NAMED = sa.select(locations).where(locations.c.identifier.in_(sa.bindparam("identifiers", expanding=True)))
_OWNERS = sa.select(pids.c.value, pids.c.record_id).where(
    pids.c.scheme == "gln", pids.c.value.in_(sa.bindparam("glns", expanding=True)))
_ATTRIBUTES = {"name": "name", "city": "city", "latitude": "latitude", "longitude": "longitude"}


@dataclass(frozen=True)
class Place:
    name: str
    city: str | None  # adcode
    latitude: float | None = None
    longitude: float | None = None
    organization: str | None = None  # the record id, when an organisation names it

    @property
    def label(self) -> str:
        town = city_label(self.city)
        return f"{self.name} ({town})" if town else self.name

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "label": self.label}


class MasterData:
    def __init__(self, store: Any) -> None:
        self.store = store
        self.records = RecordService(store)

    def places(self, principal: Principal, identifiers: Iterable[str]) -> dict[str, Place]:
        """What names each of ``identifiers`` (canonical), for those something names."""
        wanted = {i for i in identifiers if _GLN.match(i or "")}
        if not wanted:
            return {}
        bases = {i: gln_uri(i) for i in wanted}
        glns = {_GLN.match(i).group(1) for i in wanted}
        with self.store.engine.connect() as connection:
            rows = {row.identifier: _place(row) for row in connection.execute(
                _NAMED, {"identifiers": sorted(wanted | set(bases.values()))})}
            # Which GLNs an organisation has, in one query of the read model; each is then read through the
            # record service, so that only what this principal may see is named.
            owners = dict(connection.execute(_OWNERS, {"glns": sorted(glns)}).all())
        organisations = {gln: self._organisation(principal, owner) for gln, owner in owners.items()}
        found = {i: rows.get(i) or organisations.get(_GLN.match(i).group(1)) or rows.get(bases[i]) for i in wanted}
        return {i: place for i, place in found.items() if place}

    def lookup(self, principal: Principal, given: list[str]) -> dict[str, dict[str, Any]]:
        """``GET /api/v1/trace/locations``: each named identifier (in any spelling), by its canonical form."""
        check_read_rights(principal)
        check_text(id=given)
        if len(given) > MAX_LOOKUP:
            raise invalid([Problem("id", len(given), f"at most {MAX_LOOKUP} identifiers at a time",
                                   f"每次最多查询 {MAX_LOOKUP} 个标识")], "query")
        found = self.places(principal, {canonical(i) for i in given})
        return {identifier: place.as_dict() for identifier, place in sorted(found.items())}

    def labels(self, principal: Principal, identifiers: Iterable[str]) -> dict[str, str]:
        return {i: place.label for i, place in self.places(principal, identifiers).items()}

    def _organisation(self, principal: Principal, record_id: str) -> Place | None:
        try:
            record = self.records.get(principal, record_id)
        except ZhulianError:  # not a record this principal may see
            return None
        if record.get("type") != "organization":
            return None
        name = record.get("name") or {}
        return Place(name.get("zh") or name.get("en") or record["id"], record.get("city"), organization=record["id"])

    def import_rows(self, principal: Principal, content: bytes, filename: str) -> dict[str, Any]:
        """A CSV or XLSX of locations (``template``'s columns): every row valid or nothing stored."""
        check_capture_rights(principal)
        found = parse_rows(content, filename, COLUMNS, location_row)
        with self.store.transaction() as writer:
            save(writer.connection, found, "upload")
            writer.log(actor=principal.id, role=principal.role, action="trace_locations",
                       detail={"file": filename, "locations": len(found)})
        return {"stored": len(found), "identifiers": [row["identifier"] for row in found]}


def gln_uri(identifier: str) -> str:
    """The location GLN of an identifier without its extension (``…/414/GLN``), or the identifier as it is."""
    found = _GLN.match(identifier)
    return f"https://id.gs1.org/414/{found.group(1)}" if found else identifier


def city_label(adcode: str | None) -> str | None:
    city = city_of(adcode)
    return city.zh if city else adcode_name(adcode) if adcode else None


def location_row(row: dict[str, Any]) -> dict[str, Any]:
    """One location as stored, from a sheet row or a vocabulary element; raises naming every problem."""
    problems = text_problems(row)
    given = str(row.get("id") or "").strip()
    identifier = canonical(f"https://id.gs1.org/414/{given}" if re.fullmatch(r"\d{13}", given) else given)
    found = _GLN.match(identifier or "")
    if not found:
        problems.append(Problem("id", given, "a GLN of 13 digits, an SGLN or PGLN URN or its GS1 Digital Link",
                                "应为 13 位 GLN、SGLN/PGLN URN 或对应的 GS1 数字链接"))
    elif check_digit(found.group(1)[:12]) != found.group(1)[12]:
        problems.append(Problem("id", given, f"the GLN's check digit should be {check_digit(found.group(1)[:12])}",
                                f"GLN 校验位应为 {check_digit(found.group(1)[:12])}"))
    name = str(row.get("name") or "").strip()
    if not 1 <= len(name) <= 500:
        problems.append(Problem("name", name, "a name of 1–500 characters", "名称应为 1–500 个字符"))
    city = None
    if row.get("city"):
        try:
            city = adcode_for(str(row["city"]))
        except PlaceNotFound as error:
            problems.append(Problem("city", row["city"], f"a city name or adcode: {error.reason}",
                                    f"应为城市名称或行政区划代码：{error.reason_zh}"))
    coordinates = {key: _coordinate(row.get(key), key, limit, problems)
                   for key, limit in (("latitude", 90), ("longitude", 180))}
    if problems:
        raise invalid(problems, "record")
    return {"identifier": identifier, "name": name, "city": city, **coordinates}


def vocabulary_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The named GLNs of a document's ``epcisHeader.epcisMasterData`` (any vocabulary type: business locations,
    read points, parties); elements without a name, or not GLNs, are left out."""
    header = document.get("epcisHeader") if isinstance(document.get("epcisHeader"), dict) else {}
    master = header.get("epcisMasterData") if isinstance(header.get("epcisMasterData"), dict) else {}
    found = []
    for vocabulary in master.get("vocabularyList") or []:
        for element in (vocabulary or {}).get("vocabularyElementList") or []:
            attributes = {_ATTRIBUTES.get(re.split(r"[#:/]", str(a.get("id", "")))[-1]): a.get("attribute")
                          for a in element.get("attributes") or [] if isinstance(a, dict)}
            try:
                found.append(location_row({**attributes, "id": element.get("id")}))
            except ZhulianError:  # master data is a courtesy of the sender: what cannot be read is not kept
                continue
    return found


def save(connection: sa.Connection, rows: Sequence[dict[str, Any]], source: str) -> None:
    """Insert or replace rows of ``trace_locations`` (the latest word on an identifier wins)."""
    if not rows:
        return
    latest = {row["identifier"]: row for row in rows}
    connection.execute(locations.delete().where(locations.c.identifier.in_(latest)))
    connection.execute(locations.insert(), [{**row, "source": source} for row in latest.values()])


def template(kind: str) -> tuple[bytes, str]:
    """A blank locations sheet with Chinese headers and an example row: (content, media type)."""
    return blank(kind, COLUMNS, "地点主数据", [
        ["列 column", "说明 meaning"],
        [COLUMNS[0][1], "13 位 GLN、urn:epc:id:sgln:…、urn:epc:id:pgln:… 或 GS1 数字链接 / a GLN, SGLN, PGLN or Digital Link"],
        [COLUMNS[2][1], "城市名称或 6 位行政区划代码 / a city name or a 6-digit adcode"]])


def _coordinate(value: Any, key: str, limit: int, problems: list[Problem]) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = None
    if number is None or not -limit <= number <= limit:
        problems.append(Problem(key, value, f"a number from -{limit} to {limit}", f"应为 -{limit} 到 {limit} 之间的数"))
        return None
    return number


def _place(row: Any) -> Place:
    return Place(row.name, row.city, row.latitude, row.longitude)
