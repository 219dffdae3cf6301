"""The portal's pages as a reader gets them: Chinese first, English on request, escaped, linked."""

from __future__ import annotations

import re
import warnings
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from zhulian.config import Settings
from zhulian.region.cities import CITIES
from zhulian.records.reference import load_region
from zhulian.web.app import create_app
from zhulian.text import pinyin_sort_key

from tests.portal_forms import csrf_of, finished_job_page


@pytest.fixture
def client(store, tmp_path) -> TestClient:
    load_region(store)
    app = create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0), store=store)
    with TestClient(app) as client:  # runs the app's start-up, so the search index is built
        yield client


def test_home_shows_the_region_in_chinese_by_default(client) -> None:
    page = client.get("/").text
    assert '<html lang="zh-CN">' in page
    for city in ("广州市", "深圳市", "东莞市", "香港特别行政区", "澳门特别行政区"):
        assert city in page
    assert "广佛肇" in page and "深莞惠" in page and "珠中江" in page and "龙头（1+1）" in page
    shapes = re.findall(r'<path class="region" data-adcode="(\d{6})" data-value="(\d+)"', page)
    assert sorted(code for code, _value in shapes) == sorted(c.adcode for c in CITIES)
    assert len(re.findall(r'<path class="circle" data-circle="(gfz|sdh|zzj)"', page)) == 3
    assert 'class="sea"' in page and 'href="/orgs?filter=city:440100"' in page
    # The seed's records are counted on the map where the table counts them.
    counted = dict(shapes)
    assert int(counted["440300"]) > 0 and re.search(rf'data-label="记录数">{counted["440300"]}<', page)


def test_the_map_shades_a_chosen_type_and_downloads_as_chart_and_table(client) -> None:
    platforms = client.get("/", params={"type": "platform"}).text
    assert 'href="/platforms?filter=city:440300"' in platforms and "平台数量" in platforms
    svg = client.get("/map/records.svg", params={"type": "platform"})
    assert svg.headers["content-type"] == "image/svg+xml" and svg.text.count('class="region"') == 11
    csv = client.get("/map/records.csv", params={"type": "platform"})
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("adcode,") and len(lines) == 12 and lines[1].startswith("440100,")
    xlsx = client.get("/map/records.xlsx")
    assert xlsx.content[:2] == b"PK"
    assert client.get("/map/records.gif").status_code == 404


def test_the_language_switch_persists_and_never_redirects_away(client) -> None:
    switched = client.get("/lang/en", params={"next": "/collaboration"}, follow_redirects=False)
    assert switched.status_code == 303 and switched.headers["location"] == "/collaboration"
    page = client.get("/").text
    assert '<html lang="en">' in page and "Guangzhou" in page and "Hong Kong SAR" in page
    away = client.get("/lang/zh", params={"next": "//evil.example/"}, follow_redirects=False)
    assert away.headers["location"] == "/"
    assert '<html lang="zh-CN">' in client.get("/").text


def test_the_alliance_and_both_lead_units_are_one_click_from_home(client) -> None:
    home = client.get("/").text
    assert 'href="/collaboration"' in home
    collaboration = client.get("/collaboration").text
    section = collaboration.split("深港微电子协同创新联盟")[1].split("</article>")[0]
    assert "深圳微纳研究院" in section and "香港应用科技研究院" in section
    lead = re.search(r'href="(/orgs/org_[0-9A-Z]+)">深圳微纳研究院', section)[1]
    org_page = client.get(lead).text
    assert "深港微电子协同创新联盟" in org_page and "牵头" in org_page


def test_a_record_page_shows_fields_relations_and_revisions(client) -> None:
    centre = client.get("/api/v1/platforms", params={"filter": "kind:collaborative_innovation_center",
                                                     "sort": "name", "per_page": 50}).json()["results"]
    [kjjr] = [c for c in centre if c["name"]["zh"] == "珠三角科技金融产业协同创新发展中心"]
    page = client.get(f"/platforms/{kjjr['id']}").text
    assert "协同创新中心" in page and "研究方向" in page and "广东财经大学" in page
    assert "牵头单位" in page and "协同单位" in page and kjjr["id"] in page and "create" in page


def test_policy_targets_are_shown(client) -> None:
    page = client.get("/policies").text
    assert "全社会研发投入占GDP比重" in page and "不低于 3 %" in page and "2020" in page
    assert "力争" in page


