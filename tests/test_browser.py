"""The portal in a real browser (Playwright driving Debian's Chromium), as a new user meets it.

Needs /usr/bin/chromium (``apt-get install -y chromium``); skipped without it unless
``ZHULIAN_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser import checked_page, require_chromium, served
from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.records.reference import load_region
from zhulian.store import Store
from zhulian.web.app import create_app

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, Store]]:
    data = tmp_path_factory.mktemp("browser")
    settings = Settings(data_dir=data, rate_per_key=0, rate_per_address=0)
    store = Store.from_settings(settings)
    load_region(store)
    with served(create_app(settings, store=store)) as base:
        yield base, store
    store.close()


@pytest.fixture(params=[pytest.param((1366, 768), id="desktop"), pytest.param((390, 844), id="phone")])
def screen(request) -> tuple[int, int]:
    return request.param


@pytest.fixture
def page(browser, site) -> Iterator[Page]:
    yield from _checked_page(browser, site, (1280, 720))


@pytest.fixture
def sized_page(browser, site, screen) -> Iterator[Page]:
    """A page at a desktop's and a phone's width, with the same checks as ``page``."""
    yield from _checked_page(browser, site, screen)


def _checked_page(browser, site, size: tuple[int, int]) -> Iterator[Page]:
    base, _store = site
    with checked_page(browser, base, size) as page:
        yield page


def test_search_from_the_home_page_and_open_a_result(page: Page, site) -> None:
    base, _store = site
    page.goto(base + "/")
    page.get_by_role("searchbox").fill("微电子")
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{base}/search?q=%E5%BE%AE%E7%94%B5%E5%AD%90")
    page.locator("a.hit-title", has_text="深港微电子协同创新联盟").first.click()
    expect(page.locator("h1")).to_have_text("深港微电子协同创新联盟")


def test_the_alliance_and_both_lead_units_in_one_click_then_follow_one(page: Page, site) -> None:
    base, _store = site
    page.goto(base + "/")
    page.get_by_role("navigation").get_by_role("link", name="协同创新").click()
    alliance = page.locator("article", has_text="深港微电子协同创新联盟")
    expect(alliance.get_by_role("link", name="深圳微纳研究院")).to_be_visible()
    expect(alliance.get_by_role("link", name="香港应用科技研究院")).to_be_visible()
    centre = page.locator("article", has_text="珠三角科技金融产业协同创新发展中心")
    centre.get_by_role("link", name="珠三角科技金融产业协同创新发展中心").click()
    page.locator(".relations").get_by_role("link", name="广东财经大学").click()
    expect(page.locator("h1")).to_have_text("广东财经大学")
    expect(page.locator(".relations")).to_contain_text("广东省电子商务技术市场应用重点实验室")


def test_the_language_switch_persists_across_pages(page: Page, site) -> None:
    base, _store = site
    page.goto(base + "/policies")
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Policy targets")
    page.get_by_role("link", name="Home").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("svg.region-map")).to_contain_text("Guangzhou")
    page.locator("#lang-switch").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")


def test_a_publisher_uploads_a_filled_template_and_sees_the_new_record(page: Page, site, tmp_path) -> None:
    base, store = site
    _key, secret = create_key(store, "publisher", node="441900", name="东莞数据员")
    page.goto(base + "/data")
    page.get_by_role("link", name="登录").first.click()
    page.get_by_label("API 密钥").fill(secret)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(base + "/data")
    expect(page.locator("main")).to_contain_text("东莞数据员")
    upload = tmp_path / "platforms.csv"
    upload.write_text("中文名称 (name.zh),城市 (city),平台类型 (kind),研究方向 (research_directions)\n"
                      "东莞松山湖材料实验平台,441900,新型研发机构,先进材料;智能制造\n", encoding="utf-8-sig")
    page.get_by_label("类型").select_option("platform")
    page.get_by_label("文件").set_input_files(str(upload))
    page.get_by_role("button", name="导入").click()
    expect(page.locator("#created")).to_have_text("1")
    page.locator("main").get_by_role("link", name="创新平台").click()
    page.get_by_role("link", name="东莞松山湖材料实验平台").click()
    expect(page.locator("h1")).to_have_text("东莞松山湖材料实验平台")
    expect(page.locator(".fields").first).to_contain_text("先进材料")


# -- the map, charts, phone layouts and the API documentation, at 1366 and 390 px --------------------------

PORTAL_PAGES = ["/", "/search?q=%E5%BE%AE%E7%94%B5%E5%AD%90", "/collaboration", "/match?q=%E9%94%82%E7%94%B5%E6%B1%A0",
                "/network", "/policies", "/indicators", "/indicators/city/440100", "/indicators/rd_gdp_ratio", "/data",
                "/signin", "/orgs", "/platforms", "/match/interests", "/docs"]


def _overflow(page: Page) -> int:
    """How far the page reaches past the right edge of the screen, in CSS pixels."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def _smallest_visible_label(page: Page, selector: str) -> float:
    """The smallest rendered font size, in screen pixels, of the visible text elements the selector finds."""
    return page.evaluate("""selector => Math.min(...[...document.querySelectorAll(selector)]
        .filter(t => t.getClientRects().length && t.textContent.trim())
        .map(t => { const m = t.getScreenCTM ? t.getScreenCTM() : {a: 1, b: 0};  // rotation-proof scale
                    return parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b); }))""",
                         selector)


