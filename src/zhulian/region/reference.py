"""The seed's records as packaged data (``data/*.toml``): read, checked and given ids that every node shares.

Each file names one record type and lists its records; a record refers to another by ``ref:<key>``, and the
referred-to record comes first (earlier in the file, or in a file read before it). Every record's ``id`` is
derived from its ``ref`` pid (``reference_id``), so two nodes that load the same data hold the same ids and a hub
harvesting both sees one record, not two.
"""

from __future__ import annotations

import copy
import hashlib
import re
import tomllib
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import Any

from ulid import ULID

from zhulian.errors import ZhulianError

DATA = Path(__file__).parent / "data"
# Load order: a file's records may refer to records of the files before it.
FILES = ("organizations", "platforms", "people", "policies", "news", "observations")
REF_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{1,95}$")
ID_PATTERN = re.compile(r"^([a-z]{3})_[0-9A-HJKMNP-TV-Z]{26}$")
NAME_FIELDS = ("name", "title")
# Types whose records have no name of their own: the model names them from their fields (an observation by its
# indicator, region and year). Listed here because the model reads this package's codes, not the other way.
NAMED_BY_FIELDS = ("observation",)


class ReferenceDataError(ZhulianError):
    """A packaged data file that does not have the shape the loader needs; the message names file and record."""

    def __init__(self, where: str, reason: str, reason_zh: str) -> None:
        super().__init__("bad_reference_data", f"{where}: {reason}", f"{where}：{reason_zh}", 500)


def reference_id(prefix: str, ref: str) -> str:
    """The id a reference record has on every node: the type's prefix and a ULID whose time is zero and whose
    80 random bits are a hash of its ``ref`` pid (``org``, ``org-sysu`` → ``org_0000000000…``). Time zero sorts
    the packaged records before every record made on a node, as if made before all of them."""
    digest = hashlib.sha256(f"zhulian-ref:{ref}".encode()).digest()
    return f"{prefix}_{ULID.from_bytes(bytes(6) + digest[:10])}"


def reference_records() -> list[dict[str, Any]]:
    """Every packaged reference record, in load order, each with its id, ``type`` and ``pids.ref``: a fresh
    copy a caller may change."""
    return copy.deepcopy(_records())


@cache
def reference_ids() -> dict[str, str]:
    """The ``ref`` pid of every packaged record → its id."""
    return {record["pids"]["ref"]: record["id"] for record in _records()}


@cache
def _records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for name in FILES:
        records += read_records(DATA / f"{name}.toml", known={f"ref:{r['pids']['ref']}" for r in records})
    return records


def read_records(path: Path, known: Collection[str] = ()) -> list[dict[str, Any]]:
    """The records of one data file, checked; ``known`` are the ``ref:`` keys of records read before it."""
    table = read_toml(path)
    type_name = table.get("type")
    if not isinstance(type_name, str) or not type_name:
        raise ReferenceDataError(path.name, "the file must say which record type it holds: type = \"...\"",
                                 "文件须写明其记录类型：type = \"...\"")
    entries = table.get("records")
    if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
        raise ReferenceDataError(path.name, "the file must list its records as [[records]] tables",
                                 "文件须以 [[records]] 表列出记录")
    seen, records = set(known), []
    for position, entry in enumerate(entries, 1):
        record = {"type": type_name, **entry}
        _check(record, f"{path.name} [[records]] #{position}", seen)
        seen.add(f"ref:{record['pids']['ref']}")
        records.append(record)
    return records


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except OSError as error:
        raise ReferenceDataError(path.name, f"cannot be read ({error.strerror})", f"无法读取（{error.strerror}）") from None
    except tomllib.TOMLDecodeError as error:
        raise ReferenceDataError(path.name, f"is not valid TOML ({error})", f"不是有效的 TOML（{error}）") from None


def _check(record: dict[str, Any], where: str, known: set[str]) -> None:
    """The envelope the loader relies on; field values are checked by the model when the record is written."""
    pids = record.get("pids")
    ref = pids.get("ref") if isinstance(pids, dict) else None
    if not isinstance(ref, str) or not REF_PATTERN.match(ref):
        raise ReferenceDataError(where, "needs pids = { ref = \"key\" }, the key in lower-case letters, digits and -",
                                 "须有 pids = { ref = \"键\" }，键由小写字母、数字和 - 组成")
    where = f"{where} ({ref})"
    if f"ref:{ref}" in known:
        raise ReferenceDataError(where, "another record has the same ref", "另一条记录已使用相同的 ref")
    record_id = record.get("id")
    match = ID_PATTERN.match(record_id) if isinstance(record_id, str) else None
    if match is None or record_id != reference_id(match.group(1), ref):
        raise ReferenceDataError(where, f"its id must be reference_id(prefix, {ref!r}), e.g. "
                                 f"{reference_id('org', ref)} for an organisation",
                                 f"编号须为 reference_id(前缀, {ref!r})，例如机构为 {reference_id('org', ref)}")
    if not any(isinstance(record.get(key), dict) and record[key].get("zh") for key in NAME_FIELDS) \
            and record["type"] not in NAMED_BY_FIELDS:
        raise ReferenceDataError(where, "needs a Chinese name or title (name.zh or title.zh)",
                                 "须有中文名称或标题（name.zh 或 title.zh）")
    relations = record.get("relations", [])
    if not isinstance(relations, list) or not all(isinstance(r, dict) for r in relations):
        raise ReferenceDataError(where, "relations must be a list of { predicate = ..., object = ... } tables",
                                 "relations 须为 { predicate = ..., object = ... } 表的列表")
    for index, relation in enumerate(relations):
        other = relation.get("object") or relation.get("subject")
        if other not in known:
            raise ReferenceDataError(where, f"relations[{index}] refers to {other!r}, which is no record before it",
                                     f"relations[{index}] 引用的 {other!r} 不是此前的记录")
