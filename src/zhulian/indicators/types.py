"""The record type this module brings: an indicator observation, one value of an indicator for a region and a
year. Declared here, in the module's folder, like any module's type (docs/modules.md)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from zhulian.model import RecordType, Resource, SearchSpec, filter_field
from zhulian.model.common import Adcode, ShortText, Text, Year, choice
from zhulian.model.indicators import INDICATORS, UNITS, convert, indicator_code
from zhulian.region.adcodes import adcode_name


def _indicator_from_name(value: Any) -> Any:
    """An indicator may be given by its code, its Chinese or English label or another name it goes by."""
    if not isinstance(value, str):
        return value
    code = indicator_code(value)
    if code is None:
        raise PydanticCustomError(
            "indicator", "not an indicator of the vocabulary; `zhulian indicators list` or GET /api/v1/indicators "
            "lists the codes", {"reason_zh": "不是指标代码表中的指标；`zhulian indicators list` 或 GET /api/v1/indicators 列出全部代码"})
    return code


IndicatorCode = Annotated[choice("indicator", {code: (i.zh, i.en) for code, i in INDICATORS.items()}),
                          BeforeValidator(_indicator_from_name)]


class Observation(Resource):
    """One value of an indicator for a region and a year, as a statistics bureau or a budget reports it:
    e.g. Guangzhou's gross R&D expenditure was 2.63 % of GDP in 2018."""

    type: Literal["observation"] = "observation"
    indicator: IndicatorCode = Field(title="指标 indicator")
    region: Adcode = Field(title="地区 region (GB/T 2260)")
    year: Year = Field(title="年份 year")
    value: float = Field(ge=-1e15, le=1e15, allow_inf_nan=False, title="数值 value")
    unit: ShortText | None = Field(None, max_length=20, title="单位 unit")
    source: ShortText | None = Field(None, title="来源 source")
    note: Text | None = Field(None, title="备注 note")

    year_field: ClassVar[str] = "year"

    @model_validator(mode="after")
    def _unit_and_year(self) -> Observation:
        indicator = INDICATORS[self.indicator]
        if self.unit is None:
            self.unit = indicator.unit
        elif convert(1.0, self.unit, indicator.unit) is None:
            known = "、".join(u for u, (family, _f) in UNITS.items() if family == UNITS.get(indicator.unit, ("",))[0])
            raise PydanticCustomError(
                "unit", "{indicator} is measured in {expected}; '{unit}' cannot be converted to it",
                {"indicator": self.indicator, "expected": indicator.unit, "unit": self.unit, "field": "unit",
                 "value": self.unit,
                 "reason_zh": f"{indicator.zh} 的单位是 {indicator.unit}，无法从 {self.unit!r} 换算"
                              + (f"（可用单位：{known}）" if known else "")})
        this_year = dt.date.today().year
        if self.year > this_year + 1:
            raise PydanticCustomError(
                "future_year", "an observation is of a year that has begun or is budgeted (up to {limit}), not {year}",
                {"limit": this_year + 1, "year": self.year, "field": "year", "value": self.year,
                 "reason_zh": f"观测值只能属于已开始或已编制预算的年份（不晚于 {this_year + 1} 年），不能是 {self.year} 年"})
        if self.city is None:
            self.city = self.region  # lists, maps and filters by city find it like any other record
        # One value per indicator, region and year: re-importing a table updates its observations, and a
        # corrected figure becomes a new revision of the same record.
        self.pids["obs"] = f"{self.indicator}:{self.region}:{self.year}"
        return self

    def label(self) -> str:
        return observation_label(self.indicator, self.region, self.year)


def observation_label(indicator: str, region: str, year: Any) -> str:
    """How an observation is named where other records show a name: 广州市 全社会研发投入占GDP比重 2018."""
    known = INDICATORS.get(indicator)
    return f"{adcode_name(region) or region} {known.zh if known else indicator} {year}"


RECORD_TYPES = (
    RecordType(
        "observation", "obs", "observations", "指标观测值", "observation", Observation,
        (filter_field("indicator", "keyword", "指标", "indicator", "indicator"),
         filter_field("region", "keyword", "地区", "region"),
         filter_field("value", "number", "数值", "value"),
         filter_field("source", "keyword", "来源", "source")),
        # An observation has no name of its own: it is found by its source, and named by what it measures.
        SearchSpec(names=(), body=("description", "source")),
        {"indicator": "rd_gdp_ratio", "region": "440100", "year": "2018", "value": "2.63", "unit": "%",
         "source": "示例：广州统计年鉴 example source"},
        label=lambda record: observation_label(record.get("indicator", ""), record.get("region", ""),
                                               record.get("year", "")),
    ),
)
