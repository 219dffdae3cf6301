"""Registry: how names are normalised and how the model scores and explains a pair (no store needed)."""

from __future__ import annotations

import pytest

from zhulian.errors import ZhulianError
from zhulian.registry.normalize import check_name, english_reading, grams, name_keys, person_key
from zhulian.registry.scoring import MATCH, REVIEW, PersonProfile, Profile, score_org, score_person


@pytest.mark.parametrize(("name", "keys"), [
    ("中山大學", ["中山大学"]),  # traditional → simplified
    ("ＳＹＳＵ", ["sysu"]),  # full-width → half-width
    ("中山大学（深圳校区）", ["中山大学"]),  # a campus is the same organisation
    ("香港中文大学（深圳）", ["香港中文大学深圳"]),  # a place in brackets is not
    ("腾讯科技（深圳）有限公司", ["腾讯科技深圳"]),
    ("广州汽车集团股份有限公司", ["广州汽车"]),
    ("Huawei Technologies Co., Ltd.", ["huaweitechnologies"]),
    ("The University of Hong Kong", ["universityofhongkong"]),
    ("广东技术师范大学（原广东技术师范学院）", ["广东技术师范大学", "广东技术师范学院"]),
    ("中山大学 Sun Yat-sen University", ["中山大学", "sunyatsenuniversity"]),  # mixed scripts: one key each
])
def test_name_keys_fold_script_width_punctuation_legal_forms_and_campuses(name: str, keys: list[str]) -> None:
    assert name_keys(name) == keys


def test_english_acronyms_and_readings_give_blocking_keys() -> None:
    assert "a:bupt" in grams("Beijing University of Posts and Telecommunications")
    assert english_reading("安徽医科大学") == ("anhui", "medical", "university")
    assert {"w:anhui", "w:medical"} <= grams("安徽医科大学")


@pytest.mark.parametrize(("name", "code"), [
    ("", "name_empty"), ("   ", "name_empty"), (None, "name_empty"),
    ("有限公司", "name_no_words"), ("股份有限公司", "name_no_words"), ("（）——", "name_no_words"),
    ("中" * 1000, "name_too_long"),
])
def test_names_that_cannot_be_resolved_are_refused_in_both_languages(name: object, code: str) -> None:
    with pytest.raises(ZhulianError) as caught:
        check_name(name)
    assert caught.value.code == code and caught.value.status == 400
    assert caught.value.message and caught.value.message_zh


def _score(query: str, candidate: str, **extra: object) -> tuple[float, str, list[str]]:
    result = score_org(Profile([query], **extra), Profile([candidate], city="440100", kind="university"))
    return result.probability, result.decision, [r.level for r in result.reasons]


def test_spelling_variants_match_and_say_why() -> None:
    probability, decision, levels = _score("中山大學", "中山大学", city="440100")
    assert decision == "match" and probability >= MATCH and levels[:2] == ["exact", "same"]
    result = score_org(Profile(["中山大學"]), Profile(["中山大学"]))
    (reason,) = result.reasons
    assert reason.detail == "中山大學 ~ 中山大学" and reason.reason_zh and reason.reason and reason.weight > 10


def test_abbreviations_english_names_and_readings_are_candidates_not_certainties() -> None:
    for query in ("中大", "Sun Yat-sen University", "SYSU"):
        probability, decision, levels = _score(query, "中山大学")
        assert levels[0] == "alias" and REVIEW <= probability < MATCH and decision == "review", query
    assert _score("华南理工", "华南理工大学")[2][0] == "alias"
    assert _score("Anhui Medical University", "安徽医科大学")[2][0] == "reading"
    # with agreeing city and kind, an alias is enough
    assert _score("中大", "中山大学", city="440100", kind="university")[1] == "match"


def test_different_institutions_with_close_names_do_not_match() -> None:
    for query, candidate in (("华南农业大学", "华南理工大学"), ("广州医科大学", "广州大学"), ("济南大学", "暨南大学"),
                             ("深圳技术大学", "深圳大学")):
        assert _score(query, candidate)[1] == "none", query


def test_branches_and_institutes_are_related_not_the_same() -> None:
    child = score_org(Profile(["广州银行佛山分行"]), Profile(["广州银行"]))
    assert child.relation == "child" and child.decision == "related" and child.probability < REVIEW
    parent = score_org(Profile(["Harbin Institute of Technology"]),
                       Profile(["Harbin Institute of Technology, Shenzhen Research Institute"]))
    assert parent.relation == "parent"


def test_identifiers_decide_before_names() -> None:
    same = score_org(Profile(["完全不同的名字"], {"moe": "4144010558"}), Profile(["中山大学"], {"moe": "4144010558"}))
    assert same.reasons[1].level == "same" and same.decision == "match"
    conflict = score_org(Profile(["中山大学"], {"moe": "4144010559"}), Profile(["中山大学"], {"moe": "4144010558"}))
    assert conflict.decision == "none"


def test_people_with_one_name_stay_apart_without_evidence() -> None:
    assert person_key("Wang Wei") == person_key("wei  WANG") and person_key("王 伟") == "王伟"
    alone = score_person(PersonProfile("王伟"), PersonProfile("王伟"), namesakes=1)
    assert alone.decision != "match"
    field_only = score_person(PersonProfile("王伟", fields={"材料"}), PersonProfile("王伟", fields={"材料"}), 1)
    assert field_only.decision != "match"
    same_place = score_person(PersonProfile("李晓明", affiliations={"org_1"}),
                              PersonProfile("李晓明", affiliations={"org_1"}), 1)
    assert same_place.decision == "match" and [r.comparison for r in same_place.reasons] == ["name", "affiliation"]
    # a two-character name is shared by many more people: the same affiliation alone is for a reviewer
    common = score_person(PersonProfile("王伟", affiliations={"org_1"}), PersonProfile("王伟", affiliations={"org_1"}), 1)
    assert common.decision == "review"
    crowd = score_person(PersonProfile("李晓明", affiliations={"org_1"}),
                         PersonProfile("李晓明", affiliations={"org_1"}), 40)
    assert crowd.probability < same_place.probability
    other_orcid = score_person(PersonProfile("李晓明", "0000-0002-1825-0097", {"org_1"}),
                               PersonProfile("李晓明", "0000-0001-5109-3700", {"org_1"}), 1)
    assert other_orcid.decision == "none"
