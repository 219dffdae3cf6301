"""What of a record is searched, and with which weight: names and titles above keywords above
abstracts, descriptions and everything else written in words."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zhulian.model import ENVELOPE_FIELDS, INDEXED_FIELDS

NAME_FIELDS = ("name", "title")
KEYWORD_FIELDS = ("keywords", "disciplines", "research_fields", "research_directions", "category", "ipc")
BODY_FIELDS = ("abstract", "description", "body", "specs")
# Other short texts a user may type: people, organisations, numbers, venues.
OTHER_FIELDS = ("authors", "inventors", "applicants", "owners", "issuer", "funder", "undertaker", "leader",
                "demander", "host", "manufacturer", "model", "venue", "positions", "address", "doc_number",
                "std_no", "number", "programme", "drafters", "source", "authority")
# Which types autocomplete with pinyin (short proper names; titles of papers are not typed in pinyin).
PINYIN_TYPES = ("organization", "person", "platform", "instrument")


def _texts(value: Any) -> Iterator[str]:
    if value is None:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key in ("zh", "zh_hant", "en"):
            if value.get(key):
                yield value[key]
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


def name_texts(record: dict[str, Any]) -> list[str]:
    texts: list[str] = []
    for field in NAME_FIELDS:
        texts += _texts(record.get(field))
    return texts + list(_texts(record.get("aliases")))


def keyword_texts(record: dict[str, Any]) -> list[str]:
    return [t for field in KEYWORD_FIELDS for t in _texts(record.get(field))]


def body_texts(record: dict[str, Any]) -> list[str]:
    texts = [t for field in BODY_FIELDS for t in _texts(record.get(field))]
    return texts + [t for field in OTHER_FIELDS for t in _texts(record.get(field))]


def filter_values(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, value) pairs for every field the list grammar can filter on, from the record's JSON."""
    pairs: list[tuple[str, str]] = []
    for field in ENVELOPE_FIELDS:
        if field == "year":
            continue
        value = record.get(field)
        if value is not None:
            pairs.append((field, str(value)))
    year = record_year(record)
    if year is not None:
        pairs.append(("year", str(year)))
    for name in INDEXED_FIELDS.get(record.get("type", ""), {}):
        for value in _field_values(record, name):
            pairs.append((name, str(value)[:500]))
    return pairs


_YEAR_SOURCES = {"organization": "founded", "achievement": "year_completed", "patent": "application_date",
                 "paper": "year_published", "standard": "issued", "project": "start", "platform": "established",
                 "instrument": "purchased", "policy": "issued", "demand": "deadline", "news": "published",
                 "observation": "year"}


def record_year(record: dict[str, Any]) -> int | None:
    """The record's ``year`` as the store computes it (``Resource.year``), read from the JSON."""
    value = record.get(_YEAR_SOURCES.get(record.get("type", ""), ""))
    if value is None:
        return None
    try:
        return int(str(value)[:4])
    except ValueError:
        return None


def _field_values(record: dict[str, Any], name: str) -> list[Any]:
    """The values of one registry field, read from the JSON the way ``FieldSpec.values`` reads the model
    (no model validation per record: indexing a million records cannot afford it)."""
    if name == "ipc_class" and record.get("type") == "patent":
        return sorted({code[:4] for code in record.get("ipc") or []})
    if name == "bookable" and record.get("type") == "instrument":
        booking = record.get("booking")
        return [str(bool(booking and booking.get("open", True))).lower()]
    if name == "indicator" and record.get("type") == "policy":
        return sorted({t["indicator"] for t in record.get("targets") or [] if t.get("indicator")})
    value = record.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
