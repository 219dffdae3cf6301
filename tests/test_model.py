"""The resource model as a user meets it: what each type accepts, how it normalises what it is given, and
how it refuses bad records — every problem listed with its field, the value and a reason in Chinese and
English. No database is needed here."""

from __future__ import annotations

import re

import jsonschema
import pytest

from zhulian.errors import Problem, ZhulianError
from zhulian.model import PREFIXES, TYPES, json_schema, resolve_type, validate_record

ORG_ID = "org_01J0Z6Q7M3VX9K2D4F8H5N1P6R"
PAT_ID = "pat_01J0Z6Q7M3VX9K2D4F8H5N1P6R"
VALID_USCC = "914403001922038216"
VALID_ORCID = "0000-0002-1825-0097"
HAS_CJK = re.compile(r"[\u4e00-\u9fff]")

# -- realistic records ---------------------------------------------------------------------------

MINIMAL = {
    "organization": {"type": "organization", "name": {"zh": "中山大学"}},
    "person": {"type": "person", "name": {"zh": "张三"}},
    "achievement": {"type": "achievement", "title": {"zh": "高效钙钛矿太阳能电池制备技术"}},
    "patent": {"type": "patent", "title": {"zh": "一种基于深度学习的图像识别方法"}},
    "paper": {"type": "paper", "title": {"en": "Urban innovation networks in the Pearl River Delta"}},
    "standard": {"type": "standard", "title": {"zh": "中华人民共和国行政区划代码"}},
    "project": {"type": "project", "title": {"zh": "粤港澳大湾区协同创新机制研究"}},
    "platform": {"type": "platform", "name": {"zh": "广东省智能制造协同创新中心"}},
    "instrument": {"type": "instrument", "name": {"zh": "场发射扫描电子显微镜"}},
    "policy": {"type": "policy", "title": {"zh": "广州市科技创新“十三五”规划"}},
    "demand": {"type": "demand", "title": {"zh": "锂电池隔膜涂覆工艺改进"}},
    "news": {"type": "news", "title": {"zh": "广深港澳科技创新走廊建设提速"}},
    "observation": {"type": "observation", "indicator": "rd_gdp_ratio", "region": "440100", "year": 2018,
                    "value": 2.63},
    "station": {"type": "station", "name": {"zh": "盐田港"}, "kind": "air", "lon": 114.27, "lat": 22.58},
}