def test_the_home_map_draws_eleven_regions_that_lead_to_their_records(sized_page: Page, site, screen) -> None:
    base, _store = site
    sized_page.goto(base + "/")
    regions = sized_page.locator("svg.region-map path.region")
    expect(regions).to_have_count(11)
    expect(sized_page.locator("svg.region-map path.circle")).to_have_count(3)
    assert sized_page.locator("svg.region-map path.region").first.bounding_box()["width"] > 5
    assert _smallest_visible_label(sized_page, "svg.region-map text") >= 11
    assert _overflow(sized_page) == 0
    sized_page.locator('svg.region-map path.region[data-adcode="440300"]').click(force=True)
    expect(sized_page).to_have_url(base + "/orgs?filter=city:440300")
    expect(sized_page.locator("main")).to_contain_text("深圳")


def test_indicators_show_a_map_and_a_chart_with_legible_labels(sized_page: Page, site, screen) -> None:
    base, _store = site
    sized_page.goto(base + "/indicators")
    expect(sized_page.locator("#indicator-chart svg")).to_be_visible()
    expect(sized_page.locator("#region-map svg.region-map path.region")).to_have_count(11)
    assert _smallest_visible_label(sized_page, "#indicator-chart svg text, svg.region-map text") >= 11
    assert _overflow(sized_page) == 0


def test_the_city_matrix_and_network_labels_are_legible_on_a_phone(browser, site) -> None:
    base, _store = site
    for page in _checked_page(browser, site, (390, 844)):
        page.goto(base + "/network")
        assert _smallest_visible_label(page, "#city-matrix svg text, #graph svg text, svg.region-map text") >= 11
        assert _overflow(page) == 0


def test_no_portal_page_is_wider_than_the_screen(sized_page: Page, site, screen) -> None:
    base, _store = site
    too_wide = {}
    for path in PORTAL_PAGES:
        sized_page.goto(base + path)
        sized_page.wait_for_load_state("load")
        if _overflow(sized_page) > 0:
            too_wide[path] = _overflow(sized_page)
    assert too_wide == {}, f"pages wider than {screen[0]} px: {too_wide}"


def test_docs_render_the_openapi_31_document_with_its_operations(sized_page: Page, site, screen) -> None:
    base, _store = site
    sized_page.goto(base + "/docs")
    operations = sized_page.locator(".opblock-summary-path")
    expect(operations.first).to_be_visible(timeout=15_000)
    assert operations.count() > 20
    expect(sized_page.locator("#swagger-ui")).to_contain_text("/api/v1/{collection}")
    expect(sized_page.locator("#swagger-ui")).not_to_contain_text("does not specify a valid version field")
