"""What of a record is searched, and with which weight: each type's ``SearchSpec`` (names above keywords above
body text) and field-registry entries, read from the record's JSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from zhulian.model import ENVELOPE_FIELDS, INDEXED_FIELDS, RECORD_TYPES, SearchSpec, year_of

# The fields search answers highlight matches in (with aliases and keywords).
NAME_FIELDS = ("name", "title")
BODY_FIELDS = ("abstract", "description", "body", "specs")
_UNKNOWN = SearchSpec()  # a record of a type no longer registered is still searched by its envelope


class _PinyinTypes:
    """The types autocomplete matches in pinyin (short proper names), asked of the registry at each use."""

    def __contains__(self, type_name: object) -> bool:
        return _spec(type_name).pinyin


PINYIN_TYPES = _PinyinTypes()


def _spec(type_name: Any) -> SearchSpec:
    declared = RECORD_TYPES.get(type_name) if isinstance(type_name, str) else None
    return declared.search if declared else _UNKNOWN


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


def _all_texts(record: dict[str, Any], fields: tuple[str, ...]) -> list[str]:
    return [text for field in fields for text in _texts(record.get(field))]


def name_texts(record: dict[str, Any]) -> list[str]:
    return _all_texts(record, _spec(record.get("type")).names) + list(_texts(record.get("aliases")))


def keyword_texts(record: dict[str, Any]) -> list[str]:
    return _all_texts(record, _spec(record.get("type")).keywords)


def body_texts(record: dict[str, Any]) -> list[str]:
    return _all_texts(record, _spec(record.get("type")).body)


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
    for spec in INDEXED_FIELDS.get(record.get("type", ""), {}).values():
        values = spec.json_values(record) if spec.json_values else _own_values(record, spec.name)
        pairs += [(spec.name, str(value)[:500]) for value in values]
    return pairs


def record_year(record: dict[str, Any]) -> int | None:
    """The record's ``year`` as the store computes it (``Resource.filter_year``), read from the JSON."""
    declared = RECORD_TYPES.get(record.get("type", ""))
    year_field = declared.model.year_field if declared else None
    return year_of(record.get(year_field)) if year_field else None


def _own_values(record: dict[str, Any], name: str) -> list[Any]:
    """A field's values read from the JSON the way ``FieldSpec.values`` reads the model (no model validation per
    record: indexing a million records cannot afford it)."""
    value = record.get(name)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
