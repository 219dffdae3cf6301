"""Targets proposed from Chinese policy text: the forms policies write them in, and the text that must not
become a target (no database needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from zhulian.indicators.evaluate import score
from zhulian.indicators.extract import extract_targets, match_indicator
from zhulian.model.indicators import indicator_code
from zhulian.region.seed import RECORDS as SEED_RECORDS

SEED_TEXT = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "000_630e50ae92f037f8.txt"
GOLD = Path(__file__).parent / "data" / "seed_targets_gold.json"


def only(text: str, **options):
    extraction = extract_targets(text, **options)
    assert len(extraction.proposals) == 1, extraction.as_dict()
    return extraction.proposals[0]


def test_guangzhou_targets_with_their_year_region_and_comparators() -> None:
    text = ("《方案》明确，广州要建成若干具有国际影响力的大学。到2020年，全社会研发投入占GDP（地区生产总值）比重达到3.0％，"
            "规模以上工业企业建立研发机构比例超过50％，每万人发明专利拥有量达25件以上等。")
    found = {p.indicator_code: p for p in extract_targets(text).proposals}
    assert set(found) == {"rd_gdp_ratio", "enterprises_with_rd_unit_share", "invention_patents_per_10k"}
    rd = found["rd_gdp_ratio"]
    assert (rd.comparator, rd.value, rd.unit) == (">=", 3.0, "%")
    assert found["enterprises_with_rd_unit_share"].comparator == ">"
    assert found["invention_patents_per_10k"].unit == "件/万人"
    assert {p.year for p in found.values()} == {2020} and {p.region for p in found.values()} == {"440100"}
    assert found["rd_gdp_ratio"].clause == "全社会研发投入占GDP（地区生产总值）比重达到3.0％"  # the text as written


def test_chinese_numerals_percent_words_and_full_width_digits() -> None:
    assert only("到二〇二〇年，成果完成人的收入分配比例不低于百分之七十。").value == 70
    proposal = only("到二〇二〇年，每万人发明专利拥有量达到二十五件以上。")
    assert (proposal.value, proposal.year, proposal.comparator) == (25, 2020, ">=")
    assert only("到２０２５年，全社会研发投入占ＧＤＰ比重达到３．５％。").value == 3.5
    assert only("到2020年，每万人发明专利拥有量达到三点五件。").value == 3.5
    assert only("到2020年，高新技术企业数量达到一百二十万家。").value == 1_200_000
    assert only("到2020年，高新技术企业数量达到1.2万家。").value == 12_000


def test_the_region_is_the_city_named_not_a_university_named_after_one() -> None:
    text = "中山大学牵头。到2020年，高新技术企业数量达到1万家。"
    assert only(text).region is None
    assert only(text, region="440100").region == "440100"
    assert only("东莞市力争到2020年高新技术企业数量达到6000家。").region == "441900"


def test_money_units_ranges_about_and_aspirational() -> None:
    proposal = only("到2017年，广州生产性服务业增加值要达到6800亿元左右。")
    assert (proposal.comparator, proposal.unit, proposal.region) == ("≈", "亿元", "440100")
    proposal = only("力争培育3－5家具有全国乃至全球影响力的品牌孵化器。")
    assert (proposal.comparator, proposal.value, proposal.value_max, proposal.aspirational) == ("between", 3, 5, True)
    assert only("到2020年，技术合同成交额达到500万元以上。").unit == "万元"


def test_share_of_a_denominator_and_respectively() -> None:
    proposal = only("其中科技研发专项资金的比例应当达到当年一般预算支出的3%以上。")
    assert proposal.indicator_code == "rd_special_fund_share" and proposal.comparator == ">="
    found = extract_targets("到2017年，广州生产性服务业增加值要达到6800亿元左右，占服务业增加值和GDP的比重分别要达到48%和32%左右。")
    assert [(p.indicator_code, p.value) for p in found.proposals] == [
        ("producer_services_value_added", 6800), ("producer_services_share_of_services", 48),
        ("producer_services_share_of_gdp", 32)]


def test_horizon_becomes_a_year_with_the_base_year_and_builds_are_enumerated() -> None:
    text = "根据规划，未来五年将新增建设71万亩高质量的碳汇林。每个市建设1个国家级湿地公园、2个省级湿地公园和一批示范性湿地公园。"
    found = extract_targets(text, base_year=2016).proposals
    assert [(p.indicator_code, p.value, p.unit) for p in found] == [
        ("carbon_sink_forest_added", 71, "万亩"), ("national_wetland_parks", 1, "个"),
        ("provincial_wetland_parks", 2, "个")]
    assert (found[0].horizon, found[0].year) == ("5年", 2021)


def test_text_with_no_targets_proposes_nothing() -> None:
    extraction = extract_targets("2016年9月，广州、东莞、惠州获得国家森林城市称号，注册资金超过700亿元，投入2727万元建设监测系统。")
    assert extraction.proposals == [] and extraction.problems == []
    assert extract_targets("").as_dict() == {"proposals": [], "problems": [], "count": 0}


def test_an_unknown_unit_is_reported_not_guessed() -> None:
    extraction = extract_targets("到2020年，单位GDP能耗应当达到0.5吨标准煤以下。")
    assert extraction.proposals == []
    [problem] = extraction.problems
    assert problem.code == "unit_unknown" and "吨" in problem.message_zh and "0.5吨" in problem.clause


def test_contradictory_targets_are_marked() -> None:
    text = "到2020年，广州全社会研发投入占GDP比重达到3.0%。到2020年，广州全社会研发投入占GDP比重达到2.5%。"
    found = extract_targets(text).proposals
    assert [p.value for p in found] == [3.0, 2.5]
    assert all("contradicts_another" in p.warnings for p in found)


def test_a_repeated_target_is_proposed_once() -> None:
    sentence = "科技成果转化资产处置收入中，成果完成人（团队）的收入分配比例可不低于70％。"
    assert len(extract_targets(sentence + "\n" + sentence).proposals) == 1


def test_a_year_far_in_the_future_is_reported() -> None:
    extraction = extract_targets("到2300年，全社会研发投入占GDP比重达到9%。")
    [proposal] = extraction.proposals
    assert proposal.year is None and "year_out_of_range" in proposal.warnings
    assert extraction.problems[0].code == "year_out_of_range"
    assert "year_far_future" in only("到2090年，全社会研发投入占GDP比重达到9%。", base_year=2016).warnings


def test_every_seed_target_maps_to_an_indicator_code() -> None:
    indicators = [t["indicator"] for r in SEED_RECORDS if r["type"] == "policy" for t in r["targets"]]
    assert len(indicators) == 24
    assert all(indicator_code(name) for name in indicators), [n for n in indicators if not indicator_code(n)]
    assert match_indicator("全社会研发投入占GDP（地区生产总值）比重") == "rd_gdp_ratio"
    assert match_indicator("城市绿化覆盖率之外的东西") is None


@pytest.mark.skipif(not SEED_TEXT.exists(), reason="the seed text is not present")
def test_seed_passages_against_the_hand_made_list() -> None:
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["targets"]
    result = score(extract_targets(SEED_TEXT.read_text(encoding="utf-8")).proposals, gold)
    assert result.spurious == [] and len(result.matched) == 15
    assert {g["clause"] for g in result.missed} == {"深圳、中山、珠海、东莞逐步实现生态林全覆盖",
                                                    "力争到2018年，珠三角9市全部达到国家森林城市建设标准"}
    for field in ("comparator", "year", "region", "aspirational"):
        right, judged = result.agreement(field)
        assert right == judged, field
