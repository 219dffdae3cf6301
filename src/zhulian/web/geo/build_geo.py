"""Rebuild ``prd.geojson`` from the province maps of the ``echarts`` npm package, release 4.9.0 (Apache-2.0).

Not imported by the application: run by hand when the boundaries are to be rebuilt, with shapely installed
(``pip install shapely``) and the package unpacked (``npm pack echarts@4.9.0 && tar xzf echarts-4.9.0.tgz``):

    python src/zhulian/web/geo/build_geo.py package/map/json/province > src/zhulian/web/geo/prd.geojson

It decodes ECharts' compressed coordinates, joins Hong Kong's and Macao's districts into one shape each, keeps
the nine PRD cities, cuts the neighbouring land (the rest of Guangdong, Guangxi) to the map's frame, joins the
three innovation circles' cities into one outline each, drops islands under 4 km², simplifies every line to about 300 m and rounds
coordinates to 0.001°, so that the file stays small.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shapely.geometry import box, mapping, shape
from shapely.ops import unary_union

FRAME = (111.2, 21.45, 115.6, 24.45)  # west, south, east, north
TOLERANCE = 0.003
SMALLEST_ISLAND = 0.0004  # square degrees, about 4 km²: smaller islands vanish at the map's scale
PRD = {"440100", "440300", "440400", "440600", "440700", "441200", "441300", "441900", "442000"}
SARS = {"xianggang": ("810000", "香港"), "aomen": ("820000", "澳门")}
CIRCLES = {"gfz": ("440100", "440600", "441200"), "sdh": ("440300", "441900", "441300"),
           "zzj": ("440400", "442000", "440700")}


def _decode_ring(text: str, offset: list[int], scale: float = 1024) -> list[tuple[float, float]]:
    """ECharts' map encoding: zigzag-coded deltas, two characters a point, offset by 64."""
    x, y = offset
    points = []
    for i in range(0, len(text), 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        points.append((x / scale, y / scale))
    return points


def _decode(geometry: dict) -> dict:
    if geometry["type"] == "Polygon":
        rings = [_decode_ring(r, o) for r, o in zip(geometry["coordinates"], geometry["encodeOffsets"])]
        return {"type": "Polygon", "coordinates": rings}
    polygons = [[_decode_ring(r, o) for r, o in zip(polygon, offsets)]
                for polygon, offsets in zip(geometry["coordinates"], geometry["encodeOffsets"])]
    return {"type": "MultiPolygon", "coordinates": polygons}


def _shapes(folder: Path, name: str) -> list[tuple[str, str, object]]:
    data = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    return [(str(f["id"]), f["properties"]["name"], shape(_decode(f["geometry"])).buffer(0))
            for f in data["features"]]


def _rounded(geometry) -> dict:
    def walk(value):
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], float):
            return [round(value[0], 3), round(value[1], 3)]
        return [walk(v) for v in value]
    if geometry.geom_type == "MultiPolygon" and geometry.area > 10 * SMALLEST_ISLAND:
        geometry = unary_union([part for part in geometry.geoms if part.area >= SMALLEST_ISLAND])
    as_dict = mapping(geometry.simplify(TOLERANCE, preserve_topology=True))
    return {"type": as_dict["type"], "coordinates": walk(as_dict["coordinates"])}


def main(folder: Path) -> None:
    frame = box(*FRAME)
    features = []
    cities: dict[str, object] = {}
    for code, name, geometry in _shapes(folder, "guangdong"):
        if code in PRD:
            cities[code] = geometry
            features.append({"type": "Feature", "properties": {"kind": "region", "adcode": code, "name": name},
                             "geometry": _rounded(geometry)})
        elif geometry.intersects(frame):
            features.append({"type": "Feature", "properties": {"kind": "land", "name": name},
                             "geometry": _rounded(geometry.intersection(frame))})
    for file, (code, name) in SARS.items():
        joined = unary_union([g for _c, _n, g in _shapes(folder, file)])
        features.append({"type": "Feature", "properties": {"kind": "region", "adcode": code, "name": name},
                         "geometry": _rounded(joined)})
    neighbour = unary_union([g for _c, _n, g in _shapes(folder, "guangxi")]).intersection(frame)
    features.append({"type": "Feature", "properties": {"kind": "land", "name": "广西"}, "geometry": _rounded(neighbour)})
    for circle, members in CIRCLES.items():
        outline = unary_union([cities[m] for m in members]).buffer(0.01).buffer(-0.01)
        features.append({"type": "Feature", "properties": {"kind": "circle", "circle": circle},
                         "geometry": _rounded(outline)})
    json.dump({"type": "FeatureCollection", "bbox": list(FRAME), "features": features}, sys.stdout,
              ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