RICH = {
    "organization": {
        "type": "organization", "id": ORG_ID,
        "name": {"zh": "中山大学", "en": "Sun Yat-sen University", "zh_hant": "中山大學"},
        "aliases": ["中大", "SYSU"], "pids": {"moe": "4144010558"}, "city": "440100", "node": "440100",
        "access": "public", "kind": "高等院校", "authority": "教育部", "address": "广州市海珠区新港西路135号",
        "website": "https://www.sysu.edu.cn", "founded": "1924", "disciplines": ["医学", "化学"],
        "keywords": ["综合性大学"], "description": {"zh": "教育部直属综合性重点大学。", "en": "A comprehensive university."},
    },
    "person": {
        "type": "person", "name": {"zh": "张三", "en": "San Zhang"},
        "pids": {"orcid": VALID_ORCID}, "city": "440300",
        "positions": ["教授", "博士生导师"], "research_fields": ["人工智能", "计算机视觉"],
        "relations": [{"predicate": "affiliated_with", "object": "moe:4144010558", "role": "教授", "from": "2015-09"}],
    },
    "achievement": {
        "type": "achievement", "title": {"zh": "高效钙钛矿太阳能电池制备技术"},
        "abstract": "一种低温溶液法制备高效钙钛矿电池的工艺。", "maturity": "中试",
        "transfer_modes": ["技术许可", "joint_development", "Equity"], "owners": ["华南理工大学"],
        "disciplines": ["新能源"], "year_completed": 2021, "price_wan": 300, "city": "440100",
    },
    "patent": {
        "type": "patent", "title": {"zh": "一种基于深度学习的图像识别方法"},
        "number": "CN201710601862.3", "kind": "发明", "ipc": ["G06F 16/35", "G06N 3/08", "H04L"],
        "applicants": ["华为技术有限公司"], "inventors": ["李四", "王五"],
        "application_date": "2020-02-28", "publication_date": "2020-06-30", "grant_date": "2022-01-04",
        "legal_status": "有效", "abstract": "本发明公开了一种图像识别方法。", "claims": "1. 一种图像识别方法，其特征在于……",
        "city": "440300", "relations": [{"predicate": "derived_from", "object": "doi:10.1000/xyz123"}],
    },
    "paper": {
        "type": "paper", "title": {"en": "Urban innovation networks in the Pearl River Delta"},
        "pids": {"doi": "10.1016/j.cities.2020.102345"}, "authors": ["Li Si", "Wang Wu"],
        "abstract": "We map co-patenting between PRD cities.", "venue": "Cities", "year_published": 2020,
        "disciplines": ["经济地理"], "category": "社会科学", "language": "英文",
    },
    "standard": {
        "type": "standard", "title": {"zh": "中华人民共和国行政区划代码"}, "std_no": "GB/T 2260-2007",
        "level": "国家标准", "status": "现行", "issuer": "国家质量监督检验检疫总局", "issued": "2007-11-14",
        "effective": "2008-02-01", "ics": ["01.140.30"], "ccs": "A10", "drafters": ["民政部区划地名司"],
    },
    "project": {
        "type": "project", "title": {"zh": "粤港澳大湾区协同创新机制研究"}, "programme": "广东省重点领域研发计划",
        "funder": "广东省科学技术厅", "leader": "张三", "undertaker": "中山大学", "budget_wan": 500,
        "start": "2019-01", "end": "2021-12", "status": "已结题", "abstract": "研究湾区协同创新的制度安排。",
    },
    "platform": {
        "type": "platform", "name": {"zh": "广东省智能制造协同创新中心", "en": "Guangdong Collaborative Innovation Centre"},
        "kind": "协同创新中心", "level": "省级", "research_directions": ["工业机器人", "智能装备"],
        "disciplines": ["机械工程"], "established": "2016-04", "website": "https://example.org/cic",
        "address": "佛山市南海区", "city": "440600",
        "relations": [{"predicate": "lead_unit", "object": "moe:4144010558", "rank": 1},
                      {"predicate": "partner_unit", "object": ORG_ID, "role": "协同单位", "rank": 2}],
    },
    "instrument": {
        "type": "instrument", "name": {"zh": "场发射扫描电子显微镜"}, "model": "SU8010", "manufacturer": "日立",
        "origin_country": "日本", "category": "电子光学仪器", "host": "中山大学测试中心", "value_wan": 368.5,
        "purchased": "2014-06-18", "address": "广州市番禺区大学城", "specs": "分辨率 1.0 nm",
        "booking": {"open": True, "terms": "校外用户需提前三个工作日预约", "fee": "300 元/小时",
                    "contact": "020-12345678", "url": "https://example.org/booking"},
    },
    "policy": {
        "type": "policy", "title": {"zh": "广州市科技创新“十三五”规划"}, "issuer": "广州市人民政府",
        "issued": "2016-12-30", "doc_number": "穗府〔2016〕26号", "regions": ["440100"], "status": "现行有效",
        "period_start": 2016, "period_end": 2020, "url": "https://www.gz.gov.cn/example",
        "targets": [
            {"indicator": "研究与试验发展经费支出占地区生产总值比重", "indicator_en": "R&D spending / GDP",
             "comparator": ">=", "value": 3.0, "unit": "%", "year": 2020, "region": "440100",
             "clause": "全社会研发经费支出占地区生产总值比重达到3%以上"},
            {"indicator": "高新技术企业数量", "comparator": "不低于", "value": 10000, "unit": "家", "year": 2020,
             "region": 440100},
            {"indicator": "技术合同成交额", "comparator": "between", "value": 500, "value_max": 800, "unit": "亿元",
             "year": 2020, "aspirational": True},
        ],
    },
    "demand": {
        "type": "demand", "title": {"zh": "锂电池隔膜涂覆工艺改进"}, "kind": "技术难题", "demander": "惠州某新能源公司",
        "disciplines": ["新材料"], "budget_wan": 80, "deadline": "2025-06-30", "status": "征集中", "city": "441300",
    },
    "news": {
        "type": "news", "title": {"zh": "广深港澳科技创新走廊建设提速"}, "published": "2017-12-22",
        "source": "南方日报", "url": "https://example.org/news/1", "body": "广深港澳科技创新走廊规划发布……",
        "relations": [{"predicate": "mentions", "object": "moe:4144010558"}],
    },
    "observation": {
        "type": "observation", "indicator": "每万人发明专利拥有量", "region": 440100, "year": 2019, "value": 21.8,
        "unit": "件/万人", "source": "广州市统计局", "note": "年末数", "access": "public",
    },
    "station": {
        "type": "station", "name": {"zh": "大梅沙"}, "pids": {"mn": "YT0002"}, "kind": "噪声", "lon": 114.31,
        "lat": 22.59, "city": "440300", "district": "盐田区", "zone_class": "1", "water_target": "Ⅲ",
        "relations": [{"predicate": "operated_by", "object": "moe:4144010558"}],
    },
}


