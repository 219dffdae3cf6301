"""What people filter and sort lists by, through the API, search and the CLI on both databases: a city finds
the records placed in its districts (番禺区 is in 广州市), a place may be named instead of coded, and names
sort by pinyin (北京 before 广州 before 深圳), not by code point."""

from __future__ import annotations

import json
import re
import warnings

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.config import Settings
from zhulian.web.app import create_app

# By code point: 北 广 深 澳 珠 番 重 长. By pinyin 澳 (ao) comes first, 珠 (zhu) last, and characters read as in
# their place names: 长沙 chang (not zhang), 重庆 chong (not zhong), 番禺 Panyu (not fan).
ORGS = [("番禺职业技术学院", "440113"), ("广州大学", "440100"), ("深圳大学", "440300"), ("澳门大学", "820000"),
        ("珠海科技学院", "440400"), ("长沙理工大学", "430100"), ("重庆大学", "500100"), ("北京大学", "110100")]
PINYIN_ORDER = ["澳门大学", "北京大学", "长沙理工大学", "重庆大学", "广州大学", "番禺职业技术学院", "深圳大学",
                "珠海科技学院"]


@pytest.fixture
def orgs(store) -> None:
    for name, city in ORGS:
        store.create({"type": "organization", "name": {"zh": name}, "kind": "university", "city": city})


@pytest.fixture
def client(store, orgs, tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0),
                               store=store)) as client:
        yield client


