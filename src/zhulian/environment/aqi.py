"""The air quality index exactly per HJ 633: HJ 633-2012 for data before 2026-03-01 (China time) and HJ 633-2026
from that day on.

Concentrations are rounded per GB/T 8170 (µg/m³ to integers, CO to 0.1 mg/m³) before an IAQI is taken; IAQI and
AQI are rounded up. The arithmetic is exact (``Fraction``): floats put a breakpoint's IAQI one too high (CO 2.2 mg/m³
on the 24-hour table is 55, not 56).

- Real-time (hourly) AQI: the six one-hour values, PM10 and PM2.5 on the 24-hour breakpoints (the national network's
  published practice under both versions).
- Daily AQI: the five 24-hour means and the O3 daily maximum 8-hour mean (HJ 633-2012 also takes the O3 daily maximum
  one-hour value when it is given).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

CHINA = timezone(timedelta(hours=8), "UTC+8")
HJ633_2012 = "HJ633-2012"
HJ633_2026 = "HJ633-2026"
IN_FORCE_2026 = datetime(2026, 3, 1, tzinfo=CHINA)

POLLUTANTS = ("PM2.5", "PM10", "SO2", "NO2", "CO", "O3")
IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)

_COMMON = {
    "SO2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "SO2_1h": (0, 150, 500, 650, 800),
    "NO2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "NO2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "CO_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "CO_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "O3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "O3_8h": (0, 100, 160, 215, 265, 800),
}
# HJ 633-2012 Table 1 and HJ 633-2026 Table 3: the 2026 revision lowers the PM10 and PM2.5 "良" breakpoints.
BREAKPOINTS: dict[str, dict[str, tuple[int, ...]]] = {
    HJ633_2012: {**_COMMON, "PM10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
                 "PM2.5_24h": (0, 35, 75, 115, 150, 250, 350, 500)},
    HJ633_2026: {**_COMMON, "PM10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
                 "PM2.5_24h": (0, 35, 60, 115, 150, 250, 350, 500)},
}
# Above the top of these tables HJ 633-2026 fixes the IAQI (notes b and c); HJ 633-2012 takes another indicator.
FIXED_ABOVE_TOP_2026 = {"SO2_1h": 200, "O3_8h": 300}

# The indicator each hourly pollutant is read on: PM on the 24-hour breakpoints.
HOURLY_TABLE = {"PM2.5": "PM2.5_24h", "PM10": "PM10_24h", "SO2": "SO2_1h", "NO2": "NO2_1h", "CO": "CO_1h",
                "O3": "O3_1h"}
DAILY_TABLE = {"PM2.5": "PM2.5_24h", "PM10": "PM10_24h", "SO2": "SO2_24h", "NO2": "NO2_24h", "CO": "CO_24h",
               "O3_8h": "O3_8h", "O3_1h": "O3_1h"}


@dataclass(frozen=True)
class Level:
    level: int
    upper: int  # highest AQI of the level
    category: str
    category_en: str
    color: str
    color_en: str
    rgb: str
    effect: str
    effect_en: str
    advice: str
    advice_en: str


LEVELS = (
    Level(1, 50, "优", "Excellent", "绿色", "green", "#00E400",
          "空气质量令人满意，基本无空气污染", "Air quality is satisfactory, with hardly any pollution",
          "各类人群可正常活动", "Everyone can carry on as usual"),
    Level(2, 100, "良", "Good", "黄色", "yellow", "#FFFF00",
          "空气质量可接受，但某些污染物可能对极少数异常敏感人群健康有较弱影响",
          "Acceptable; some pollutants may slightly affect a very few unusually sensitive people",
          "极少数异常敏感人群应减少户外活动", "The very few unusually sensitive people should spend less time outdoors"),
    Level(3, 150, "轻度污染", "Lightly polluted", "橙色", "orange", "#FF7E00",
          "易感人群症状有轻度加剧，健康人群出现刺激症状",
          "Symptoms of susceptible people worsen slightly; healthy people feel irritation",
          "儿童、老年人及心脏病、呼吸系统疾病患者应减少长时间、高强度的户外锻炼",
          "Children, the elderly and people with heart or respiratory disease should cut long or strenuous outdoor exercise"),
    Level(4, 200, "中度污染", "Moderately polluted", "红色", "red", "#FF0000",
          "进一步加剧易感人群症状，可能对健康人群心脏、呼吸系统有影响",
          "Susceptible people's symptoms worsen further; healthy people's heart and lungs may be affected",
          "儿童、老年人及心脏病、呼吸系统疾病患者避免长时间、高强度的户外锻炼，一般人群适量减少户外运动",
          "Children, the elderly and heart or respiratory patients should avoid long or strenuous outdoor exercise; "
          "everyone else should exercise outdoors less"),
    Level(5, 300, "重度污染", "Heavily polluted", "紫色", "purple", "#99004C",
          "心脏病和肺病患者症状显著加剧，运动耐受力降低，健康人群普遍出现症状",
          "Heart and lung patients' symptoms worsen markedly and exercise tolerance falls; healthy people show symptoms",
          "儿童、老年人和心脏病、肺病患者应停留在室内，停止户外运动，一般人群减少户外运动",
          "Children, the elderly and heart or lung patients should stay indoors and stop outdoor exercise; "
          "everyone else should exercise outdoors less"),
    Level(6, 500, "严重污染", "Severely polluted", "褐红色", "maroon", "#7E0023",
          "健康人群运动耐受力降低，有明显强烈症状，提前出现某些疾病",
          "Healthy people's exercise tolerance falls, with strong symptoms; some illnesses set in early",
          "儿童、老年人和病人应当留在室内，避免体力消耗，一般人群应避免户外活动",
          "Children, the elderly and the ill should stay indoors and avoid exertion; everyone else should avoid "
          "outdoor activity"),
)

# HJ 633-2026 Table 2 names the groups most sensitive to each pollutant (the 2012 text has no such table). The
# wording here is ours, from the standard's pollutant-by-pollutant intent; check it against the official text.
SENSITIVE_GROUPS_2026 = {
    "PM2.5": ("儿童、老年人、孕妇及心脑血管、呼吸系统疾病患者",
              "children, the elderly, pregnant women and people with heart, vascular or respiratory disease"),
    "PM10": ("儿童、老年人及心脑血管、呼吸系统疾病患者",
             "children, the elderly and people with heart, vascular or respiratory disease"),
    "O3": ("儿童、老年人、户外工作和运动人群及哮喘等呼吸系统疾病患者",
           "children, the elderly, people working or exercising outdoors and people with asthma or other "
           "respiratory disease"),
    "SO2": ("哮喘等呼吸系统疾病患者", "people with asthma or other respiratory disease"),
    "NO2": ("儿童及哮喘等呼吸系统疾病患者", "children and people with asthma or other respiratory disease"),
    "CO": ("心脑血管疾病患者及孕妇", "people with heart or vascular disease and pregnant women"),
}


def standard_for(moment: datetime | date) -> str:
    """The HJ 633 version in force for data of this time (a date is a day in China time)."""
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=CHINA)
    if moment.tzinfo is None:
        raise ValueError("a data time needs its time zone (HJ 212 data times are UTC+8)")
    return HJ633_2026 if moment >= IN_FORCE_2026 else HJ633_2012


def round_concentration(pollutant: str, value: float | str | Decimal) -> Decimal:
    """GB/T 8170 rounding (round half to even on the value as written): µg/m³ to an integer, CO (mg/m³) to 0.1."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(Decimal("0.1") if pollutant.startswith("CO") else Decimal(1), rounding=ROUND_HALF_EVEN)


