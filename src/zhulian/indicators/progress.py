"""Where each policy target stands: its latest observed value, the gap to the target, and a status.

How the status is decided (the same rule everywhere, so a bureau can check it by hand):

- the series is the observations of the target's indicator in its region, one value per year, converted to the
  indicator's unit; a ratio indicator with no observation for a year is computed from its parts when both are
  observed that year (S&T spending / general budget expenditure × 100, R&D expenditure / GDP × 100);
- a target naming no region, of a policy for several regions, is for them together (珠三角9市全部达到……): when its
  indicator adds up across places (a count, an amount, an area), its series is the sum of their values in each
  year every one of them is observed; a share or a rate is not summed and stays without data;
- the target is **met** when the latest value satisfies it (≥, >, ≤, <; "about" within 5 %; a build count or a
  range when its lower bound is reached);
- otherwise, when the deadline (the target's year, else the policy's end year) has been observed, it is
  **missed**;
- otherwise a least-squares line through the last five observations is projected to the deadline (or to the
  year after the latest observation when there is no deadline): **on track** when the projection satisfies
  the target, **at risk** when it does not or when there is only one observation to go by;
- with no observation at all, **no data**.
"""

from __future__ import annotations

import statistics

from dataclasses import dataclass, field
from typing import Any


from zhulian.model.indicators import INDICATORS, convert

STATUSES = {"met": ("已达成", "met"), "on_track": ("进展顺利", "on track"), "at_risk": ("存在风险", "at risk"),
            "missed": ("未达成", "missed"), "no_data": ("暂无数据", "no data")}
TREND_POINTS = 5
# Unit kinds whose values for several places add up to the value for all of them together.
ADDITIVE_KINDS = frozenset({"count", "money", "area", "volume", "mass", "energy", "electricity", "power", "length",
                            "person_years"})
ABOUT = 0.05

# A share computed from its parts: indicator -> (numerator, denominator), both in the same unit family.
DERIVED = {"sci_fiscal_share": ("fiscal_st_expenditure", "general_budget_expenditure"),
           "rd_special_fund_share": ("rd_special_fund", "general_budget_expenditure"),
           "rd_gdp_ratio": ("rd_expenditure", "gdp")}


@dataclass
class Point:
    year: int
    value: float
    derived: bool = False  # computed from the indicator's parts, not observed itself


@dataclass
class TargetProgress:
    policy_id: str
    policy_title: str
    target_index: int
    target: dict[str, Any]
    indicator_code: str | None
    region: str | None
    deadline: int | None
    regions: list[str] = field(default_factory=list)  # summed together, for a target of several regions
    series: list[Point] = field(default_factory=list)
    status: str = "no_data"
    latest: Point | None = None
    gap: float | None = None
    projected: float | None = None
    checks: list[tuple[int, bool]] = field(default_factory=list)  # (year, met that year)

    def as_dict(self) -> dict[str, Any]:
        return {"policy": self.policy_id, "policy_title": self.policy_title, "target_index": self.target_index,
                "indicator": self.target.get("indicator"), "indicator_code": self.indicator_code,
                "comparator": self.target.get("comparator"), "value": self.target.get("value"),
                "value_max": self.target.get("value_max"), "unit": self.target.get("unit"),
                "year": self.target.get("year"), "deadline": self.deadline, "region": self.region,
                "regions": self.regions,
                "status": self.status,
                "status_display": {"zh": STATUSES[self.status][0], "en": STATUSES[self.status][1]},
                "latest_year": self.latest.year if self.latest else None,
                "latest_value": _round(self.latest.value) if self.latest else None,
                "gap": _round(self.gap), "projected": _round(self.projected),
                "series": [{"year": p.year, "value": _round(p.value), "derived": p.derived} for p in self.series],
                "checks": [{"year": year, "met": met} for year, met in self.checks]}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def series_of(observations: list[dict[str, Any]], code: str, region: str) -> list[Point]:
    """One value per year for ``code`` in ``region``: observed where observed, else computed from its parts."""
    observed = _by_year(observations, code, region)
    points = {year: Point(year, value) for year, value in observed.items()}
    if code in DERIVED:
        numerator, denominator = (_by_year(observations, part, region) for part in DERIVED[code])
        for year in numerator.keys() & denominator.keys() - points.keys():
            if denominator[year]:
                points[year] = Point(year, numerator[year] / denominator[year] * 100, derived=True)
    return [points[year] for year in sorted(points)]


def summed_series(observations: list[dict[str, Any]], code: str, regions: list[str]) -> list[Point]:
    """``code`` for ``regions`` together: the sum of their values in each year all of them are observed (a
    year with one region missing would understate the total, so it is left out); empty unless the indicator
    adds up across places."""
    if INDICATORS[code].kind not in ADDITIVE_KINDS:
        return []
    per_region = [{p.year: p for p in series_of(observations, code, region)} for region in regions]
    years = set.intersection(*(set(points) for points in per_region)) if per_region else set()
    return [Point(year, sum(points[year].value for points in per_region),
                  derived=any(points[year].derived for points in per_region)) for year in sorted(years)]


def _by_year(observations: list[dict[str, Any]], code: str, region: str) -> dict[int, float]:
    unit = INDICATORS[code].unit
    values = {}
    for record in observations:
        if record["indicator"] == code and record["region"] == region:
            value = convert(record["value"], record.get("unit"), unit)
            if value is not None:  # the model refuses units that do not convert; older records are skipped
                values[record["year"]] = value
    return values


def assess(progress: TargetProgress) -> TargetProgress:
    """Fill in the latest value, gap, projection, yearly checks and status from ``progress.series``."""
    target = progress.target
    higher = INDICATORS[progress.indicator_code].higher_is_better if progress.indicator_code else True
    value = target_value(target, progress.indicator_code)
    if not progress.series or value is None:
        return progress
    progress.checks = [(p.year, satisfies(p.value, target["comparator"], value, higher)) for p in progress.series]
    latest = progress.latest = progress.series[-1]
    progress.gap = (value - latest.value) if higher else (latest.value - value)
    if satisfies(latest.value, target["comparator"], value, higher):
        progress.status = "met"
        return progress
    if progress.deadline is not None and latest.year >= progress.deadline:
        progress.status = "missed"
        return progress
    recent = progress.series[-TREND_POINTS:]
    if len(recent) < 2:
        progress.status = "at_risk"
        return progress
    slope, intercept = statistics.linear_regression([p.year for p in recent], [p.value for p in recent])
    horizon = progress.deadline if progress.deadline is not None else latest.year + 1
    progress.projected = float(slope * horizon + intercept)
    progress.status = "on_track" if satisfies(progress.projected, target["comparator"], value, higher) else "at_risk"
    return progress


def target_value(target: dict[str, Any], code: str | None) -> float | None:
    """The target's value in its indicator's unit (a target in 万元 of an indicator kept in 亿元)."""
    if code is None:
        return None
    return convert(target["value"], target.get("unit"), INDICATORS[code].unit)


def satisfies(observed: float, comparator: str, value: float, higher_is_better: bool = True) -> bool:
    if comparator == ">=":
        return observed >= value
    if comparator == ">":
        return observed > value
    if comparator == "<=":
        return observed <= value
    if comparator == "<":
        return observed < value
    if comparator == "≈":
        return observed >= value * (1 - ABOUT) if higher_is_better else observed <= value * (1 + ABOUT)
    # "=" (build 71万亩, reach 9 cities) and "between" (3–5 incubators) are met once the stated number is reached.
    return observed >= value if higher_is_better else observed <= value
