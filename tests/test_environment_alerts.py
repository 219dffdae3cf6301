"""Alerts: exceedances against GB 3095-2026 (air), the station's GB 3838 class (water) and GB 3096 zone (noise),
rapid rises, silent stations and fault flags; one open alert per station × kind × parameter, escalated while it
lasts, acknowledged and closed by staff; delivered to webhooks with retries, by the lifespan's thread too."""

from __future__ import annotations

import csv
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from zhulian.access import CLI_ADMIN, create_key
from zhulian.config import Settings
from zhulian.environment.alerts import LIMITS_FILE, AlertService, air_limit
from zhulian.environment.service import HOUR, EnvironmentService
from zhulian.store import Store
from zhulian.web.app import create_app

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "env_standards"


class Receiver(BaseHTTPRequestHandler):
    """A webhook endpoint that fails its first request (HTTP 500) and takes the rest."""

    received: list[dict] = []
    failures_left = 1

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if Receiver.failures_left:
            Receiver.failures_left -= 1
            self.send_response(500)
        else:
            Receiver.received.append(body)
            self.send_response(204)
        self.end_headers()

    def log_message(self, *_args) -> None:  # type: ignore[no-untyped-def]
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received, Receiver.failures_left = [], 1
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    server.shutdown()
    server.server_close()


@pytest.fixture
def env(store: Store) -> EnvironmentService:
    service = EnvironmentService(store)
    service.add_station(CLI_ADMIN, "YT0001", name="盐田港", city="440300", lon=114.27, lat=22.58)
    service.add_station(CLI_ADMIN, "YT0101", name="盐田河", city="440300", lon=114.24, lat=22.57, kind="water",
                        water_target="Ⅲ")
    service.add_station(CLI_ADMIN, "YT0201", name="海山街道", city="440300", lon=114.23, lat=22.56, kind="noise", zone_class="1")
    return service


def test_the_packaged_limits_are_the_shared_gb3095_2026_table() -> None:
    packaged = list(csv.DictReader(LIMITS_FILE.open(encoding="utf-8")))
    assert packaged == list(csv.DictReader((SHARED / "gb3095_2026_air_limits.csv").open(encoding="utf-8")))
    assert air_limit("NO2", "1h", int(time.time())) == 200 and air_limit("PM2.5", "daily", int(time.time())) == 60


def hourly(env: EnvironmentService, mn: str, code: str, values: dict[int, float], flag: str = "N") -> None:
    station = env.station(mn)["id"]
    env.write([(station, hour, code, "hour", value, None, None, None, flag) for hour, value in values.items()])


def test_conditions_open_one_alert_each_escalate_and_are_closed_by_staff(env: EnvironmentService,
                                                                          receiver: str) -> None:
    alerts = AlertService(env)
    staff = create_key(env.store, "publisher", node="440300")
    from zhulian.access.keys import principal_by_id
    publisher = principal_by_id(env.store, staff[0]["id"])
    admin = principal_by_id(env.store, create_key(env.store, "admin")[0]["id"])
    alerts.add_webhook(admin, receiver)
    now = time.time()
    hour = int(now) // HOUR * HOUR - HOUR  # the last complete hour
    hourly(env, "YT0001", "a21004", {hour - HOUR: 60, hour: 260})  # NO2 over 200 µg/m³, and more than doubled
    hourly(env, "YT0001", "a34004", {hour - h * HOUR: 75 for h in range(24)})  # PM2.5 24-hour mean over 60
    hourly(env, "YT0001", "a21026", {hour: 120})  # SO2 under 500: nothing
    hourly(env, "YT0101", "w01009", {hour: 4.2})  # dissolved oxygen under class Ⅲ's 5 mg/L
    hourly(env, "YT0101", "w21003", {hour: 0.8})  # ammonia within class Ⅲ
    hourly(env, "YT0201", "LA", {hour: 70})  # over zone 1 by day and by night
    env.write([(env.station("YT0101")["id"], hour + 600, "w01018", "minute", 12.0, None, None, None, "D")])

    opened = alerts.check(now)
    found = {(a["mn"], a["kind"], a["code"]) for a in opened}
    assert found == {("YT0001", "exceedance", "a21004"), ("YT0001", "rise", "a21004"),
                     ("YT0001", "exceedance", "a34004"), ("YT0101", "exceedance", "w01009"),
                     ("YT0201", "exceedance", "LA"), ("YT0101", "fault", "w01018")}
    no2 = next(a for a in opened if a["kind"] == "exceedance" and a["code"] == "a21004")
    assert no2["value"] == 260 and no2["threshold"] == 200 and "GB 3095-2026" in no2["message_zh"]
    assert alerts.check(now) == []  # the same hour again: nothing new
    assert len(alerts.alerts(publisher)) == 6

    hourly(env, "YT0001", "a21004", {hour + h * HOUR: 250 for h in range(1, 4)})  # still high three hours on
    escalated = alerts.check(now + 3 * HOUR)
    assert [(a["kind"], a["code"], a["level"]) for a in escalated] == [("exceedance", "a21004", 2)]
    assert len(alerts.alerts(publisher)) == 6  # still one open alert for it

    with httpx.Client(timeout=5) as client:
        assert alerts.deliver_due(now, client) == 6  # the first POST failed and waits its retry
        assert alerts.deliver_due(now, client) == 0
        assert alerts.deliver_due(now + 31, client) == 1
    assert sorted(m["event"] for m in Receiver.received) == ["escalated"] + ["opened"] * 6
    assert {d["state"] for d in alerts.deliveries()} == {"delivered"}

    alerts.acknowledge(publisher, no2["id"], "已通知执法队")
    closed = alerts.close(publisher, no2["id"])
    assert closed["state"] == "closed" and closed["closed_by"] == publisher.id and closed["note"] == "已通知执法队"
    assert len(alerts.alerts(publisher, "closed")) == 1
    elsewhere = principal_by_id(env.store, create_key(env.store, "publisher", node="440100")[0]["id"])
    assert alerts.alerts(elsewhere) == []
    again = alerts.check(now + 4 * HOUR)  # NO2 hour missing now: only the silent rule could fire, and it does not
    assert again == []

    silent = alerts.check(now + (4 + 3) * HOUR)
    assert {(a["mn"], a["kind"]) for a in silent} >= {("YT0201", "silent"), ("YT0101", "silent")}


