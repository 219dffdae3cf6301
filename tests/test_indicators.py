"""Indicator observations as records, the progress of policy targets, the review that turns proposals into
targets, and the command line, API and pages over them — on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import warnings

import openpyxl
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.access import ANONYMOUS, CLI_ADMIN, Principal, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.indicators.progress import Point, TargetProgress, assess
from zhulian.indicators.service import IndicatorService
from zhulian.exchange.service import ExchangeService
from zhulian.records import RecordService
from zhulian.records.reference import load_region
from zhulian.web.app import create_app
from zhulian.web.i18n import COOKIE

from tests.portal_forms import csrf_of

GUANGZHOU_OBSERVATIONS = """type,indicator,region,year,value,unit,source
observation,rd_gdp_ratio,440100,2016,2.30,%,广州统计年鉴
observation,rd_gdp_ratio,440100,2017,2.48,%,广州统计年鉴
observation,rd_gdp_ratio,440100,2018,2.63,%,广州统计年鉴
observation,rd_gdp_ratio,440100,2019,2.87,%,广州统计年鉴
observation,规模以上工业企业建立研发机构比例,440100,2017,38,%,广州市科技局
observation,enterprises_with_rd_unit_share,440100,2018,44,%,广州市科技局
observation,invention_patents_per_10k,440100,2018,28.0,件/万人,广州市知识产权局
"""
ZHUHAI_BUDGET = """type,indicator,region,year,value,unit,source
observation,general_budget_expenditure,440400,2017,600,亿元,珠海市财政局
observation,fiscal_st_expenditure,440400,2017,33,亿元,珠海市财政局
observation,rd_special_fund,440400,2017,150000,万元,珠海市财政局
observation,general_budget_expenditure,440400,2018,700,亿元,珠海市财政局
observation,fiscal_st_expenditure,440400,2018,31.5,亿元,珠海市财政局
observation,rd_special_fund,440400,2018,22,亿元,珠海市财政局
"""


def _import(store, tmp_path, text: str, name: str = "obs.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return ExchangeService(RecordService(store)).import_file(CLI_ADMIN, path, type_name="observation")


@pytest.fixture
def service(store) -> IndicatorService:
    load_region(store)
    return IndicatorService(RecordService(store))


def _by_code(items) -> dict:
    return {item.indicator_code: item for item in items}


# -- observations are records ----------------------------------------------------------------------


def test_observations_import_idempotently_and_filter_by_indicator_region_and_year(store, tmp_path) -> None:
    report = _import(store, tmp_path, GUANGZHOU_OBSERVATIONS)
    assert (report.created, report.invalid) == (7, 0)
    assert _import(store, tmp_path, GUANGZHOU_OBSERVATIONS).unchanged == 7  # one value per indicator, region, year
    page = store.query("observation", "indicator:rd_gdp_ratio,region:440100,year:>2016")
    assert sorted(r["year"] for r in page.results) == [2017, 2018, 2019]
    assert store.get("obs:rd_gdp_ratio:440100:2019")["value"] == 2.87
    [group] = store.group_by("observation", "region")
    assert (group["key"], group["key_display_name"], group["count"]) == ("440100", "广州市", 7)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_observations_export_and_import_again_unchanged(store, tmp_path, fmt: str) -> None:
    _import(store, tmp_path, GUANGZHOU_OBSERVATIONS)
    exported = tmp_path / f"observations.{fmt}"
    with exported.open("wb") as target:
        ExchangeService(RecordService(store)).export(CLI_ADMIN, "observation", fmt, target)
    again = ExchangeService(RecordService(store)).import_file(CLI_ADMIN, exported, type_name="observation")
    assert (again.unchanged, again.invalid) == (7, 0)


def test_observations_for_unknown_regions_indicators_units_or_far_years_are_refused(store, tmp_path) -> None:
    bad = ("type,indicator,region,year,value,unit\n"
           "observation,rd_gdp_ratio,440199,2016,2.1,%\n"
           "observation,happiness_index,440100,2016,2.1,%\n"
           "observation,rd_gdp_ratio,440100,2090,2.1,%\n"
           "observation,rd_gdp_ratio,440100,2016,2.1,吨\n")
    report = _import(store, tmp_path, bad)
    assert report.invalid == 4 and report.created == 0 and store.counts().get("observation", 0) == 0
    fields = {error["field"] for error in report.errors}
    assert fields == {"region", "indicator", "year", "unit"}


# -- progress ------------------------------------------------------------------------------------


def _progress(points, comparator=">=", value=3.0, deadline=2020, code="rd_gdp_ratio", unit="%") -> TargetProgress:
    item = TargetProgress("pol_x", "政策", 0, {"indicator": "全社会研发投入占GDP比重", "comparator": comparator,
                                                  "value": value, "unit": unit}, code, "440100", deadline)
    item.series = [Point(year, v) for year, v in points]
    return assess(item)


def test_status_follows_the_documented_rules() -> None:
    assert _progress([]).status == "no_data"
    assert _progress([(2019, 3.1)]).status == "met"
    assert _progress([(2019, 2.0)]).status == "at_risk"  # one observation: no trend to go by
    on_track = _progress([(2016, 2.4), (2017, 2.55), (2018, 2.7)])
    assert on_track.status == "on_track" and on_track.projected == pytest.approx(3.0)
    assert _progress([(2016, 2.4), (2017, 2.42), (2018, 2.45)]).status == "at_risk"
    missed = _progress([(2019, 2.6), (2020, 2.8)])
    assert (missed.status, missed.gap) == ("missed", pytest.approx(0.2))
    assert _progress([(2017, 6500)], comparator="≈", value=6800, code="producer_services_value_added",
                     unit="亿元").status == "met"
    assert _progress([(2017, 6400)], comparator="≈", value=6800, code="producer_services_value_added",
                     unit="亿元", deadline=2017).status == "missed"
    assert _progress([(2018, 2.0)], comparator="<=", value=2.5).status == "met"


def test_guangzhou_seed_targets_appear_with_progress_once_observations_are_imported(service, store, tmp_path) -> None:
    before = _by_code(service.progress(CLI_ADMIN, city="440100"))
    assert before["rd_gdp_ratio"].status == "no_data"
    _import(store, tmp_path, GUANGZHOU_OBSERVATIONS)
    found = _by_code(service.progress(CLI_ADMIN, city="440100"))
    rd, share, patents = (found[c] for c in ("rd_gdp_ratio", "enterprises_with_rd_unit_share",
                                              "invention_patents_per_10k"))
    assert (rd.target["value"], rd.deadline, rd.latest.value, rd.latest.year) == (3.0, 2020, 2.87, 2019)
    assert rd.status == "on_track" and rd.projected > 3.0 and rd.gap == pytest.approx(0.13)
    assert (share.target["comparator"], share.latest.value, share.status) == (">", 44, "on_track")
    assert (patents.status, patents.gap) == ("met", pytest.approx(-3.0))
    assert found["producer_services_value_added"].status == "no_data"


def test_the_seed_s_forest_city_count_shows_against_the_nine_city_target(service, store, tmp_path) -> None:
    """The seed states which cities held the national forest city title in 2016 (five of the nine); the region
    data loads them, and the plan's "all nine by 2018" target shows that value, its year, the gap and a status."""
    [forest] = service.progress(CLI_ADMIN, indicator="national_forest_cities")
    assert forest.region is None and len(forest.regions) == 9  # the nine cities together, summed
    assert (forest.latest.year, forest.latest.value, forest.gap, forest.deadline) == (2016, 5, 4, 2018)
    assert forest.status == "at_risk"  # one value to go by and the deadline not yet observed
    [row] = IndicatorService.progress_rows([forest])
    assert row["region_name"].startswith("广州市等9地合计")
    guangzhou = store.get("obs:national_forest_cities:440100:2016")
    assert guangzhou["value"] == 1 and "000_630e50ae92f037f8" in guangzhou["source"]
    assert "珠海和肇庆正式获得" in guangzhou["note"]
    # a year with a city unobserved would understate the nine together: it is left out
    _import(store, tmp_path, "type,indicator,region,year,value,unit,source\n"
                             "observation,national_forest_cities,440300,2017,1,个,测试 test\n")
    assert service.progress(CLI_ADMIN, indicator="national_forest_cities")[0].latest.year == 2016
    # a share of several regions does not add up: the forest-town share stays without data
    assert service.progress(CLI_ADMIN, indicator="forest_town_share")[0].status == "no_data"


