"""The record type this module brings: a monitoring station, as a record like every other (audited, federated to
the city hub, searchable, imported and exported). The record is the truth for what describes a station — its
name, MN code (``pids.mn``), kind, place, noise zone or water target and the organisation operating it; the
module's ``env_stations`` table keeps the station's live side (the integer id its values are stored under, the
HJ 212 password) and a copy of the record's fields, brought up to date from the change feed (service.py)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zhulian.model import PredicateSpec, RecordType, Resource, SearchSpec, filter_field
from zhulian.model.common import MultiLang, ShortText, choice

STATION_KINDS = {"air": ("空气", "air"), "ions": ("负氧离子", "negative ions"), "water": ("地表水", "surface water"),
                 "precipitation": ("降水", "precipitation"), "noise": ("噪声", "noise"), "fumes": ("油烟", "cooking fumes"),
                 "source": ("污染源", "pollution source"), "waste_gas": ("废气", "waste gas")}
NOISE_ZONES = {zone: (f"{zone} 类声环境功能区", f"acoustic zone class {zone}") for zone in ("0", "1", "2", "3", "4a", "4b")}
WATER_CLASSES = {cls: (f"{cls} 类", f"class {cls}") for cls in ("Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ", "Ⅴ")}


class Station(Resource):
    type: Literal["station"] = "station"
    name: MultiLang = Field(title="站点名称 name")
    kind: choice("env_station_kind", STATION_KINDS) = Field(title="站点类型 kind")
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False, title="经度 longitude")
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False, title="纬度 latitude")
    district: ShortText | None = Field(None, max_length=100, title="区县 district")
    zone_class: choice("env_noise_zone", NOISE_ZONES) | None = Field(None, title="声环境功能区 noise zone class")
    water_target: choice("env_water_class", WATER_CLASSES) | None = Field(None, title="水质目标 water class target")


RECORD_TYPES = (
    RecordType(
        "station", "sta", "stations", "监测站点", "monitoring station", Station,
        fields=(filter_field("kind", "keyword", "站点类型", "kind", "env_station_kind"),
                filter_field("district", "keyword", "区县", "district")),
        search=SearchSpec(names=("name",), keywords=("keywords", "district"), body=("description",), pinyin=True),
        example={"name.zh": "盐田港", "pids.mn": "YT0001", "kind": "空气", "lon": "114.27", "lat": "22.58",
                 "district": "盐田区", "city": "440300", "operated_by": "moe:4144010558"},
        predicates=(PredicateSpec("operated_by", frozenset({"station"}), frozenset({"organization"}),
                                  "运维单位", "operated by", "运维站点", "operates"),),
        pid_schemes=("mn",),
    ),
)