def test_staff_act_on_alerts_over_the_api_and_the_lifespan_thread_delivers(
        store: Store, env: EnvironmentService, receiver: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZHULIAN_ENV_ALERT_INTERVAL_S", "0.1")
    Receiver.failures_left = 0
    settings = Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0)
    admin = {"Authorization": f"Bearer {create_key(store, 'admin')[1]}"}
    publisher = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440300')[1]}"}
    other = {"Authorization": f"Bearer {create_key(store, 'publisher', node='440100')[1]}"}
    with TestClient(create_app(settings, store=store)) as client:
        assert client.post("/api/v1/env/webhooks", json={"url": receiver}, headers=publisher).status_code == 403
        assert client.post("/api/v1/env/webhooks", json={"url": "ftp://x"}, headers=admin).status_code == 400
        assert client.post("/api/v1/env/webhooks", json={"url": receiver}, headers=admin).status_code == 201
        hour = int(time.time()) // HOUR * HOUR - HOUR
        # CO over 10 mg/m³, reported while the app runs (the next hour too: the thread may look after it turns)
        hourly(env, "YT0001", "a21005", {hour: 14.0, hour + HOUR: 14.0})
        deadline = time.monotonic() + 20
        while not Receiver.received:
            assert time.monotonic() < deadline, "the alert thread delivered nothing"
            time.sleep(0.05)
        assert Receiver.received[0]["alert"]["code"] == "a21005"
        assert client.get("/api/v1/env/alerts").status_code == 401
        listed = client.get("/api/v1/env/alerts", headers=publisher).json()["results"]
        assert [(a["kind"], a["code"], a["state"]) for a in listed] == [("exceedance", "a21005", "open")]
        alert = listed[0]["id"]
        assert client.post(f"/api/v1/env/alerts/{alert}/close", headers=other).status_code == 403
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/signin").text).group(1)
        client.post("/signin", data={"key": publisher["Authorization"].split()[1], "csrf": token})
        centre = client.get("/env/centre").text  # the monitoring centre's page shows it, with its actions
        assert "盐田港（YT0001）：CO 小时值 14 超过 GB 3095-2026 限值 10" in centre
        token = re.search(r'name="csrf" value="([^"]+)"', centre).group(1)
        assert client.post(f"/env/centre/alerts/{alert}/acknowledge", data={"csrf": "forged"}).status_code == 403
        client.post(f"/env/centre/alerts/{alert}/acknowledge", data={"csrf": token})
        assert client.get("/api/v1/env/alerts", headers=publisher).json()["results"][0]["state"] == "acknowledged"
        assert client.post(f"/api/v1/env/alerts/{alert}/close", headers=publisher).json()["state"] == "closed"
        assert client.post(f"/api/v1/env/alerts/{alert}/close", headers=publisher).status_code == 409
        audit = client.get("/api/v1/audit", headers=admin).json()
        entries = audit["results"] if isinstance(audit, dict) else audit
        assert [e["action"] for e in entries if e["action"].startswith("env.")] == [  # who did what, kept
            "env.webhook", "env.acknowledge", "env.close"]


def test_the_command_line_checks_lists_and_registers_webhooks(run, receiver: str) -> None:
    run("env", "station", "add", "YT0001", "--name", "盐田港", "--city", "440300", "--lon", "114.27", "--lat", "22.58")
    run("env", "alerts", "webhook", receiver)
    assert "http:// 或 https://" in run("env", "alerts", "webhook", "ftp://nowhere", code=2).output
    checked = json.loads(run("env", "alerts", "check", "--json").output)
    assert checked == {"raised": [], "delivered": 0}  # a new station, no values: nothing to say yet
    assert json.loads(run("env", "alerts", "list", "--json").output) == []
