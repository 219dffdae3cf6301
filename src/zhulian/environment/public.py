"""The public interaction platform's pictures: each station's latest state (AQI category for air, class for
water, zone compliance for noise), a map of the stations drawn as SVG from their coordinates, and 24-hour and
30-day charts as SVG. Everything is drawn on the server: nothing is fetched by the browser."""

from __future__ import annotations

from datetime import datetime
from statistics import fmean
from typing import Any
from xml.sax.saxutils import escape

import sqlalchemy as sa

from zhulian.environment import noise, water
from zhulian.environment.alerts import NOISE_CODE, WATER_CODES
from zhulian.environment.aqi import CHINA
from zhulian.environment.hj212 import POLLUTANT_CODES
from zhulian.environment.service import DAY, HOUR, EnvironmentService, china_day_start
from zhulian.environment.tables import hourly

NO_DATA = {"label": "无数据", "label_en": "no data", "color": "#9aa5b1"}
WATER_COLORS = {"Ⅰ": "#1e88e5", "Ⅱ": "#42a5f5", "Ⅲ": "#66bb6a", "Ⅳ": "#ffb300", "Ⅴ": "#fb8c00", "劣Ⅴ": "#e53935"}
MAP_WIDTH, MAP_HEIGHT, MAP_PAD = 600, 420, 30
CHART_WIDTH, CHART_HEIGHT = 640, 220


def chart_parameter(station: dict[str, Any]) -> tuple[str, str, str]:
    """The parameter a station's charts show: (code, name, unit)."""
    if station["kind"] == "water":
        return "w21003", "氨氮 NH3-N", "mg/L"
    if station["kind"] == "noise":
        return NOISE_CODE, "噪声 Leq", "dB(A)"
    return POLLUTANT_CODES["PM2.5"], "PM2.5", "µg/m³"


class PublicView:
    def __init__(self, service: EnvironmentService) -> None:
        self.service = service
        self.store = service.store

    def latest_hour(self, station_id: int, code: str) -> int | None:
        query = (sa.select(hourly.c.time).where(hourly.c.station_id == station_id, hourly.c.code == code)
                 .order_by(hourly.c.time.desc()).limit(1))
        with self.store.engine.connect() as connection:
            return connection.execute(query).scalar()

    def status(self, station: dict[str, Any]) -> dict[str, Any]:
        """The station's latest state, with a label and a colour for the map."""
        code, _, _ = chart_parameter(station)
        hour = self.latest_hour(station["id"], code)
        if hour is None:
            return {**NO_DATA, "time": None}
        moment = datetime.fromtimestamp(hour, CHINA)
        if station["kind"] == "water":
            found = self.service.hourly_values([station["id"]], WATER_CODES, hour, hour + HOUR)
            measured = {WATER_CODES[c]: v for (_, c, _), v in found.items()}
            overall = water.assess(measured, target=station["water_target"] or "Ⅲ")["overall_class"] if measured else None
            if overall is None:
                return {**NO_DATA, "time": moment.isoformat()}
            return {"label": f"{overall}类", "label_en": f"class {overall}", "color": WATER_COLORS.get(overall, "#9aa5b1"),
                    "time": moment.isoformat()}
        if station["kind"] == "noise":
            level = self.service.hourly_values([station["id"]], [NOISE_CODE], hour, hour + HOUR)
            value = next(iter(level.values()))
            day_limit, night_limit = noise.ZONE_LIMITS.get(station["zone_class"] or "2", (60, 50))
            limit = day_limit if moment.hour in noise.DAY_HOURS else night_limit
            meets = value <= limit
            return {"label": f"{value:.0f} dB(A) {'达标' if meets else '超标'}",
                    "label_en": f"{value:.0f} dB(A) {'within' if meets else 'over'} limit",
                    "color": "#43a047" if meets else "#e53935", "time": moment.isoformat()}
        assessment = self.service.aqi(station=station["mn"], at=moment)["results"][0]
        if assessment["aqi"] is None:
            return {**NO_DATA, "time": moment.isoformat()}
        return {"label": f"AQI {assessment['aqi']} {assessment['category']}", "label_en": f"AQI {assessment['aqi']}",
                "color": assessment["color"], "time": moment.isoformat(), "aqi": assessment}

    def series(self, station: dict[str, Any], hours: int, *, daily: bool = False, until: int | None = None
               ) -> list[tuple[int, float]]:
        """The chart parameter's hourly values over the last ``hours`` up to its latest; daily means if asked."""
        code, _, _ = chart_parameter(station)
        last = until if until is not None else self.latest_hour(station["id"], code)
        if last is None:
            return []
        found = self.service.hourly_values([station["id"]], [code], last - (hours - 1) * HOUR, last + HOUR)
        points = sorted((time, value) for (_, _, time), value in found.items())
        if not daily:
            return points
        days: dict[int, list[float]] = {}
        for time, value in points:
            days.setdefault(china_day_start(time), []).append(value)
        return [(day, fmean(values)) for day, values in sorted(days.items())]


