"""HJ 212 over a real TCP socket (and MQTT): an hour of a station's packets gives the AQI, primary pollutants and
category of the standard in force on each side of 2026-03-01; bad packets are refused with a reason while the
other connections carry on."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from zhulian.access import CLI_ADMIN
from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import POLLUTANT_CODES, Reading, build, frame, parse
from zhulian.environment.ingest import Ingestor, Listener, MqttIngest
from zhulian.environment.service import EnvironmentService
from zhulian.store import Store

BEFORE = datetime(2026, 2, 28, 23, tzinfo=CHINA)
AFTER = datetime(2026, 3, 1, 0, tzinfo=CHINA)
# Minute values alternate either side of these hourly means: PM2.5 70 is 良 (94) under HJ 633-2012 and
# 轻度污染 (110) under HJ 633-2026.
AIR = {"PM2.5": 70, "PM10": 60, "SO2": 8, "NO2": 30, "CO": 0.6, "O3": 50}
SOURCE = Path(__file__).resolve().parents[1] / "src"
SPREAD = {"PM2.5": 5, "PM10": 5, "SO2": 2, "NO2": 5, "CO": 0.1, "O3": 5}


@pytest.fixture
def env(store: Store) -> EnvironmentService:
    service = EnvironmentService(store)
    service.add_station(CLI_ADMIN, "YT0001", name="盐田港", city="440300", lon=114.27, lat=22.58, password="secret")
    service.add_station(CLI_ADMIN, "YT0002", name="大梅沙", city="440300", lon=114.31, lat=22.59, password="other")
    return service


def minute_packet(mn: str, pw: str, moment: datetime, air: dict[str, float]) -> bytes:
    sign = 1 if moment.minute % 2 else -1
    readings = [Reading(POLLUTANT_CODES[p], round(v + sign * SPREAD.get(p, 0), 3)) for p, v in air.items()]
    return build(mn=mn, pw=pw, cn="2051", data_time=moment, readings=readings)


async def send_hour(port: int, mn: str, pw: str, hour: datetime, air: dict[str, float]) -> list[str]:
    """A station's hour of minute packets over one connection; the QN of each data response."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    answered = []
    try:
        for minute in range(60):
            writer.write(minute_packet(mn, pw, hour + timedelta(minutes=minute), air))
            await writer.drain()
            answered.append(parse(await asyncio.wait_for(reader.readuntil(b"\r\n"), 20)))
    finally:
        writer.close()
    assert {a.cn for a in answered} == {"9014"} and {a.mn for a in answered} == {mn}
    return [a.qn for a in answered]


def with_listener(env: EnvironmentService, scenario):  # type: ignore[no-untyped-def]
    async def run():  # type: ignore[no-untyped-def]
        ingestor = Ingestor(env)
        ingestor.start()
        listener = Listener(ingestor)
        server = await listener.start("127.0.0.1", 0)
        try:
            return await scenario(server.sockets[0].getsockname()[1]), listener
        finally:
            server.close()
            await server.wait_closed()
            ingestor.stop()

    return asyncio.run(run())


def test_an_hour_over_tcp_on_each_side_of_2026_03_01_gives_the_aqi_then_in_force(env: EnvironmentService) -> None:
    async def scenario(port: int):  # type: ignore[no-untyped-def]
        return await asyncio.gather(send_hour(port, "YT0001", "secret", BEFORE, AIR),
                                    send_hour(port, "YT0001", "secret", AFTER, AIR))

    (before_qns, after_qns), _ = with_listener(env, scenario)
    assert len(set(before_qns)) == 60 and len(set(after_qns)) == 60
    old = env.aqi(station="YT0001", at=BEFORE)["results"][0]
    new = env.aqi(station="YT0001", at=AFTER)["results"][0]
    assert (old["standard"], old["aqi"], old["primary_pollutants"], old["category"]) == ("HJ633-2012", 94, ["PM2.5"], "良")
    assert (new["standard"], new["aqi"], new["primary_pollutants"], new["category"]) == (
        "HJ633-2026", 110, ["PM2.5"], "轻度污染")


def test_over_tcp_a_missing_pollutant_and_the_so2_rule(env: EnvironmentService) -> None:
    no_co = {k: v for k, v in AIR.items() if k != "CO"} | {"PM2.5": 30}
    so2_high = AIR | {"PM2.5": 20, "SO2": 900}

    async def scenario(port: int):  # type: ignore[no-untyped-def]
        await send_hour(port, "YT0001", "secret", AFTER + timedelta(hours=1), no_co)
        await send_hour(port, "YT0002", "other", AFTER + timedelta(hours=1), so2_high)

    with_listener(env, scenario)
    missing = env.aqi(station="YT0001", at=AFTER + timedelta(hours=1))["results"][0]
    assert missing["aqi"] is None and missing["missing"] == ["CO"] and missing["iaqi"]["PM10"] == 58
    sulphur = env.aqi(station="YT0002", at=AFTER + timedelta(hours=1))["results"][0]
    assert (sulphur["aqi"], sulphur["primary_pollutants"], sulphur["category"]) == (200, ["SO2"], "中度污染")