def test_record_text_is_escaped_on_every_page(client, store) -> None:
    hostile = store.create({"type": "platform", "name": {"zh": "<script>alert(1)</script>恶意平台"},
                            "kind": "alliance", "description": {"zh": "<img src=x onerror=alert(2)>"}})
    pages = [client.get("/platforms").text, client.get(f"/platforms/{hostile['id']}").text,
             client.get("/collaboration").text]
    for page in pages:
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_search_page_has_facets_and_escaped_highlights(client, store) -> None:
    store.create({"type": "organization", "name": {"zh": "<b>协同</b>测试机构"}})
    client.app.state.search.catch_up()
    page = client.get("/search", params={"q": "协同"}).text
    assert "全部类型" in page and "<em>" in page
    assert "<b>协同</b>" not in page
    hit = re.search(r'class="hit-title" href="(/[a-z]+/[a-z]{3}_[0-9A-Z]+)"', page)[1]
    assert client.get(hit).status_code == 200


def test_unknown_pages_are_a_friendly_404(client) -> None:
    response = client.get("/widgets")
    assert response.status_code == 404 and "返回首页" in response.text and "<html" in response.text
    missing = client.get("/orgs/moe:4100000000")
    assert missing.status_code == 404 and "找不到记录" in missing.text



def _sign_in(client, store, role: str = "publisher", node: str | None = "440100") -> None:
    from zhulian.access import create_key

    _key, secret = create_key(store, role, node=node, name="广州数据员")
    form = client.get("/signin").text
    response = client.post("/signin", data={"key": secret, "csrf": csrf_of(form)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/data"


def test_a_publisher_signs_in_and_uploads_a_file_that_becomes_records(client, store) -> None:
    assert "上传需要以发布者或管理员身份登录" in client.get("/data").text
    _sign_in(client, store)
    page = client.get("/data").text
    assert "广州数据员" in page and 'enctype="multipart/form-data"' in page
    csv = "中文名称 (name.zh),城市 (city),机构类型 (kind)\n广州新型研发机构甲,440100,科研院所\n".encode("utf-8-sig")
    report = finished_job_page(client, client.post("/data/import", data={"type": "organization", "csrf": csrf_of(page)},
                                                   files={"file": ("orgs.csv", csv, "text/csv")}))
    assert '<dd id="created">1</dd>' in report and "已完成" in report
    [record] = store.query("organization", "city:440100,kind:institute").results[-1:]
    assert record["name"]["zh"] == "广州新型研发机构甲" and record["node"] == "440100"
    [entry] = client.app.state.records.audit(_admin(), record=record["id"])
    assert (entry["action"], entry["record_id"], entry["detail"]["file"]) == ("create", record["id"], "orgs.csv")
    assert entry["detail"]["batch"].startswith("import_") and entry["origin"].startswith("portal:")


def _admin():
    from zhulian.access import CLI_ADMIN

    return CLI_ADMIN


def test_uploads_without_the_forms_csrf_token_are_refused(client, store) -> None:
    _sign_in(client, store)
    response = client.post("/data/import", data={"type": "organization", "csrf": "forged"},
                           files={"file": ("orgs.csv", b"name.zh\nx\n", "text/csv")})
    assert response.status_code == 403 and "表单已过期" in response.text
    assert client.post("/signout", data={"csrf": "forged"}).status_code == 403


def test_an_upload_without_a_publishers_sign_in_is_refused_and_starts_no_job(client, store) -> None:
    token, before = csrf_of(client.get("/signin").text), store.query("organization").count
    refused = client.post("/data/import", data={"type": "organization", "csrf": token},
                          files={"file": ("orgs.csv", "name.zh\n匿名机构\n".encode(), "text/csv")})
    assert refused.status_code == 401 and "写入需要 API 密钥" in refused.text
    assert client.app.state.jobs.list(_admin()) == [] and store.query("organization").count == before


def test_a_publisher_cannot_upload_rows_for_another_node(client, store) -> None:
    _sign_in(client, store)
    page = client.get("/data").text
    csv = "name.zh,node\n深圳机构,440300\n".encode()
    report = finished_job_page(client, client.post("/data/import", data={"type": "organization", "csrf": csrf_of(page)},
                                                   files={"file": ("orgs.csv", csv, "text/csv")}))
    assert "只能写入本节点的记录" in report and '<dd id="created">0</dd>' in report
    assert store.query("organization", "node:440300").count == 0


def test_templates_and_exports_download_and_names_cannot_escape(client, store) -> None:
    template = client.get("/data/templates/patent.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"
    assert "attachment" in template.headers["content-disposition"]
    store.create({"type": "organization", "name": {"zh": "内部机构"}, "access": "internal", "node": "440100"})
    exported = client.get("/data/export/organization.csv").content.decode("utf-8-sig")
    assert "中山大学" in exported and "内部机构" not in exported
    for path in ("/data/export/..%2F..%2Fetc%2Fpasswd.csv", "/data/export/organization.exe",
                 "/data/templates/../../etc/passwd"):
        assert client.get(path).status_code == 404


def test_a_refused_web_import_says_what_to_tick_not_a_command_line_flag(client, store) -> None:
    _sign_in(client, store)
    page = client.get("/data").text
    csv = "中文名称 (name.zh),城市 (city)\n甲机构,440100\n乙机构,not-a-city\n".encode("utf-8-sig")
    report = finished_job_page(client, client.post("/data/import", data={"type": "organization", "csrf": csrf_of(page)},
                                                   files={"file": ("orgs.csv", csv, "text/csv")}))
    assert "--skip-invalid" not in report and "not-a-city" in report
    assert "勾选“跳过无效行，只导入有效行”" in report and 'name="skip_invalid"' in client.get("/data").text


def test_record_times_are_beijing_time_in_chinese_conventions(client, store) -> None:
    record = store.create({"type": "organization", "name": {"zh": "时间测试机构"}, "node": "440100"})
    moment = datetime.fromisoformat(record["created"].replace("Z", "+00:00")).astimezone(ZoneInfo("Asia/Shanghai"))
    page = client.get(f"/orgs/{record['id']}").text
    assert f"{moment.year}年{moment.month}月{moment.day}日 {moment:%H:%M}" in page
    client.get("/lang/en")
    assert f"{moment:%Y-%m-%d %H:%M} (UTC+8)" in client.get(f"/orgs/{record['id']}").text


def test_a_signed_in_reader_sends_an_expression_of_interest_from_a_patent_page(client, store) -> None:
    patent = store.create({"type": "patent", "title": {"zh": "一种锂电池隔膜"}, "node": "440300"})
    anonymous = client.get(f"/patents/{patent['id']}").text
    assert "登记合作意向" in anonymous and 'action="/match/interests"' not in anonymous
    _sign_in(client, store, role="reader", node=None)
    page = client.get(f"/patents/{patent['id']}").text
    assert 'action="/match/interests"' in page and f'name="target" value="{patent["id"]}"' in page
    forged = client.post("/match/interests", data={"target": patent["id"], "message": "希望许可", "csrf": "forged"})
    assert forged.status_code == 403
    sent = client.post("/match/interests", data={"target": patent["id"], "message": "希望洽谈专利许可",
                                                 "contact": "张先生", "csrf": csrf_of(page)})
    assert sent.status_code == 200 and "希望洽谈专利许可" in sent.text and "一种锂电池隔膜" in sent.text


def test_collaboration_centres_are_listed_in_pinyin_order(client) -> None:
    page = client.get("/collaboration").text
    names = re.findall(r'<h2><a href="/platforms/[^"]+">([^<]+)</a>', page)
    assert len(names) > 3 and names == sorted(names, key=pinyin_sort_key)
    assert names != sorted(names)  # code point order would differ: the test can tell the two apart


def test_the_demo_sample_is_small_licensed_and_shows_real_results(store, tmp_path) -> None:
    from zhulian.demo_data import HERE, sample_files
    from zhulian.exchange.importer import import_file

    files = sample_files()
    assert sum(path.stat().st_size for path in HERE.iterdir()) < 2_000_000
    assert {p.name for p in HERE.glob("LICENSE-*")} == {"LICENSE-CSL-Apache-2.0", "LICENSE-KPPatent-ZH-MIT"}
    load_region(store)
    for path, type_name, mapping in files:
        report = import_file(store, path, type_name=type_name, mapping=mapping)
        assert report.committed and report.invalid == 0, report.outcome_text()
    app = create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0), store=store)
    with TestClient(app) as client:
        found = client.get("/search", params={"q": "锂电池"}).text
        assert "锂电池正极材料" in found
        matched = client.get("/match", params={"q": "我们需要电池热失控预警相关技术"}).text
        assert matched.count('class="hit-title"') >= 5
        for_demand = client.post("/api/v1/match", json={"demand": "ref:demand-seed-nanhai-robots"}).json()["results"]
        assert len(for_demand) >= 5 and any("机器人" in hit["name"] for hit in for_demand[:3])
        home = client.get("/", params={"type": "organization"}).text
        guangzhou = re.search(r'data-adcode="440100" data-value="(\d+)"', home)[1]
        assert int(guangzhou) > 50  # the PRD universities join the seed's organisations on the map


def test_the_network_and_indicator_pages_draw_the_region_map_and_a_chart(client) -> None:
    network = client.get("/network").text
    assert network.count('<path class="region"') == 11 and 'href="/network?city=440300#org-network"' in network
    network_map = client.get("/api/v1/network/charts/map.svg", params={"lang": "zh"})
    assert network_map.status_code == 200 and "合作数量" in network_map.text
    indicators = client.get("/indicators", params={"indicator": "rd_gdp_ratio"}).text
    assert indicators.count('<path class="region"') == 11 and 'id="indicator-chart"' in indicators
    assert 'href="/api/v1/indicators/rd_gdp_ratio/series?format=xlsx"' in indicators
    assert client.get("/api/v1/indicators/rd_gdp_ratio/map.svg").text.count('class="region"') == 11
    assert client.get("/indicators", params={"indicator": "no_such"}).status_code == 404


def test_png_charts_answer_a_clear_503_when_the_server_lacks_cairo_or_a_chinese_font(client, monkeypatch) -> None:
    import sys

    from zhulian.web import charts

    chart = "/api/v1/indicators/rd_gdp_ratio/map.png"
    rendered = client.get(chart, params={"lang": "en"})
    assert rendered.status_code == 200 and rendered.content.startswith(b"\x89PNG")
    monkeypatch.setattr(charts, "has_cjk_font", lambda: False)
    assert client.get(chart, params={"lang": "en"}).status_code == 200  # English labels need no Chinese font
    no_font = client.get(chart, params={"lang": "zh"})
    assert no_font.status_code == 503
    assert "fonts-noto-cjk" in no_font.json()["error"]["message_zh"] and "lang=en" in no_font.json()["error"]["message"]

    class NoCairo:  # what cairocffi does where libcairo2 is missing: OSError at import, not ImportError
        def find_spec(self, name, path=None, target=None):
            if name == "cairosvg":
                raise OSError("no library called 'cairo-2' was found")

    monkeypatch.delitem(sys.modules, "cairosvg", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoCairo(), *sys.meta_path])
    no_cairo = client.get(chart, params={"lang": "en"})
    assert no_cairo.status_code == 503 and "libcairo2" in no_cairo.json()["error"]["message"]


