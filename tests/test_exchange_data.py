"""The built-in mappings load the real open data in ../shared/data through the one import path, and a second
run changes nothing. Skipped, with the reason, when the data folder is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhulian.errors import ZhulianError
from zhulian.exchange.importer import import_file
from zhulian.exchange.mapping import builtin_mappings, load_mapping
from zhulian.region.adcodes import adcode_for
from zhulian.store import Store

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def data_file(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"the shared data file {path} is absent (it sits beside the project checkout in ../shared/data)")
    return path


def test_built_in_mappings_are_listed() -> None:
    assert set(builtin_mappings()) >= {"moe-universities", "csl", "kppatent"}


def test_moe_universities_loads_all_2631_organisations_and_a_second_run_changes_nothing(store: Store) -> None:
    path = data_file("universities", "moe_hei_list_2017.csv")
    first = import_file(store, path, mapping="moe-universities")
    assert (first.created, first.invalid, first.committed) == (2631, 0, True), list(first.errors)[:5]
    second = import_file(store, path, mapping="moe-universities")
    assert (second.created, second.updated, second.unchanged) == (0, 0, 2631)
    sysu = store.get("moe:4144010558")
    assert (sysu["name"]["zh"], sysu["kind"], sysu["authority"], sysu["city"]) == ("中山大学", "university", "教育部",
                                                                                  "440100")
    assert store.get("moe:4111010001")["city"] == "110100"  # 北京大学: a municipality's city-level code
    cities = {record["city"] for record in store.iterate("organization")}
    assert len(cities) > 300 and None not in cities


def test_city_names_of_the_moe_list_find_their_codes() -> None:
    assert adcode_for("凉山州", "51") == "513400"  # an abbreviated autonomous prefecture
    assert adcode_for("延边朝鲜族\n自治州", "22") == "222400"  # a line break inside the cell
    assert adcode_for("咸阳市", "54") == "610400"  # 西藏民族大学 lies outside its province
    assert adcode_for("北京市", "11") == "110100"
    assert adcode_for("香港") == "810000"
    with pytest.raises(ValueError):
        adcode_for("火星市")


def test_csl_papers_load_and_a_second_run_changes_nothing(store: Store) -> None:
    path = data_file("csl", "csl_benchmark_2000.tsv")
    first = import_file(store, path, mapping="csl")
    assert (first.created, first.invalid) == (2000, 0), list(first.errors)[:3]
    assert [w.column for w in first.warnings] == []  # the split column is known and ignored
    second = import_file(store, path, mapping="csl")
    assert second.unchanged == 2000 and second.created == second.updated == 0
    paper = store.get("csl:csl-bench-dev-0000")
    assert paper["title"]["zh"].startswith("一种基于平方和优化的飞行器")
    assert paper["language"] == "zh" and paper["keywords"] and paper["disciplines"] and paper["category"]


def test_csl_full_file_reports_its_one_malformed_keyword_and_imports_the_rest(store: Store) -> None:
    path = data_file("csl", "csl_full_fields_union.tsv")
    report = import_file(store, path, mapping="csl", skip_invalid=True)
    assert (report.created, report.invalid) == (4757, 1)
    [problem] = list(report.errors)
    assert (problem["row"], problem["column"], problem["field"]) == (1765, "keywords", "keywords.0")
    assert "最多 100 个字符" in problem["reason_zh"]


def test_kppatent_patents_load_and_a_second_run_changes_nothing(store: Store) -> None:
    path = data_file("patents", "kppatent_zh_test_696.jsonl")
    first = import_file(store, path, mapping="kppatent", skip_invalid=True)
    # three source lines have an empty title; they are reported, not invented
    assert (first.created, first.invalid) == (693, 3)
    assert {p["row"] for p in first.errors} == {99, 371, 475}
    second = import_file(store, path, mapping="kppatent", skip_invalid=True)
    assert second.unchanged == 693 and second.created == second.updated == 0
    patent = store.get("kppatent:kpp-test-0000")
    assert patent["title"]["zh"] == "一种近水平薄矿体智能掘进机机械开采方法"
    assert patent["claims"].startswith("1.") and patent["keywords"]


def test_a_mapping_file_of_ones_own_works_like_a_built_in(store: Store, tmp_path: Path) -> None:
    mapping = tmp_path / "mine.toml"
    mapping.write_text('type = "organization"\n[fields]\n"name.zh" = "单位名称"\ncity = { column = "所在地", '
                       'lookup = "adcode" }\nkind = { value = "enterprise" }\n"pids.uscc" = { column = "信用代码", '
                       'optional = true }\n', encoding="utf-8")
    source = tmp_path / "firms.csv"
    source.write_text("单位名称,所在地,备注\n东莞某装备有限公司,东莞市,x\n", encoding="gbk")
    report = import_file(store, source, mapping=str(mapping))
    assert report.created == 1 and [w.column for w in report.warnings] == ["备注"]
    firm = next(store.iterate("organization"))
    assert (firm["city"], firm["kind"]) == ("441900", "enterprise")


def test_a_mapping_that_names_unknown_fields_or_missing_columns_is_refused(store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('type = "organization"\n[fields]\n"colour" = "x"\nkind = { value = "u", column = "y" }\n',
                   encoding="utf-8")
    with pytest.raises(ZhulianError) as caught:
        load_mapping(str(bad))
    assert caught.value.code == "bad_mapping" and {p.field for p in caught.value.details} == {"fields.colour",
                                                                                               "fields.kind"}
    source = tmp_path / "x.csv"
    source.write_text("name\n中山大学\n", encoding="utf-8")
    with pytest.raises(ZhulianError) as caught:
        import_file(store, source, mapping="moe-universities")
    assert caught.value.code == "missing_columns" and "moe_code" in caught.value.message
