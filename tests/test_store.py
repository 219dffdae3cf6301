"""The store as a user meets it, on SQLite and on PostgreSQL (the ``store`` fixture runs each test on both):
look-ups by id and identifier, revisions, tombstones, upserts, pid uniqueness, relations from both ends,
list queries, group-by, the change feed, and transactions that either commit whole or leave nothing."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from zhulian.errors import ZhulianError
from zhulian.store import Store, Writer
from zhulian.store.tables import metadata

SYSU_MOE = "4144010558"
USCC = "914403001922038216"
ORCID = "0000-0002-1825-0097"
MISSING_ORG = "org_01J0Z6Q7M3VX9K2D4F8H5N1P6R"


def org(name: str, **fields) -> dict:
    return {"type": "organization", "name": {"zh": name}, **fields}


def platform(name: str, **fields) -> dict:
    return {"type": "platform", "name": {"zh": name}, **fields}


def raises(code: str, status: int, call, *args, **kwargs) -> ZhulianError:
    with pytest.raises(ZhulianError) as caught:
        call(*args, **kwargs)
    assert caught.value.code == code, caught.value
    assert caught.value.status == status
    assert caught.value.message and caught.value.message_zh
    return caught.value


def snapshot(store: Store) -> dict:
    """Every row of every table, plus what a user sees: counts and the end of the change feed."""
    with store.engine.connect() as connection:
        tables = {table.name: sorted(repr(tuple(row)) for row in connection.execute(sa.select(table)))
                  for table in metadata.sorted_tables}
    return {"tables": tables, "counts": store.counts(), "last_seq": store.last_seq(),
            "changes": store.changes(0, 10_000)}


# -- create and get ------------------------------------------------------------------------------


def test_create_then_get_by_id_and_by_pid(store):
    created = store.create(org("中山大学", pids={"moe": SYSU_MOE, "uscc": USCC.lower()}, city="440100",
                               kind="高等院校"))
    assert created["id"].startswith("org_") and len(created["id"]) == 30
    assert created["revision"] == 1 and created["created"] == created["updated"]
    assert created["kind"] == "university" and created["pids"] == {"moe": SYSU_MOE, "uscc": USCC}
    assert "deleted" not in created
    for ref in (created["id"], f"moe:{SYSU_MOE}", f"uscc:{USCC}", f"uscc:{USCC.lower()}", f" moe:{SYSU_MOE} "):
        assert store.get(ref) == created, ref


def test_create_keeps_a_given_id_and_refuses_it_twice(store):
    created = store.create(org("中山大学", id=MISSING_ORG))
    assert created["id"] == MISSING_ORG and store.get(MISSING_ORG)["name"] == {"zh": "中山大学"}
    error = raises("conflict", 409, store.create, org("另一所大学", id=MISSING_ORG))
    assert MISSING_ORG in error.message
    assert store.counts() == {"organization": 1}


def test_pids_given_in_a_non_canonical_form_resolve(store):
    paper = store.create({"type": "paper", "title": {"en": "PRD networks"},
                          "pids": {"doi": "https://doi.org/10.1016/J.CITIES.2020.102345"}})
    person = store.create({"type": "person", "name": {"zh": "张三"}, "pids": {"orcid": f"https://orcid.org/{ORCID}"}})
    patent = store.create({"type": "patent", "title": {"zh": "图像识别方法"}, "number": "cn 201710601862.3"})
    assert paper["pids"] == {"doi": "10.1016/j.cities.2020.102345"}
    assert store.get("doi:https://doi.org/10.1016/j.cities.2020.102345")["id"] == paper["id"]
    assert store.get("doi:10.1016/J.Cities.2020.102345")["id"] == paper["id"]
    assert store.get(f"orcid:https://orcid.org/{ORCID}")["id"] == person["id"]
    assert store.get("patent_no:CN201710601862.3")["id"] == patent["id"]
    assert store.get("patent_no:cn 2017 1060 1862.3")["id"] == patent["id"]


def test_get_of_a_missing_or_malformed_reference(store):
    error = raises("not_found", 404, store.get, MISSING_ORG)
    assert MISSING_ORG in error.message
    raises("not_found", 404, store.get, f"moe:{SYSU_MOE}")
    raises("bad_ref", 400, store.get, "中山大学")
    raises("bad_ref", 400, store.get, "org_123")


# -- update and revisions ------------------------------------------------------------------------


def test_update_keeps_every_earlier_revision_readable(store):
    first = store.create(org("中山大学", pids={"moe": SYSU_MOE}, city="440100"))
    second = store.update(first["id"], org("中山大学", pids={"moe": SYSU_MOE}, city="440100", kind="university"))
    third = store.update(f"moe:{SYSU_MOE}", org("中山大学（广州）", pids={"moe": SYSU_MOE}, city="440100",
                                                kind="university"), expected_revision=2)
    assert (second["revision"], third["revision"]) == (2, 3)
    assert third["created"] == first["created"] and third["updated"] > first["updated"]
    assert store.get(first["id"]) == third
    assert store.get(first["id"], revision=1) == first
    assert store.get(first["id"], revision=2) == second
    assert "kind" not in store.get(first["id"], revision=1)
    assert [(r["revision"], r["op"]) for r in store.revisions(first["id"])] == [(1, "create"), (2, "update"),
                                                                              (3, "update")]
    raises("not_found", 404, store.get, first["id"], revision=4)


def test_update_that_changes_nothing_makes_no_revision_and_no_change(store):
    scut = store.create(org("华南理工大学", pids={"moe": "4144010561"}))
    created = store.create(platform("协同创新中心", city="440100", pids={"uscc": USCC},
                                    relations=[{"predicate": "lead_unit", "object": "moe:4144010561", "rank": 1,
                                                "role": "牵头单位", "from": "2016-04"}]))
    seq = store.last_seq()
    # The same content again: as first written, as read back, and in other spellings (the related
    # record by id instead of pid, the pid in lower case, the date as a Chinese source writes it).
    same = store.update(created["id"], platform("协同创新中心", city="440100", pids={"uscc": USCC}, relations=[
        {"predicate": "lead_unit", "object": "moe:4144010561", "rank": 1, "role": "牵头单位", "from": "2016-04"}]))
    again = store.update(created["id"], store.get(created["id"]))
    respelt = store.update(created["id"], platform(" 协同创新中心 ", city=440100, pids={"uscc": USCC.lower()},
                                                   relations=[{"predicate": "lead_unit", "object": scut["id"],
                                                               "rank": 1, "role": "牵头单位", "from": "2016年4月"}]))
    upserted, outcome = store.upsert(store.get(created["id"]))
    assert same == again == respelt == upserted == created and outcome == "unchanged"
    assert store.last_seq() == seq
    assert [r["revision"] for r in store.revisions(created["id"])] == [1]


def test_stale_expected_revision_is_refused(store):
    created = store.create(org("中山大学"))
    store.update(created["id"], org("中山大学", city="440100"))
    seq = store.last_seq()
    error = raises("stale", 412, store.update, created["id"], org("中山大学", city="440300"), expected_revision=1)
    assert "revision 2" in error.message and "第 2 版" in error.message_zh
    raises("stale", 412, store.delete, created["id"], expected_revision=1)
    assert store.get(created["id"])["city"] == "440100" and store.last_seq() == seq


def test_update_can_change_neither_type_nor_id(store):
    created = store.create(org("中山大学"))
    other = store.create(org("暨南大学"))
    error = raises("invalid", 400, store.update, created["id"], {"type": "platform", "name": {"zh": "平台"}})
    assert error.details[0].field == "type"
    error = raises("invalid", 400, store.update, created["id"], org("暨南大学", id=other["id"]))
    assert error.details[0].field == "id"
    raises("not_found", 404, store.update, MISSING_ORG, org("不存在"))
    assert store.get(created["id"]) == created


# -- delete and tombstones -------------------------------------------------------------------------


def test_delete_leaves_a_tombstone(store):
    created = store.create(org("中山大学", pids={"moe": SYSU_MOE}, city="440100", kind="university"))
    kept = store.create(org("暨南大学", city="440100", kind="university"))
    tombstone = store.delete(f"moe:{SYSU_MOE}")
    assert tombstone["revision"] == 2 and tombstone["deleted"] and tombstone["name"] == {"zh": "中山大学"}

    error = raises("gone", 410, store.get, created["id"])
    assert "revision 2" in error.message and "已删除" in error.message_zh
    raises("gone", 410, store.get, f"moe:{SYSU_MOE}")
    assert store.get(created["id"], include_deleted=True) == tombstone
    assert store.get(created["id"], revision=1) == created
    assert [(r["revision"], r["op"]) for r in store.revisions(created["id"])] == [(1, "create"), (2, "delete")]

    assert [r["id"] for r in store.query("organization").results] == [kept["id"]]
    assert store.query("organization", "kind:university").count == 1
    assert [r["id"] for r in store.iterate("organization")] == [kept["id"]]
    assert store.counts() == {"organization": 1}
    last = store.changes(0)[-1]
    assert (last["id"], last["op"], last["revision"]) == (created["id"], "delete", 2)

    raises("gone", 410, store.delete, created["id"])
    raises("gone", 410, store.update, created["id"], org("中山大学"))


def test_relations_to_a_deleted_record_disappear_from_both_ends(store):
    lead = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    partner = store.create(org("香港科技大学"))
    centre = store.create(platform("协同创新中心", relations=[{"predicate": "lead_unit", "object": lead["id"]},
                                                          {"predicate": "partner_unit", "object": partner["id"]}]))
    assert len(store.relations(lead["id"])) == 1 and len(store.relations(centre["id"])) == 2
    # The object is deleted: the platform's relations() no longer shows it.
    store.delete(lead["id"])
    assert [r["object"]["id"] for r in store.relations(centre["id"])] == [partner["id"]]
    # The subject (the owner of the relations) is deleted: the organisation no longer shows it.
    store.delete(centre["id"])
    assert store.relations(partner["id"]) == []


def test_a_new_relation_to_a_deleted_record_is_refused(store):
    lead = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    store.delete(lead["id"])
    before = snapshot(store)
    for ref in (lead["id"], f"moe:{SYSU_MOE}"):
        error = raises("invalid", 400, store.create,
                       platform("协同创新中心", relations=[{"predicate": "lead_unit", "object": ref}]))
        assert [(p.field, p.value) for p in error.details] == [("relations.0.object", ref)]
        assert "deleted" in error.details[0].reason and "删除" in error.details[0].reason_zh
    assert snapshot(store) == before


# -- upsert ----------------------------------------------------------------------------------------


def test_upsert_same_data_twice_is_created_then_unchanged(store):
    data = org("中山大学", pids={"moe": SYSU_MOE}, city="440100", kind="高等院校", keywords=["综合性大学"])
    first, outcome = store.upsert(data)
    assert outcome == "created" and first["revision"] == 1
    seq = store.last_seq()
    second, outcome = store.upsert(data)
    assert outcome == "unchanged" and second == first
    assert store.last_seq() == seq and len(store.revisions(first["id"])) == 1


def test_upsert_of_a_policy_with_targets_is_idempotent(store):
    data = {"type": "policy", "title": {"zh": "广州市科技创新“十三五”规划"}, "pids": {"ref": "gz-13th-plan"},
            "issued": "2016-12-30", "regions": ["440100"],
            "targets": [{"indicator": "研发经费支出占GDP比重", "comparator": ">=", "value": 3.0, "unit": "%",
                         "year": 2020, "region": "440100"},
                        {"indicator": "高新技术企业数量", "comparator": ">=", "value": 10000, "unit": "家"},
                        {"indicator": "技术合同成交额", "comparator": "between", "value": 0.1, "value_max": 1e12}]}
    assert store.upsert(data)[1] == "created"
    record, outcome = store.upsert(data)
    assert outcome == "unchanged" and record["revision"] == 1
    assert record["targets"][0]["value"] == 3.0


def test_upsert_of_a_big_target_value_is_idempotent(store):
    # 1e16 and above came back from PostgreSQL's JSONB as an int, so every re-upsert made a revision;
    # the model now bounds a target value, and the largest one it allows round-trips on both databases.
    data = {"type": "policy", "title": {"zh": "规划"}, "pids": {"ref": "big-target"},
            "targets": [{"indicator": "地区生产总值（元）", "comparator": ">=", "value": 1e15}]}
    store.upsert(data)
    record, outcome = store.upsert(data)
    assert outcome == "unchanged" and record["revision"] == 1
    too_big = {**data, "targets": [{**data["targets"][0], "value": 1e16}]}
    assert raises("invalid", 400, store.upsert, too_big).details[0].field == "targets.0.value"


def test_upsert_with_changed_data_makes_exactly_one_revision(store):
    first, _ = store.upsert(org("中山大学", pids={"moe": SYSU_MOE}))
    seq = store.last_seq()
    second, outcome = store.upsert(org("中山大学", pids={"moe": SYSU_MOE}, city="440100"))
    assert outcome == "updated" and second["id"] == first["id"] and second["revision"] == 2
    assert [r["revision"] for r in store.revisions(first["id"])] == [1, 2]
    assert [(c["id"], c["revision"], c["op"]) for c in store.changes(seq)] == [(first["id"], 2, "upsert")]
    # Naming it by id instead of pid reaches the same record.
    third, outcome = store.upsert(org("中山大学", id=first["id"], pids={"moe": SYSU_MOE}, city="440300"))
    assert outcome == "updated" and third["revision"] == 3
    assert store.counts() == {"organization": 1}


def test_upsert_naming_two_different_records_is_a_conflict(store):
    a = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    b = store.create(org("华为技术有限公司", pids={"uscc": USCC}))
    before = snapshot(store)
    error = raises("conflict", 409, store.upsert, org("混合", pids={"moe": SYSU_MOE, "uscc": USCC}))
    assert a["id"] in error.message and b["id"] in error.message
    raises("conflict", 409, store.upsert, org("混合", id=a["id"], pids={"uscc": USCC}))
    assert snapshot(store) == before


def test_upsert_after_delete_creates_a_new_record(store):
    old = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    store.delete(old["id"])
    new, outcome = store.upsert(org("中山大学", pids={"moe": SYSU_MOE}))
    assert outcome == "created" and new["id"] != old["id"] and new["revision"] == 1
    assert store.get(f"moe:{SYSU_MOE}")["id"] == new["id"]


# -- pid uniqueness -------------------------------------------------------------------------------


def test_a_pid_belongs_to_one_live_record(store):
    first = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    other = store.create(org("暨南大学"))
    seq = store.last_seq()
    error = raises("conflict", 409, store.create, org("中山大学（重复）", pids={"moe": SYSU_MOE, "uscc": USCC}))
    assert [(p.field, p.value) for p in error.details] == [("pids.moe", SYSU_MOE)]
    assert first["id"] in error.details[0].reason and first["id"] in error.details[0].reason_zh
    raises("conflict", 409, store.update, other["id"], org("暨南大学", pids={"moe": SYSU_MOE}))
    assert store.counts() == {"organization": 2} and store.last_seq() == seq
    raises("not_found", 404, store.get, f"uscc:{USCC}")

    store.delete(first["id"])
    claimed = store.create(org("中山大学（新）", pids={"moe": SYSU_MOE}))
    assert store.get(f"moe:{SYSU_MOE}")["id"] == claimed["id"]
    assert store.get(first["id"], include_deleted=True)["pids"] == {"moe": SYSU_MOE}


def test_a_pid_dropped_by_an_update_is_free_again(store):
    first = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    store.update(first["id"], org("中山大学"))
    raises("not_found", 404, store.get, f"moe:{SYSU_MOE}")
    second = store.create(org("中山大学（新）", pids={"moe": SYSU_MOE}))
    assert store.get(f"moe:{SYSU_MOE}")["id"] == second["id"]


# -- relations -----------------------------------------------------------------------------------


def test_relations_can_be_queried_from_both_ends(store):
    lead = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    partner = store.create(org("香港科技大学", pids={"ref": "hkust"}))
    centre = store.create(platform("粤港澳联合实验室", relations=[
        {"predicate": "lead_unit", "object": f"moe:{SYSU_MOE}", "rank": 1},
        {"predicate": "partner_unit", "object": "ref:hkust", "role": "协同单位", "rank": 2, "from": "2019"}]))
    # References by pid were resolved to ids when written.
    assert centre["relations"] == [{"predicate": "lead_unit", "object": lead["id"], "rank": 1},
                                   {"predicate": "partner_unit", "object": partner["id"], "role": "协同单位",
                                    "rank": 2, "from": "2019"}]
    out = store.relations(centre["id"], direction="out")
    assert out == [
        {"predicate": "lead_unit", "object": {"id": lead["id"], "type": "organization", "name": "中山大学"},
         "rank": 1},
        {"predicate": "partner_unit", "object": {"id": partner["id"], "type": "organization", "name": "香港科技大学"},
         "role": "协同单位", "rank": 2, "from": "2019"}]
    assert store.relations(centre["id"], direction="in") == []
    assert store.relations(centre["id"], predicate="partner_unit") == out[1:]
    assert store.relations(f"moe:{SYSU_MOE}", direction="in") == [
        {"predicate": "lead_unit", "subject": {"id": centre["id"], "type": "platform", "name": "粤港澳联合实验室"},
         "rank": 1}]
    assert store.relations(lead["id"], direction="out") == []
    assert store.relations(lead["id"], predicate="partner_unit") == []
    assert store.get(lead["id"], expand=True)["relations"] == store.relations(lead["id"])
    raises("bad_direction", 400, store.relations, lead["id"], direction="sideways")


def test_a_relation_declared_with_subject_makes_the_record_the_object(store):
    host = store.create(org("中山大学测试中心"))
    instrument = store.create({"type": "instrument", "name": {"zh": "场发射扫描电子显微镜"},
                               "relations": [{"predicate": "hosts", "subject": host["id"]}]})
    assert instrument["relations"] == [{"predicate": "hosts", "subject": host["id"]}]
    assert store.relations(host["id"], direction="out", predicate="hosts") == [
        {"predicate": "hosts", "object": {"id": instrument["id"], "type": "instrument", "name": "场发射扫描电子显微镜"}}]
    assert store.relations(instrument["id"], direction="in")[0]["subject"]["id"] == host["id"]
    assert store.relations(instrument["id"], direction="out") == []


def test_a_relation_of_the_wrong_types_is_refused_and_nothing_written(store):
    person = store.create({"type": "person", "name": {"zh": "张三"}, "pids": {"orcid": ORCID}})
    university = store.create(org("中山大学"))
    before = snapshot(store)
    error = raises("invalid", 400, store.create, platform("协同创新中心", relations=[
        {"predicate": "lead_unit", "object": university["id"]},
        {"predicate": "lead_unit", "object": f"orcid:{ORCID}"}]))
    assert len(error.details) == 1
    problem = error.details[0]
    assert (problem.field, problem.value) == ("relations.1.object", f"orcid:{ORCID}")
    assert "platform to person" in problem.reason and "lead_unit" in problem.reason
    assert "不能从 platform 指向 person" in problem.reason_zh
    # The same through a declared subject, and through an update.
    raises("invalid", 400, store.create, org("机构", relations=[{"predicate": "inventor_of", "subject": person["id"]}]))
    raises("invalid", 400, store.update, university["id"],
           org("中山大学", relations=[{"predicate": "lead_unit", "object": person["id"]}]))
    assert snapshot(store) == before


def test_a_relation_to_a_missing_record_is_refused_and_nothing_written(store):
    store.create(org("中山大学"))
    before = snapshot(store)
    error = raises("invalid", 400, store.create, platform("协同创新中心", relations=[
        {"predicate": "lead_unit", "object": MISSING_ORG},
        {"predicate": "partner_unit", "object": f"moe:{SYSU_MOE}"}]))
    assert [(p.field, p.value) for p in error.details] == [("relations.0.object", MISSING_ORG),
                                                          ("relations.1.object", f"moe:{SYSU_MOE}")]
    assert "No record" in error.details[1].reason and "找不到" in error.details[1].reason_zh
    assert snapshot(store) == before


def test_a_record_cannot_relate_to_itself(store):
    created = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    error = raises("invalid", 400, store.update, created["id"],
                   org("中山大学", pids={"moe": SYSU_MOE}, relations=[{"predicate": "member_of",
                                                                    "object": f"moe:{SYSU_MOE}"}]))
    assert "itself" in error.details[0].reason and "自身" in error.details[0].reason_zh


# -- list / query ----------------------------------------------------------------------------------

ORGS = [  # name, city, kind, founded
    ("a 中山大学", "440100", "university", "1924"),
    ("b 华南理工大学", "440100", "university", "1952"),
    ("c 广州大学", "440100", "university", "2000"),
    ("d 中国科学院广州能源研究所", "440100", "institute", "1978"),
    ("e 深圳大学", "440300", "university", "1983"),
    ("f 南方科技大学", "440300", "university", "2011"),
    ("g 鹏城实验室", "440300", "institute", "2018"),
    ("h 华为技术有限公司", "440300", "enterprise", "1987"),
    ("i 佛山科学技术学院", "440600", "university", "2015"),
    ("j 季华实验室", "440600", "institute", "2018"),
    ("k 香港科技大学", "810000", "university", "1991"),
]


@pytest.fixture
def orgs(store) -> dict[str, str]:
    ids = {}
    with store.transaction() as writer:
        for name, city, kind, founded in ORGS:
            ids[name[0]] = writer.create(org(name, city=city, kind=kind, founded=founded))["id"]
        writer.create({"type": "news", "title": {"zh": "湾区新闻"}, "city": "440100", "published": "2017-12-22"})
    return ids


def names(page_or_records) -> list[str]:
    records = getattr(page_or_records, "results", page_or_records)
    return [(r.get("name") or r.get("title"))["zh"][0] for r in records]


def test_query_filters_on_envelope_fields(store, orgs):
    assert sorted(names(store.query("organization", "city:440300"))) == list("efgh")
    assert sorted(names(store.query("organization", "city:440600|810000"))) == list("ijk")
    assert sorted(names(store.query("organization", "city:!440100"))) == list("efghijk")
    assert sorted(names(store.query("organization", "year:>2010"))) == list("fgij")
    assert sorted(names(store.query("organization", "year:<1960"))) == list("ab")
    assert sorted(names(store.query("organization", "year:2015-2018"))) == list("gij")
    assert sorted(names(store.query("organization", "year:2018"))) == list("gj")
    assert sorted(names(store.query("organization", "year:!2018,city:440300"))) == list("efh")
    assert names(store.query(None, "type:news")) == ["湾"]
    assert store.query(None, "type:!news").count == len(ORGS)
    assert store.query(None, "city:440100").count == 5
    assert store.query(None, f"id:{orgs['a']}|{orgs['k']}").count == 2


def test_query_filters_on_indexed_fields(store, orgs):
    assert sorted(names(store.query("organization", "kind:university|institute,city:440300"))) == list("efg")
    assert sorted(names(store.query("organization", "kind:!university"))) == list("dghj")
    for number, ipc in (("CN201710601862.3", ["G06F 16/35", "G06N 3/08"]), ("CN202110000001.6", ["G06F 17/00"]),
                        ("CN202210000002.5", ["H04L 9/32"])):
        store.create({"type": "patent", "title": {"zh": number}, "number": number, "ipc": ipc, "kind": "发明",
                      "application_date": f"{number[2:6]}-03-01"})
    assert store.query("patent", "ipc_class:G06F").count == 2
    assert store.query("patent", "ipc_class:G06N|H04L").count == 2
    assert store.query("patent", "ipc:G06F 16/35").count == 1
    assert store.query("patent", "kind:invention,application_date:>2021").count == 2


def test_query_sorts_pages_and_counts(store, orgs):
    page = store.query("organization", sort="name", limit=3)
    assert names(page) == list("abc") and page.count == len(ORGS)
    assert names(store.query("organization", sort="name", limit=3, offset=9)) == list("jk")
    assert names(store.query("organization", sort="name:desc", limit=2)) == list("kj")
    founded = {name[0]: int(year) for name, _city, _kind, year in ORGS}
    expected = sorted(founded, key=lambda letter: (-founded[letter], orgs[letter]))  # ties broken by id
    assert names(store.query("organization", sort="year:desc", limit=100)) == expected
    assert sorted(expected[:2]) == list("gj") and expected[2:] == list("ifckhedba")
    # Ties are broken by id, so the order is the same on every run and every database.
    assert names(store.query("organization", sort="city,year:desc", limit=100)) == list("cdba" "gfhe" "ji" "k")
    page = store.query("organization", "city:440100", sort="name", limit=2, offset=2)
    assert names(page) == list("cd") and page.count == 4
    assert store.query("organization", "city:999999").results == []


def test_records_without_a_year_sort_last_in_both_directions(store):
    store.create(org("no year"))
    store.create(org("2010", founded="2010"))
    store.create(org("2020", founded="2020"))
    assert [r["name"]["zh"] for r in store.query("organization", sort="year").results] == ["2010", "2020", "no year"]
    assert [r["name"]["zh"] for r in store.query("organization", sort="year:desc").results] == [
        "2020", "2010", "no year"]


def test_iterate_returns_every_match_across_batches(store, orgs):
    every = list(store.iterate("organization", batch=3))
    assert sorted(names(every)) == list("abcdefghijk")
    assert [r["id"] for r in every] == sorted(orgs.values())
    assert sorted(names(store.iterate("organization", "kind:university", batch=3))) == list("abcefik")
    assert len(list(store.iterate(None, batch=4))) == len(ORGS) + 1
    assert len(list(store.iterate("organization", "city:440300", batch=4))) == 4  # exactly one full batch
    assert list(store.iterate("organization", "city:999999", batch=3)) == []
    expanded = next(iter(store.iterate("organization", batch=3, expand=True)))
    assert expanded["relations"] == []


def test_bad_filters_and_sorts_are_refused(store, orgs):
    error = raises("invalid", 400, store.query, "organization", "colour:red")
    problem = error.details[0]
    assert problem.field == "filter.colour" and problem.value == "red"
    for field in ("city", "year", "kind", "disciplines"):
        assert field in problem.reason and field in problem.reason_zh
    error = raises("invalid", 400, store.query, None, "kind:university")  # kind belongs to a type
    assert "kind" in error.details[0].reason
    error = raises("invalid", 400, store.query, "organization", "year:>recent,city,colour:x")
    assert [p.field for p in error.details] == ["filter.year", "filter", "filter.colour"]
    assert "查询" in error.message_zh and "query" in error.message
    error = raises("invalid", 400, store.query, "organization", sort="colour")
    assert error.details[0].field == "sort" and "name" in error.details[0].reason
    raises("invalid", 400, store.query, "organization", sort="name:sideways")
    raises("invalid", 400, list, store.iterate("organization", "colour:red"))


def test_filter_values_are_data_not_syntax(store, orgs):
    assert store.query("organization", "kind:university' OR '1'='1").count == 0
    error = raises("invalid", 400, store.query, "organization", "city:440100' OR '1'='1")  # read as a place name
    assert error.details[0].value == "440100' OR '1'='1"
    assert store.query("organization", "kind:university); DROP TABLE records; --").count == 0
    assert store.counts()["organization"] == len(ORGS)


# -- group_by ----------------------------------------------------------------------------------------


def test_group_by_counts_with_chinese_display_names(store, orgs):
    assert store.group_by("organization", "kind") == [
        {"key": "university", "key_display_name": "高等院校", "count": 7},
        {"key": "institute", "key_display_name": "科研院所", "count": 3},
        {"key": "enterprise", "key_display_name": "企业", "count": 1}]
    assert store.group_by("organization", "city") == [
        {"key": "440100", "key_display_name": "广州市", "count": 4},
        {"key": "440300", "key_display_name": "深圳市", "count": 4},
        {"key": "440600", "key_display_name": "佛山市", "count": 2},
        {"key": "810000", "key_display_name": "香港特别行政区", "count": 1}]
    assert store.group_by("organization", "kind", "city:440300") == [
        {"key": "university", "key_display_name": "高等院校", "count": 2},
        {"key": "enterprise", "key_display_name": "企业", "count": 1},
        {"key": "institute", "key_display_name": "科研院所", "count": 1}]
    assert store.group_by(None, "type") == [
        {"key": "organization", "key_display_name": "机构", "count": len(ORGS)},
        {"key": "news", "key_display_name": "资讯", "count": 1}]
    store.delete(orgs["h"])
    assert {g["key"] for g in store.group_by("organization", "kind")} == {"university", "institute"}
    raises("invalid", 400, store.group_by, "organization", "colour")


def test_group_by_a_number_field(store):
    store.create({"type": "instrument", "name": {"zh": "电镜"}, "value_wan": 368.5})
    assert [g["count"] for g in store.group_by("instrument", "value_wan")] == [1]


# -- change feed -------------------------------------------------------------------------------------


def test_change_feed_pages_in_order_without_gaps_or_repeats(store):
    assert store.last_seq() == 0 and store.changes(0) == []
    ids = [store.create(org(f"机构{i}"))["id"] for i in range(7)]
    store.update(ids[0], org("机构0", city="440100"))
    store.update(ids[1], org("机构1", city="440300"))
    store.delete(ids[2])
    everything = store.changes(0)
    seqs = [c["seq"] for c in everything]
    assert len(everything) == 10 and seqs == sorted(set(seqs))
    assert store.last_seq() == seqs[-1]
    assert [(c["id"], c["revision"], c["op"]) for c in everything[-3:]] == [
        (ids[0], 2, "upsert"), (ids[1], 2, "upsert"), (ids[2], 2, "delete")]
    assert all(c["type"] == "organization" and c["at"] for c in everything)

    paged, since = [], 0
    while page := store.changes(since, limit=3):
        assert len(page) <= 3
        paged += page
        since = page[-1]["seq"]
    assert paged == everything
    assert store.changes(store.last_seq()) == []
    assert store.changes(seqs[4], limit=2) == everything[5:7]


def test_change_feed_carries_the_payload_of_each_revision(store):
    created = store.create(org("中山大学"))
    updated = store.update(created["id"], org("中山大学", city="440100"))
    tombstone = store.delete(created["id"])
    feed = store.changes(0, with_records=True)
    assert [c["record"] for c in feed] == [created, updated, tombstone]
    assert [c["revision"] for c in feed] == [1, 2, 3]
    assert "record" not in store.changes(0)[0]


def stored_revision_data(store, record_id):
    from zhulian.store import revisions
    with store.engine.connect() as connection:
        return [row.data for row in connection.execute(sa.select(revisions.c.data).where(
            revisions.c.record_id == record_id).order_by(revisions.c.revision))]


def test_a_records_state_is_stored_once_and_each_replaced_revision_keeps_its_own(store):
    created = store.create(org("中山大学"))
    assert stored_revision_data(store, created["id"]) == [None]  # the state is in ``records`` only
    updated = store.update(created["id"], org("中山大学", city="440100"))
    tombstone = store.delete(created["id"])
    assert stored_revision_data(store, created["id"]) == [created, updated, None]
    assert [store.get(created["id"], revision=n) for n in (1, 2, 3)] == [created, updated, tombstone]


def test_a_bulk_write_keeps_the_revisions_it_replaces_in_the_same_transaction(store):
    names = [f"广州研究院{n}" for n in range(150)]  # above Writer.BACKGROUND_FROM: the bulk path
    with store.transaction() as writer:
        first = [result.record for result in writer.upsert_many([org(name) for name in names])]
        second = [result.record for result in writer.upsert_many(
            [org(name, id=record["id"], city="440100") for name, record in zip(names, first, strict=True)])]
    assert all(stored_revision_data(store, record["id"]) == [record, None] for record in first[::50])
    feed = [change["record"] for change in store.changes(0, limit=1000, with_records=True)]
    assert feed == first + second


def test_a_store_that_kept_the_latest_revisions_copy_reads_the_same(store):
    """Stores written before the state was kept once hold it in the latest revision row too."""
    from zhulian.store import revisions
    created = store.create(org("中山大学"))
    with store.engine.begin() as connection:
        connection.execute(revisions.update().where(revisions.c.record_id == created["id"]).values(data=created))
    assert store.get(created["id"], revision=1) == created
    assert store.changes(0, with_records=True)[0]["record"] == created
    updated = store.update(created["id"], org("中山大学", city="440100"))
    assert stored_revision_data(store, created["id"]) == [created, None]
    assert store.get(created["id"], revision=2) == updated


# -- transactions: all or nothing ---------------------------------------------------------------------


def test_writes_in_one_transaction_commit_together(store):
    with store.transaction() as writer:
        university = writer.create(org("中山大学", pids={"moe": SYSU_MOE}))
        centre = writer.create(platform("协同创新中心", relations=[{"predicate": "lead_unit",
                                                                 "object": f"moe:{SYSU_MOE}"}]))
        writer.update(university["id"], org("中山大学", pids={"moe": SYSU_MOE}, city="440100"))
    assert store.counts() == {"organization": 1, "platform": 1}
    assert store.get(f"moe:{SYSU_MOE}")["revision"] == 2
    assert store.relations(university["id"])[0]["subject"]["id"] == centre["id"]
    assert [c["revision"] for c in store.changes(0)] == [1, 1, 2]


def test_an_exception_inside_a_transaction_leaves_the_store_as_before(store):
    existing = store.create(org("暨南大学", pids={"moe": "4144010559"}))
    before = snapshot(store)
    with pytest.raises(RuntimeError, match="disk on fire"):
        with store.transaction() as writer:
            writer.create(org("中山大学", pids={"moe": SYSU_MOE}))
            writer.update(existing["id"], org("暨南大学", pids={"moe": "4144010559"}, city="440100"))
            writer.delete(existing["id"])
            raise RuntimeError("disk on fire")
    assert snapshot(store) == before
    raises("not_found", 404, store.get, f"moe:{SYSU_MOE}")
    assert store.get("moe:4144010559") == existing


def test_a_refused_write_inside_a_transaction_undoes_the_earlier_ones(store):
    store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    before = snapshot(store)
    with pytest.raises(ZhulianError) as caught:
        with store.transaction() as writer:
            writer.create(org("华为技术有限公司", pids={"uscc": USCC}))
            writer.create(org("重复", pids={"moe": SYSU_MOE}))
    assert caught.value.code == "conflict"
    assert snapshot(store) == before
    raises("not_found", 404, store.get, f"uscc:{USCC}")


WRITE_SQL = re.compile(r"^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)", re.I)
FEED_TABLE = "revisions"  # the change feed is the revisions log


def arm_failure(store: Store, at: str):
    """Make the next write fail part-way, after its record row was written, and return a disarm function.

    The failure is forced where statements reach the database, which holds however the writer is
    organised: ``at="next"`` fails the first statement that writes another
    table after ``records`` was written; ``at="feed"`` fails the change-feed append, the last step."""
    seen: list[str] = []

    def writing(table: str) -> None:
        seen.append(table)
        if "records" in seen and (table == FEED_TABLE if at == "feed" else table != "records"):
            seen.clear()
            raise RuntimeError(f"forced failure writing {table} after the record row was written")

    def before_cursor_execute(_connection, _cursor, statement, *_args):
        match = WRITE_SQL.match(statement)
        if match:
            writing(match[1].lower())

    # Batched rows bypass the cursor events (PostgreSQL takes them by COPY), so the writer's one bulk
    # insert path is watched as well.
    bulk_insert = Writer._insert

    def watched_insert(self, connection, table, rows):
        writing(table.name)
        return bulk_insert(self, connection, table, rows)

    sa.event.listen(store.engine, "before_cursor_execute", before_cursor_execute)
    Writer._insert = watched_insert

    def disarm() -> None:
        Writer._insert = bulk_insert
        if sa.event.contains(store.engine, "before_cursor_execute", before_cursor_execute):
            sa.event.remove(store.engine, "before_cursor_execute", before_cursor_execute)

    return disarm


@pytest.mark.parametrize("at", ["next", "feed"])
def test_a_failure_inside_a_single_write_leaves_nothing_behind(store, at):
    lead = store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    existing = store.create(platform("协同创新中心", relations=[{"predicate": "lead_unit", "object": lead["id"]}]))
    before = snapshot(store)
    disarm = arm_failure(store, at)
    try:
        with pytest.raises(RuntimeError, match="forced failure"):
            store.create(org("华为技术有限公司", pids={"uscc": USCC}, kind="enterprise", city="440300"))
        with pytest.raises(RuntimeError, match="forced failure"):
            store.update(existing["id"], platform("协同创新中心（改名）", city="440100"))
        with pytest.raises(RuntimeError, match="forced failure"):
            store.upsert(org("中山大学", pids={"moe": SYSU_MOE}, city="440100"))
        with pytest.raises(RuntimeError, match="forced failure"):
            store.delete(lead["id"])
        with pytest.raises(RuntimeError, match="forced failure"):
            with store.transaction() as writer:
                writer.create(org("暨南大学"))
    finally:
        disarm()
    assert snapshot(store) == before

    raises("not_found", 404, store.get, f"uscc:{USCC}")
    assert store.get(existing["id"]) == existing and store.get(lead["id"]) == lead
    assert len(store.relations(lead["id"])) == 1
    assert store.query("organization", "kind:enterprise").count == 0
    # The store still works, and the feed carries on after what was committed.
    after = store.create(org("华为技术有限公司", pids={"uscc": USCC}))
    assert store.changes(before["last_seq"]) == [
        {"seq": store.last_seq(), "id": after["id"], "type": "organization", "revision": 1, "op": "upsert",
         "at": after["created"]}]



@pytest.mark.parametrize("at", ["next", "feed"])
def test_a_failure_in_a_bulk_writes_background_inserts_leaves_nothing_behind(store, at):
    """A bulk write's inserts run on the writer's own thread while the caller goes on; a failure there still
    ends the transaction with nothing written, and is raised to the caller."""
    store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    before = snapshot(store)
    many = [org(f"企业{n}", city="440300") for n in range(Writer.BACKGROUND_FROM * 3)]
    disarm = arm_failure(store, at)
    try:
        with pytest.raises(RuntimeError, match="forced failure"):
            with store.transaction() as writer:
                results = writer.upsert_many(many)
                assert {result.outcome for result in results} == {"created"}  # planned; the inserts may fail later
    finally:
        disarm()
    assert snapshot(store) == before
    assert store.query("organization").count == 1
    with store.transaction() as writer:  # and the store goes on working
        writer.upsert_many(many)
    assert store.query("organization", "city:440300").count == len(many)

def test_an_invalid_record_writes_nothing(store):
    store.create(org("中山大学", pids={"moe": SYSU_MOE}))
    before = snapshot(store)
    error = raises("invalid", 400, store.create, org("名" * 501, city="999999", founded="2023-02-30",
                                                     pids={"uscc": USCC}, colour="blue"))
    assert {p.field for p in error.details} == {"name.zh", "city", "founded", "colour"}
    raises("unknown_type", 400, store.create, {"type": "widget"})
    raises("invalid", 400, store.upsert, org("中山大学", pids={"moe": SYSU_MOE}, city="440199"))
    raises("invalid", 400, store.update, f"moe:{SYSU_MOE}", org("中山大学", founded="2021-13"))
    assert snapshot(store) == before
    raises("not_found", 404, store.get, f"uscc:{USCC}")


def test_a_follower_that_keeps_failing_logs_it_once_and_its_recovery_once(caplog):
    """A derived table whose folder went away fails every poll the same way: one traceback, not one a poll;
    when the step works again the follower says so and applies the feed."""
    import threading

    from zhulian.store.follow import FeedFollower

    outcomes = [FileNotFoundError("/data/.index.rebuild.lock")] * 5 + [3]
    applied = threading.Event()

    def step() -> int:
        outcome = outcomes.pop(0) if outcomes else 0
        if isinstance(outcome, Exception):
            raise outcome
        if outcome:
            applied.set()
        return outcome

    follower = FeedFollower("index follower", step, interval=0.001)
    with caplog.at_level("WARNING", logger="zhulian.store.follow"):
        follower.start()
        assert applied.wait(5)
        follower.stop()
    messages = [record.getMessage() for record in caplog.records]
    assert [m for m in messages if "failed" in m] == [
        "index follower: 应用变更流失败，将每 0.001 秒重试 / applying the change feed failed; retrying every 0.001 s"]
    assert [m for m in messages if "works again" in m] == [
        "index follower: 变更流恢复应用 / applying the change feed works again"]
    assert caplog.records[0].exc_info[0] is FileNotFoundError
