"""HJ 212-2017 packets: framing, the standard's CRC, parsing data and flags, and the data response."""

from __future__ import annotations

from datetime import datetime

import pytest

from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import (PacketError, Reading, build, crc16, data_response, frame, parse,
                                       parse_segment)

STANDARD_EXAMPLE = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&"


def test_the_crc_is_the_standards() -> None:
    assert f"{crc16(STANDARD_EXAMPLE.encode()):04X}" == "1C80"
    assert frame(STANDARD_EXAMPLE) == f"##{len(STANDARD_EXAMPLE):04d}{STANDARD_EXAMPLE}1C80\r\n".encode()


def test_an_hourly_packet_parses_to_readings_in_china_time() -> None:
    segment = ("QN=20260301090000001;ST=22;CN=2061;PW=123456;MN=YT0001;Flag=5;CP=&&DataTime=20260301080000;"
               "a34004-Avg=35.2,a34004-Min=20,a34004-Max=51,a34004-Flag=N;a21005-Avg=0.6,a21005-Flag=N;"
               "a21026-Avg=9,a21026-Flag=D&&")
    packet = parse(frame(segment))
    assert (packet.cn, packet.mn, packet.pw, packet.interval, packet.wants_ack) == ("2061", "YT0001", "123456", "hour", True)
    assert packet.data_time == datetime(2026, 3, 1, 8, tzinfo=CHINA)
    pm25, co, so2 = packet.readings
    assert (pm25.code, pm25.value, pm25.low, pm25.high, pm25.valid) == ("a34004", 35.2, 20, 51, True)
    assert co.value == 0.6 and so2.flag == "D" and so2.valid is False  # a fault flag: kept, not assessed


def test_real_time_data_uses_rtd() -> None:
    packet = parse(build(mn="YT0001", pw="pw", cn="2011", data_time=datetime(2025, 6, 1, 12, 30, tzinfo=CHINA),
                         readings=[Reading("a34002", 48.0)]))
    assert packet.interval == "rtd" and packet.readings[0].value == 48 and "a34002-Rtd=48" in packet.cp


@pytest.mark.parametrize(("line", "reason"), [
    (b"#0010QN=1;ST=2\r\n", "must start with ##"),
    (b"##00a0" + STANDARD_EXAMPLE.encode() + b"1C80\r\n", "not four digits"),
    (f"##{len(STANDARD_EXAMPLE) + 1:04d}{STANDARD_EXAMPLE}1C80\r\n".encode(), "the length says"),
    (f"##{len(STANDARD_EXAMPLE):04d}{STANDARD_EXAMPLE}1C81\r\n".encode(), "does not match"),
    (frame("QN=1;ST=22;CN=2011;PW=1;Flag=5;CP=&&DataTime=20260301080000&&"), "missing field(s): MN"),
    (frame("QN=1;ST=22;CN=2011;PW=1;MN=A1;Flag=5;CP=&&a34004-Rtd=3&&"), "no DataTime"),
    (frame("QN=1;ST=22;CN=2011;PW=1;MN=A1;Flag=5;CP=&&DataTime=20261301080000;a34004-Rtd=3&&"), "DataTime"),
    (frame("QN=1;ST=22;CN=2011;PW=1;MN=A1;Flag=5;CP=&&DataTime=20260301080000;a34004-Rtd=x3&&"), "not a number"),
    (frame("QN=1;ST=22;CN=2011;PW=1;MN=A1;Flag=5;CP=&&DataTime=20260301080000;a34004-Rtd=3,a34004-Flag=Q&&"),
     "unknown data flag"),
    (frame("QN=1;ST=22;CN=2011;PW=1;MN=A1;Flag=5;CP=&&DataTime=20260301080000;a34004-Foo=3&&"), "not CODE-Rtd"),
    (frame("QN=1;ST=22;CN=2011;PW=1;MN=A1;Flag=5"), "no CP="),
])
def test_bad_packets_are_refused_with_a_reason(line: bytes, reason: str) -> None:
    with pytest.raises(PacketError) as refused:
        parse(line)
    assert reason in refused.value.reason and refused.value.reason_zh


def test_the_data_response_echoes_qn_and_is_itself_valid() -> None:
    packet = parse_segment("QN=20260301090000001;ST=22;CN=2061;PW=123456;MN=YT0001;Flag=5;"
                           "CP=&&DataTime=20260301080000;a34004-Avg=35,a34004-Flag=N&&")
    response = parse(data_response(packet))
    assert (response.qn, response.st, response.cn, response.mn, response.flag) == (
        "20260301090000001", "91", "9014", "YT0001", 4)
