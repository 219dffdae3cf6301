"""The environment module's public pages in Chromium (Playwright, Debian's Chromium as tests/test_browser.py
launches it), on a phone (390 px) and a desktop (1366 px): the live map, a station page with its charts, and a
citizen report's whole status flow, with no horizontal overflow and nothing fetched from elsewhere."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import pytest
from PIL import Image

from tests.browser import checked_page, require_chromium, served
from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.environment.hj212 import POLLUTANT_CODES
from zhulian.environment.service import HOUR, EnvironmentService
from zhulian.store import Store
from zhulian.web.app import create_app

require_chromium()

from playwright.sync_api import Page, expect  # noqa: E402

WIDTHS = {"phone": (390, 844), "desktop": (1366, 900)}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Iterator[tuple[str, Store]]:
    data = tmp_path_factory.mktemp("env-browser")
    settings = Settings(data_dir=data, rate_per_key=0, rate_per_address=0)
    store = Store.from_settings(settings)
    store.migrate()
    env = EnvironmentService(store)
    air = env.add_station(CLI_ADMIN, "YT0001", name="盐田港", city="440300", lon=114.27, lat=22.58, district="盐田区")
    env.add_station(CLI_ADMIN, "YT0101", name="盐田河口", city="440300", lon=114.24, lat=22.56, kind="water", water_target="Ⅲ")
    last = int(time.time()) // HOUR * HOUR - HOUR
    env.write([(air["id"], last - h * HOUR, POLLUTANT_CODES[p], "hour", value + (h % 24), None, None, None, "N")
               for h in range(30 * 24) for p, value in (("PM2.5", 40.0), ("PM10", 60.0), ("SO2", 8.0),
                                                       ("NO2", 30.0), ("CO", 0.6), ("O3", 50.0))])
    with served(create_app(settings, store=store)) as base:
        yield base, store
    store.close()


@pytest.fixture(params=list(WIDTHS))
def page(request, browser, site) -> Iterator[Page]:
    base, _store = site
    with checked_page(browser, base, WIDTHS[request.param]) as page:
        yield page


def assert_fits(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def test_the_live_map_and_a_station_page_with_its_charts(page: Page, site) -> None:
    base, _store = site
    page.goto(base + "/env")
    expect(page.locator("h1")).to_have_text("环境质量实时地图")
    expect(page.locator("svg.env-map circle")).to_have_count(2)
    expect(page.locator(".env-stations")).to_contain_text("AQI")
    expect(page.locator(".env-stations")).to_contain_text("盐田河口")
    assert_fits(page)
    page.locator(".env-stations").get_by_role("link", name="盐田港").click()
    expect(page.locator("h1")).to_have_text("盐田港")
    expect(page.locator("#status")).to_contain_text("AQI")
    expect(page.locator("svg.env-chart")).to_have_count(2)
    expect(page.locator("svg.env-chart polyline")).to_have_count(2)
    assert_fits(page)
    page.get_by_role("link", name="返回地图").click()
    page.get_by_role("link", name="空气质量日报").click()
    expect(page.locator("table")).to_contain_text("盐田港")
    assert_fits(page)


def test_a_citizen_report_through_its_whole_status_flow(page: Page, browser, site, tmp_path) -> None:
    base, store = site
    photo = tmp_path / "油烟.png"
    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 90, 90)).save(buffer, "PNG")
    photo.write_bytes(buffer.getvalue())
    page.goto(base + "/env")
    page.get_by_role("link", name="我要举报（油烟、噪声、废气、水体）").click()
    page.get_by_label("类型").select_option("fumes")
    page.get_by_label("地点").fill("沙头角路 12 号")
    page.get_by_label("情况描述").fill("餐馆油烟直排，晚饭时段最重")
    page.get_by_label("照片（可选，PNG 或 JPEG，不超过 5 MB）").set_input_files(str(photo))
    assert_fits(page)
    page.get_by_role("button", name="提交").click()
    tracking = page.locator("#tracking").inner_text()
    expect(page.locator(".env-flow li[aria-current]")).to_have_text("已受理")
    expect(page.locator("img.env-photo")).to_be_visible()
    assert page.evaluate("document.querySelector('img.env-photo').naturalWidth") == 320
    assert_fits(page)

    staff = browser.new_context(locale="zh-CN", viewport=page.viewport_size).new_page()
    staff.goto(base + "/signin")
    staff.get_by_label("API 密钥").fill(create_key(store, "publisher", node="440300")[1])
    staff.get_by_role("button", name="登录").click()
    staff.goto(base + "/env/centre")
    card = staff.locator(f".report[data-tracking='{tracking}']")
    card.get_by_role("button", name="转为“已派单”").click()
    card.get_by_role("button", name="转为“已处置”").click()
    card.get_by_label("答复").fill("已责令安装油烟净化器")
    card.get_by_role("button", name="转为“已答复”").click()
    assert_fits(staff)
    card.get_by_role("button", name="转为“已办结”").click()
    expect(card).to_contain_text("已办结")
    staff.context.close()

    page.reload()
    expect(page.locator(".env-flow li[aria-current]")).to_have_text("已办结")
    expect(page.locator("#history .reply")).to_have_text("已责令安装油烟净化器")
    page.goto(base + "/env/reports")
    page.get_by_label("查询编号").fill(tracking.lower())
    page.get_by_role("button", name="查询").click()
    expect(page.locator("#tracking")).to_have_text(tracking)