def test_bad_packets_are_refused_with_a_reason_and_do_not_hold_up_others(env: EnvironmentService,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    good = minute_packet("YT0002", "other", AFTER, AIR)
    bad_crc = good[:-6] + (b"0000" if good[-6:-2] != b"0000" else b"1111") + b"\r\n"
    flood = 800

    async def flooder(port: int) -> str:
        """Thousands of bad packets, then a good one: its answer shows the flood was read to the end."""
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(bad_crc * flood + minute_packet("YT0002", "other", AFTER + timedelta(minutes=1), AIR))
        await writer.drain()
        answer = parse(await asyncio.wait_for(reader.readuntil(b"\r\n"), 30))
        writer.close()
        return answer.mn

    async def mixed(port: int) -> list[str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        wrong_pw = minute_packet("YT0001", "guess", AFTER, AIR)
        unknown = minute_packet("ZZ9999", "x", AFTER, AIR)
        # A command packet (not data) from an unregistered MN is refused too; from a station it gets no data response.
        command = frame("QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;"
                        "CP=&&RtdInterval=30&&")
        known_command = frame("QN=1;ST=22;CN=1062;PW=other;MN=YT0002;Flag=5;CP=&&RtdInterval=30&&")
        writer.write(wrong_pw + unknown + command + known_command + b"garbage\r\n" + good)
        await writer.drain()
        answer = parse(await asyncio.wait_for(reader.readuntil(b"\r\n"), 20))
        writer.close()
        return [answer.mn, answer.qn]

    async def scenario(port: int):  # type: ignore[no-untyped-def]
        return await asyncio.gather(flooder(port), mixed(port), send_hour(port, "YT0001", "secret", AFTER, AIR))

    with caplog.at_level(logging.WARNING, logger="zhulian.environment.ingest"):
        (flooder_answer, answered, qns), listener = with_listener(env, scenario)
    assert flooder_answer == "YT0002" and answered[0] == "YT0002" and len(qns) == 60  # only good packets answered
    assert listener.refused == flood + 4
    reasons = caplog.text
    assert "wrong PW for MN YT0001" in reasons and "unknown MN ZZ9999" in reasons and "must start with ##" in reasons
    assert "unknown MN 010000A8900016F000169DC0" in reasons
    assert "does not match the data" in reasons
    assert reasons.count("does not match the data") <= 20  # a flood is counted, not logged packet by packet
    assert env.aqi(station="YT0001", at=AFTER)["results"][0]["aqi"] == 110


def _broker_reachable() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 1883), timeout=2).close()
        return True
    except OSError:
        return False


def test_mqtt_packets_on_a_stations_topic_are_stored_and_answered(env: EnvironmentService) -> None:
    if not _broker_reachable():
        pytest.skip("no MQTT broker at 127.0.0.1:1883")
    import paho.mqtt.client as mqtt

    topic = f"zhulian-test/{uuid.uuid4().hex[:8]}"
    ingestor = Ingestor(env)
    ingestor.start()
    subscriber = MqttIngest(ingestor, "127.0.0.1", 1883, topic)
    subscriber.start()
    acks: list[bytes] = []
    got_ack = threading.Event()
    station = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"station-{uuid.uuid4().hex[:6]}")
    station.on_message = lambda _c, _u, message: (acks.append(message.payload), got_ack.set())
    try:
        assert subscriber.subscribed.wait(10)
        station.connect("127.0.0.1", 1883)
        station.loop_start()
        station.subscribe(f"{topic}/YT0001/ack", qos=1)
        time.sleep(0.3)  # the subscription settles before the station publishes
        hour = AFTER + timedelta(hours=5)
        station.publish(f"{topic}/YT0002", minute_packet("YT0001", "secret", hour, AIR), qos=1)  # wrong topic
        for minute in range(60):
            station.publish(f"{topic}/YT0001", minute_packet("YT0001", "secret", hour + timedelta(minutes=minute), AIR),
                            qos=1)
        deadline = time.monotonic() + 15
        while ingestor.stored < 360 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert got_ack.wait(10) and parse(acks[0]).cn == "9014"
    finally:
        station.loop_stop()
        station.disconnect()
        subscriber.stop()
        ingestor.stop()
    assert ingestor.stored == 360 and subscriber.refusals.total == 1
    assert env.aqi(station="YT0001", at=hour)["results"][0]["aqi"] == 110


