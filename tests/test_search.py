"""Search as a user meets it, over SQLite and PostgreSQL: folding, compounds and parts, the query
language, filters and exact group counts, escaped highlights, malformed and hostile input, the index
following the change feed, rebuilding from scratch, and autocomplete."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from zhulian.errors import ZhulianError
from zhulian.records.reference import load_region
from zhulian.model import record_label
from zhulian.search import SearchService
from zhulian.text import pinyin_sort_key

PAPERS = [
    {"type": "paper", "title": {"zh": "ＡＩ辅助的医学影像诊断"}, "year_published": 2019, "category": "医学",
     "keywords": ["人工智能", "医学影像"], "city": "440300"},
    {"type": "paper", "title": {"zh": "石墨烯复合材料的制备"}, "year_published": 2015, "category": "工学",
     "keywords": ["石墨烯", "复合材料"], "city": "440100", "abstract": "研究了石墨烯在锂电池中的应用。"},
    {"type": "paper", "title": {"zh": "石墨烯传感器研究"}, "year_published": 2018, "category": "工学",
     "keywords": ["石墨烯", "传感器"], "city": "440300", "abstract": "一种柔性传感器。"},
    {"type": "paper", "title": {"zh": "锂电池负极材料"}, "year_published": 2020, "category": "理学",
     "keywords": ["锂电池"], "city": "440100", "abstract": "负极材料中加入少量石墨烯。"},
    {"type": "paper", "title": {"zh": "<script>alert(1)</script>量子通信安全"}, "year_published": 2017,
     "keywords": ["量子通信"], "city": "440400"},
    {"type": "paper", "title": {"zh": "石墨烯内部评估报告"}, "access": "internal", "year_published": 2016,
     "keywords": ["石墨烯"], "city": "440100"},
]


@pytest.fixture
def service(store, tmp_path: Path) -> SearchService:
    load_region(store)
    for paper in PAPERS:
        store.create(paper)
    service = SearchService(store, path=tmp_path / "index")
    service.rebuild()
    return service


def ids(body: dict) -> list[str]:
    return [r["id"] for r in body["results"]]


def names(body: dict) -> list[str]:
    return [(r.get("name") or r.get("title"))["zh"] for r in body["results"]]


def test_traditional_full_width_and_simplified_forms_find_the_same_record(service: SearchService) -> None:
    simplified = service.search("中山大学")
    assert names(simplified)[0] == "中山大学"
    assert ids(service.search("中山大學")) == ids(simplified)
    astri = ids(service.search("香港应用科技研究院"))[0]
    assert ids(service.search("香港應用科技研究院"))[0] == astri
    assert ids(service.search("ＡＳＴＲＩ"))[0] == astri == ids(service.search("astri"))[0]
    assert names(service.search("ＡＩ")) == ["ＡＩ辅助的医学影像诊断"] == names(service.search("ai"))


def test_a_long_compound_name_is_found_whole_and_by_its_parts(service: SearchService) -> None:
    name = "珠三角科技金融产业协同创新发展中心"
    for query in (name, "科技金融", "协同创新", "科技金融 协同创新", "金融产业"):
        assert name in names(service.search(query, type="platform")), query
    assert names(service.search(name))[0] == name
    # one and two characters
    assert "石墨烯传感器研究" in names(service.search("烯", type="paper"))
    assert "中山大学" in names(service.search("中大", type="organization")) or \
        "中山大学" in names(service.search("中山", type="organization"))
    assert set(names(service.search("暨南", type="organization"))) >= {"暨南大学"}


def test_and_or_phrase_and_exclusion(service: SearchService) -> None:
    both = set(names(service.search("石墨烯 传感器")))
    assert both == {"石墨烯传感器研究"}
    either = set(names(service.search("传感器 OR 锂电池", type="paper")))
    assert either == {"石墨烯传感器研究", "锂电池负极材料", "石墨烯复合材料的制备"}
    assert set(names(service.search("石墨烯 -锂电池", type="paper"))) == {"石墨烯传感器研究"}
    assert names(service.search('"石墨烯复合"')) == ["石墨烯复合材料的制备"]
    # an unfinished last Latin word after others matches as a prefix (GDUFE); alone it is matched whole
    assert "广东财经大学" in names(service.search("广东 GDUF"))
    assert service.search("GDUF")["meta"]["count"] == 0
    assert names(service.search('"复合石墨烯"')) == []
    assert "石墨烯传感器研究" in names(service.search('"石墨"')) and names(service.search('"烯"'))
    # a phrase of the body text only, contiguous (its characters' positions), and not its words scattered
    assert names(service.search('"锂电池中的应用"')) == ["石墨烯复合材料的制备"]
    assert names(service.search('"加入少量石墨"')) == ["锂电池负极材料"]
    assert names(service.search('"石墨烯锂电池"')) == []
    # name above keywords above abstract
    ranked = names(service.search("石墨烯", type="paper"))
    assert ranked[-1] == "锂电池负极材料"
    assert service.search("石墨烯", type="paper")["meta"]["query_mode"] == "syntax"


def test_filters_and_group_by_counts_are_exact_and_internal_records_stay_hidden(service: SearchService,
                                                                                 store) -> None:
    body = service.search("石墨烯", type="paper", group_by="city,year,category", per_page=200)
    assert body["meta"]["count"] == 3 == len(body["results"])  # the internal one is not visible
    assert {g["key"]: g["count"] for g in body["group_by"]} == {"440100": 2, "440300": 1}
    assert {g["key"]: g["count"] for g in body["groups"]["category"]} == {"工学": 2, "理学": 1}
    assert {g["key"]: g["count"] for g in body["groups"]["year"]} == {"2015": 1, "2018": 1, "2020": 1}
    assert body["group_by"][0]["key_display_name"] == "广州市"
    # the access level is in the index: a caller allowed more (keys and roles, later) is one argument away
    assert service.search("石墨烯", type="paper", access=("public", "internal"))["meta"]["count"] == 4
    assert names(service.search("石墨烯", type="paper", filter="year:>2016")) == ["石墨烯传感器研究", "锂电池负极材料"] \
        or set(names(service.search("石墨烯", type="paper", filter="year:>2016"))) == {"石墨烯传感器研究", "锂电池负极材料"}
    assert set(names(service.search("石墨烯", type="paper", filter="year:2015-2018,city:!440300"))) == {
        "石墨烯复合材料的制备"}
    # a filter that only excludes, with no type: the internal record stays hidden all the same
    assert set(names(service.search("石墨烯", filter="city:!440300"))) == {"石墨烯复合材料的制备", "锂电池负极材料"}
    assert set(names(service.search("石墨烯", type="paper", filter="category:工学|理学,city:440100"))) == {
        "石墨烯复合材料的制备", "锂电池负极材料"}
    # with no words, counts equal the store's own group_by over public records
    everything = service.search("", type="organization", group_by="kind", per_page=1)
    expected = {g["key"]: g["count"] for g in store.group_by("organization", "kind", "access:public")}
    assert {g["key"]: g["count"] for g in everything["group_by"]} == expected
    assert everything["meta"]["count"] == store.query("organization", "access:public").count
    with pytest.raises(ZhulianError) as error:
        service.search("石墨烯", type="paper", filter="colour:red")
    assert error.value.status == 400 and "category" in error.value.details[0].reason
    with pytest.raises(ZhulianError):
        service.search("石墨烯", group_by="nonsense")


def test_sort_by_a_field(service: SearchService) -> None:
    years = [r["year_published"] for r in service.search("石墨烯", type="paper", sort="year:desc")["results"]]
    assert years == sorted(years, reverse=True) and len(years) == 3
    for sort in ("name", "city:desc", "created", "updated:desc", "id", "revision", "year"):  # text and number keys
        body = service.search("大学", sort=sort)
        assert body["meta"]["sort"].startswith(sort.split(":")[0]) and body["results"]
        assert all(r["score"] is None for r in body["results"])  # no relevance when sorted by a field
    by_id = ids(service.search("大学", sort="id", per_page=50))
    assert by_id == sorted(by_id)
    by_city = [r.get("city") or "\uffff" for r in service.search("大学", sort="city:desc", per_page=50)["results"]]
    assert by_city == sorted(by_city, reverse=True)
    with pytest.raises(ZhulianError):
        service.search("石墨烯", sort="shoe_size")


def test_highlights_are_escaped_fragments_with_only_em(service: SearchService) -> None:
    (hit,) = service.search("量子通信")["results"]
    (fragment,) = hit["highlights"]["title"]
    assert fragment == "&lt;script&gt;alert(1)&lt;/script&gt;<em>量子通信</em>安全"
    assert hit["highlights"]["keywords"] == ["<em>量子通信</em>"]
    platform = service.search("科技金融", type="platform")["results"][0]
    assert platform["highlights"]["name"] == ["珠三角<em>科技金融</em>产业协同创新发展中心"]
    assert service.search("科技金融")["meta"]["took_ms"] >= 0


MALFORMED = ['"石墨烯 传感器', "石墨烯 OR", "OR 石墨烯", "石墨烯 title:(", "石墨烯^2 传感器~", "石墨烯*",
             "(石墨烯 传感器", "石墨烯 OR OR 传感器", "石墨烯 -", 'title:"石墨烯"', "石墨烯 [传感器 TO *]"]


def test_a_malformed_query_is_read_as_plain_words_and_says_so(service: SearchService) -> None:
    for query in MALFORMED:
        body = service.search(query, type="paper")
        assert body["meta"]["query_mode"] == "plain", query
        assert "plain" in body["meta"]["notice"] and body["meta"]["notice_zh"], query
        assert "石墨烯传感器研究" in names(body), query


def test_hostile_and_extreme_input_never_fails(service: SearchService) -> None:
    assert service.search("")["meta"]["count"] >= 50  # an empty query lists everything visible
    long = service.search("石墨烯 " * 2000)
    assert long["meta"]["notice"] and "石墨烯传感器研究" in names(long)
    assert "中山大学" in names(service.search("中山\x00大学\x07\u200b"))
    assert service.search("<script>alert(1)</script>")["meta"]["count"] >= 1
    assert service.search("'; DROP TABLE records; --")["meta"]["count"] == 0
    assert names(service.search("中山大学 ？！"))[0] == "中山大学"  # punctuation asks for nothing
    assert service.search("？！…")["meta"]["count"] == 0
    assert service.search("石墨烯", page=50)["results"] == []
    for bad in ({"per_page": 201}, {"per_page": 0}, {"page": 0}):
        with pytest.raises(ZhulianError) as error:
            service.search("石墨烯", **bad)
        assert error.value.status == 400


def test_the_follower_makes_writes_searchable_and_tombstones_leave(service: SearchService, store) -> None:
    service.start_follower(interval=0.05)
    try:
        created = store.create({"type": "paper", "title": {"zh": "钙钛矿太阳能电池"}, "city": "440100"})
        assert _within_a_second(lambda: ids(service.search("钙钛矿")) == [created["id"]])
        store.update(created["id"], {**created, "title": {"zh": "钙钛矿叠层电池"}})
        assert _within_a_second(lambda: names(service.search("钙钛矿")) == ["钙钛矿叠层电池"])
        store.delete(created["id"])
        assert _within_a_second(lambda: service.search("钙钛矿")["meta"]["count"] == 0)
        # a new organisation's name joins the dictionary and is kept whole
        store.create({"type": "organization", "name": {"zh": "鹏城实验室"}, "city": "440300", "kind": "institute"})
        assert _within_a_second(lambda: names(service.search("鹏城实验室")) == ["鹏城实验室"])
        status = service.status()
        assert status["lag"] == 0 and status["position"] == store.last_seq() and status["following"]
    finally:
        service.stop_follower()


def test_tombstoned_records_leave_the_index_through_catch_up(service: SearchService, store) -> None:
    victim = service.search("石墨烯传感器研究")["results"][0]
    store.delete(victim["id"])
    assert service.status()["lag"] == 1
    assert service.catch_up() == 1
    assert victim["id"] not in ids(service.search("石墨烯"))
    assert service.status()["lag"] == 0


def test_deleting_the_index_folder_and_rebuilding_gives_the_same_results(service: SearchService) -> None:
    queries = ["中山大学", "科技金融", "石墨烯 OR 量子通信", "协同创新 -广州", "zsdx"]
    before = [service.search(q, per_page=50) for q in queries]
    auto = service.autocomplete("orgs", "zsdx")
    shutil.rmtree(service.path)
    assert service.status()["built"] is False
    service.rebuild()
    after = [service.search(q, per_page=50) for q in queries]
    assert [(b["meta"]["count"], ids(b), [r["highlights"] for r in b["results"]]) for b in before] == \
        [(a["meta"]["count"], ids(a), [r["highlights"] for r in a["results"]]) for a in after]
    assert service.autocomplete("orgs", "zsdx")["results"] == auto["results"]
    # and a service over a missing folder builds it by itself
    shutil.rmtree(service.path)
    fresh = SearchService(service.store, path=service.path)
    assert ids(fresh.search("中山大学")) == ids(before[0])


def test_autocomplete_by_prefix_english_and_pinyin_initials(service: SearchService) -> None:
    def suggest(q: str, collection: str = "orgs") -> list[str]:
        return [s["name"] for s in service.autocomplete(collection, q)["results"]]

    assert suggest("zsdx")[0] == "中山大学"
    assert suggest("中山")[0] == "中山大学"
    assert suggest("中山大學")[0] == "中山大学"
    assert "中山大学" in suggest("Sun Yat")
    assert "中山大学" in suggest("sun yat-sen univ")
    assert "香港应用科技研究院" in suggest("ＡＳＴ")
    first = service.autocomplete("orgs", "zsdx")["results"][0]
    assert first["hint"] == "广州市 · 高等院校" and first["hint_en"] == "Guangzhou · university"
    assert len(service.autocomplete("orgs", "广")["results"]) <= 10
    assert suggest("zsdx", "platforms") == []
    assert suggest("") == [] and suggest("\x00") == []
    assert suggest("石墨烯", "papers") == ["石墨烯传感器研究", "石墨烯复合材料的制备"]  # internal one hidden
    with pytest.raises(ZhulianError) as error:
        service.autocomplete("nonsense", "x")
    assert error.value.status == 404


def _within_a_second(check) -> bool:
    deadline = time.monotonic() + 1.0
    while True:
        if check():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)


def test_sorted_by_name_the_index_lists_the_stores_order_for_built_and_followed_records(service: SearchService,
                                                                                       store) -> None:
    # a build reads each record's sort key from the store, the follower works it out: both order as the store does
    store.create({"type": "paper", "title": {"zh": "阿尔法材料"}, "keywords": ["材料"], "city": "440100"})
    service.catch_up()
    listed = service.search("", type="paper", sort="name", per_page=200)["results"]
    stored = store.query("paper", "access:public", sort="name", limit=200).results
    assert "阿尔法材料" in [r["title"]["zh"] for r in listed]
    assert [pinyin_sort_key(record_label(r)) for r in listed] == [pinyin_sort_key(record_label(r)) for r in stored]


def test_an_index_analysed_in_worker_processes_answers_the_same(service: SearchService, monkeypatch) -> None:
    from zhulian.search import index as index_module

    if service.store.is_postgres:
        pytest.skip("what is analysed where does not depend on the database; the SQLite run covers it")
    queries = ["中山大学", "石墨烯", "科技金融", "协同创新 -广州", "zsdx"]
    before = [service.search(q, per_page=50, group_by="city") for q in queries]
    monkeypatch.setattr(index_module, "PARALLEL_FROM", 0)  # a small store, analysed as a big one would be
    monkeypatch.setattr(index_module, "ANALYSIS_CHUNK", 7)  # several chunks in flight, returned in order
    service.rebuild()
    after = [service.search(q, per_page=50, group_by="city") for q in queries]
    assert [(b["meta"]["count"], ids(b), b["group_by"]) for b in before] == \
        [(a["meta"]["count"], ids(a), a["group_by"]) for a in after]


def test_a_district_counts_under_its_city_wherever_it_lies_and_other_places_stay_themselves() -> None:
    from zhulian.region.adcodes import by_city

    def group(key: str | None, count: int) -> dict:
        return {"key": key, "key_display_name": key or "未知 unknown", "count": count}

    rolled = by_city([group("440306", 4), group("110105", 2), group("810000", 1), group("441900", 1),
                      group("440000", 1), group(None, 3)])
    assert [(g["key"], g["count"]) for g in rolled] == [("440300", 4), (None, 3), ("110100", 2), ("440000", 1),
                                                        ("441900", 1), ("810000", 1)]
    assert rolled[0]["key_display_name"] == "深圳市" and rolled[0]["districts"] == [group("440306", 4)]
    assert rolled[2]["key_display_name"] == "北京市"  # a municipality's districts too (110105 朝阳区)
    assert all("districts" not in g for g in rolled[1:] if g["key"] != "110100")  # no district, no list
