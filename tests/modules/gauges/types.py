"""The module's record type: an air-quality gauge, declared once and served by the whole platform."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from zhulian.model import PredicateSpec, RecordType, Resource, SearchSpec, filter_field
from zhulian.model.common import FlexDate, MultiLang, ShortText, ShortTexts, choice


class Gauge(Resource):
    type: Literal["gauge"] = "gauge"
    name: MultiLang = Field(title="站点名称 name")
    level: choice("gauge_level", {"national": ("国控", "national"), "provincial": ("省控", "provincial"),
                                    "city": ("市控", "city")}) | None = Field(None, title="站点级别 level")
    pollutants: ShortTexts = Field(default_factory=list, title="监测项目 pollutants")
    altitude_m: float | None = Field(None, ge=-500, le=9000, allow_inf_nan=False, title="海拔（米）altitude, m")
    commissioned: FlexDate | None = Field(None, title="建站日期 commissioned")
    operator: ShortText | None = Field(None, title="运维单位 operator")

    year_field: ClassVar[str] = "commissioned"  # what filter=year:>2015 means for a gauge


RECORD_TYPES = (
    RecordType(
        "gauge", "gau", "gauges", "空气质量测点", "air-quality gauge", Gauge,
        fields=(filter_field("level", "keyword", "站点级别", "level", "gauge_level"),
                filter_field("pollutants", "keyword", "监测项目", "pollutant"),
                filter_field("altitude_m", "number", "海拔（米）", "altitude (m)")),
        search=SearchSpec(names=("name",), keywords=("keywords", "pollutants"), body=("description", "operator"),
                          pinyin=True),
        example={"name.zh": "广州市监测站", "pids.gauge": "1345A", "level": "国控", "pollutants": "PM2.5;O3",
                 "altitude_m": "30", "commissioned": "2013-01", "operator": "广州市环境监测中心站",
                 "city": "440100", "operated_by": "moe:4144010558"},
        predicates=(PredicateSpec("operated_by", frozenset({"gauge"}), frozenset({"organization"}),
                                  "运维单位", "operated by", "运维站点", "operates"),),
        pid_schemes=("gauge",),
    ),
)