def problems_of(data: dict) -> list[Problem]:
    with pytest.raises(ZhulianError) as caught:
        validate_record(data)
    error = caught.value
    assert error.code == "invalid" and error.status == 400
    assert "nothing was written" in error.message and "未写入" in error.message_zh
    for problem in error.details:
        assert problem.reason and problem.reason_zh, problem
    return error.details


def by_field(problems: list[Problem]) -> dict[str, Problem]:
    return {p.field: p for p in problems}


# -- every type accepts a minimal and a rich record ----------------------------------------------


def test_there_are_fourteen_types_each_with_its_id_prefix():
    assert set(TYPES) == set(MINIMAL) == set(RICH) == set(PREFIXES)
    assert len(TYPES) == 14


@pytest.mark.parametrize("type_name", sorted(MINIMAL))
def test_minimal_record_validates(type_name):
    record = validate_record(MINIMAL[type_name])
    assert record.type == type_name
    assert record.access == "public" and record.relations == []
    # An observation is identified by what it measures, so that re-importing a table updates it.
    assert record.pids == ({"obs": "rd_gdp_ratio:440100:2018"} if type_name == "observation" else {})
    assert record.label()


@pytest.mark.parametrize("type_name", sorted(RICH))
def test_rich_record_validates_and_survives_a_round_trip(type_name):
    record = validate_record(RICH[type_name])
    dumped = record.model_dump(mode="json", by_alias=True, exclude_none=True)
    again = validate_record(dumped)
    assert again.model_dump(mode="json", by_alias=True, exclude_none=True) == dumped


def test_new_ids_are_ulids_of_now_sorting_by_time():
    """The store's own ULID encoder writes what python-ulid reads back: the time it was made, 26 characters."""
    import time

    from ulid import ULID

    from zhulian.model import is_id, new_id

    before = time.time()
    first = new_id("paper")
    time.sleep(0.002)
    ids = [first] + [new_id("paper") for _ in range(1000)]
    assert all(is_id(record_id) and record_id.startswith("pap_") for record_id in ids)
    assert len(set(ids)) == len(ids)
    made = ULID.from_str(first.removeprefix("pap_"))
    assert str(made) == first.removeprefix("pap_")
    assert before - 0.002 <= made.timestamp <= time.time()
    assert ids[-1] > first  # a later millisecond sorts after


def test_type_is_taken_from_the_id_when_not_given():
    data = {k: v for k, v in RICH["organization"].items() if k != "type"}
    assert validate_record(data).type == "organization"


def test_patent_fields_and_chinese_labels_become_codes():
    patent = validate_record(RICH["patent"])
    assert patent.kind == "invention"
    assert patent.legal_status == "granted"
    assert patent.ipc == ["G06F 16/35", "G06N 3/08", "H04L"]
    assert patent.applicants == ["华为技术有限公司"] and patent.inventors == ["李四", "王五"]
    assert patent.application_date == "2020-02-28" and patent.grant_date == "2022-01-04"
    assert patent.pids == {"patent_no": "CN201710601862.3"}
    assert patent.filter_year() == 2020
    assert validate_record({**MINIMAL["patent"], "kind": "实用新型"}).kind == "utility_model"
    assert validate_record({**MINIMAL["patent"], "kind": "Design"}).kind == "design"


def test_achievement_maturity_transfer_modes_and_owners():
    achievement = validate_record(RICH["achievement"])
    assert achievement.maturity == "pilot"
    assert achievement.transfer_modes == ["license", "joint_development", "equity"]
    assert achievement.owners == ["华南理工大学"]
    assert achievement.price_wan == 300 and achievement.filter_year() == 2021


def test_instrument_host_value_and_booking_terms():
    instrument = validate_record(RICH["instrument"])
    assert instrument.host == "中山大学测试中心" and instrument.value_wan == 368.5
    assert instrument.booking.open is True and "预约" in instrument.booking.terms
    assert instrument.booking.fee == "300 元/小时"
    assert validate_record({**MINIMAL["instrument"], "booking": {}}).booking.open is True