def test_indicator_end_labels_keep_apart_and_near_their_lines() -> None:
    from zhulian.indicators.charts import LABEL_GAP, Line, line_chart

    lines = [Line("广州市", [(2018, 2.6), (2020, 3.10)]), Line("深圳市", [(2018, 4.2), (2020, 3.12)]),
             Line("佛山市", [(2019, 3.0), (2020, 3.11)]), Line("东莞市", [(2020, 1.0)])]
    svg = line_chart("研发投入强度", "%", lines, target=3.13, target_label="目标 ≥ 3.13")
    labels = [(text, float(y)) for y, text in re.findall(r'class="end-label" x="[\d.]+" y="([\d.]+)"[^>]*>([^<]+)<', svg)]
    ys = sorted(y for _text, y in labels)
    assert len(labels) == 5 and all(b - a >= LABEL_GAP - 0.01 for a, b in zip(ys, ys[1:]))
    by_name = dict(labels)
    assert by_name["东莞市"] == max(ys)  # the lowest line's name is the lowest label


def test_no_portal_page_has_an_inline_script_or_event_handler(client) -> None:
    for path in ("/", "/search?q=微电子", "/collaboration", "/match?q=电池", "/network", "/policies", "/indicators",
                 "/data", "/signin", "/docs", "/orgs"):
        page = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"\son[a-z]+\s*=", page), path
