"""Negative (oxygen) air-ion concentration levels, in ions/cm³, after the meteorological grading QX/T 380-2017
(four levels; the thresholds are transcribed from memory of that text — check them against it)."""

from __future__ import annotations

from typing import Any

# (lowest concentration of the level, level, zh, en)
LEVELS = ((1200, "Ⅰ", "空气清新，非常有利于健康", "very fresh; very good for health"),
          (500, "Ⅱ", "空气较清新，有利于健康", "fresh; good for health"),
          (100, "Ⅲ", "空气一般", "ordinary"),
          (0, "Ⅳ", "空气不够清新", "not fresh"))


def assess(concentration: float) -> dict[str, Any]:
    if concentration < 0:
        raise ValueError(f"negative ion concentration {concentration}")
    _, level, zh, en = next(entry for entry in LEVELS if concentration >= entry[0])
    return {"concentration": concentration, "unit": "个/cm³", "level": level, "description": zh,
            "description_en": en}
