"""The controlled vocabulary of indicator codes (part of the exchange standard: observations and policy targets
name their indicator by one of these codes), and the units values are measured in.

The catalogue is data: src/zhulian/indicators/data/indicators.toml. Each indicator has a Chinese and English
label, the unit its values are kept in (whose kind — share, money, count, area, concentration, … — is the
indicator's kind), the other names statistics and plans give it, and whether more is better."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parents[1] / "indicators" / "data" / "indicators.toml"


@dataclass(frozen=True)
class Indicator:
    code: str
    zh: str
    en: str
    unit: str
    synonyms: tuple[str, ...] = ()
    higher_is_better: bool = True

    @property
    def kind(self) -> str:
        """What the indicator measures (share, money, count, …): the kind of its unit."""
        return UNITS[self.unit][0]


def _load() -> tuple[dict[str, Indicator], dict[str, tuple[str, float]]]:
    data = tomllib.loads(CATALOGUE.read_text(encoding="utf-8"))
    units = {unit: (kind, float(factor)) for unit, (kind, factor) in data["units"].items()}
    indicators = {}
    for entry in data["indicator"]:
        indicator = Indicator(entry["code"], entry["zh"], entry["en"], entry["unit"],
                              tuple(entry.get("synonyms", ())), entry.get("higher_is_better", True))
        if indicator.unit not in units:
            raise ValueError(f"{CATALOGUE}: {indicator.code} is kept in {indicator.unit!r}, not a unit of [units]")
        indicators[indicator.code] = indicator
    return indicators, units


INDICATORS, UNITS = _load()  # UNITS: unit -> (kind, factor to the kind's base unit)

# Ways of writing the same words that policy texts and statistics mix freely; folded before names are compared.
_SAME_WORDS = (
    (re.compile(r"研究与试验发展|r&d|研究开发"), "研发"),
    (re.compile(r"地区生产总值|国内生产总值|生产总值"), "gdp"),
    (re.compile(r"研发(?:经费)?(?:投入|支出)(?:经费)?|研发经费"), "研发投入"),
    (re.compile(r"比例|占比"), "比重"),
    (re.compile(r"规上"), "规模以上"),
    (re.compile(r"一般公共预算"), "一般预算"),
    (re.compile(r"每万人口|万人口|万人"), "每万人"),
    (re.compile(r"每每万人"), "每万人"),
    (re.compile(r"的|全社会|全市|全省|全区|全国"), ""),
)


def fold(text: str) -> str:
    """Text compared for naming: full-width folded, no spaces, brackets or quotes, lower case."""
    return re.sub(r"[\s()（）“”\"'‘’《》]", "", unicodedata.normalize("NFKC", text)).lower()


def name_key(text: str) -> str:
    """An indicator name as it is compared: folded, bracketed asides dropped, synonymous words made one."""
    key = fold(re.sub(r"（[^）]*）|\([^)]*\)", "", unicodedata.normalize("NFKC", text)))
    for pattern, same in _SAME_WORDS:
        key = pattern.sub(same, key)
    return key


_BY_NAME = {fold(name): indicator.code for indicator in INDICATORS.values()
            for name in (indicator.code, indicator.zh, indicator.en, *indicator.synonyms)}
BY_KEY = {name_key(name): indicator.code for indicator in INDICATORS.values()
          for name in (indicator.zh, *indicator.synonyms)}


def indicator_code(name: str) -> str | None:
    """The code an indicator is known by, from its code, label or any of its other names; None if unknown."""
    if not isinstance(name, str):
        return None
    return _BY_NAME.get(fold(name)) or BY_KEY.get(name_key(name))


def unit_kind(unit: str | None) -> str | None:
    return UNITS[unit][0] if unit in UNITS else None


def convert(value: float, unit: str | None, to_unit: str) -> float | None:
    """``value`` in ``unit`` expressed in ``to_unit``; None when the two measure different things."""
    if unit is None or unit == to_unit:
        return value
    source, target = UNITS.get(unit), UNITS.get(to_unit)
    if source is None or target is None or source[0] != target[0]:
        return None
    return value * source[1] / target[1]