def test_zhuhai_fiscal_checks_are_computed_from_budget_observations(service, store, tmp_path) -> None:
    _import(store, tmp_path, ZHUHAI_BUDGET)
    found = _by_code(service.progress(CLI_ADMIN, city="440400"))
    fiscal, fund = found["sci_fiscal_share"], found["rd_special_fund_share"]
    assert [(p.year, round(p.value, 2), p.derived) for p in fiscal.series] == [(2017, 5.5, True), (2018, 4.5, True)]
    assert fiscal.checks == [(2017, True), (2018, False)] and fiscal.status == "at_risk"
    assert [round(p.value, 2) for p in fund.series] == [2.5, 3.14]  # 150000 万元 is 15 亿元
    assert fund.checks == [(2017, False), (2018, True)] and fund.status == "met"


def test_a_reader_sees_only_the_observations_they_may_read(service, store, tmp_path) -> None:
    _import(store, tmp_path, GUANGZHOU_OBSERVATIONS)
    RecordService(store).patch(CLI_ADMIN, "obs:invention_patents_per_10k:440100:2018", {"access": "internal"})
    public = _by_code(service.progress(ANONYMOUS, city="440100"))
    assert public["invention_patents_per_10k"].status == "no_data"
    assert _by_code(service.progress(CLI_ADMIN, city="440100"))["invention_patents_per_10k"].status == "met"


