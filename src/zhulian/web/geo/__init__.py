"""The region map: the nine PRD cities, Hong Kong and Macao drawn from real boundaries (``prd.geojson``, from
Apache ECharts' province maps, see README.md here) as a server-side SVG choropleth.

Server-side SVG rather than a script library: the page needs no script (a strict Content-Security-Policy
stays strict), the same SVG is the download and the source of the PNG, and a phone draws it at once."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from zhulian.region.cities import CIRCLES, CITIES
from zhulian.web.charts import FONT_STACK, table_file

GEOJSON = Path(__file__).parent / "prd.geojson"
WIDTH = 440  # viewBox units: on a 390 px phone the 14-unit labels draw at about 11.5 px
LABEL_SIZE = 14
LEGEND_HEIGHT = 90
# Sequential blues, light to dark: five classes of the chosen measure.
SHADES = ("#e3eef9", "#b3d1ee", "#75abdc", "#3a7fc1", "#164f8c")
CIRCLE_COLOURS = {"gfz": "#c0392b", "sdh": "#1e8449", "zzj": "#b9770e"}
CIRCLE_NAMES_EN = {"gfz": "Guang-Fo-Zhao", "sdh": "Shen-Guan-Hui", "zzj": "Zhu-Zhong-Jiang"}  # fit the legend
# Where a small or crowded region's label sits (longitude, latitude) instead of at its centroid.
LABEL_AT = {"440300": (114.12, 22.68), "810000": (114.25, 22.1), "820000": (113.5, 21.98),
            "440400": (113.25, 22.2), "442000": (113.38, 22.56), "441900": (113.85, 22.93),
            "440600": (112.95, 22.9), "440100": (113.5, 23.45), "440700": (112.72, 22.28),
            "441200": (112.2, 23.55), "441300": (114.6, 23.3)}


@dataclass(frozen=True)
class Measure:
    """What the map shades: one value per adcode, the unit in both languages, and where a click goes."""
    name_zh: str
    name_en: str
    values: dict[str, float]
    link: str  # with {adcode}


@cache
def _frame() -> tuple[Callable[[float, float], tuple[float, float]], float, tuple[tuple[dict, str], ...]]:
    """The projection, the map's height, and every shape's properties with its SVG path, computed once."""
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    west, south, east, north = data["bbox"]
    # Equirectangular, with longitude shrunk by cos(latitude) so shapes keep their proportions.
    shrink = math.cos(math.radians((south + north) / 2))
    scale = WIDTH / ((east - west) * shrink)

    def point(lng: float, lat: float) -> tuple[float, float]:
        return (lng - west) * shrink * scale, (north - lat) * scale

    shapes = tuple((f["properties"], _path(f["geometry"], point)) for f in data["features"])
    return point, (north - south) * scale, shapes


def _path(geometry: dict, point: Callable[[float, float], tuple[float, float]]) -> str:
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    rings = []
    for polygon in polygons:
        for ring in polygon:
            xy = [point(lng, lat) for lng, lat in ring]
            rings.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in xy) + "Z")
    return "".join(rings)


def _shade_classes(values: dict[str, float]) -> list[float]:
    """Upper bounds of the five shade classes: equal steps from 0 to the largest value, whole numbers when the
    values are counts."""
    largest = max(values.values(), default=0) or 1
    bounds = [largest * (i + 1) / len(SHADES) for i in range(len(SHADES))]
    counts = all(float(v).is_integer() for v in values.values())
    return [float(math.ceil(bound)) for bound in bounds] if counts else bounds


def _shade(value: float, bounds: list[float]) -> str:
    if value <= 0:
        return "#f4f6f8"
    return SHADES[next((i for i, bound in enumerate(bounds) if value <= bound), len(SHADES) - 1)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:,.1f}"


def region_map_svg(measure: Measure, lang: str = "zh") -> str:
    """The choropleth: sea, neighbouring land, the 11 regions shaded by the measure (each a link), the three
    innovation circles outlined, labels, and a legend."""
    point, height, shapes = _frame()
    zh = lang == "zh"
    names = {c.adcode: (c.zh.removesuffix("特别行政区").removesuffix("市") if zh else c.en.removesuffix(" SAR"))
             for c in CITIES}
    bounds = _shade_classes(measure.values)
    title = measure.name_zh if zh else measure.name_en
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height + LEGEND_HEIGHT:.0f}" '
             f'class="region-map" role="img" aria-label="{escape(title)}" font-size="{LABEL_SIZE}" '
             f'font-family="{FONT_STACK}">',
             f'<title>{escape(title)}</title>',
             f'<rect class="sea" width="{WIDTH}" height="{height:.0f}" fill="#d4e6f4"/>']
    parts += [f'<path class="land" d="{d}" fill="#ebe7df" stroke="#fff" stroke-width="0.6"/>'
              for properties, d in shapes if properties["kind"] == "land"]
    for properties, d in shapes:
        if properties["kind"] != "region":
            continue
        code = properties["adcode"]
        value = measure.values.get(code, 0)
        parts.append(f'<a href="{escape(measure.link.format(adcode=code))}" class="region-link">'
                     f'<path class="region" data-adcode="{code}" data-value="{value:g}" '
                     f'd="{d}" fill="{_shade(value, bounds)}" stroke="#fff" '
                     f'stroke-width="0.8"><title>{escape(names[code])}：{_number(value)}</title></path></a>')
    for properties, d in shapes:
        if properties["kind"] == "circle":
            circle = properties["circle"]
            parts.append(f'<path class="circle" data-circle="{circle}" d="{d}" '
                         f'fill="none" stroke="{CIRCLE_COLOURS[circle]}" stroke-width="2" stroke-dasharray="5 3" '
                         'pointer-events="none"/>')
    for city in CITIES:
        x, y = point(*LABEL_AT.get(city.adcode, (city.lng, city.lat)))
        text = f'{escape(names[city.adcode])} {_number(measure.values.get(city.adcode, 0))}'
        # A white halo drawn first keeps the label legible on any shade (PNG renderers lack paint-order).
        parts.append(f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#fff" stroke="#fff" '
                     f'stroke-width="3" pointer-events="none" aria-hidden="true">{text}</text>'
                     f'<text class="label" x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#1d2b36" '
                     f'pointer-events="none">{text}</text>')
    parts.append(_legend(bounds, height, title, zh))
    return "".join(parts) + "</svg>"


def _legend(bounds: list[float], top: float, title: str, zh: bool) -> str:
    """The shade classes under the map, then the three circles' outline colours."""
    parts = [f'<rect class="legend" y="{top:.0f}" width="{WIDTH}" height="{LEGEND_HEIGHT}" fill="#fff"/>',
             f'<text x="6" y="{top + 18:.0f}" fill="#1d2b36">{escape(title)}</text>']
    step = (WIDTH - 12) / len(SHADES)
    for i, (shade, bound) in enumerate(zip(SHADES, bounds)):
        x = 6 + i * step
        parts.append(f'<rect x="{x:.1f}" y="{top + 26:.0f}" width="{step - 2:.1f}" height="12" fill="{shade}"/>'
                     f'<text x="{x:.1f}" y="{top + 54:.0f}" fill="#444">≤{_number(bound)}</text>')
    step = (WIDTH - 12) / len(CIRCLES)
    for i, (code, names) in enumerate(CIRCLES.items()):
        x = 6 + i * step
        parts.append(f'<line x1="{x:.1f}" x2="{x + 22:.1f}" y1="{top + 75:.0f}" y2="{top + 75:.0f}" '
                     f'stroke="{CIRCLE_COLOURS[code]}" stroke-width="2" stroke-dasharray="5 3"/>'
                     f'<text x="{x + 28:.1f}" y="{top + 80:.0f}" fill="#444">'
                     f'{escape(names["zh"] if zh else CIRCLE_NAMES_EN[code])}</text>')
    return "".join(parts)


def map_table(measure: Measure, fmt: str) -> bytes:
    """The map's figures as a CSV or XLSX table: one row per region."""
    headers = ["adcode", "城市 city", f"{measure.name_zh} {measure.name_en}"]
    rows = [[c.adcode, f"{c.zh} {c.en}", measure.values.get(c.adcode, 0)] for c in CITIES]
    return table_file(headers, rows, fmt, "map")