def test_platform_kind_level_and_research_directions():
    platform = validate_record(RICH["platform"])
    assert platform.kind == "collaborative_innovation_center" and platform.level == "provincial"
    assert platform.research_directions == ["工业机器人", "智能装备"]
    assert [r.predicate for r in platform.relations] == ["lead_unit", "partner_unit"]
    for label, code in [("重点实验室", "key_lab"), ("工程技术研究中心", "engineering_center"),
                        ("新型研发机构", "new_rd_institution"), ("孵化器", "incubator"),
                        ("产业技术创新联盟", "alliance")]:
        assert validate_record({**MINIMAL["platform"], "kind": label}).kind == code


def test_policy_issuer_date_number_regions_and_structured_targets():
    policy = validate_record(RICH["policy"])
    assert policy.issuer == "广州市人民政府" and policy.issued == "2016-12-30"
    assert policy.doc_number == "穗府〔2016〕26号" and policy.regions == ["440100"]
    first, second, third = policy.targets
    assert (first.comparator, first.value, first.unit, first.year, first.region) == (">=", 3.0, "%", 2020, "440100")
    assert "3%" in first.clause
    assert second.comparator == ">=" and second.region == "440100"  # 不低于 → >=, an int adcode → text
    assert (third.comparator, third.value, third.value_max, third.aspirational) == ("between", 500, 800, True)
    assert policy.filter_year() == 2016


def test_choices_refuse_an_unknown_label_naming_the_allowed_codes():
    problems = problems_of({**MINIMAL["patent"], "kind": "软件著作权"})
    assert [p.field for p in problems] == ["kind"]
    assert "invention" in problems[0].reason and "发明" in problems[0].reason_zh


# -- bad input: every problem listed, bilingual, with its field path --------------------------------


def test_unknown_type_name_is_refused():
    for data in ({"type": "widget", "name": {"zh": "x"}}, {"type": "Organisation"}, {"name": {"zh": "无类型"}}):
        with pytest.raises(ZhulianError) as caught:
            validate_record(data)
        error = caught.value
        assert error.code == "unknown_type" and error.status == 400
        assert error.details[0].field == "type"
        assert "organization" in error.message and "organization" in error.message_zh
        assert HAS_CJK.search(error.details[0].reason_zh)


def test_a_record_that_is_not_an_object_is_refused():
    problems = problems_of(["not", "a", "record"])  # type: ignore[arg-type]
    assert problems[0].field == "(record)"


@pytest.mark.parametrize("bad_id", [
    "xyz_01J0Z6Q7M3VX9K2D4F8H5N1P6R",  # unknown prefix
    "org_01J0Z6Q7M3VX9K2D4F8H5N1P6",  # 25 characters
    "org_01J0Z6Q7M3VX9K2D4F8H5N1P6RR",  # 27 characters
    "org_01J0Z6Q7M3VX9K2D4F8H5N1PIL",  # I and L are not Crockford base32
    "org-01J0Z6Q7M3VX9K2D4F8H5N1P6R",
    "ORG_01J0Z6Q7M3VX9K2D4F8H5N1P6R",
])
def test_malformed_id_is_refused_together_with_the_other_problems(bad_id):
    problems = by_field(problems_of({"type": "organization", "id": bad_id, "name": {"zh": "机构"},
                                     "city": "999999", "founded": "2023-02-30"}))
    assert set(problems) == {"id", "city", "founded"}
    assert problems["id"].value == bad_id


def test_id_prefix_must_match_the_type():
    problems = problems_of({"type": "person", "id": ORG_ID, "name": {"zh": "张三"}})
    assert problems[0].field == "id" and problems[0].value == ORG_ID
    assert "person" in problems[0].reason and "person" in problems[0].reason_zh


def test_id_prefix_mismatch_is_listed_with_the_other_problems():
    problems = by_field(problems_of({"type": "person", "id": ORG_ID, "name": {"zh": "张" * 501},
                                     "city": "999999"}))
    assert set(problems) == {"id", "name.zh", "city"}


