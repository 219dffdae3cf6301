"""Citizen reports through the portal's forms: a photo is checked (PNG/JPEG, ≤ 5 MB, bounded dimensions,
decodable), a tracking number follows the report through received → assigned → handled → replied → closed with
public replies; senders are rate-limited; staff hide a report and it leaves public view; forms need their CSRF
token."""

from __future__ import annotations

import io
import random
import re

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from zhulian.access import create_key
from zhulian.config import Settings
from zhulian.environment.reports import MAX_PHOTO_BYTES, REPORTS_PER_HOUR, ReportService
from zhulian.errors import ZhulianError
from zhulian.store import Store
from zhulian.web.app import create_app
from zhulian.web.limits import REPORT_PHOTO_CAP


def image(kind: str = "PNG", size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(buffer, kind)
    return buffer.getvalue()


@pytest.fixture
def client(store: Store, tmp_path) -> TestClient:
    return TestClient(create_app(Settings(data_dir=tmp_path / "d", rate_per_key=0, rate_per_address=0), store=store))


def csrf(client: TestClient, path: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', client.get(path).text).group(1)


def submit(client: TestClient, photo: bytes | None = None, name: str = "p.png", **fields: str):  # type: ignore[no-untyped-def]
    data = {"kind": "fumes", "place": "海山街道沙头角路 12 号", "text": "餐馆油烟直排，晚饭时段最重",
            "csrf": csrf(client, "/env/reports/new")} | fields
    files = {"photo": (name, photo, "image/png")} if photo is not None else None
    return client.post("/env/reports", data=data, files=files, follow_redirects=False)


def test_a_report_with_a_photo_goes_through_the_whole_status_flow(store: Store, client: TestClient) -> None:
    sent = submit(client, image("JPEG"), "p.jpg", lon="114.23", lat="22.56")
    assert sent.status_code == 303
    tracking = sent.headers["location"].rsplit("/", 1)[1]
    assert re.fullmatch(r"HB\d{6}[2-9A-Z]{6}", tracking)
    page = client.get(f"/env/reports/{tracking}").text
    assert "已受理" in page and "餐馆油烟直排" in page
    photo = client.get(f"/env/reports/{tracking}/photo")
    assert photo.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(photo.content)).size == (64, 48)

    staff = TestClient(client.app)
    token = csrf(staff, "/signin")
    staff.post("/signin", data={"key": create_key(store, "publisher", node="440300")[1], "csrf": token})
    token = csrf(staff, "/env/centre")
    act = f"/env/centre/reports/{tracking}/advance"
    assert staff.post(act, data={"csrf": token, "state": "handled"}).status_code == 409  # no skipping
    for state in ("assigned", "handled"):
        assert staff.post(act, data={"csrf": token, "state": state}, follow_redirects=False).status_code == 303
    assert staff.post(act, data={"csrf": token, "state": "replied"}).status_code == 400  # a reply is needed
    staff.post(act, data={"csrf": token, "state": "replied", "reply": "已责令安装油烟净化器"})
    staff.post(act, data={"csrf": token, "state": "closed"})
    status = client.get(f"/api/v1/env/reports/{tracking}").json()
    assert [e["state"] for e in status["history"]] == ["received", "assigned", "handled", "replied", "closed"]
    assert status["history"][3]["reply"] == "已责令安装油烟净化器" and "address" not in status
    assert "已责令安装油烟净化器" in client.get(f"/env/reports/{tracking}").text
    assert client.post(act, data={"csrf": csrf(client, "/env/reports/new"), "state": "closed"}).status_code == 401

    staff.post(f"/env/centre/reports/{tracking}/hide", data={"csrf": token})
    assert client.get(f"/env/reports/{tracking}").status_code == 404
    assert client.get(f"/env/reports/{tracking}/photo").status_code == 404
    assert tracking in staff.get("/env/centre").text  # staff still see it


def test_photos_are_checked_and_senders_are_rate_limited(store: Store, client: TestClient) -> None:
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    refused = {
        "GIF": submit(client, gif.getvalue(), "p.gif"),
        "too wide": submit(client, image("PNG", (8001, 1))),
        "truncated": submit(client, image("PNG", (300, 300))[:200]),
        "not an image": submit(client, b"<svg xmlns='http://www.w3.org/2000/svg'/>", "p.svg"),
        "no text": submit(client, None, text=" "),
        "bad longitude": submit(client, None, lon="east"),
    }
    for why, answer in refused.items():
        assert answer.status_code == 400, why
        assert "class=\"error\"" in answer.text, why
    assert "PNG 或 JPEG" in refused["GIF"].text and "8000" in refused["too wide"].text
    assert submit(client, None, csrf="forged").status_code == 403
    with pytest.raises(ZhulianError) as over:
        ReportService(store).submit(kind="noise", place="x", text="y", address="a",
                                    photo=image("PNG") + bytes(MAX_PHOTO_BYTES))
    assert over.value.details[0].reason_zh == "照片超过 5 MB"
    for _ in range(REPORTS_PER_HOUR):
        assert submit(client, None).status_code == 303
    limited = submit(client, None)
    assert limited.status_code == 429 and "每小时最多" in limited.text


def noise_photo(size: int) -> bytes:
    """A PNG of random pixels (it does not compress) of about ``size`` bytes."""
    side = int((size / 3) ** 0.5)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), random.Random(18).randbytes(side * side * 3)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_3_mib_photo_passes_the_app_body_limit_and_an_over_cap_one_gets_a_bilingual_413(client: TestClient) -> None:
    photo = noise_photo(3 * 1024 * 1024)
    assert 3 * 1024 * 1024 <= len(photo) < MAX_PHOTO_BYTES
    sent = submit(client, photo)  # over the app's 2 MiB body limit, under the report's own cap
    assert sent.status_code == 303
    stored = client.get(sent.headers["location"] + "/photo")
    assert stored.content == photo

    over = submit(client, image("PNG") + bytes(REPORT_PHOTO_CAP))
    assert over.status_code == 413
    error = over.json()["error"]
    assert error["code"] == "too_large" and f"{REPORT_PHOTO_CAP:,}" in error["message"]
    assert "请求体超过" in error["message_zh"]


def test_the_report_form_cap_holds_the_largest_photo_the_service_accepts() -> None:
    assert MAX_PHOTO_BYTES + 16 * 1024 <= REPORT_PHOTO_CAP <= MAX_PHOTO_BYTES + 256 * 1024