def station_map(stations: list[dict[str, Any]]) -> str:
    """The stations as coloured points in an SVG (equirectangular, scaled to their extent), each a link."""
    if not stations:
        return ""
    lons, lats = [s["lon"] for s in stations], [s["lat"] for s in stations]
    span = max(max(lons) - min(lons), max(lats) - min(lats), 0.01)
    scale = min((MAP_WIDTH - 2 * MAP_PAD) / span, (MAP_HEIGHT - 2 * MAP_PAD) / span)
    parts = [f'<svg class="env-map" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" role="img" aria-labelledby="map-title">',
             '<title id="map-title">监测站点分布 Monitoring stations</title>',
             f'<rect width="{MAP_WIDTH}" height="{MAP_HEIGHT}" fill="#eef4f8" rx="8"/>']
    for station in stations:
        x = MAP_PAD + (station["lon"] - min(lons)) * scale
        y = MAP_HEIGHT - MAP_PAD - (station["lat"] - min(lats)) * scale
        status = station["status"]
        label = escape(f"{station['name']} {status['label']}")
        parts.append(f'<a href="/env/stations/{escape(station["mn"])}" class="env-point">'
                     f'<circle cx="{x:.1f}" cy="{y:.1f}" r="11" fill="{escape(status["color"])}" stroke="#fff" '
                     f'stroke-width="2"><title>{label}</title></circle>'
                     f'<text x="{x + 14:.1f}" y="{y + 5:.1f}">{escape(station["name"])}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def line_chart(points: list[tuple[int, float]], title: str, unit: str, *, daily: bool = False) -> str:
    """A line chart of (UTC seconds, value) as SVG, labelled in China time."""
    if not points:
        return f'<p class="muted">{escape(title)}：暂无数据 no data</p>'
    times, values = [p[0] for p in points], [p[1] for p in points]
    low, high = 0.0, max(max(values), 1.0) * 1.1
    first, last = min(times), max(max(times), min(times) + (DAY if daily else HOUR))
    left, right, top, bottom = 48, CHART_WIDTH - 12, 28, CHART_HEIGHT - 30

    def x(time: int) -> float:
        return left + (time - first) / (last - first) * (right - left)

    def y(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    path = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in points)
    stamp = "%m-%d" if daily else "%H:%M"
    ticks = [first, (first + last) // 2, last]
    parts = [f'<svg class="env-chart" viewBox="0 0 {CHART_WIDTH} {CHART_HEIGHT}" role="img" '
             f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
             f'<text x="{left}" y="18" class="chart-title">{escape(title)}（{escape(unit)}）</text>',
             f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{high:.0f}</text>',
             f'<text x="{left - 6}" y="{bottom}" text-anchor="end">0</text>']
    for tick in ticks:
        label = datetime.fromtimestamp(tick, CHINA).strftime(stamp)
        parts.append(f'<text x="{x(tick):.1f}" y="{bottom + 18}" text-anchor="middle">{label}</text>')
    parts.append(f'<polyline fill="none" stroke="#1565c0" stroke-width="2" points="{path}"/>')
    parts += [f'<circle cx="{x(t):.1f}" cy="{y(v):.1f}" r="2.5" fill="#1565c0"/>' for t, v in points[-48:]]
    parts.append("</svg>")
    return "".join(parts)