def test_malformed_pids_are_refused_each_named_with_its_reason():
    problems = by_field(problems_of({
        **MINIMAL["organization"], "city": "44010",
        "pids": {"uscc": "914403001922038217", "moe": "414401055", "orcid": "0000-0002-1825-0098",
                 "Bad-Scheme": "x", "doi": "not-a-doi"},
    }))
    assert set(problems) == {"pids.uscc", "pids.moe", "pids.orcid", "pids.Bad-Scheme", "pids.doi", "city"}
    assert problems["pids.uscc"].value == "914403001922038217"
    assert "USCC check character" in problems["pids.uscc"].reason
    assert "统一社会信用代码校验位" in problems["pids.uscc"].reason_zh
    assert "10 digits" in problems["pids.moe"].reason and "10 位数字" in problems["pids.moe"].reason_zh
    assert "ORCID check digit" in problems["pids.orcid"].reason and "ORCID 校验位" in problems["pids.orcid"].reason_zh
    assert "scheme name" in problems["pids.Bad-Scheme"].reason and "标识方案名" in problems["pids.Bad-Scheme"].reason_zh
    assert "10.NNNN/" in problems["pids.doi"].reason and "DOI" in problems["pids.doi"].reason_zh


@pytest.mark.parametrize("scheme,value", [("uscc", "91440300192203821"), ("uscc", "91440300192203821I"),
                                          ("moe", "5144010558"), ("moe", "41440105581"),
                                          ("orcid", "0000-0002-1825-009"), ("orcid", "https://orcid.org/x"),
                                          ("doi", "11.1000/x"), ("x", "1"), ("1abc", "1"), ("moe", " ")])
def test_each_malformed_pid_form_is_refused(scheme, value):
    problems = problems_of({**MINIMAL["organization"], "pids": {scheme: value}})
    assert [p.field for p in problems] == [f"pids.{scheme}"]


def test_each_bad_pid_is_its_own_problem_with_its_field_path_and_value():
    problems = by_field(problems_of({**MINIMAL["organization"],
                                     "pids": {"uscc": "914403001922038217", "moe": "414401055"}}))
    assert set(problems) == {"pids.uscc", "pids.moe"}
    assert problems["pids.uscc"].value == "914403001922038217"
    assert problems["pids.moe"].value == "414401055"


def test_valid_pids_of_known_schemes_are_accepted():
    record = validate_record({**MINIMAL["organization"], "pids": {
        "uscc": VALID_USCC.lower(), "moe": "4144010558", "cstr": "CSTR:31253.11.sciencedb.01234",
        "local_code": "GZ-0001"}})
    assert record.pids == {"uscc": VALID_USCC, "moe": "4144010558", "cstr": "CSTR:31253.11.sciencedb.01234",
                           "local_code": "GZ-0001"}


@pytest.mark.parametrize("field,value", [("city", "999999"), ("city", "440199"), ("city", "44010"),
                                         ("city", "4401000"), ("node", "000000"), ("city", "abcdef")])
def test_adcode_outside_gbt2260_is_refused(field, value):
    problems = problems_of({**MINIMAL["organization"], field: value})
    assert [(p.field, p.value) for p in problems] == [(field, value)]
    assert "GB/T 2260" in problems[0].reason and "GB/T 2260" in problems[0].reason_zh


def test_real_adcodes_of_the_region_are_accepted():
    for code in ("440100", "440300", "441900", "442000", "810000", "820000", "440106"):
        assert validate_record({**MINIMAL["organization"], "city": code}).city == code


def test_bad_adcodes_in_every_place_are_listed_together():
    problems = by_field(problems_of({**MINIMAL["policy"], "city": "999999", "regions": ["440100", "440199"],
                                     "targets": [{"indicator": "R&D", "comparator": ">=", "value": 3,
                                                  "region": "44010"}]}))
    assert set(problems) == {"city", "regions.1", "targets.0.region"}


def test_dates_that_do_not_exist_are_refused():
    problems = by_field(problems_of({**MINIMAL["patent"], "application_date": "2023-02-30",
                                     "publication_date": "2021-13", "grant_date": "2023-02-29",
                                     "relations": [{"predicate": "derived_from", "object": ORG_ID, "to": "2019-04-31"}]}))
    assert set(problems) == {"application_date", "publication_date", "grant_date", "relations.0.to"}
    assert problems["application_date"].value == "2023-02-30"
    assert problems["publication_date"].reason == "this date does not exist"
    assert problems["publication_date"].reason_zh == "该日期不存在"


@pytest.mark.parametrize("date", ["2020-00", "2020-05-00", "2020-00-00"])
def test_month_or_day_zero_does_not_exist(date):
    problems = problems_of({**MINIMAL["organization"], "founded": date})
    assert [p.field for p in problems] == ["founded"]


def test_dates_with_a_bad_shape_or_year_are_refused():
    problems = by_field(problems_of({**MINIMAL["organization"], "founded": "30/02/2023"}))
    assert "YYYY-MM-DD" in problems["founded"].reason and "日期" in problems["founded"].reason_zh
    problems = problems_of({**MINIMAL["organization"], "founded": "1850"})
    assert problems[0].field == "founded" and "1900" in problems[0].reason_zh


