"""HJ 212-2017 packets: ``##`` + four-digit data-segment length + data segment + CRC16 (four hex digits) + CRLF.

The data segment is ``QN=…;ST=…;CN=…;PW=…;MN=…;Flag=…;CP=&&…&&``; inside CP, ``;`` separates a pollutant's groups
and ``,`` the fields of one (``DataTime=20260301080000;a34004-Avg=35,a34004-Flag=N;…``). ``DataTime`` is China time
(UTC+8). Everything here is pure: parsing refuses a bad packet with a ``PacketError`` that says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from zhulian.environment.aqi import CHINA

MAX_SEGMENT = 9999  # four digits of length
# CN -> the interval its values cover, and the statistic that is the value
DATA_COMMANDS = {"2011": ("rtd", "Rtd"), "2051": ("minute", "Avg"), "2061": ("hour", "Avg"), "2031": ("day", "Avg")}
STATISTICS = ("Rtd", "Avg", "Min", "Max", "Cou", "Flag")
VALID_FLAG = "N"
# Flags the standard marks as not normal; their values are kept but left out of assessment.
EXCLUDED_FLAGS = {"F": "停运 stopped", "M": "维护 maintenance", "S": "手工输入 manual", "D": "故障 fault",
                  "C": "校准 calibration", "T": "超测上限 over range", "B": "通讯异常 communication fault"}
ACK_WANTED = 0b1  # Flag bit A: the sender wants a data response
VERSION_2017 = 0b100  # Flag bits V5..V0 = 1: HJ 212-2017
DATA_RESPONSE = "9014"

# The air pollutant codes of the standard's table, to the names HJ 633 uses (µg/m³, CO mg/m³).
AIR_CODES = {"a34004": "PM2.5", "a34002": "PM10", "a21026": "SO2", "a21004": "NO2", "a05024": "O3", "a21005": "CO"}
POLLUTANT_CODES = {name: code for code, name in AIR_CODES.items()}

_HEADER_FIELDS = ("QN", "ST", "CN", "PW", "MN", "Flag")
_CODE = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{1,15}$")
_MN = re.compile(r"^[0-9A-Za-z]{1,24}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][-+]?\d+)?$")


class PacketError(ValueError):
    """A refused packet: ``reason`` (English) and ``reason_zh``."""

    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


@dataclass
class Reading:
    """One pollutant's values of one packet: the value (Rtd or Avg), the statistics and the data flag."""

    code: str
    value: float | None
    low: float | None = None
    high: float | None = None
    count: float | None = None
    flag: str = VALID_FLAG

    @property
    def valid(self) -> bool:
        return self.flag == VALID_FLAG and self.value is not None


@dataclass
class Packet:
    qn: str
    st: str
    cn: str
    pw: str
    mn: str
    flag: int
    cp: str
    data_time: datetime | None = None
    readings: list[Reading] = field(default_factory=list)
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def interval(self) -> str | None:
        return DATA_COMMANDS[self.cn][0] if self.cn in DATA_COMMANDS else None

    @property
    def wants_ack(self) -> bool:
        return bool(self.flag & ACK_WANTED)


def _crc_step(register: int) -> int:
    for _ in range(8):
        register = (register >> 1) ^ 0xA001 if register & 1 else register >> 1
    return register


_CRC_TABLE = tuple(_crc_step(byte) for byte in range(256))


def crc16(data: bytes) -> int:
    """The standard's CRC16 (appendix A): register 0xFFFF; for each byte, the register's high byte XOR the byte,
    shifted right eight times through polynomial 0xA001 (here by table, one look-up a byte)."""
    register = 0xFFFF
    for byte in data:
        register = _CRC_TABLE[(register >> 8) ^ byte]
    return register


def frame(segment: str) -> bytes:
    """A data segment framed for the wire."""
    body = segment.encode("ascii")
    if len(body) > MAX_SEGMENT:
        raise ValueError(f"data segment of {len(body)} bytes is over {MAX_SEGMENT}")
    return b"##%04d%s%04X\r\n" % (len(body), body, crc16(body))


def unframe(line: bytes) -> str:
    """The data segment of one framed packet (CRLF optional), after checking length and CRC."""
    line = line.rstrip(b"\r\n")
    if len(line) < 10 or not line.startswith(b"##"):
        raise PacketError("not an HJ 212 packet: it must start with ## and a four-digit length",
                          "不是 HJ 212 数据包：应以 ## 和四位长度开头")
    length_text = line[2:6]
    if not length_text.isdigit():
        raise PacketError(f"the length {length_text!r} is not four digits", f"长度 {length_text!r} 不是四位数字")
    length = int(length_text)
    body, crc_text = line[6:-4], line[-4:]
    if len(body) != length:
        raise PacketError(f"the length says {length} bytes but the data segment has {len(body)}",
                          f"长度字段为 {length} 字节，数据段实为 {len(body)} 字节")
    try:
        crc = int(crc_text, 16)
    except ValueError:
        raise PacketError(f"the CRC {crc_text!r} is not four hex digits", f"校验码 {crc_text!r} 不是四位十六进制数") from None
    if crc != crc16(body):
        raise PacketError(f"CRC {crc_text.decode('ascii', 'replace')} does not match the data ({crc16(body):04X})",
                          f"校验码 {crc_text.decode('ascii', 'replace')} 与数据不符（应为 {crc16(body):04X}）")
    try:
        return body.decode("ascii")
    except UnicodeDecodeError:
        raise PacketError("the data segment is not ASCII", "数据段含非 ASCII 字符") from None


