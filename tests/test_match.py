"""Matching a demand to achievements, patents, papers, platforms and instruments, with reasons; the expert
finder; bad input. Through the service, the API, the CLI and the portal page."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import ANONYMOUS, CLI_ADMIN
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.match import MatchService
from zhulian.search import SearchService
from zhulian.web.app import create_app

NEED = "我们需要降低锂电池热失控风险的隔膜技术"


def _corpus(store) -> dict[str, str]:
    ids = {}

    def add(key: str, record: dict) -> None:
        ids[key] = store.create(record)["id"]

    add("separator", {"type": "patent", "title": {"zh": "一种锂离子电池隔膜及其制备方法"}, "city": "440300", "node": "440300",
                      "keywords": ["锂电池", "隔膜", "热失控"], "applicants": ["深圳市锂安科技有限公司"],
                      "inventors": ["李明", "王芳"], "abstract": "本发明公开了一种耐高温隔膜，可抑制锂电池热失控。"})
    add("thermal", {"type": "patent", "title": {"zh": "一种锂电池热管理系统"}, "city": "440300", "node": "440300",
                    "keywords": ["锂电池", "热管理"], "applicants": ["深圳市锂安科技有限公司"], "inventors": ["李明"],
                    "abstract": "通过液冷板均衡电芯温度，降低热失控风险。"})
    add("paper", {"type": "paper", "title": {"zh": "锂离子电池热失控机理研究"}, "city": "440100",
                  "keywords": ["锂离子电池", "热失控"], "disciplines": ["材料科学"], "authors": ["张三"]})
    add("achievement", {"type": "achievement", "title": {"zh": "高安全锂电池隔膜材料产业化"}, "city": "440100",
                        "node": "440100", "keywords": ["隔膜", "锂电池"], "owners": ["华南理工大学"],
                        "maturity": "pilot"})
    add("rice", {"type": "paper", "title": {"zh": "水稻遗传多样性分析"}, "keywords": ["水稻", "遗传多样性"],
                 "authors": ["陈伟"], "city": "440100"})
    add("platform", {"type": "platform", "name": {"zh": "智能制造公共服务平台"}, "city": "441900",
                     "research_directions": ["工业机器人"]})
    add("microscope", {"type": "instrument", "name": {"zh": "扫描电子显微镜"}, "city": "440100",
                       "specs": "分辨率 1 nm，可观察电池隔膜微孔结构"})
    add("secret", {"type": "patent", "title": {"zh": "一种锂电池隔膜涂层"}, "access": "internal", "node": "440300",
                   "keywords": ["锂电池", "隔膜"]})
    add("person", {"type": "person", "name": {"zh": "张三"}, "research_fields": ["储能材料"],
                   "relations": [{"predicate": "author_of", "object": ids["paper"]}]})
    for n in (1, 2):  # two authors of one name and no affiliation: two people, not one
        add(f"namesake{n}", {"type": "paper", "title": {"zh": f"锂电池隔膜孔隙率研究{n}"}, "keywords": ["锂电池", "隔膜"],
                             "authors": ["陈伟"]})
    return ids


@pytest.fixture
def matched(store, tmp_path: Path):
    ids = _corpus(store)
    return MatchService(store, SearchService(store, path=tmp_path / "index")), ids


def test_a_need_in_an_enterprise_s_words_finds_patents_and_papers_with_reasons(matched) -> None:
    service, ids = matched
    body = service.match(ANONYMOUS, text=NEED)
    ranked = [r["id"] for r in body["results"]]
    assert {t["term"] for t in body["meta"]["terms"]} >= {"锂电池", "失控", "隔膜"}
    assert not {"我们", "需要", "技术"} & {t["term"] for t in body["meta"]["terms"]}
    assert ranked[0] == ids["separator"]  # names all three: title, keywords and abstract
    assert {ids["paper"], ids["achievement"], ids["thermal"]} <= set(ranked[:6])
    assert ids["rice"] not in ranked and ids["platform"] not in ranked
    assert ids["secret"] not in ranked  # internal: not for anonymous readers
    top = body["results"][0]
    assert set(top["reasons"]["matched_keywords"]) == {"锂电池", "隔膜", "热失控"}
    fields = {m["term"]: m["fields"] for m in top["reasons"]["matched_terms"]}
    assert "title" in fields["隔膜"] and "keywords" in fields["失控"]
    codes = {r["code"] for r in top["reasons"]["summary"]}
    assert {"terms_in_title", "keywords_named", "track_record"} <= codes
    assert all(r["zh"] and r["en"] for r in top["reasons"]["summary"])
    assert top["score"] > body["results"][-1]["score"]
    assert any(e["name"] == "李明" for e in body["experts"])


def test_filters_by_type_city_and_circle(matched) -> None:
    service, ids = matched
    patents = service.match(CLI_ADMIN, text=NEED, types="patents")["results"]
    assert {r["type"] for r in patents} == {"patent"} and ids["secret"] in [r["id"] for r in patents]
    guangzhou = service.match(ANONYMOUS, text=NEED, city="440100")["results"]
    assert guangzhou and {r["city"] for r in guangzhou} == {"440100"}
    circle = service.match(ANONYMOUS, text=NEED, circle="广佛肇")["results"]
    assert {r["id"] for r in circle} == {r["id"] for r in guangzhou}
    assert {r["city"] for r in service.match(ANONYMOUS, text=NEED, circle="sdh")["results"]} == {"440300"}


def test_filters_that_exclude_everything(matched) -> None:
    service, _ids = matched
    with pytest.raises(ZhulianError) as refused:  # Shenzhen is not in the Guangzhou–Foshan–Zhaoqing circle
        service.match(ANONYMOUS, text=NEED, city="440300", circle="gfz")
    assert refused.value.status == 400 and refused.value.details[0].field == "city"
    assert "广佛肇" in refused.value.details[0].reason_zh
    empty = service.match(ANONYMOUS, text=NEED, types="instrument", city="441200")
    assert empty["results"] == [] and empty["experts"] == []
    assert "放宽" in empty["meta"]["notice_zh"] and "widen" in empty["meta"]["notice"]
    for bad in ({"city": "999999"}, {"circle": "北极圈"}, {"types": "policy"}, {"limit": 0}):
        with pytest.raises(ZhulianError) as error:
            service.match(ANONYMOUS, text=NEED, **bad)
        assert error.value.status == 400 and error.value.details[0].reason_zh


def test_a_demand_with_no_text(matched) -> None:
    service, ids = matched
    for text in (None, "", "   ", "，。！", "我们需要一种技术"):
        with pytest.raises(ZhulianError) as error:
            service.match(ANONYMOUS, text=text)
        assert error.value.code == "invalid" and error.value.details[0].field == "text"
    with pytest.raises(ZhulianError) as error:
        service.match(ANONYMOUS, demand=ids["paper"])
    assert "不是企业需求" in error.value.details[0].reason_zh


def test_a_demand_record_brings_its_place(matched, store) -> None:
    service, ids = matched
    demand = store.create({"type": "demand", "title": {"zh": "储能电池隔膜热失控防护"}, "city": "440300",
                           "kind": "technology", "keywords": ["锂电池"]})
    service.search.catch_up()
    body = service.match(ANONYMOUS, demand=demand["id"])
    assert body["meta"]["demand"] == demand["id"] and demand["id"] not in [r["id"] for r in body["results"]]
    separator = next(r for r in body["results"] if r["id"] == ids["separator"])
    assert separator["reasons"]["place"]["relation"] == "same_city"
    assert "同在深圳市" in [r["zh"] for r in separator["reasons"]["summary"]]


def test_experts_ranked_by_their_evidence(matched) -> None:
    service, ids = matched
    body = service.experts(ANONYMOUS, "锂电池热失控")
    experts = body["results"]
    li = next(e for e in experts if e["name"] == "李明")
    assert li["affiliation"] == "深圳市锂安科技有限公司" and li["counts"]["patent"] == 2
    assert {e["id"] for e in li["evidence"]} == {ids["separator"], ids["thermal"]}
    assert li["evidence"][0]["matched_terms"]
    zhang = next(e for e in experts if e["name"] == "张三")
    assert zhang["id"] == ids["person"] and zhang["evidence"][0]["id"] == ids["paper"]
    assert sum(e["name"] == "张三" for e in experts) == 1  # the linked person, not also the name on the paper
    namesakes = [e for e in service.experts(ANONYMOUS, "隔膜孔隙率")["results"] if e["name"] == "陈伟"]
    assert len(namesakes) == 2 and all(len(e["evidence"]) == 1 for e in namesakes)
    assert experts.index(li) < len(experts) - 1
    with pytest.raises(ZhulianError):
        service.experts(ANONYMOUS, "  ")
    nobody = service.experts(ANONYMOUS, "扫描电子显微镜")  # an instrument: no paper, patent or achievement
    assert nobody["results"] == [] and "没有与该主题匹配" in nobody["meta"]["notice_zh"]


def test_declared_expertise_and_membership_count_below_works(matched, store) -> None:
    """A person found only by their own keywords, or by the platform they belong to, is an expert with that
    reason, below everyone with a matching work; what a reader may not see is not evidence for them."""
    service, ids = matched

    def add(record: dict) -> str:
        return store.create(record)["id"]

    declared = add({"type": "person", "name": {"zh": "王五"}, "keywords": ["锂电池", "热失控"],
                    "positions": ["锂电池热失控研究室主任"], "description": {"zh": "研究锂电池热失控。"}})
    add({"type": "paper", "title": {"zh": "储能电站安全综述"}, "abstract": "兼论锂电池热失控。", "authors": ["周九"]})
    alliance = add({"type": "platform", "name": {"zh": "电池热失控防护创新联盟"}, "kind": "alliance",
                    "keywords": ["热失控"]})
    member = add({"type": "person", "name": {"zh": "赵六"},
                  "relations": [{"predicate": "member_of", "object": alliance, "role": "理事长"}]})
    hidden = add({"type": "person", "name": {"zh": "钱七"}, "keywords": ["热失控"], "access": "internal"})
    closed = add({"type": "platform", "name": {"zh": "热失控内部研究组"}, "keywords": ["热失控"], "access": "internal"})
    insider = add({"type": "person", "name": {"zh": "孙八"},
                   "relations": [{"predicate": "member_of", "object": closed}]})
    service.search.catch_up()

    experts = service.experts(ANONYMOUS, "锂电池热失控")["results"]
    by_id = {e["id"]: e for e in experts if e["id"]}
    wang = by_id[declared]
    assert [(e["id"], e["role"]) for e in wang["evidence"]] == [(declared, "declared")]
    assert wang["counts"]["declared"] == 1 and wang["counts"]["paper"] == 0
    reason = wang["evidence"][0]["reason"]
    assert reason["zh"].startswith("本人登记的专长：") and "关键词含" in reason["zh"] and "失控" in reason["zh"]
    assert "declared expertise" in reason["en"]
    zhao = by_id[member]
    assert zhao["evidence"][0]["id"] == alliance and zhao["evidence"][0]["reason"]["zh"].startswith("成员（理事长）：")
    ranks = [e["name"] for e in experts]
    # 周九's one paper names the topic only in its abstract; 王五 declares it everywhere, and still ranks below
    assert ranks.index("周九") < ranks.index("王五") and ranks.index("张三") < ranks.index("赵六")
    assert hidden not in by_id and insider not in by_id  # internal: neither the person nor the platform shows
    admin = {e["id"] for e in service.experts(CLI_ADMIN, "锂电池热失控")["results"]}
    assert {hidden, insider} <= admin
    match_experts = service.match(ANONYMOUS, text=NEED)["experts"]
    assert match_experts and match_experts[0]["counts"]["patent"] + match_experts[0]["counts"]["paper"] > 0


@pytest.fixture
def client(store, tmp_path: Path):
    ids = _corpus(store)
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as client:
        yield client, ids


def test_match_and_experts_over_http(client) -> None:
    http, ids = client
    body = http.post("/api/v1/match", json={"text": NEED, "types": ["patent", "paper"], "limit": 5}).json()
    assert body["results"][0]["id"] == ids["separator"] and len(body["results"]) <= 5
    assert {r["type"] for r in body["results"]} <= {"patent", "paper"}
    for bad in ({"text": ""}, {}, {"text": NEED, "limit": 1000}, {"text": NEED, "colour": "red"},
                {"text": NEED, "city": "440300", "circle": "zzj"}):
        response = http.post("/api/v1/match", json=bad)
        assert response.status_code == 400, bad
        assert response.json()["error"]["message_zh"]
    experts = http.get("/api/v1/experts", params={"topic": "锂电池"}).json()["results"]
    assert experts and experts[0]["evidence"]
    assert http.get("/api/v1/experts", params={"topic": ""}).status_code == 400
    page = http.get("/match", params={"q": NEED})
    assert page.status_code == 200 and "一种锂离子电池隔膜及其制备方法" in page.text and "需求提到其关键词" in page.text
    assert http.get("/match", params={"q": NEED, "city": "440300", "circle": "gfz"}).status_code == 400
    hostile = http.get("/match", params={"q": "<script>alert(1)</script> 锂电池隔膜"})
    assert hostile.status_code == 200 and "<script>alert(1)" not in hostile.text and "&lt;script&gt;" in hostile.text


def test_match_from_the_command_line(run, tmp_path: Path) -> None:
    run("init")
    run("import", _write_patents(tmp_path), "--type", "patent")
    result = json.loads(run("match", "--text", NEED, "--json").stdout)
    assert result["results"][0]["name"] == "一种锂离子电池隔膜及其制备方法"
    assert result["results"][0]["reasons"]["summary"]
    table = run("match", "--text", NEED).stdout
    assert "一种锂离子电池隔膜及其制备方法" in table and "标题含" in table
    assert "描述需求" in run("match", code=2).output


def _write_patents(tmp_path: Path) -> Path:
    path = tmp_path / "patents.jsonl"
    rows = [{"type": "patent", "title": {"zh": "一种锂离子电池隔膜及其制备方法"}, "keywords": ["锂电池", "隔膜", "热失控"]},
            {"type": "patent", "title": {"zh": "一种汽车座椅调节装置"}, "keywords": ["座椅"]}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    return path