@pytest.mark.parametrize("given,stored", [("2016年4月1日", "2016-04-01"), ("2016/4/1", "2016-04-01"),
                                          ("2016.4", "2016-04"), ("２０１６年４月", "2016-04"),
                                          ("20160401", "2016-04-01"), ("2016年", "2016")])
def test_dates_as_chinese_sources_write_them_are_normalised(given, stored):
    assert validate_record({**MINIMAL["organization"], "founded": given}).founded == stored


def test_chinese_dates_that_do_not_exist_are_refused():
    problems = by_field(problems_of({**MINIMAL["project"], "start": "2016年2月30日", "end": "2019/13/1"}))
    assert set(problems) == {"start", "end"}
    assert problems["start"].reason_zh == "该日期不存在"


@pytest.mark.parametrize("given,wan", [("1.2亿元", 12000), ("3,000元", 0.3), ("12.5万元", 12.5), ("３００", 300),
                                       (368.5, 368.5)])
def test_money_is_stored_in_wan_whatever_unit_it_is_written_in(given, wan):
    assert validate_record({**MINIMAL["instrument"], "value_wan": given}).value_wan == pytest.approx(wan)


def test_bad_money_is_refused():
    problems = by_field(problems_of({**MINIMAL["project"], "budget_wan": "很多"}))
    assert "万元" in problems["budget_wan"].reason_zh
    problems = by_field(problems_of({**MINIMAL["project"], "budget_wan": "-5万元"}))
    assert set(problems) == {"budget_wan"}


def test_target_value_written_with_its_unit():
    policy = validate_record({**MINIMAL["policy"], "targets": [
        {"indicator": "研发经费占GDP比重", "comparator": ">=", "value": "3%"},
        {"indicator": "高新技术企业数量", "comparator": ">=", "value": "1.2万家", "unit": "万家"},
    ]})
    assert [(t.value, t.unit) for t in policy.targets] == [(3.0, "%"), (1.2, "万家")]


def test_partial_dates_are_kept_at_their_precision():
    assert validate_record({**MINIMAL["organization"], "founded": "1924"}).founded == "1924"
    assert validate_record({**MINIMAL["organization"], "founded": "2016-04"}).founded == "2016-04"
    assert validate_record({**MINIMAL["organization"], "founded": "2016-02-29"}).founded == "2016-02-29"


def test_strings_and_lists_over_limits_are_refused():
    problems = by_field(problems_of({**MINIMAL["organization"], "name": {"zh": "名" * 501, "en": "ok"},
                                     "keywords": ["创新"] * 201, "aliases": ["a" * 501],
                                     "disciplines": ["x" * 10] * 201}))
    assert set(problems) == {"name.zh", "keywords", "aliases.0", "disciplines"}
    assert "500" in problems["name.zh"].reason and "500" in problems["name.zh"].reason_zh
    assert "200" in problems["keywords"].reason and "200" in problems["keywords"].reason_zh


def test_strings_at_the_limit_are_accepted():
    record = validate_record({**MINIMAL["organization"], "name": {"zh": "名" * 500}, "keywords": ["创新"] * 200})
    assert len(record.name.zh) == 500 and len(record.keywords) == 200


def test_control_characters_and_empty_names_are_refused():
    problems = by_field(problems_of({"type": "organization", "name": {"zh": "中山\x00大学"}}))
    assert "控制字符" in problems["name.zh"].reason_zh
    problems = problems_of({"type": "organization", "name": {}})
    assert problems[0].field == "name" and "至少" in problems[0].reason_zh
    problems = problems_of({"type": "organization"})
    assert problems[0].field == "name" and problems[0].reason_zh == "缺少必填字段"


def test_target_problems_are_each_listed():
    problems = by_field(problems_of({**MINIMAL["policy"], "period_start": 2020, "period_end": 2030, "targets": [
        {"indicator": "R&D/GDP", "comparator": "between", "value": 2.5},  # no value_max
        {"indicator": "R&D/GDP", "comparator": ">=", "value": 3, "value_max": 4},  # value_max without between
        {"indicator": "R&D/GDP", "comparator": "between", "value": 5, "value_max": 4},  # max below value
        {"indicator": "R&D/GDP", "comparator": "about", "value": 3, "year": 1800},
        {"comparator": ">=", "value": "lots"},
    ]}))
    assert set(problems) == {"targets.0", "targets.1", "targets.2", "targets.3.year", "targets.4.indicator",
                             "targets.4.value"}
    assert "between" in problems["targets.0"].reason and "between" in problems["targets.0"].reason_zh
    assert "below" in problems["targets.2"].reason and "不能小于" in problems["targets.2"].reason_zh
    assert problems["targets.4.indicator"].reason_zh == "缺少必填字段"


