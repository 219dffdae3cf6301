"""Surface water quality class per GB 3838-2002 (Table 1, the basic items): a class for each parameter, the
overall class (the worst parameter's, single-factor assessment), and how many times over the station's target
class limit each parameter is.

Following the surface-water assessment rules (地表水环境质量评价办法): water temperature, and for rivers total
nitrogen, are not classed; fecal coliform is reported but left out of the overall class; pH and dissolved oxygen
get no exceedance multiple.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

CLASSES = ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ")
WORSE_THAN_V = "劣Ⅴ"


@dataclass(frozen=True)
class Parameter:
    name: str
    name_zh: str
    unit: str
    limits: tuple[str, ...]  # Ⅰ..Ⅴ; "at least" limits for dissolved oxygen, "at most" for the rest
    at_least: bool = False


_PARAMETERS = (
    Parameter("DO", "溶解氧", "mg/L", ("7.5", "6", "5", "3", "2"), at_least=True),
    Parameter("CODMn", "高锰酸盐指数", "mg/L", ("2", "4", "6", "10", "15")),
    Parameter("COD", "化学需氧量", "mg/L", ("15", "15", "20", "30", "40")),
    Parameter("BOD5", "五日生化需氧量", "mg/L", ("3", "3", "4", "6", "10")),
    Parameter("NH3-N", "氨氮", "mg/L", ("0.15", "0.5", "1.0", "1.5", "2.0")),
    Parameter("TP", "总磷（河流）", "mg/L", ("0.02", "0.1", "0.2", "0.3", "0.4")),
    Parameter("TP-lake", "总磷（湖、库）", "mg/L", ("0.01", "0.025", "0.05", "0.1", "0.2")),
    Parameter("TN", "总氮（湖、库）", "mg/L", ("0.2", "0.5", "1.0", "1.5", "2.0")),
    Parameter("Cu", "铜", "mg/L", ("0.01", "1.0", "1.0", "1.0", "1.0")),
    Parameter("Zn", "锌", "mg/L", ("0.05", "1.0", "1.0", "2.0", "2.0")),
    Parameter("F", "氟化物", "mg/L", ("1.0", "1.0", "1.0", "1.5", "1.5")),
    Parameter("Se", "硒", "mg/L", ("0.01", "0.01", "0.01", "0.02", "0.02")),
    Parameter("As", "砷", "mg/L", ("0.05", "0.05", "0.05", "0.1", "0.1")),
    Parameter("Hg", "汞", "mg/L", ("0.00005", "0.00005", "0.0001", "0.001", "0.001")),
    Parameter("Cd", "镉", "mg/L", ("0.001", "0.005", "0.005", "0.005", "0.01")),
    Parameter("Cr6", "铬（六价）", "mg/L", ("0.01", "0.05", "0.05", "0.05", "0.1")),
    Parameter("Pb", "铅", "mg/L", ("0.01", "0.01", "0.05", "0.05", "0.1")),
    Parameter("CN", "氰化物", "mg/L", ("0.005", "0.05", "0.2", "0.2", "0.2")),
    Parameter("phenol", "挥发酚", "mg/L", ("0.002", "0.002", "0.005", "0.01", "0.1")),
    Parameter("oil", "石油类", "mg/L", ("0.05", "0.05", "0.05", "0.5", "1.0")),
    Parameter("LAS", "阴离子表面活性剂", "mg/L", ("0.2", "0.2", "0.2", "0.3", "0.3")),
    Parameter("S2-", "硫化物", "mg/L", ("0.05", "0.1", "0.2", "0.5", "1.0")),
    Parameter("coliform", "粪大肠菌群", "个/L", ("200", "2000", "10000", "20000", "40000")),
)
PARAMETERS = {p.name: p for p in _PARAMETERS}
NOT_IN_OVERALL = {"coliform"}


def parameter_class(name: str, value: float) -> str:
    """The best class whose limit the value keeps (a limit is met at equality), or 劣Ⅴ."""
    exact = Decimal(str(value))
    if name == "pH":
        return CLASSES[0] if Decimal(6) <= exact <= Decimal(9) else WORSE_THAN_V
    parameter = _known(name)
    for water_class, limit in zip(CLASSES, parameter.limits, strict=True):
        if (exact >= Decimal(limit)) if parameter.at_least else (exact <= Decimal(limit)):
            return water_class
    return WORSE_THAN_V


def exceedance_multiple(name: str, value: float, target: str = "Ⅲ") -> float | None:
    """(C − limit) / limit against the target class, when over it; none for pH and dissolved oxygen."""
    if name == "pH" or _known(name).at_least:
        return None
    limit = Decimal(_known(name).limits[CLASSES.index(target)])
    exact = Decimal(str(value))
    return round(float((exact - limit) / limit), 2) if exact > limit else None


def assess(values: dict[str, float], *, target: str = "Ⅲ", lake: bool = False) -> dict[str, Any]:
    """Each parameter's class and exceedance multiple, the overall class and whether it meets the target."""
    if target not in CLASSES:
        raise ValueError(f"target class {target!r} is not one of {', '.join(CLASSES)}")
    parameters: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        if name == "TN" and not lake:
            continue  # rivers: total nitrogen is not classed
        name = "TP-lake" if name == "TP" and lake else name
        water_class = parameter_class(name, value)
        parameters[name] = {"value": value, "class": water_class,
                            "exceedance_multiple": exceedance_multiple(name, value, target)}
    ranked = [p["class"] for n, p in parameters.items() if n not in NOT_IN_OVERALL]
    overall = max(ranked, key=_rank) if ranked else None
    return {"standard": "GB3838-2002", "overall_class": overall, "target_class": target,
            "meets_target": overall is not None and _rank(overall) <= _rank(target),
            "over_target": [n for n, p in parameters.items() if _rank(p["class"]) > _rank(target)],
            "parameters": parameters}


def _rank(water_class: str) -> int:
    return CLASSES.index(water_class) if water_class in CLASSES else len(CLASSES)


def _known(name: str) -> Parameter:
    if name not in PARAMETERS:
        raise ValueError(f"{name!r} is not a GB 3838-2002 basic item; known: pH, {', '.join(PARAMETERS)}")
    return PARAMETERS[name]
