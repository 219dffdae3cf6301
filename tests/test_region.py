"""The region's reference data: cities, circles, and the seed's centres, policies and news in the store."""

from __future__ import annotations

from pathlib import Path

import pytest

from zhulian.model import validate_record
from zhulian.model.ids import ID_PATTERN, PREFIXES
from zhulian.region import ReferenceDataError, reference_id, reference_ids, reference_records
from zhulian.region.adcodes import adcode_name, adcode_names, is_adcode
from zhulian.region.cities import CITIES, city_of
from zhulian.records.reference import load_region
from zhulian.region.reference import read_records

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


def test_every_reference_record_has_one_id_derived_from_its_ref() -> None:
    records = reference_records()
    for record in records:
        assert ID_PATTERN.match(record["id"]) and record["id"].startswith(PREFIXES[record["type"]] + "_")
        assert record["id"] == reference_id(PREFIXES[record["type"]], record["pids"]["ref"])
    assert len({r["id"] for r in records}) == len(records) == len(reference_ids())
    assert reference_id("org", "org-sysu") == reference_id("org", "org-sysu") != reference_id("org", "org-jnu")


def test_loaded_reference_records_carry_their_packaged_ids(store) -> None:
    load_region(store)
    assert store.get("moe:4144010558")["id"] == reference_ids()["org-sysu"]


def _data_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "broken.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD_ID = reference_id("org", "org-x")


@pytest.mark.parametrize(("body", "says"), [
    ('type = "organization"\n[[records]\n', "is not valid TOML"),
    ('[[records]]\nid = "x"\n', "which record type"),
    ('type = "organization"\nrecords = 3\n', "[[records]] tables"),
    ('type = "organization"\n[[records]]\nname = { zh = "甲" }\n', "pids = { ref"),
    ('type = "organization"\n[[records]]\nid = "org_01J0000000000000000000000A"\npids = { ref = "org-x" }\n'
     'name = { zh = "甲" }\n', "reference_id(prefix, 'org-x')"),
    (f'type = "organization"\n[[records]]\nid = "{GOOD_ID}"\npids = {{ ref = "org-x" }}\nname = {{ en = "A" }}\n',
     "Chinese name"),
    (f'type = "organization"\n[[records]]\nid = "{GOOD_ID}"\npids = {{ ref = "org-x" }}\nname = {{ zh = "甲" }}\n'
     'relations = [{ predicate = "member_of", object = "ref:org-nowhere" }]\n', "'ref:org-nowhere', which is no record"),
])
def test_a_malformed_data_file_fails_with_a_message_naming_file_record_and_fix(tmp_path: Path, body: str,
                                                                                says: str) -> None:
    with pytest.raises(ReferenceDataError) as raised:
        read_records(_data_file(tmp_path, body))
    assert says in raised.value.message and raised.value.message.startswith("broken.toml")
    assert raised.value.message_zh.startswith("broken.toml")


def test_a_duplicate_ref_is_refused(tmp_path: Path) -> None:
    record = f'[[records]]\nid = "{GOOD_ID}"\npids = {{ ref = "org-x" }}\nname = {{ zh = "甲" }}\n'
    with pytest.raises(ReferenceDataError, match="#2 \\(org-x\\): another record has the same ref"):
        read_records(_data_file(tmp_path, 'type = "organization"\n' + record + record))


def test_the_code_table_ships_with_the_package_and_covers_counties() -> None:
    assert len(adcode_names()) == 3511
    assert adcode_name("440106") == "天河区" and adcode_name("810000") == "香港特别行政区"
    assert adcode_name("320583") == "昆山市"  # a county-level city where universities stand


def test_every_seed_record_is_valid_and_refers_only_to_earlier_records() -> None:
    seen: set[str] = set()
    for record in reference_records():
        validate_record(record)
        for relation in record.get("relations", []):
            assert (relation.get("object") or relation.get("subject")) in seen
        seen.add("ref:" + record["pids"]["ref"])
    assert len(seen) == len(reference_records()) == 63


def test_loading_twice_changes_nothing(store) -> None:
    first = load_region(store)
    assert first["created"] == len(reference_records())
    counts, last = store.counts(), store.last_seq()
    second = load_region(store)
    assert second == {"unchanged": len(reference_records())}
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
