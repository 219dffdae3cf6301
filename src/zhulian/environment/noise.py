"""Environmental noise per GB 3096-2008: day (06:00–22:00) and night levels Ld and Ln as energy means of the hourly
Leq, each against its acoustic functional zone's limit (Table 1), the excess in dB, the night burst rule (Lmax no
more than 15 dB(A) over the night limit) and the day-night level Ldn."""

from __future__ import annotations

import math
from typing import Any

# Table 1: zone class -> (day, night) limits in dB(A)
ZONE_LIMITS = {"0": (50, 40), "1": (55, 45), "2": (60, 50), "3": (65, 55), "4a": (70, 55), "4b": (70, 60)}
DAY_HOURS = range(6, 22)  # the hour beginning 06:00 through the one beginning 21:00
NIGHT_BURST_ALLOWANCE = 15


def energy_mean(levels: list[float]) -> float:
    return 10 * math.log10(sum(10 ** (0.1 * level) for level in levels) / len(levels))


def day_night_levels(hourly_leq: dict[int, float]) -> tuple[float | None, float | None]:
    """Ld and Ln from the hourly Leq keyed by the local hour each began."""
    day = [level for hour, level in hourly_leq.items() if hour in DAY_HOURS]
    night = [level for hour, level in hourly_leq.items() if hour not in DAY_HOURS]
    return (round(energy_mean(day), 1) if day else None, round(energy_mean(night), 1) if night else None)


def day_night_level(ld: float, ln: float) -> float:
    """Ldn = 10·lg{[16·10^(0.1·Ld) + 8·10^(0.1·(Ln+10))]/24}."""
    return round(10 * math.log10((16 * 10 ** (0.1 * ld) + 8 * 10 ** (0.1 * (ln + 10))) / 24), 1)


def assess(zone: str, *, ld: float | None = None, ln: float | None = None,
           night_lmax: float | None = None) -> dict[str, Any]:
    if zone not in ZONE_LIMITS:
        raise ValueError(f"zone class {zone!r} is not one of {', '.join(ZONE_LIMITS)}")
    day_limit, night_limit = ZONE_LIMITS[zone]
    result: dict[str, Any] = {"standard": "GB3096-2008", "zone": zone, "day_limit": day_limit,
                              "night_limit": night_limit}
    for period, level, limit in (("day", ld, day_limit), ("night", ln, night_limit)):
        if level is not None:
            result[period] = {"level": level, "excess_db": round(level - limit, 1) if level > limit else 0,
                              "meets": level <= limit}
    if night_lmax is not None:
        burst_limit = night_limit + NIGHT_BURST_ALLOWANCE
        result["night_burst"] = {"lmax": night_lmax, "limit": burst_limit, "meets": night_lmax <= burst_limit,
                                 "excess_db": round(night_lmax - burst_limit, 1) if night_lmax > burst_limit else 0}
    if ld is not None and ln is not None:
        result["ldn"] = day_night_level(ld, ln)
    return result