# -- review: proposals become targets ---------------------------------------------------------------


def test_accepted_proposals_become_audited_targets_once(service, store) -> None:
    text = "到2020年，珠三角全社会研发投入占GDP比重达到2.8%以上，每万人发明专利拥有量达15件以上。"
    proposals = service.extract(text).as_dict()
    result = service.accept(CLI_ADMIN, "ref:pol-prd-nidz-2016", proposals)
    assert result["added"] == 2
    [rd, patents] = store.get("ref:pol-prd-nidz-2016")["targets"]
    assert (rd["indicator"], rd["value"], rd["year"], rd["indicator_en"]) == (
        "全社会研发投入占GDP比重", 2.8, 2020, "Gross R&D expenditure as a share of GDP")
    assert patents["unit"] == "件/万人"
    assert service.accept(CLI_ADMIN, "ref:pol-prd-nidz-2016", proposals)["added"] == 0
    audit = RecordService(store).audit(CLI_ADMIN, record="ref:pol-prd-nidz-2016")
    assert [(e["action"], e["origin"]) for e in audit][-1:] == [("update", "indicators.accept")]


def test_contradictory_or_invalid_proposals_are_refused_and_nothing_is_written(service, store) -> None:
    revision = store.get("ref:pol-gz-nidz-2016")["revision"]
    with pytest.raises(ZhulianError) as caught:
        service.accept(CLI_ADMIN, "ref:pol-gz-nidz-2016", [
            {"indicator": "全社会研发投入占GDP比重", "comparator": ">=", "value": 2.5, "unit": "%", "year": 2020}])
    assert caught.value.code == "contradictory_targets" and caught.value.status == 409
    assert "3" in caught.value.details[0].reason_zh
    with pytest.raises(ZhulianError) as caught:
        service.accept(CLI_ADMIN, "ref:pol-gz-nidz-2016", [{"indicator": "x", "comparator": "大约", "value": "多"}])
    assert caught.value.code == "invalid" and {p.field for p in caught.value.details} >= {"proposals.0.comparator"}
    with pytest.raises(ZhulianError) as caught:
        service.accept(CLI_ADMIN, "ref:pol-gz-nidz-2016", [])
    assert caught.value.code == "invalid"
    assert store.get("ref:pol-gz-nidz-2016")["revision"] == revision


def test_only_a_principal_who_may_write_the_policy_accepts(service, store) -> None:
    proposal = [{"indicator": "高新技术企业数量", "comparator": ">=", "value": 10000, "unit": "家", "year": 2020}]
    for principal, status in ((ANONYMOUS, 401), (Principal("k", "reader"), 403),
                              (Principal("k", "publisher", node="440300"), 403)):
        with pytest.raises(ZhulianError) as caught:
            service.accept(principal, "ref:pol-gz-nidz-2016", proposal)
        assert caught.value.status == status


# -- command line --------------------------------------------------------------------------------