def _names(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [r["name"]["zh"] for r in response.json()["results"]]


@pytest.mark.parametrize("city", ["440100", "广州", "广州市", "Guangzhou"])
def test_a_city_filter_finds_the_records_in_its_districts(client: TestClient, city: str) -> None:
    found = _names(client.get("/api/v1/orgs", params={"filter": f"city:{city}", "sort": "name"}))
    assert found == ["广州大学", "番禺职业技术学院"]


def test_a_district_a_negated_city_and_several_cities(client: TestClient) -> None:
    assert _names(client.get("/api/v1/orgs", params={"filter": "city:番禺区"})) == ["番禺职业技术学院"]
    outside = _names(client.get("/api/v1/orgs", params={"filter": "city:!440100", "sort": "name"}))
    assert outside == [n for n in PINYIN_ORDER if n not in ("广州大学", "番禺职业技术学院")]
    both = _names(client.get("/api/v1/orgs", params={"filter": "city:440100|深圳", "sort": "name"}))
    assert both == ["广州大学", "番禺职业技术学院", "深圳大学"]


def test_a_place_nobody_knows_is_refused_with_what_to_give(client: TestClient) -> None:
    response = client.get("/api/v1/orgs", params={"filter": "city:火星"})
    assert response.status_code == 400
    problem = response.json()["error"]["details"][0]
    assert problem["field"] == "filter.city" and "440100" in problem["reason"] and "行政区划代码" in problem["reason_zh"]


def test_search_filters_and_export_count_districts_with_their_city(client: TestClient) -> None:
    found = client.get("/api/v1/search", params={"type": "orgs", "filter": "city:440100", "group_by": "city"}).json()
    assert sorted(r["name"]["zh"] for r in found["results"]) == sorted(["广州大学", "番禺职业技术学院"])
    exported = client.get("/api/v1/export/orgs.json", params={"filter": "city:广州"}).json()
    assert sorted(r["name"]["zh"] for r in exported) == sorted(["广州大学", "番禺职业技术学院"])


def _guangzhou(groups: list[dict]) -> dict:
    return next(g for g in groups if g["key"] == "440100")


def test_the_city_facet_counts_districts_under_their_city_and_lists_them_there(client: TestClient) -> None:
    listed = client.get("/api/v1/orgs", params={"group_by": "city"}).json()["group_by"]
    searched = client.get("/api/v1/search", params={"type": "orgs", "group_by": "type,city"}).json()["groups"]["city"]
    for groups in (listed, searched):
        assert "440113" not in {g["key"] for g in groups}  # no bucket of its own beside 广州市
        assert _guangzhou(groups) == {"key": "440100", "key_display_name": "广州市", "count": 2, "districts": [
            {"key": "440113", "key_display_name": "番禺区", "count": 1}]}
        assert {g["key"]: g["count"] for g in groups if g["key"] != "440100"} == {
            city: 1 for _name, city in ORGS if city not in ("440100", "440113")}
    # the facet's count is what its filter finds
    filtered = client.get("/api/v1/search", params={"type": "orgs", "filter": "city:440100"}).json()
    assert filtered["meta"]["count"] == 2


def test_the_portal_search_facet_shows_a_city_with_its_districts_counted(client: TestClient) -> None:
    page = client.get("/search", params={"q": "学"}).text
    facets = re.search(r'<h2>[^<]*城市[^<]*</h2>\s*<ul class="facets">(.*?)</ul>', page, re.S)
    assert facets, page
    counts = dict(re.findall(r'city=(\d{6})"[^>]*>[^<]*</a> <span class="muted">(\d+)</span>', facets.group(1)))
    assert counts["440100"] == "2" and "440113" not in counts
    assert "番禺区" in page  # the record keeps its district in its own line


def test_names_sort_by_pinyin_in_lists_and_in_search(client: TestClient) -> None:
    assert _names(client.get("/api/v1/orgs", params={"sort": "name"})) == PINYIN_ORDER
    assert _names(client.get("/api/v1/orgs", params={"sort": "name:desc"})) == PINYIN_ORDER[::-1]
    searched = client.get("/api/v1/orgs", params={"search": "大学", "sort": "name"})
    assert [n for n in _names(searched)] == [n for n in PINYIN_ORDER if "大学" in n]
    assert PINYIN_ORDER != sorted(PINYIN_ORDER)  # code point order differs: the test can tell the two apart


# The same places as a clerk types them.
PLACE_NAMES = {"440113": "番禺区", "440100": "广州市", "440300": "深圳", "820000": "澳门", "440400": "珠海",
               "430100": "长沙", "500100": "重庆", "110100": "北京市"}


def test_an_import_names_places_and_its_report_says_which_code_each_became(run, tmp_path) -> None:
    sheet = tmp_path / "机构.csv"
    sheet.write_text("name.zh,kind,city\n" + "".join(f"{name},university,{PLACE_NAMES[city]}\n"
                                                     for name, city in ORGS), encoding="utf-8")
    report = json.loads(run("import", sheet, "--type", "organization", "--json").stdout)
    places = {change["row"]: change["city"] for change in report["changes_shown"]}
    assert places[2] == {"given": "番禺区", "code": "440113", "name": "番禺区"}
    assert places[3] == {"given": "广州市", "code": "440100", "name": "广州市"}
    assert places[4] == {"given": "深圳", "code": "440300", "name": "深圳市"}
    stored = json.loads(run("list", "organization", "--json").stdout)
    assert sorted((r["name"]["zh"], r["city"]) for r in stored) == sorted(ORGS)
    again = tmp_path / "再次.csv"
    again.write_text("name.zh,kind,city\n香港大学,university,香港\n", encoding="utf-8")
    printed = run("import", again, "--type", "organization").stdout
    assert "city: 香港 → 810000 香港特别行政区" in printed


def test_the_cli_lists_by_city_with_districts_and_sorts_by_pinyin(run, tmp_path) -> None:
    sheet = tmp_path / "机构.csv"
    sheet.write_text("name.zh,kind,city\n" + "".join(f"{name},university,{city}\n" for name, city in ORGS),
                     encoding="utf-8")
    run("import", sheet, "--type", "organization")
    listed = json.loads(run("list", "organization", "--filter", "city:广州市", "--sort", "name", "--json").stdout)
    assert [r["name"]["zh"] for r in listed] == ["广州大学", "番禺职业技术学院"]
    listed = json.loads(run("list", "organization", "--sort", "name", "--json").stdout)
    assert [r["name"]["zh"] for r in listed] == PINYIN_ORDER


def test_records_stored_before_the_sort_column_sort_by_pinyin_after_the_upgrade(store, orgs) -> None:
    from alembic import command

    from zhulian.store.migrate import alembic_config, upgrade

    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0004")
    upgrade(store.engine)
    assert [r["name"]["zh"] for r in store.query("organization", sort="name").results] == PINYIN_ORDER


def test_the_home_map_counts_a_district_s_records_with_its_city(client: TestClient) -> None:
    page = client.get("/", params={"type": "organization"}).text
    row = re.search(r'广州市 <code>440100</code></td>.*?<td data-label="[^"]*">(\d+)</td></tr>', page, re.S)
    assert row and row.group(1) == "2"  # 广州大学 and 番禺职业技术学院 (番禺区 440113)
    data = client.get("/map/records.csv", params={"type": "organization"}).text
    assert "440100,广州市 Guangzhou,2" in data  # the map's data download counts the same
