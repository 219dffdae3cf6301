"""The store read behind every search page (``Store.get_many``), over SQLite and PostgreSQL: it returns the live
records asked for, as their current JSON, and leaves out what a reader must not get: unknown and deleted ids, and
records its visibility does not allow; a long list of ids (more than one statement's worth) comes back whole."""

from __future__ import annotations

from zhulian.store import Store
from zhulian.store.query import Visibility


def paper(title: str, **extra) -> dict:
    return {"type": "paper", "title": {"zh": title}, "year_published": 2020, **extra}


def test_live_records_come_back_as_stored_and_the_rest_is_left_out(store: Store) -> None:
    kept = store.create(paper("石墨烯传感器研究", keywords=["石墨烯"], city="440300"))
    gone = store.create(paper("已删除的论文"))
    store.delete(gone["id"])
    internal = store.create(paper("内部评估报告", access="internal", node="440100"))
    elsewhere = store.create(paper("另一节点的内部报告", access="internal", node="440300"))
    asked = [kept["id"], gone["id"], "pap_01J000000000000000000000ZZ", internal["id"], elsewhere["id"], kept["id"]]

    everything = store.get_many(asked)
    assert everything == {kept["id"]: store.get(kept["id"]), internal["id"]: store.get(internal["id"]),
                          elsewhere["id"]: store.get(elsewhere["id"])}
    assert everything[kept["id"]]["keywords"] == ["石墨烯"]

    assert set(store.get_many(asked, visible=Visibility(frozenset({"public"})))) == {kept["id"]}
    node_reader = Visibility(frozenset({"public", "registered"}), node="440100")
    assert set(store.get_many(asked, visible=node_reader)) == {kept["id"], internal["id"]}
    assert store.get_many([]) == {}


def test_more_ids_than_one_statement_takes_all_come_back(store: Store) -> None:
    with store.transaction() as writer:
        created = writer.upsert_many([paper(f"论文 {n}", pids={"ref": f"page-read-{n}"}) for n in range(1203)])
    ids = [result.record["id"] for result in created]
    found = store.get_many(ids)
    assert len(found) == 1203
    assert {found[record_id]["title"]["zh"] for record_id in ids} == {f"论文 {n}" for n in range(1203)}