def test_the_web_app_starts_the_listener_when_the_port_is_set(env: EnvironmentService, tmp_path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from zhulian.config import Settings
    from zhulian.web.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("ZHULIAN_HJ212_PORT", str(port))
    monkeypatch.setenv("ZHULIAN_HJ212_HOST", "127.0.0.1")
    app = create_app(Settings(data_dir=tmp_path / "data", rate_per_key=0, rate_per_address=0), store=env.store)
    with TestClient(app), socket.create_connection(("127.0.0.1", port), timeout=10) as station:
        station.sendall(minute_packet("YT0001", "secret", AFTER, AIR))
        assert parse(station.makefile("rb").readline()).cn == "9014"


def test_an_app_whose_listener_cannot_bind_fails_to_start_and_leaves_no_thread(env: EnvironmentService, tmp_path,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from zhulian.config import Settings
    from zhulian.web.app import create_app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("ZHULIAN_HJ212_PORT", str(taken.getsockname()[1]))
        monkeypatch.setenv("ZHULIAN_HJ212_HOST", "127.0.0.1")
        before = set(threading.enumerate())
        for attempt in range(3):
            app = create_app(Settings(data_dir=tmp_path / f"data{attempt}", rate_per_key=0, rate_per_address=0),
                             store=env.store)
            with pytest.raises(OSError), TestClient(app):
                pass
    assert [thread.name for thread in threading.enumerate()  # AnyIO's idle workers end on their own
            if thread not in before and not thread.name.startswith("AnyIO worker")] == []


def test_a_station_resending_a_backlog_without_waiting_is_answered_in_order(env: EnvironmentService) -> None:
    async def scenario(port: int) -> list[str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        backlog = [minute_packet("YT0001", "secret", AFTER + timedelta(hours=3, minutes=m), AIR) for m in range(60)]
        writer.write(b"".join(backlog))
        await writer.drain()
        answers = [parse(await asyncio.wait_for(reader.readuntil(b"\r\n"), 20)).qn for _ in backlog]
        writer.close()
        return answers

    answers, _ = with_listener(env, scenario)
    assert answers == [f"{AFTER + timedelta(hours=3, minutes=m):%Y%m%d%H%M%S}000" for m in range(60)]
    assert env.aqi(station="YT0001", at=AFTER + timedelta(hours=3))["results"][0]["aqi"] == 110


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect_when_listening(port: int, server: subprocess.Popen, seconds: float = 60) -> socket.socket:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return socket.create_connection(("127.0.0.1", port), timeout=20)
        except OSError:
            assert server.poll() is None, server.stderr.read().decode()
            assert time.monotonic() < deadline, f"nothing listened on port {port} within {seconds} s"
            time.sleep(0.1)


def test_serve_with_hj212_port_stores_a_packet_sent_to_that_port(env: EnvironmentService, database_url: str,
                                                                 tmp_path) -> None:
    hj212 = free_port()
    environment = {**os.environ, "ZHULIAN_DATA_DIR": str(tmp_path / "data"), "ZHULIAN_DATABASE_URL": database_url,
                   "ZHULIAN_ENV_ALERT_INTERVAL_S": "0", "PYTHONPATH": str(SOURCE)}
    environment.pop("ZHULIAN_HJ212_PORT", None)
    server = subprocess.Popen([sys.executable, "-m", "zhulian.cli", "serve", "--port", str(free_port()),
                               "--hj212-port", str(hj212)], env=environment, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    try:
        with connect_when_listening(hj212, server) as station:
            station.sendall(minute_packet("YT0001", "secret", AFTER, AIR))
            answer = parse(station.makefile("rb").readline())
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert answer.cn == "9014" and answer.mn == "YT0001"
    stored = env.hourly_values([env.station("YT0001")["id"]], [POLLUTANT_CODES["PM2.5"]], 0, 2**40)
    assert list(stored.values()) == [AIR["PM2.5"] - SPREAD["PM2.5"]]  # minute 0: the value below the mean


def test_serve_refuses_the_hj212_port_with_several_workers(run) -> None:  # type: ignore[no-untyped-def]
    refused = run("serve", "--workers", "2", "--hj212-port", "9212", code=2)
    assert "--workers 1" in refused.output and "单个工作进程" in refused.output
    # a refused serve leaves the process as it found it: every app made later would try to bind that port
    assert "ZHULIAN_HJ212_PORT" not in os.environ


def test_serve_help_names_the_hj212_port_in_both_languages(run) -> None:  # type: ignore[no-untyped-def]
    shown = " ".join(re.sub("[│╭╮╰╯─]", " ", run("serve", "--help").output).split())  # as read, unwrapped
    assert "--hj212-port" in shown and "接收监测站点的 HJ 212-2017 数据" in shown
    assert "take monitoring stations' HJ 212-2017 data on this TCP port" in shown
