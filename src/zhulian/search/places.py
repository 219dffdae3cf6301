"""Places in facets: a record placed in a district or county (番禺区 440113) counts under its city (广州市
440100), as a ``city:`` filter finds it (``city:440100`` means the city and its districts); each district stays
visible among its city's ``districts``."""

from __future__ import annotations

from functools import cache
from typing import Any

from zhulian.region.adcodes import adcode_name, with_districts


@cache
def city_of_district(code: str) -> str | None:
    """The prefecture-level city a district or county lies in (440113 → 440100); None for any other code."""
    city = code[:4] + "00"
    return city if code != city and code in with_districts(city) else None


def by_city(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts per ``city`` value rolled up: each district's count added to its city's and the district listed
    under it, largest first."""
    cities: dict[Any, dict[str, Any]] = {}
    districts: list[tuple[str, dict[str, Any]]] = []
    for group in groups:
        city = city_of_district(str(group["key"])) if group["key"] is not None else None
        if city is None:
            cities[group["key"]] = dict(group)
        else:
            districts.append((city, group))
    for city, group in districts:
        bucket = cities.setdefault(city, {"key": city, "key_display_name": adcode_name(city) or city, "count": 0})
        bucket["count"] += group["count"]
        bucket.setdefault("districts", []).append(group)
    for bucket in cities.values():
        if "districts" in bucket:
            bucket["districts"] = _largest_first(bucket["districts"])
    return _largest_first(list(cities.values()))


def _largest_first(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(groups, key=lambda g: (-g["count"], str(g["key"])))