def iaqi(standard: str, indicator: str, concentration: float | str | Decimal) -> int | None:
    """The individual index of one concentration, rounded up. ``None`` where HJ 633-2012 defines none (SO2 1-hour
    or O3 8-hour above 800 µg/m³: the caller takes the 24-hour SO2 or the 1-hour O3 index instead)."""
    table = BREAKPOINTS[standard][indicator]
    c = Fraction(Decimal(str(concentration)))
    if c < 0:
        raise ValueError(f"negative concentration {concentration}")
    if c > table[-1]:
        if indicator in FIXED_ABOVE_TOP_2026:
            return FIXED_ABOVE_TOP_2026[indicator] if standard == HJ633_2026 else None
        return IAQI_STEPS[-1]  # the index scale ends at 500
    for i in range(1, len(table)):
        if c <= table[i]:
            low, high = table[i - 1], table[i]
            index = Fraction(IAQI_STEPS[i] - IAQI_STEPS[i - 1], high - low) * (c - low) + IAQI_STEPS[i - 1]
            return math.ceil(index)
    raise AssertionError("unreachable: c is within the table")


def level_of(aqi: int) -> Level:
    return next(level for level in LEVELS if aqi <= level.upper) if aqi <= 500 else LEVELS[-1]


@dataclass
class Assessment:
    """One AQI: its indices, the verdict a person reads, and what could not be used."""

    standard: str
    kind: str  # hourly | daily
    iaqi: dict[str, int]
    concentrations: dict[str, str]  # as rounded for the index
    missing: list[str] = field(default_factory=list)
    aqi: int | None = None
    primary_pollutants: list[str] = field(default_factory=list)
    exceeding: list[str] = field(default_factory=list)  # HJ 633-2012 超标污染物: IAQI > 100

    @property
    def level(self) -> Level | None:
        return level_of(self.aqi) if self.aqi is not None else None

    def as_dict(self) -> dict[str, Any]:
        level = self.level
        body: dict[str, Any] = {
            "standard": self.standard, "aqi": self.aqi, "primary_pollutants": self.primary_pollutants,
            "category": level.category if level else None, "category_en": level.category_en if level else None,
            "level": level.level if level else None, "color": level.rgb if level else None,
            "iaqi": self.iaqi, "concentrations": self.concentrations, "missing": self.missing,
        }
        if level:
            body["health"] = {"effect": level.effect, "effect_en": level.effect_en, "advice": level.advice,
                              "advice_en": level.advice_en}
        if self.standard == HJ633_2012:
            body["exceeding_pollutants"] = self.exceeding
        elif level and level.level > 1:
            body["sensitive_groups"] = {p: {"zh": SENSITIVE_GROUPS_2026[_pollutant(p)][0],
                                            "en": SENSITIVE_GROUPS_2026[_pollutant(p)][1]}
                                        for p in self.primary_pollutants}
        return body