def test_unknown_extra_fields_are_refused_at_every_level():
    problems = by_field(problems_of({**MINIMAL["instrument"], "colour": "blue", "booking": {"open": True, "x": 1},
                                     "name": {"zh": "显微镜", "fr": "microscope"}}))
    assert set(problems) == {"colour", "booking.x", "name.fr"}
    assert problems["colour"].value == "blue" and problems["colour"].reason_zh == "该类型没有此字段"


def test_relation_problems_are_listed():
    problems = by_field(problems_of({**MINIMAL["news"], "relations": [
        {"predicate": "mentions", "object": ORG_ID, "subject": "moe:4144010558"},  # both ends
        {"predicate": "mentions"},  # neither end
        {"predicate": "likes", "object": ORG_ID},
        {"predicate": "mentions", "object": "中山大学"},  # not a reference
    ]}))
    assert set(problems) == {"relations.0", "relations.1", "relations.2.predicate", "relations.3.object"}
    assert "exactly one of object" in problems["relations.0"].reason
    assert "只能填写一个" in problems["relations.0"].reason_zh
    assert "scheme:value" in problems["relations.3.object"].reason


def test_wrong_value_types_are_refused_in_chinese_too():
    problems = by_field(problems_of({**MINIMAL["instrument"], "value_wan": "很贵", "booking": {"open": "maybe"},
                                     "keywords": "显微镜"}))
    assert "金额" in problems["value_wan"].reason_zh and "万元" in problems["value_wan"].reason
    assert problems["booking.open"].reason_zh == "应为 true 或 false"
    assert problems["keywords"].reason_zh == "应为列表"


def test_amounts_must_be_finite_and_not_negative():
    problems = by_field(problems_of({**MINIMAL["instrument"], "value_wan": -1}))
    assert "0" in problems["value_wan"].reason_zh
    problems = by_field(problems_of({**MINIMAL["project"], "budget_wan": float("inf")}))
    assert set(problems) == {"budget_wan"}


# -- pids: normalisation and the type's own number -----------------------------------------------


@pytest.mark.parametrize("given,expected", [
    ("https://doi.org/10.1016/J.CITIES.2020.102345", "10.1016/j.cities.2020.102345"),
    ("http://dx.doi.org/10.1016/j.cities.2020.102345", "10.1016/j.cities.2020.102345"),
    ("doi:10.1016/J.Cities.2020.102345", "10.1016/j.cities.2020.102345"),
    (" 10.1016/j.cities.2020.102345 ", "10.1016/j.cities.2020.102345"),
])
def test_doi_is_stored_bare_and_lowercase(given, expected):
    assert validate_record({**MINIMAL["paper"], "pids": {"doi": given}}).pids == {"doi": expected}


@pytest.mark.parametrize("given", ["https://orcid.org/0000-0002-1825-0097", "http://orcid.org/0000-0002-1825-0097",
                                   " 0000-0002-1825-0097 "])
def test_orcid_url_form_is_stored_bare(given):
    assert validate_record({**MINIMAL["person"], "pids": {"orcid": given}}).pids == {"orcid": VALID_ORCID}


def test_orcid_with_x_check_digit():
    assert validate_record({**MINIMAL["person"], "pids": {"orcid": "0000-0002-9079-593x"}}).pids == {
        "orcid": "0000-0002-9079-593X"}


@pytest.mark.parametrize("given,expected", [
    ("cn 201710601862.3", "CN201710601862.3"),
    (" CN 2017 1060 1862.3 ", "CN201710601862.3"),
    ("cn111234567a", "CN111234567A"),
])
def test_patent_number_is_normalised_and_mirrored_into_pids(given, expected):
    patent = validate_record({**MINIMAL["patent"], "number": given})
    assert patent.number == expected
    assert patent.pids == {"patent_no": expected}
    # The same number given in pids (in another form) agrees with it.
    both = validate_record({**MINIMAL["patent"], "number": given, "pids": {"patent_no": expected.lower()}})
    assert both.pids == {"patent_no": expected}