def test_cli_extract_accept_status_export_and_chart(run, tmp_path) -> None:
    run("init", "--with-region")
    policy_text = tmp_path / "policy.txt"
    policy_text.write_text("到２０２０年，高新技术企业数量不少于一万家。", encoding="gb18030")
    extracted = json.loads(run("policy", "extract", policy_text, "--region", "440100", "--json").stdout)
    assert [(p["indicator_code"], p["value"], p["region"]) for p in extracted["proposals"]] == [
        ("high_tech_enterprises", 10000, "440100")]
    (tmp_path / "proposals.json").write_text(json.dumps(extracted), encoding="utf-8")
    accepted = json.loads(run("policy", "accept", "ref:pol-gz-nidz-2016", tmp_path / "proposals.json", "--json").stdout)
    assert accepted["added"] == 1 and len(accepted["targets"]) == 6
    (tmp_path / "obs.csv").write_text(GUANGZHOU_OBSERVATIONS, encoding="utf-8")
    run("import", tmp_path / "obs.csv", "--type", "observation")
    rows = json.loads(run("indicators", "status", "--city", "440100", "--json").stdout)
    assert {r["indicator_code"]: r["status"] for r in rows}["rd_gdp_ratio"] == "on_track"
    assert "on track" in run("indicators", "status", "--city", "440100").stdout
    forest = run("indicators", "status", "--indicator", "national_forest_cities").stdout
    assert "5 (2016)" in forest and "存在风险 at risk" in forest
    run("indicators", "export", "-o", tmp_path / "progress.xlsx", "--format", "xlsx", "--city", "440100")
    sheet = openpyxl.load_workbook(tmp_path / "progress.xlsx").active
    assert sheet.cell(1, 1).value == "政策 (policy_title)" and sheet.max_row == len(rows) + 1
    run("indicators", "export", "-o", tmp_path / "series.csv", "--indicator", "rd_gdp_ratio")
    series = list(csv.DictReader(io.StringIO((tmp_path / "series.csv").read_text(encoding="utf-8-sig"))))
    assert [r["年份 (year)"] for r in series] == ["2016", "2017", "2018", "2019"]
    run("indicators", "chart", "rd_gdp_ratio", "--city", "440100", "-o", tmp_path / "rd.svg")
    assert "<polyline" in (tmp_path / "rd.svg").read_text() and "广州市" in (tmp_path / "rd.svg").read_text()
    run("indicators", "chart", "rd_gdp_ratio", "-o", tmp_path / "rd.png", "--lang", "en")
    assert (tmp_path / "rd.png").read_bytes().startswith(b"\x89PNG")
    assert "bad.gif" in run("indicators", "chart", "rd_gdp_ratio", "-o", tmp_path / "bad.gif", code=2).output
    assert "unknown_indicator" in run("indicators", "chart", "nope", "-o", tmp_path / "x.svg", code=1).output


def test_cli_text_without_targets_and_unreadable_files(run, tmp_path) -> None:
    empty = tmp_path / "news.txt"
    empty.write_text("2016年9月，珠海和肇庆获得国家森林城市称号。", encoding="utf-8")
    assert "未发现量化目标" in run("policy", "extract", empty).stdout
    binary = tmp_path / "policy.bin"
    binary.write_bytes(b"\xff\xfe\x00\x81\x30\x81")
    assert "GB18030" in run("policy", "extract", binary, code=2).output
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    run("init", "--with-region")
    assert "JSON" in run("policy", "accept", "ref:pol-gz-nidz-2016", tmp_path / "broken.json", code=2).output


# -- API and pages -------------------------------------------------------------------------------


@pytest.fixture
def client(store, tmp_path) -> TestClient:
    load_region(store)
    _import(store, tmp_path, GUANGZHOU_OBSERVATIONS)
    settings = Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0)
    return TestClient(create_app(settings, store=store))


def test_api_extract_accept_progress_series_and_charts(client, store) -> None:
    text = "到2020年，广州高新技术企业数量不少于1万家。"
    body = client.post("/api/v1/targets/extract", json={"text": text}).json()
    assert body["count"] == 1 and body["proposals"][0]["value"] == 10000
    request = {"policy": "ref:pol-gz-nidz-2016", "proposals": body["proposals"]}
    denied = client.post("/api/v1/targets/accept", json=request)
    assert denied.status_code == 401 and denied.json()["error"]["message_zh"]
    _key, secret = create_key(store, "admin")
    accepted = client.post("/api/v1/targets/accept", headers={"Authorization": f"Bearer {secret}"},
                           json=request)
    assert accepted.status_code == 200 and accepted.json()["added"] == 1
    rows = client.get("/api/v1/targets/progress", params={"city": "440100"}).json()
    assert {r["indicator_code"]: r["status"] for r in rows}["rd_gdp_ratio"] == "on_track"
    exported = client.get("/api/v1/targets/progress", params={"format": "csv", "city": "440100"})
    assert exported.headers["content-type"].startswith("text/csv") and "全社会研发投入占GDP比重" in exported.text
    series = client.get("/api/v1/indicators/rd_gdp_ratio/series", params={"format": "xlsx"})
    assert openpyxl.load_workbook(io.BytesIO(series.content)).active.max_row == 5
    svg = client.get("/api/v1/indicators/rd_gdp_ratio/chart.svg", params={"region": "440100"})
    assert svg.headers["content-type"] == "image/svg+xml" and "目标 &gt;= 3" in svg.text
    png = client.get("/api/v1/indicators/rd_gdp_ratio/chart.png", params={"region": "440100", "lang": "en"})
    assert png.content.startswith(b"\x89PNG")
    assert len(client.get("/api/v1/indicators").json()["results"]) >= 20


