"""Export → import into an empty store → export again gives the same records, for every type and every format,
on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest

from zhulian.exchange.exporter import export_records
from zhulian.exchange.importer import import_file
from zhulian.store import Store

# Dependency order: a file's relations name records imported before it (or further down the same file).
ORDER = ("organization", "person", "project", "platform", "instrument", "achievement", "patent", "paper",
         "standard", "policy", "demand", "news")
SERVER_SET = ("created", "updated", "revision")
TRICKY = "=SUM(A1); 分号;逗号, \"引号\"\n第二行\\反斜杠 <b>粗体</b>"


@pytest.fixture
def empty_store(migrated_database):
    """A second, empty store on the same kind of database as ``store``."""
    second = Store(migrated_database("second"))
    second.migrate()
    yield second
    second.close()


def populate(store: Store) -> None:
    """One or more records of every type, using every kind of field and relation."""
    up = store.upsert
    later, _ = up({"type": "organization", "name": {"zh": "中山大学附属第一医院"}, "kind": "hospital", "city": "440100",
                   "pids": {"ref": "sysu-h1"}})
    up({"type": "organization", "name": {"zh": "中山大学", "en": "Sun Yat-sen University", "zh_hant": "中山大學"},
        "pids": {"moe": "4144010558", "uscc": "914403001922038216"}, "aliases": ["中大", "a;b", "c\\d", "=x"],
        "kind": "university", "authority": "教育部", "website": "https://www.sysu.edu.cn", "founded": "1924",
        "disciplines": ["医学", "化学"], "city": "440100", "node": "440100", "access": "public",
        "description": {"zh": TRICKY, "en": "+1 line"}, "keywords": ["@home", "-dash"]})
    # updated after its target exists, so that the export lists it before the record it refers to
    up({**{k: v for k, v in later.items() if k not in ("id", "revision", "created", "updated")},
        "relations": [{"predicate": "member_of", "object": "moe:4144010558", "role": "附属医院, [直属]"}]})
    up({"type": "person", "name": {"zh": "张三", "en": "Zhang San"}, "pids": {"orcid": "0000-0002-1825-0097"},
        "positions": ["教授"], "research_fields": ["人工智能"], "city": "440300", "access": "registered",
        "relations": [{"predicate": "affiliated_with", "object": "moe:4144010558", "role": "教授", "from": "2015",
                       "to": "2020-06"}]})
    up({"type": "project", "title": {"zh": "协同攻关项目"}, "pids": {"cstr": "CSTR:31253.11.prj001"},
        "budget_wan": 12.5, "start": "2021-01", "end": "2023-12-31", "status": "ongoing", "programme": "重点研发",
        "relations": [{"predicate": "lead_unit", "object": "moe:4144010558", "role": "牵头单位"},
                      {"predicate": "funded_by", "object": "ref:sysu-h1"}]})
    up({"type": "platform", "name": {"zh": "协同创新中心"}, "kind": "collaborative_innovation_center", "level": "provincial",
        "research_directions": ["智能制造"], "established": "2016-04", "city": "440600", "pids": {"ref": "plt-1"},
        "relations": [{"predicate": "lead_unit", "object": "moe:4144010558", "role": "牵头单位", "rank": 1},
                      {"predicate": "partner_unit", "object": "ref:sysu-h1", "role": "rank=2", "rank": 2},
                      {"predicate": "hosts", "subject": "moe:4144010558"}]})
    up({"type": "instrument", "name": {"zh": "扫描电镜"}, "value_wan": 350.0, "purchased": "2015-06", "model": "SU8010",
        "booking": {"open": False, "fee": "300元/小时"},
        "relations": [{"predicate": "hosts", "subject": "ref:plt-1"}]})
    up({"type": "achievement", "title": {"zh": "锂电池正极材料"}, "maturity": "pilot",
        "transfer_modes": ["license", "transfer"], "year_completed": 2022, "price_wan": 120,
        "relations": [{"predicate": "owner_of", "subject": "moe:4144010558"}]})
    up({"type": "patent", "title": {"zh": "图像识别方法"}, "number": "CN202010123456.2", "kind": "invention",
        "ipc": ["G06F 16/35", "G06N 3/08"], "inventors": ["张三"], "application_date": "2020-02-18",
        "legal_status": "granted", "claims": "1. 一种方法……" * 50,
        "relations": [{"predicate": "applicant_of", "subject": "moe:4144010558"},
                      {"predicate": "inventor_of", "subject": "orcid:0000-0002-1825-0097"}]})
    up({"type": "paper", "title": {"zh": "协同创新网络研究", "en": "Networks"}, "pids": {"doi": "10.1000/xyz.1"},
        "authors": ["张三", "李四"], "year_published": 2021, "language": "zh", "category": "管理学",
        "relations": [{"predicate": "derived_from", "object": "cstr:CSTR:31253.11.prj001"},
                      {"predicate": "author_of", "subject": "orcid:0000-0002-1825-0097", "rank": 1}]})
    up({"type": "standard", "title": {"zh": "行政区划代码"}, "std_no": "GB/T 2260-2007", "level": "national",
        "status": "current", "issued": "2007-11-14", "ics": ["01.140.20"]})
    up({"type": "policy", "title": {"zh": "科技创新规划"}, "issued": "2016-12", "regions": ["440100", "440300"],
        "period_start": 2016, "period_end": 2020, "status": "expired",
        "targets": [{"indicator": "研发投入强度", "comparator": ">=", "value": 3.0, "unit": "%", "year": 2020,
                     "region": "440100", "aspirational": True},
                    {"indicator": "高新技术企业", "comparator": "between", "value": 1000, "value_max": 1500.5,
                     "unit": "家", "clause": "力争达到 1000 至 1500 家"}]})
    up({"type": "demand", "title": {"zh": "伺服电机控制算法"}, "kind": "technology", "budget_wan": 80,
        "deadline": "2025-12-31", "status": "open", "city": "441900"})
    up({"type": "news", "title": {"zh": "合作取得进展"}, "published": "2024-03-01", "url": "https://example.org/n/1",
        "body": TRICKY * 3, "relations": [{"predicate": "mentions", "object": "ref:plt-1"}]})


def readable(path: Path, fmt: str) -> list[dict]:
    """A file's records without the fields the store sets, for comparing two exports."""
    if fmt == "csv":
        rows = list(csv.DictReader(path.read_text(encoding="utf-8-sig").splitlines(keepends=True)))
    elif fmt == "xlsx":
        values = list(openpyxl.load_workbook(path, read_only=True).active.values)
        rows = [dict(zip(values[0], row, strict=True)) for row in values[1:]]
    elif fmt == "jsonl":
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    else:
        rows = json.loads(path.read_text(encoding="utf-8"))
    return [{k: v for k, v in row.items() if not any(k == f or k.endswith(f"({f})") for f in SERVER_SET)}
            for row in rows]


