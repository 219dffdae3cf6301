"""What the SensorThings view knows of HJ 212 parameters: the packaged sensor, each air pollutant's observed
property and unit. A code outside this list gets a property named by its code when its first value arrives."""

from __future__ import annotations

from typing import Any

from zhulian.environment.hj212 import AIR_CODES

HJ212_SENSOR_ROW = {"id": 1, "name": "HJ 212-2017 数据采集传输仪 data acquisition and transmission instrument",
                    "description": "按 HJ 212-2017 上报数据的站点仪器 / a station instrument reporting over HJ 212-2017",
                    "encoding_type": "text/html", "metadata": "HJ 212-2017"}
_NAMES_ZH = {"PM2.5": "细颗粒物", "PM10": "可吸入颗粒物", "SO2": "二氧化硫", "NO2": "二氧化氮", "O3": "臭氧",
             "CO": "一氧化碳"}
PROPERTY_ROWS = [{"id": index, "code": code, "name": name, "definition": f"HJ 212-2017 {code}",
                  "description": f"{_NAMES_ZH[name]} {name}"}
                 for index, (code, name) in enumerate(AIR_CODES.items(), start=1)]
OBSERVATION_TYPE = "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement"


def unit_of(code: str) -> dict[str, Any]:
    """The unit an HJ 212 code's values are reported in (air: µg/m³, CO mg/m³; others as their station says)."""
    if code == "a21005":
        return {"name": "毫克每立方米 milligram per cubic metre", "symbol": "mg/m³",
                "definition": "http://qudt.org/vocab/unit/MilliGM-PER-M3"}
    if code in AIR_CODES:
        return {"name": "微克每立方米 microgram per cubic metre", "symbol": "µg/m³",
                "definition": "http://qudt.org/vocab/unit/MicroGM-PER-M3"}
    return {"name": code, "symbol": "", "definition": ""}