BAD_REQUESTS = [
    ("post", "/api/v1/targets/extract", {"text": ""}, 400, "invalid"),
    ("post", "/api/v1/targets/extract", {"text": "x", "region": "999999"}, 400, "invalid"),
    ("post", "/api/v1/targets/extract", {"txt": "到2020年"}, 400, "invalid"),
    ("post", "/api/v1/targets/accept", {"policy": "ref:pol-gz-nidz-2016", "proposals": [{"indicator": "x"}]}, 401,
     "unauthorized"),
    ("post", "/api/v1/targets/accept", {"policy": "ref:nowhere", "proposals": [{}]}, 404, "not_found"),
    ("get", "/api/v1/indicators/nope/series", None, 404, "unknown_indicator"),
    ("get", "/api/v1/indicators/rd_gdp_ratio/chart.gif", None, 404, "not_found"),
    ("get", "/api/v1/targets/progress?city=12345", None, 400, "invalid"),
    ("get", "/api/v1/targets/progress?format=pdf", None, 400, "invalid"),
]


def test_api_bad_input_is_a_clear_4xx(client) -> None:
    for method, path, payload, status, code in BAD_REQUESTS:
        response = client.post(path, json=payload) if method == "post" else client.get(path)
        assert response.status_code == status, path
        assert response.json()["error"]["code"] == code and response.json()["error"]["message_zh"], path


def test_dashboards_show_status_and_hand_made_charts(client) -> None:
    overview = client.get("/indicators")
    assert overview.status_code == 200 and "进展顺利" in overview.text and "/indicators/city/440100" in overview.text
    city = client.get("/indicators/city/440100").text
    assert city.count("<svg") >= 3 and "每万人发明专利拥有量" in city and "chart.png?region=440100" in city
    indicator = client.get("/indicators/rd_gdp_ratio").text
    assert "<polyline" in indicator and "2.87" in indicator
    client.cookies.set(COOKIE, "en")
    english = client.get("/indicators/city/440100").text
    assert "Invention patents in force per 10,000 people" in english and "Guangzhou" in english
    assert client.get("/indicators/nope").status_code == 404


def _sign_in(client, store, role: str, node: str | None = None) -> None:
    _key, secret = create_key(store, role, node=node, name="省科技厅")
    client.post("/signin", data={"key": secret, "csrf": csrf_of(client.get("/signin").text)}, follow_redirects=False)


def test_review_form_turns_proposals_into_targets_for_a_signed_in_editor(client, store) -> None:
    hostile = "<script>alert(1)</script>到2020年，广州高新技术企业数量不少于1万家。"
    page = client.get("/indicators/review").text
    proposals = client.post("/indicators/review", data={"text": hostile, "csrf": csrf_of(page)}).text
    assert "<script>alert(1)</script>" not in proposals and "&lt;script&gt;" in proposals
    assert 'name="value_0" value="10000"' in proposals
    form = {"csrf": csrf_of(proposals), "policy": store.get("ref:pol-gz-nidz-2016")["id"], "keep_0": "on",
            "indicator_0": "高新技术企业数量", "comparator_0": ">=", "value_0": "12000", "unit_0": "家",
            "year_0": "2020", "region_0": "440100", "clause_0": "广州高新技术企业数量不少于1万家"}
    assert client.post("/indicators/review/accept", data=form, follow_redirects=False).status_code == 401
    _sign_in(client, store, "publisher", "440300")  # the seed's policies belong to no city node
    form["csrf"] = csrf_of(client.get("/indicators/review").text)
    assert client.post("/indicators/review/accept", data=form, follow_redirects=False).status_code == 403
    _sign_in(client, store, "admin")
    form["csrf"] = csrf_of(client.get("/indicators/review").text)
    response = client.post("/indicators/review/accept", data=form, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/policies/pol_")
    targets = store.get("ref:pol-gz-nidz-2016")["targets"]
    assert targets[-1]["value"] == 12000 and targets[-1]["indicator_en"] == "High-tech enterprises"
    forged = client.post("/indicators/review/accept", data={**form, "csrf": "forged"}, follow_redirects=False)
    assert forged.status_code == 403