def _pollutant(indicator: str) -> str:
    return indicator.split("_")[0]


def hourly_aqi(moment: datetime, values: dict[str, float | None], *, so2_24h: float | None = None) -> Assessment:
    """The real-time AQI of one hour from its six one-hour values (µg/m³, CO mg/m³; ``None`` or absent: missing).
    ``so2_24h`` is the 24-hour SO2 mean HJ 633-2012 falls back on when the hourly SO2 is above 800 µg/m³."""
    standard = standard_for(moment)
    indices: dict[str, int] = {}
    rounded: dict[str, str] = {}
    missing: list[str] = []
    for pollutant in POLLUTANTS:
        value = values.get(pollutant)
        if value is None:
            missing.append(pollutant)
            continue
        concentration = round_concentration(pollutant, value)
        rounded[pollutant] = str(concentration)
        index = iaqi(standard, HOURLY_TABLE[pollutant], concentration)
        if index is None and so2_24h is not None:  # HJ 633-2012: SO2 1-hour above 800
            index = iaqi(standard, "SO2_24h", round_concentration("SO2", so2_24h))
        if index is None:
            missing.append(pollutant)
        else:
            indices[pollutant] = index
    return _verdict(Assessment(standard, "hourly", indices, rounded, missing))


def daily_aqi(day: date, values: dict[str, float | None]) -> Assessment:
    """The daily AQI from the 24-hour means of PM2.5, PM10, SO2, NO2, CO and the O3 daily maximum 8-hour mean
    (``O3_8h``); under HJ 633-2012 also the O3 daily maximum one-hour value (``O3_1h``) when given."""
    standard = standard_for(day)
    indicators = ["PM2.5", "PM10", "SO2", "NO2", "CO", "O3_8h"] + (["O3_1h"] if standard == HJ633_2012 else [])
    indices: dict[str, int] = {}
    rounded: dict[str, str] = {}
    for indicator in indicators:
        value = values.get(indicator)
        if value is None:
            continue
        concentration = round_concentration(indicator, value)
        rounded[indicator] = str(concentration)
        index = iaqi(standard, DAILY_TABLE[indicator], concentration)
        if index is not None:
            indices[indicator] = index
    if "O3_8h" in rounded and "O3_8h" not in indices and "O3_1h" in indices:  # HJ 633-2012: O3 8-hour above 800
        indices["O3_8h"] = indices["O3_1h"]
    missing = [p for p in ("PM2.5", "PM10", "SO2", "NO2", "CO") if p not in indices]
    if "O3_8h" not in indices and "O3_1h" not in indices:
        missing.append("O3_8h")
    return _verdict(Assessment(standard, "daily", indices, rounded, missing))


def _verdict(assessment: Assessment) -> Assessment:
    """AQI, primary pollutants and (2012) exceeding pollutants. With a pollutant missing the AQI of the rest is
    published only when it is above 100: below that the missing one could have been the highest (HJ 633-2026
    5.3.1); the single indices are published either way."""
    if not assessment.iaqi:
        return assessment
    aqi = max(assessment.iaqi.values())
    if assessment.missing and aqi <= 100:
        return assessment
    assessment.aqi = aqi
    if aqi > 50:
        assessment.primary_pollutants = [p for p, index in assessment.iaqi.items() if index == aqi]
    if assessment.standard == HJ633_2012:
        assessment.exceeding = [p for p, index in assessment.iaqi.items() if index > 100]
    return assessment
