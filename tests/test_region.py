"""The region's reference data: cities, circles, and the seed's centres, policies and news in the store."""

from __future__ import annotations

import pytest

from zhulian.model import validate_record
from zhulian.region.adcodes import adcode_name, is_adcode
from zhulian.region.cities import CITIES, city_of
from zhulian.region.loader import load_region
from zhulian.region.seed import RECORDS

SEED_PLATFORMS = {
    "珠三角科技金融产业协同创新发展中心": ("广东财经大学", {"暨南大学产业经济研究院", "中山大学金融工程与风险管理研究中心",
                                                 "广州银行佛山分行"}),
    "深港微电子协同创新联盟": ("深圳微纳研究院", set()),
    "珠三角品牌战略协同创新中心": ("广州美术学院", {"暨南大学"}),
    "东莞市横沥模具产业协同创新中心": ("东莞市横沥镇政府", {"上海交通大学", "东华大学", "广东工业大学", "上海第二工业大学",
                                                  "东莞理工学院", "东莞华中科技大学制造工程研究院",
                                                  "上海市教育委员会科技发展中心"}),
}


def test_eleven_cities_with_roles_and_circles() -> None:
    assert len(CITIES) == 11
    assert all(is_adcode(city.adcode) for city in CITIES)
    leads = {city.zh for city in CITIES if city.role == "lead"}
    assert leads == {"广州市", "深圳市"}
    assert len([c for c in CITIES if c.role == "member"]) == 7
    circles = {circle: {c.zh for c in CITIES if c.circle == circle} for circle in ("gfz", "sdh", "zzj")}
    assert circles == {"gfz": {"广州市", "佛山市", "肇庆市"}, "sdh": {"深圳市", "东莞市", "惠州市"},
                       "zzj": {"珠海市", "中山市", "江门市"}}
    assert city_of("440106").zh == "广州市" and city_of("810000").en == "Hong Kong SAR"


def test_adcode_names_follow_gbt2260() -> None:
    assert adcode_name("441900") == "东莞市"
    assert adcode_name("310100") == "上海市"  # a municipality's city-level code takes its own name
    assert not is_adcode("999999") and not is_adcode("44010")


def test_every_seed_record_is_valid_and_refers_only_to_earlier_records() -> None:
    seen: set[str] = set()
    for record in RECORDS:
        validate_record(record)
        for relation in record.get("relations", []):
            assert (relation.get("object") or relation.get("subject")) in seen
        seen.add("ref:" + record["pids"]["ref"])
    assert len(seen) == len(RECORDS)


def test_loading_twice_changes_nothing(store) -> None:
    first = load_region(store)
    assert first["created"] == len(RECORDS)
    counts, last = store.counts(), store.last_seq()
    second = load_region(store)
    assert second == {"unchanged": len(RECORDS)}
    assert store.counts() == counts and store.last_seq() == last
    assert all(record["revision"] == 1 for record in store.iterate())


def _names(relations: list[dict], predicate: str) -> set[str]:
    return {r["object"]["name"] for r in relations if r["predicate"] == predicate and "object" in r}


@pytest.mark.parametrize("platform", sorted(SEED_PLATFORMS))
def test_seed_centres_have_their_lead_and_partner_units(store, platform: str) -> None:
    load_region(store)
    [record] = [r for r in store.iterate("platform", expand=True) if r["name"]["zh"] == platform]
    lead, partners = SEED_PLATFORMS[platform]
    assert lead in _names(record["relations"], "lead_unit")
    assert partners <= _names(record["relations"], "partner_unit")
    assert record["research_directions"] or record["kind"] == "alliance"


def test_guangzhou_rd_target_is_structured(store) -> None:
    load_region(store)
    [policy] = store.query("policy", "regions:440100,indicator:全社会研发投入占GDP比重").results
    [target] = [t for t in policy["targets"] if t["indicator"] == "全社会研发投入占GDP比重"]
    assert (target["comparator"], target["value"], target["unit"], target["year"], target["region"]) == (
        ">=", 3.0, "%", 2020, "440100")
    assert "3.0" in target["clause"]


def test_every_numeric_target_of_the_seed_is_present(store) -> None:
    load_region(store)
    found = {(t["indicator"], t["value"]) for p in store.iterate("policy") for t in p["targets"]}
    for expected in [("每万人发明专利拥有量", 25.0), ("规模以上工业企业建立研发机构比例", 50.0),
                     ("财政科技投入占一般预算支出比例", 5.0), ("生产性服务业增加值", 6800.0)]:
        assert expected in found
    values = {value for _indicator, value in found}
    assert {70.0, 3.0, 48.0, 32.0, 71.0} <= values


def test_news_mentions_resolve_to_records(store) -> None:
    load_region(store)
    news = list(store.iterate("news", expand=True))
    assert len(news) == 5
    assert all(any(r["predicate"] == "mentions" for r in item["relations"]) for item in news)
    gfz = store.get("ref:org-sysu", expand=True)
    assert any(r["predicate"] == "member_of" and "subject" in r for r in gfz["relations"])
