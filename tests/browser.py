"""What the browser tests share: Debian's Chromium (Playwright never downloads a browser of its own), a portal served
on a free port, and pages that fail their test on a console error or a request leaving the local server.

Without /usr/bin/chromium (``apt-get install -y chromium``) a browser test is skipped, unless
``ZHULIAN_REQUIRE_BROWSER=1`` (set by ``.ci/run``) makes that a failure.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def require_chromium() -> None:
    """Skip the calling test module when Chromium is missing (fail instead where CI asks for the browser)."""
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("ZHULIAN_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"{CHROMIUM} is required for the browser tests: apt-get install -y chromium")
    pytest.skip(f"{CHROMIUM} not installed (apt-get install -y chromium)", allow_module_level=True)


@contextmanager
def launched() -> Iterator[Any]:
    """Chromium, headless, for one test module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def served(app: Any) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, in a thread; its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def checked_page(browser: Any, base: str, size: tuple[int, int]) -> Iterator[Any]:
    """A page of ``size`` (width, height) in Chinese; after the test, no console error and no request that left
    ``base`` (every asset ships with the package: no CDN)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": size[0], "height": size[1]})
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    try:
        yield page
    finally:
        context.close()
    assert errors == [], f"console errors: {errors}"
    outside = [url for url in requests if not url.startswith(base) and not url.startswith(("data:", "about:"))]
    assert outside == [], f"requests left the local server: {outside}"