def content(store: Store, type_name: str) -> list[dict]:
    """The records as stored, less what the store sets. The flat form writes relations one column per
    predicate, so their order is compared within each predicate only."""
    found = []
    for record in store.iterate(type_name):
        record = {k: v for k, v in record.items() if k not in SERVER_SET}
        record["relations"] = sorted(record["relations"], key=lambda r: (r["predicate"], "subject" in r))
        found.append(record)
    return found


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "jsonl"])
def test_export_import_export_round_trips_every_type(store: Store, empty_store: Store, tmp_path: Path,
                                                     fmt: str) -> None:
    populate(store)
    assert set(store.counts()) == set(ORDER)
    first = {t: tmp_path / f"first-{t}.{fmt}" for t in ORDER}
    for type_name, path in first.items():
        assert export_records(store, type_name, fmt, path).count >= 1
    for type_name, path in first.items():
        report = import_file(empty_store, path)
        assert report.committed and report.invalid == 0 and report.type == type_name, list(report.errors)
        assert report.created == store.counts()[type_name]
    for type_name, path in first.items():
        again = tmp_path / f"second-{type_name}.{fmt}"
        export_records(empty_store, type_name, fmt, again)
        assert readable(again, fmt) == readable(path, fmt), type_name
        assert content(empty_store, type_name) == content(store, type_name), type_name
    # and importing the same files again changes nothing
    for type_name, path in first.items():
        report = import_file(empty_store, path)
        assert report.unchanged == store.counts()[type_name] and report.created == report.updated == 0
