"""Bookings across nodes with real processes: Guangzhou's node holds an instrument; a hub harvests the record and
forwards bookings to Guangzhou, which applies its own rules and overlap check and confirms; the decision comes
back to the hub by itself; with Guangzhou down the hub books nothing and says so."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from test_sharing import PROFILE, at, monday
from tests.federation.cluster import Node


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_booking_made_on_a_hub_is_decided_at_the_instruments_node(tmp_path: Path) -> None:
    gz, hub = Node("gz", tmp_path / "gz", "440100"), Node("hub", tmp_path / "hub")
    try:
        gz.start()
        hub.start()
        publisher = gz.key("publisher")
        created = httpx.post(f"{gz.url}/api/v1/instruments", headers=bearer(publisher), timeout=30,
                             json={"type": "instrument", "name": {"zh": "场发射扫描电子显微镜"}, "host": "中山大学",
                                   "city": "440100", "node": "440100"})
        assert created.status_code == 201, created.text
        instrument = created.json()["id"]
        profile = httpx.put(f"{gz.url}/api/v1/instruments/{instrument}/profile", json=PROFILE,
                            headers=bearer(publisher), timeout=30)
        assert profile.status_code == 200, profile.text
        hub.cli("nodes", "add", "gz", gz.url, "--key", gz.key("harvester"), "--interval", "1")
        wait_for(lambda: httpx.get(f"{hub.url}/api/v1/instruments/{instrument}").status_code == 200,
                 "the hub to harvest the instrument")
        hub.cli("sharing", "relay", "add", "440100", gz.url, "--key", gz.key("reader"))

        day, user, other = monday(), hub.key("reader"), hub.key("reader")
        body = {"start": at(day, 9), "end": at(day, 11), "service": "sem-imaging", "samples": 1, "purpose": "表征"}
        path = f"/api/v1/instruments/{instrument}/bookings"
        booked = httpx.post(f"{hub.url}{path}", json=body, headers=bearer(user), timeout=30)
        assert booked.status_code == 201, booked.text
        booking = booked.json()
        assert booking["state"] == "requested" and booking["origin_node"] == "440100"
        clash = httpx.post(f"{hub.url}{path}", json={**body, "start": at(day, 10)}, headers=bearer(other), timeout=30)
        assert clash.status_code == 409 and clash.json()["error"]["details"][0]["value"]["start"] == booking["start"]
        direct = httpx.post(f"{gz.url}{path}", json={**body, "end": at(day, 10)}, headers=bearer(gz.key("reader")),
                            timeout=30)
        assert direct.status_code == 409  # Guangzhou's own check: the hub's booking holds the slot there
        outside = httpx.post(f"{hub.url}{path}", json={**body, "start": at(day, 7), "end": at(day, 8)},
                             headers=bearer(user), timeout=30)
        assert outside.status_code == 400 and "开放时间" in outside.json()["error"]["details"][0]["reason_zh"]

        inbox = httpx.get(f"{gz.url}/api/v1/bookings", params={"box": "host"}, headers=bearer(publisher)).json()
        assert [b["id"] for b in inbox["results"]] == [booking["id"]]
        assert inbox["results"][0]["user_name"].startswith("test reader")
        not_here = httpx.post(f"{hub.url}/api/v1/bookings/{booking['id']}/confirm", headers=bearer(hub.key("admin")))
        assert not_here.status_code == 409 and "440100" in not_here.json()["error"]["message_zh"]
        confirmed = httpx.post(f"{gz.url}/api/v1/bookings/{booking['id']}/confirm", headers=bearer(publisher))
        assert confirmed.json()["state"] == "confirmed"
        mirror = f"{hub.url}/api/v1/bookings/{booking['id']}"
        wait_for(lambda: httpx.get(mirror, headers=bearer(user)).json()["state"] == "confirmed",
                 "Guangzhou's confirmation to reach the hub")

        cancelled = httpx.post(f"{mirror}/cancel", json={"reason": "样品未到"}, headers=bearer(user), timeout=30)
        assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
        at_origin = httpx.get(f"{gz.url}/api/v1/bookings/{booking['id']}", headers=bearer(publisher)).json()
        assert at_origin["state"] == "cancelled" and at_origin["reason"] == "样品未到"

        used = httpx.post(f"{hub.url}{path}", json={**body, "start": at(day, 13), "end": at(day, 14)},
                          headers=bearer(user), timeout=30).json()
        httpx.post(f"{gz.url}/api/v1/bookings/{used['id']}/confirm", headers=bearer(publisher))
        done = httpx.post(f"{gz.url}/api/v1/bookings/{used['id']}/complete", json={"hours": 1},
                          headers=bearer(publisher))
        assert done.json()["fee"] == 400.0  # external rate, per hour, decided at Guangzhou
        wait_for(lambda: httpx.get(f"{hub.url}/api/v1/bookings/{used['id']}", headers=bearer(user)).json()["fee"]
                 == 400.0, "the use and fee to reach the hub")
        rated = httpx.post(f"{hub.url}/api/v1/bookings/{used['id']}/rate", json={"rating": 5}, headers=bearer(user))
        assert rated.json()["state"] == "rated"
        assert httpx.get(f"{gz.url}/api/v1/bookings/{used['id']}", headers=bearer(publisher)).json()["rating"] == 5

        gz.stop()
        down = httpx.post(f"{hub.url}{path}", json=body, headers=bearer(user), timeout=30)
        assert down.status_code == 503 and "稍后重试" in down.json()["error"]["message_zh"]
        mine = httpx.get(f"{hub.url}/api/v1/bookings", headers=bearer(user)).json()
        assert sorted(b["id"] for b in mine["results"]) == sorted([booking["id"], used["id"]])  # nothing new
    finally:
        hub.stop()
        gz.stop()