def parse(line: bytes) -> Packet:
    """A framed packet, checked and parsed down to its readings."""
    return parse_segment(unframe(line))


def parse_segment(segment: str) -> Packet:
    head, separator, cp_tail = segment.partition("CP=&&")
    if not separator or not cp_tail.endswith("&&"):
        raise PacketError("the data segment has no CP=&&…&& field", "数据段缺少 CP=&&…&& 字段")
    fields: dict[str, str] = {}
    for part in filter(None, head.split(";")):
        key, equals, value = part.partition("=")
        if not equals:
            raise PacketError(f"field {part!r} has no '='", f"字段 {part!r} 缺少“=”")
        fields[key] = value
    missing = [name for name in ("QN", "ST", "CN", "PW", "MN") if name not in fields]
    if missing:
        raise PacketError(f"missing field(s): {', '.join(missing)}", f"缺少字段：{'、'.join(missing)}")
    if not _MN.match(fields["MN"]):
        raise PacketError(f"MN {fields['MN']!r} is not up to 24 letters and digits", f"MN {fields['MN']!r} 不是 24 位以内的字母数字")
    flag_text = fields.get("Flag", "4")
    if not flag_text.isdigit():
        raise PacketError(f"Flag {flag_text!r} is not a number", f"Flag {flag_text!r} 不是数字")
    packet = Packet(fields["QN"], fields["ST"], fields["CN"], fields["PW"], fields["MN"], int(flag_text),
                    cp_tail[:-2], extra={k: v for k, v in fields.items() if k not in _HEADER_FIELDS})
    if packet.cn in DATA_COMMANDS:
        packet.data_time, packet.readings = _data(packet.cp, DATA_COMMANDS[packet.cn][1])
    return packet


def _data(cp: str, statistic: str) -> tuple[datetime, list[Reading]]:
    by_code: dict[str, dict[str, str]] = {}
    data_time: datetime | None = None
    for group in filter(None, cp.split(";")):
        for item in filter(None, group.split(",")):
            key, equals, value = item.partition("=")
            if not equals:
                raise PacketError(f"CP item {item!r} has no '='", f"CP 项 {item!r} 缺少“=”")
            if key == "DataTime":
                data_time = _data_time(value)
                continue
            code, dash, name = key.rpartition("-")
            if not dash or not _CODE.match(code) or name not in STATISTICS:
                raise PacketError(f"CP item {key!r} is not CODE-Rtd/Avg/Min/Max/Cou/Flag",
                                  f"CP 项 {key!r} 不是“编码-Rtd/Avg/Min/Max/Cou/Flag”")
            by_code.setdefault(code, {})[name] = value
    if data_time is None:
        raise PacketError("the data has no DataTime", "数据缺少 DataTime")
    readings = []
    for code, values in by_code.items():
        flag = values.get("Flag", VALID_FLAG)
        if flag != VALID_FLAG and flag not in EXCLUDED_FLAGS:
            raise PacketError(f"{code}: unknown data flag {flag!r}", f"{code}：未知数据标记 {flag!r}")
        readings.append(Reading(code, _number(code, statistic, values.get(statistic)),
                                _number(code, "Min", values.get("Min")), _number(code, "Max", values.get("Max")),
                                _number(code, "Cou", values.get("Cou")), flag))
    return data_time, readings


def _number(code: str, name: str, text: str | None) -> float | None:
    if text is None or text == "":
        return None
    if not _NUMBER.match(text):
        raise PacketError(f"{code}-{name}={text!r} is not a number", f"{code}-{name}={text!r} 不是数值")
    return float(text)


def _data_time(text: str) -> datetime:
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=CHINA)
    except ValueError:
        raise PacketError(f"DataTime {text!r} is not YYYYMMDDhhmmss", f"DataTime {text!r} 不是 YYYYMMDDhhmmss") from None


def build(*, mn: str, pw: str, cn: str, data_time: datetime, readings: list[Reading], st: str = "22",
          qn: str | None = None, flag: int = VERSION_2017 | ACK_WANTED) -> bytes:
    """A framed data packet (what a station sends); ``data_time`` is written in China time."""
    statistic = DATA_COMMANDS[cn][1]
    local = data_time.astimezone(CHINA)
    groups = [f"DataTime={local:%Y%m%d%H%M%S}"]
    for reading in readings:
        parts = [f"{reading.code}-{statistic}={_text(reading.value)}"]
        parts += [f"{reading.code}-{name}={_text(value)}" for name, value in
                  (("Min", reading.low), ("Max", reading.high), ("Cou", reading.count)) if value is not None]
        parts.append(f"{reading.code}-Flag={reading.flag}")
        groups.append(",".join(parts))
    qn = qn or f"{local:%Y%m%d%H%M%S}000"
    return frame(f"QN={qn};ST={st};CN={cn};PW={pw};MN={mn};Flag={flag};CP=&&{';'.join(groups)}&&")


def data_response(packet: Packet) -> bytes:
    """The data response (CN=9014) to a packet whose Flag asks for one: same QN, MN and PW."""
    return frame(f"QN={packet.qn};ST=91;CN={DATA_RESPONSE};PW={packet.pw};MN={packet.mn};Flag={VERSION_2017};CP=&&&&")


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"
