"""The consumer page behind a QR code, on SQLite and PostgreSQL: a trace code for every lot or item, QR codes
as PNG and SVG, and /t/{code} showing only what the parties made public — the journey (a map from geo: places),
dates, temperatures, test results and any recall; and in Chromium at 390 px, with no horizontal overflow."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.browser import checked_page, served
from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.errors import ZhulianError
from zhulian.store import Store
from zhulian.trace.consumer import ConsumerService
from zhulian.trace.forms import ChainForms
from zhulian.trace.identifiers import canonical
from zhulian.trace.recall import RecallService
from zhulian.web.app import create_app

from test_trace_chain import PACK_1, chain_document

FARM, PLANT, MARKET = '"geo:23.55,113.59"', '"geo:23.13,113.26"', '"geo:22.54,114.06"'  # 从化、广州、深圳, quoted
CHAIN = f"""环节,时间,批次,数量,单位,地点,投入品或原料批次,产出批次,收货地点,温度(℃),城市代码,产品类别,产品名称,公开
种植,2026-05-01T08:00,CAI-0501,500,KGM,{FARM},FEI-01,,,,440100,蔬菜,从化菜心,是
加工,2026-05-02T09:00,,,,{PLANT},CAI-0501,JING-0502,,,440100,蔬菜,净菜心,是
发货,2026-05-02T15:00,JING-0502,480,KGM,{PLANT},,,{MARKET},4,440100,蔬菜,净菜心,否
收货,2026-05-03T08:00,JING-0502,,,{MARKET},,,,3.5,440300,蔬菜,净菜心,是
""".encode()
RAPID = {"step": "快检", "lot": "JING-0502", "time": "2026-05-03T09:00", "city": "440300", "productClass": "蔬菜",
         "analyteName": "毒死蜱", "chemicalSubstance": "https://identifiers.org/inchikey:SBPBAQFWLVIOKP-UHFFFAOYSA-N",
         "value": 0.01, "uom": "NA", "limit": 0.05, "public": "是"}


def _chain(store: Store) -> None:
    forms = ChainForms(store)
    forms.import_rows(CLI_ADMIN, CHAIN, "chain.csv")
    forms.record(CLI_ADMIN, RAPID)


def test_the_page_shows_the_public_journey_tests_and_a_recall(store) -> None:
    _chain(store)
    consumer = ConsumerService(store)
    assert consumer.code(CLI_ADMIN, "JING-0502") == "JING-0502"
    view = consumer.page("JING-0502")
    assert view["product"] == "净菜心"
    assert [(s["stage"], s["time"]) for s in view["journey"]] == [
        ("种植", "2026-05-01 08:00"), ("生产加工", "2026-05-02 09:00"), ("收货", "2026-05-03 08:00")]  # 发货: not public
    assert view["journey"][-1]["temperature"] == 3.5 and view["map"].count("<circle") == 3
    assert [(t["analyte"], t["verdict"], t["limit"]) for t in view["tests"]] == [("毒死蜱", "合格", 0.05)]
    assert view["recalled"] == []
    RecallService(store).recall(CLI_ADMIN, "urn:zhulian:trace:CAI-0501", "抽检不合格")
    assert consumer.page("JING-0502")["recalled"]
    with pytest.raises(ZhulianError) as unknown:
        consumer.page("NO-SUCH-CODE")
    assert unknown.value.status == 404


def test_gs1_identifiers_get_a_short_code_either_spelling_alike(store) -> None:
    from zhulian.trace.service import TraceService

    TraceService(store).capture(CLI_ADMIN, chain_document())
    consumer = ConsumerService(store)
    code = consumer.code(CLI_ADMIN, PACK_1)
    assert code.startswith("G") and len(code) == 13
    assert consumer.code(CLI_ADMIN, "https://id.gs1.org/01/04012345543216/21/P1") == code
    assert consumer.identifier(code) == canonical(PACK_1)
    # Nothing in the shared chain was made public: the page says so rather than show it.
    assert consumer.page(code)["journey"] == []


def test_codes_qr_codes_and_the_page_over_http(sqlite_store, tmp_path: Path) -> None:
    store = sqlite_store
    _chain(store)
    publisher = create_key(store, "publisher", node="440100", name="p")[1]
    with TestClient(create_app(Settings(data_dir=tmp_path), store=store)) as http:
        assert http.get("/api/v1/trace/codes", params={"id": "JING-0502"}).status_code == 401
        made = http.get("/api/v1/trace/codes", params={"id": "JING-0502"},
                        headers={"Authorization": f"Bearer {publisher}"}).json()
        assert made["code"] == "JING-0502" and made["url"].endswith("/t/JING-0502")
        png, svg = http.get(made["qrPng"]), http.get(made["qrSvg"])
        assert png.headers["content-type"] == "image/png" and png.content.startswith(b"\x89PNG")
        assert svg.headers["content-type"].startswith("image/svg+xml") and b"<svg" in svg.content
        page = http.get("/t/JING-0502")  # public: no key
        assert page.status_code == 200 and "净菜心" in page.text and "毒死蜱" in page.text
        article = page.text.split("<article", 1)[1].split("</article>", 1)[0]
        assert "<script" not in article and not re.search(r"\son[a-z]+=", article)  # the CSP to come allows neither
        assert http.get("/t/NO-SUCH-CODE").status_code == 404


def test_the_page_on_a_390_px_phone_in_chromium(tmp_path: Path, browser) -> None:
    from playwright.sync_api import expect

    settings = Settings(data_dir=tmp_path, rate_per_key=0, rate_per_address=0)
    store = Store.from_settings(settings)
    _chain(store)
    try:
        with served(create_app(settings, store=store)) as base, checked_page(browser, base, (390, 844)) as page:
            page.goto(f"{base}/t/JING-0502")
            expect(page.locator("ol.journey li")).to_have_count(3)
            expect(page.locator("ol.journey")).to_contain_text("种植")
            expect(page.locator("table")).to_contain_text("毒死蜱")
            expect(page.locator("table")).to_contain_text("合格")
            expect(page.locator(".map svg")).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.goto(f"{base}/trace/record")  # the cooperative's phone form
            expect(page.get_by_label("环节", exact=True)).to_be_visible()
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        store.close()
