"""Typed, sortable, opaque record ids (``org_01J…``) and references (an id or ``scheme:value``)."""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass

# Filled by the record-type registry (zhulian.model.registry.register): type name -> id prefix, and back.
PREFIXES: dict[str, str] = {}
TYPE_BY_PREFIX: dict[str, str] = {}

# The shape of every id; whether its prefix names a registered type is is_id()'s question.
# Crockford base32 as ULID writes it: no I, L, O, U.
ID_PATTERN = re.compile(r"^([a-z]{2,8})_[0-9A-HJKMNP-TV-Z]{26}$")
PID_SCHEME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,31}$")


# Crockford's base32, as ULIDs are written, two characters (ten bits) at a time
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [a + b for a in _CROCKFORD for b in _CROCKFORD]
_SHIFTS = range(120, -1, -10)


def new_id(type_name: str) -> str:
    return f"{PREFIXES[type_name]}_{new_ulid()}"


def new_ulid() -> str:
    """A ULID: 48-bit millisecond time and 80 random bits as 26 Crockford base32 characters (the 130 bits'
    two leading ones zero). Encoded ten bits a step instead of python-ulid's five: an import makes one per
    new record, and python-ulid's took more time than writing the record's JSON."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


def is_id(value: str) -> bool:
    """An id of a registered type (``org_01J…``); a well-formed id with an unknown prefix is not one."""
    match = ID_PATTERN.match(value)
    return bool(match) and match[1] in TYPE_BY_PREFIX


def type_of_id(record_id: str) -> str:
    return TYPE_BY_PREFIX[record_id.split("_", 1)[0]]


@dataclass(frozen=True)
class Ref:
    """A way to name a record: its id, or one of its external identifiers."""

    id: str | None = None
    scheme: str | None = None
    value: str | None = None

    def __str__(self) -> str:
        return self.id or f"{self.scheme}:{self.value}"


def parse_ref(text: str) -> Ref | None:
    """``org_01J…`` or ``moe:4144010558``; ``None`` when it is neither."""
    text = text.strip()
    if is_id(text):
        return Ref(id=text)
    scheme, sep, value = text.partition(":")
    if sep and PID_SCHEME_PATTERN.match(scheme) and value.strip():
        return Ref(scheme=scheme, value=value.strip())
    return None
