"""Registry on a store (SQLite and PostgreSQL): resolution on import, review, decisions that survive re-runs,
merges that redirect, splits, parent/child links without cycles, people, harvested records."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import opencc
import pytest

from zhulian.access import ANONYMOUS, CLI_ADMIN, Principal
from zhulian.errors import ZhulianError
from zhulian.exchange import import_file
from zhulian.records import RecordService
from zhulian.registry import RegistryService, queue_harvested

MOE = Path(__file__).resolve().parents[1] / "../shared/data/universities/moe_hei_list_2017.csv"
READER = Principal("key_reader", "reader")


def _error(code: str, call, *args, **kwargs) -> ZhulianError:
    with pytest.raises(ZhulianError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code and caught.value.message and caught.value.message_zh
    return caught.value


def _jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps({"type": "organization", **row}, ensure_ascii=False) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def _org(store, name: str, **extra) -> dict:
    return store.create({"type": "organization", "name": {"zh": name}, "kind": "university", **extra})


def test_moe_list_imported_twice_once_in_traditional_characters_is_one_record_each(store, tmp_path: Path) -> None:
    if not MOE.exists():
        pytest.skip(f"shared data missing: {MOE}")
    rows = list(csv.DictReader(MOE.open(encoding="utf-8")))[:300]
    to_traditional = opencc.OpenCC("s2t")
    simplified, traditional = tmp_path / "moe.csv", tmp_path / "moe-trad.csv"
    for path, convert in ((simplified, str), (traditional, to_traditional.convert)):
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows({**row, "name": convert(row["name"])} for row in rows)
    assert import_file(store, simplified, mapping="moe-universities").created == 300
    second = import_file(store, traditional, mapping="moe-universities")
    assert second.created == 0 and second.committed
    assert store.counts()["organization"] == 300
    peking = store.get("moe:4111010001")
    assert peking["name"]["zh"] == "北京大学" and "北京大學" in peking["aliases"]
    # the same names again without any code: found by name alone
    names_only = _jsonl(tmp_path / "names.jsonl", [{"name": {"zh": to_traditional.convert(r["name"])},
                                                    "kind": "university"} for r in rows[:50]])
    third = import_file(store, names_only)
    assert third.created == 0 and third.unchanged + third.updated == 50
    assert store.counts()["organization"] == 300


def test_an_uncertain_name_becomes_a_record_and_a_candidate_and_decisions_survive_reimport(store, tmp_path) -> None:
    sysu = _org(store, "中山大学", city="440100")
    registry = RegistryService(store)
    incoming = _jsonl(tmp_path / "in.jsonl", [{"name": {"en": "Sun Yat-sen University"}},
                                              {"name": {"zh": "中山大學"}, "city": "440100", "kind": "university"}])
    report = import_file(store, incoming)
    assert report.created == 1 and report.updated == 1  # the traditional spelling updated the record
    assert store.get(sysu["id"])["aliases"] == ["中山大學"]
    queue = registry.review(CLI_ADMIN)["results"]
    (candidate,) = queue
    assert candidate["candidate_id"] == sysu["id"] and candidate["record_name"] == "Sun Yat-sen University"
    assert candidate["reasons"][0]["level"] == "alias" and candidate["reasons"][0]["reason_zh"]
    outcome = registry.decide(CLI_ADMIN, candidate["id"], "same")
    assert outcome["into"] == sysu["id"]
    assert store.get(candidate["record_id"])["id"] == sysu["id"]  # a merged-away id resolves to the survivor
    assert "Sun Yat-sen University" in store.get(sysu["id"])["aliases"]
    again = import_file(store, incoming)
    assert again.created == 0 and store.counts()["organization"] == 1
    assert registry.review(CLI_ADMIN)["meta"]["count"] == 0
    _error("conflict", registry.decide, CLI_ADMIN, candidate["id"], "not_same")


def test_not_the_same_keeps_both_on_every_rerun(store, tmp_path) -> None:
    _org(store, "华南理工大学")
    registry = RegistryService(store)
    incoming = _jsonl(tmp_path / "in.jsonl", [{"name": {"zh": "华工"}}])
    assert import_file(store, incoming).created == 1
    (candidate,) = registry.review(CLI_ADMIN)["results"]
    registry.decide(CLI_ADMIN, candidate["id"], "not-same")
    for _ in range(2):
        assert import_file(store, incoming).created == 0
    assert store.counts()["organization"] == 2 and registry.review(CLI_ADMIN)["meta"]["count"] == 0
    assert queue_harvested(store, [store.get(candidate["record_id"])]) == 0  # a decided pair is never queued again
    assert [d["kind"] for d in registry.decisions(CLI_ADMIN, candidate["record_id"])] == ["not_same"]


def test_merge_moves_identifiers_names_and_relations_and_refuses_bad_merges(store) -> None:
    survivor = _org(store, "广东技术师范大学", pids={"moe": "4144010588"})
    loser = _org(store, "广东技术师范学院", pids={"uscc": "91440101MA5CYP0W25"})
    project = store.create({"type": "project", "title": {"zh": "协同项目"},
                            "relations": [{"predicate": "lead_unit", "object": loser["id"]}]})
    registry = RegistryService(store)
    result = registry.merge(CLI_ADMIN, loser["id"], survivor["id"])
    assert result["referrers_updated"] == 1
    kept = store.get(survivor["id"])
    assert kept["aliases"] == ["广东技术师范学院"] and kept["pids"] == {"moe": "4144010588", "uscc": "91440101MA5CYP0W25"}
    assert store.get("uscc:91440101MA5CYP0W25")["id"] == survivor["id"]
    assert store.get(loser["id"])["id"] == survivor["id"]
    assert store.get(loser["id"], include_deleted=True)["deleted"]  # the tombstone itself stays readable
    assert store.get(project["id"])["relations"] == [{"predicate": "lead_unit", "object": survivor["id"]}]
    _error("merge_self", registry.merge, CLI_ADMIN, survivor["id"], survivor["id"])
    _error("gone", registry.merge, CLI_ADMIN, _org(store, "某学院")["id"], loser["id"])  # into a tombstone
    _error("merge_types", registry.merge, CLI_ADMIN, project["id"], survivor["id"])
    _error("forbidden", registry.merge, READER, survivor["id"], loser["id"])
    _error("not_found", registry.merge, CLI_ADMIN, "org_01J0000000000000000000000X", survivor["id"])
    audit = RecordService(store).audit(CLI_ADMIN, record=survivor["id"])
    assert [(entry["detail"]["merged"], entry["detail"]["into"]) for entry in audit
            if entry["action"] == "merge"] == [(loser["id"], survivor["id"])]


def test_split_brings_a_merged_record_back(store) -> None:
    survivor = _org(store, "中山大学", pids={"moe": "4144010558"})
    loser = _org(store, "中山医科大学", pids={"uscc": "91440101MA5CYP0W25"})
    registry = RegistryService(store)
    registry.merge(CLI_ADMIN, loser["id"], survivor["id"])
    restored = registry.split(CLI_ADMIN, loser["id"])["restored"]
    assert restored["name"] == {"zh": "中山医科大学"} and restored["pids"] == {"uscc": "91440101MA5CYP0W25"}
    assert store.get(survivor["id"])["aliases"] == [] and store.get(survivor["id"])["pids"] == {"moe": "4144010558"}
    assert store.get(loser["id"])["id"] == restored["id"]
    _error("not_merged", registry.split, CLI_ADMIN, survivor["id"])


def test_parent_links_refuse_self_and_cycles(store) -> None:
    bank, branch, sub = _org(store, "广州银行"), _org(store, "广州银行佛山分行"), _org(store, "广州银行佛山顺德支行")
    registry = RegistryService(store)
    registry.set_parent(CLI_ADMIN, branch["id"], bank["id"])
    registry.set_parent(CLI_ADMIN, sub["id"], branch["id"])
    registry.set_parent(CLI_ADMIN, sub["id"], branch["id"])  # twice is once
    assert store.get(sub["id"])["relations"] == [{"predicate": "member_of", "object": branch["id"]}]
    _error("parent_cycle", registry.set_parent, CLI_ADMIN, bank["id"], sub["id"])
    _error("parent_self", registry.set_parent, CLI_ADMIN, bank["id"], bank["id"])
    store.delete(sub["id"])
    _error("gone", registry.set_parent, CLI_ADMIN, bank["id"], sub["id"])


def test_a_branch_on_import_is_queued_as_a_unit_of_its_parent(store, tmp_path) -> None:
    bank = _org(store, "广州银行", kind="bank")
    registry = RegistryService(store)
    assert import_file(store, _jsonl(tmp_path / "b.jsonl", [{"name": {"zh": "广州银行佛山分行"}, "kind": "bank"}])).created == 1
    (candidate,) = registry.review(CLI_ADMIN)["results"]
    assert candidate["relation"] == "child" and candidate["candidate_id"] == bank["id"]
    outcome = registry.decide(CLI_ADMIN, candidate["id"], "child")
    assert outcome["parent"] == bank["id"]
    assert store.get(candidate["record_id"])["relations"] == [{"predicate": "member_of", "object": bank["id"]}]


def test_resolve_ranks_with_reasons_and_hides_what_the_caller_may_not_see(store) -> None:
    sysu = _org(store, "中山大学", city="440100")
    _org(store, "中山大学内部研究中心", access="internal")
    registry = RegistryService(store)
    body = registry.resolve(ANONYMOUS, "中山大學 Sun Yat-sen University", city="440100")
    assert body["keys"] == ["中山大学", "sunyatsenuniversity"]
    top = body["results"][0]
    assert top["id"] == sysu["id"] and top["decision"] == "match" and top["reasons"][0]["level"] == "exact"
    assert all("内部" not in r["name"]["zh"] for r in body["results"])
    assert any("内部" in r["name"]["zh"] for r in registry.resolve(CLI_ADMIN, "中山大学")["results"])
    _error("name_too_long", registry.resolve, ANONYMOUS, "大" * 1000)
    _error("name_no_words", registry.resolve, ANONYMOUS, "有限公司")
    _error("invalid", registry.resolve, ANONYMOUS, "中山大学", type_name="paper")
    _error("forbidden", registry.review, ANONYMOUS)
    _error("forbidden", registry.decide, READER, 1, "same")


def test_people_with_one_name_stay_apart_unless_evidence_joins_them(store) -> None:
    sysu, scut = _org(store, "中山大学"), _org(store, "华南理工大学")
    at_sysu = store.create({"type": "person", "name": {"zh": "李晓明"}, "research_fields": ["材料科学"],
                            "relations": [{"predicate": "affiliated_with", "object": sysu["id"]}]})
    at_scut = store.create({"type": "person", "name": {"zh": "李晓明"}, "research_fields": ["材料科学"],
                            "relations": [{"predicate": "affiliated_with", "object": scut["id"]}]})
    registry = RegistryService(store)
    name_only = registry.resolve(CLI_ADMIN, "李晓明", type_name="person")["results"]
    assert {r["id"] for r in name_only} == {at_sysu["id"], at_scut["id"]}
    assert all(r["decision"] != "match" for r in name_only)
    field_only = registry.resolve(CLI_ADMIN, "李晓明", type_name="person", fields=["材料科学"])["results"]
    assert all(r["decision"] != "match" for r in field_only)
    with_place = registry.resolve(CLI_ADMIN, "李晓明", type_name="person", affiliation="中山大學")["results"]
    assert with_place[0]["id"] == at_sysu["id"] and with_place[0]["decision"] == "match"
    assert with_place[1]["decision"] == "none"


def test_harvested_records_are_queued_once_and_never_rewritten(store) -> None:
    local = _org(store, "香港科技大学", city="810000")
    harvested = store.create({"type": "organization", "name": {"en": "The Hong Kong University of Science and "
                                                                   "Technology"}, "node": "440100"})
    assert queue_harvested(store, [harvested]) == 1
    assert queue_harvested(store, [harvested]) == 0
    (candidate,) = RegistryService(store).review(CLI_ADMIN)["results"]
    assert (candidate["record_id"], candidate["candidate_id"], candidate["source"]) == (harvested["id"], local["id"], "harvest")
    assert store.get(harvested["id"])["revision"] == 1


def test_resolving_a_name_reads_without_taking_the_write_lock(store):
    """A lookup is a read: while another writer holds the store, resolving an already indexed name answers."""
    import threading

    from zhulian.access.principal import CLI_ADMIN
    from zhulian.registry.service import RegistryService

    with store.transaction() as writer:
        writer.upsert({"type": "organization", "name": {"zh": "中山大学"}, "city": "440100", "kind": "university"})
    service = RegistryService(store)
    service.resolve(CLI_ADMIN, "中山大学")  # the blocking index catches up once
    holding, release = threading.Event(), threading.Event()

    def hold_the_write_lock():
        with store.transaction() as writer:
            writer.log(actor="test", role="admin", action="hold")
            holding.set()
            release.wait(20)

    writer_thread = threading.Thread(target=hold_the_write_lock)
    writer_thread.start()
    try:
        assert holding.wait(10)
        answered: list[dict] = []
        reader = threading.Thread(target=lambda: answered.append(service.resolve(CLI_ADMIN, "中山大学")))
        reader.start()
        reader.join(5)
        assert answered and answered[0]["results"][0]["name"]["zh"] == "中山大学", "the lookup waited for the writer"
    finally:
        release.set()
        writer_thread.join()