def test_patent_number_disagreeing_with_pids_is_refused():
    problems = problems_of({**MINIMAL["patent"], "number": "CN201710601862.3",
                            "pids": {"patent_no": "CN202010654321.9"}})
    assert len(problems) == 1
    assert "disagree" in problems[0].reason and "不一致" in problems[0].reason_zh


def test_patent_number_disagreement_names_the_field():
    problems = problems_of({**MINIMAL["patent"], "number": "CN201710601862.3",
                            "pids": {"patent_no": "CN202010654321.9"}})
    assert problems[0].field in ("number", "pids.patent_no")


def test_bad_patent_number_is_refused():
    problems = problems_of({**MINIMAL["patent"], "number": "US1234567B2", "ipc": ["G06F 16/35", "Z99X"]})
    assert {p.field for p in problems} == {"number", "ipc.1"}
    assert "CN201710601862.3" in problems[0].reason_zh


def test_standard_number_is_mirrored_into_pids():
    standard = validate_record({**MINIMAL["standard"], "std_no": "gb/t 2260-2007"})
    assert standard.std_no == "GB/T 2260-2007" and standard.pids == {"std_no": "GB/T 2260-2007"}


def test_one_patent_number_has_one_canonical_form():
    forms = {validate_record({**MINIMAL["patent"], "number": n}).number
             for n in ("CN201710601862.3", "201710601862.3", "CN2017106018623")}
    assert len(forms) == 1


def test_one_standard_number_has_one_canonical_form():
    forms = {validate_record({**MINIMAL["standard"], "std_no": n}).std_no for n in ("GB/T 2260-2007", "GB/T2260-2007")}
    assert len(forms) == 1


def test_group_and_enterprise_standard_numbers_are_accepted():
    for number in ("T/CAS 115-2005", "T/GDES 12-2021", "Q/SZX 001-2020"):
        assert validate_record({**MINIMAL["standard"], "std_no": number}).std_no == number


# -- JSON Schema -------------------------------------------------------------------------------------


@pytest.mark.parametrize("type_name", TYPES)
def test_json_schema_is_valid_and_describes_the_type(type_name):
    schema = json_schema(type_name)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{type_name}.json")
    properties = schema["properties"]
    for envelope in ("id", "type", "pids", "aliases", "city", "node", "access", "relations", "revision",
                     "created", "updated", "deleted"):
        assert envelope in properties, envelope
    required = {"name", "title", "indicator", "region", "year", "value"} & set(MINIMAL[type_name])
    assert required <= set(schema["required"])
    own = set(RICH[type_name]) - {"type", "id", "pids", "aliases", "city", "node", "access", "description",
                                  "keywords", "relations"}
    assert own <= set(properties), own - set(properties)


@pytest.mark.parametrize("type_name", TYPES)
def test_stored_form_of_a_rich_record_validates_against_its_schema(type_name):
    stored = validate_record(RICH[type_name]).model_dump(mode="json", by_alias=True, exclude_none=True)
    stored |= {"id": f"{PREFIXES[type_name]}_01J0Z6Q7M3VX9K2D4F8H5N1P6R", "revision": 1,
               "created": "2024-01-01T00:00:00.000000Z", "updated": "2024-01-01T00:00:00.000000Z"}
    jsonschema.Draft202012Validator(json_schema(type_name)).validate(stored)


def test_json_schema_refuses_a_bad_record():
    validator = jsonschema.Draft202012Validator(json_schema("organization"))
    assert not validator.is_valid({"type": "organization", "name": {"zh": "x"}, "colour": "blue"})
    assert not validator.is_valid({"type": "organization"})


# -- resolve_type -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name,expected", [
    ("organization", "organization"), ("orgs", "organization"), ("org", "organization"), ("机构", "organization"),
    ("people", "person"), ("per", "person"), ("专家", "person"), (" patents ", "patent"), ("专利", "patent"),
    ("policies", "policy"), ("pol", "policy"), ("政策", "policy"), ("news", "news"), ("new", "news"),
    ("创新平台", "platform"), ("plt", "platform"),
])
def test_resolve_type_accepts_name_collection_prefix_and_chinese_label(name, expected):
    assert resolve_type(name) == expected


@pytest.mark.parametrize("name", ["organisation", "Orgs", "ORG", "机构们", "", "records", "org_"])
def test_resolve_type_rejects_other_names(name):
    with pytest.raises(ZhulianError) as caught:
        resolve_type(name)
    assert caught.value.code == "unknown_type" and caught.value.status == 400
    assert "organization" in caught.value.message and "未知类型" in caught.value.message_zh
