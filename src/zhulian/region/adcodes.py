"""GB/T 2260 administrative division codes, read from the table shipped with the package (``data/adcodes.csv``:
3,511 provinces, prefecture-level cities and counties, 810000 香港 and 820000 澳门 among them).

The rows are the code and name columns of the ``cpca`` 0.5.5 table (MIT licence, ``data/adcodes-LICENSE.txt``);
counties stay in because records and imports name places by county-level cities and districts (昆山市, 天河区).
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path
from typing import Any

ADCODE_PATTERN = re.compile(r"^[1-9]\d{5}$")
TABLE = Path(__file__).parent / "data" / "adcodes.csv"


@cache
def adcode_names() -> dict[str, str]:
    """Every known six-digit code with its name."""
    with TABLE.open(encoding="utf-8", newline="") as handle:
        return {row["adcode"]: row["name"] for row in csv.DictReader(handle)}


def is_adcode(code: str) -> bool:
    return bool(ADCODE_PATTERN.match(code)) and code in adcode_names()


def adcode_name(code: str) -> str | None:
    """The name of a code; a municipality's city-level code (310100, listed as 市辖区) takes the
    municipality's own name."""
    name = adcode_names().get(code)
    if name == "市辖区":
        return adcode_names().get(code[:2] + "0000", name)
    return name


def with_districts(code: str) -> list[str]:
    """A prefecture-level city's code with the codes of its districts and counties (440100 → 440100, 440103 …
    440118), so that a filter on the city finds records placed in one of its districts; any other code alone."""
    if _level(code) != 1 or not is_adcode(code):
        return [code]
    return [code, *(found for found in adcode_names() if found[:4] == code[:4] and _level(found) == 2
                    and adcode_names()[found] != "市辖区")]


# -- districts counted under their city ------------------------------------------------------------------


@cache
def city_of_district(code: str) -> str | None:
    """The prefecture-level city a district or county lies in (440113 → 440100); None for any other code."""
    city = code[:4] + "00"
    return city if code != city and code in with_districts(city) else None


def by_city(groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Counts per ``city`` value (``{"key", "key_display_name", "count"}``) rolled up the way a ``city:`` filter
    reads a city (``city:440100`` means the city and its districts): each district's count added to its city's
    and the district listed in the city's ``districts``, largest first. Every group by city the platform gives
    (record lists, search facets, the portal's map) is made by this function."""
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


# -- place names to codes -------------------------------------------------------------------------------

MUNICIPALITIES = ("11", "12", "31", "50")
_SUFFIXES = re.compile(r"(自治州|地区|州|盟|市|县|区)$")


@cache
def _adcodes_by_name() -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for code, name in adcode_names().items():
        index.setdefault(name, []).append(code)
    return index


def _level(code: str) -> int:
    """0 province, 1 prefecture (city), 2 county."""
    if code.endswith("0000"):
        return 0
    return 1 if code.endswith("00") else 2


@cache
def _region_names() -> dict[str, str]:
    """The region's eleven places by every name people write for them: 广州市 and 广州, 廣州, Guangzhou, 穗 …"""
    from zhulian.region.cities import CITIES

    names: dict[str, str] = {}
    for city in CITIES:
        for name in (city.zh, city.zh_hant, city.en, city.en.removesuffix(" SAR"), *city.aliases):
            names[name.casefold()] = city.adcode
            if name.endswith("市"):
                names[name[:-1]] = city.adcode
    return names


def adcode_for(name: str, within: str = "") -> str:
    """A place name (``广州市``, ``深圳``, ``Hong Kong``, ``番禺区``, ``凉山州``, ``延边朝鲜族\\n自治州``) as its
    GB/T 2260 code, preferring codes in the province ``within`` (a two-digit prefix or any code starting with
    it) and city-level codes; a municipality (北京市) gives its city-level code (110100)."""
    key = re.sub(r"\s+", "", name)
    if re.fullmatch(r"[1-9]\d{5}", key) and key in adcode_names():
        return key
    if (region := _region_names().get(" ".join(name.split()).casefold())) is not None:
        return region
    index = _adcodes_by_name()
    candidates = list(index.get(key, ()))
    if not candidates:
        stem = _SUFFIXES.sub("", key)
        if len(stem) >= 2:
            candidates = [code for found, codes in index.items() if found.startswith(stem) for code in codes
                          if _level(code) <= 1]
    if not candidates:
        raise PlaceNotFound(f"no GB/T 2260 code is named {name!r}", f"找不到名为“{name}”的行政区划代码")
    province = re.sub(r"\D", "", within)[:2]
    inside = [code for code in candidates if province and code.startswith(province)]
    pool = inside or candidates
    best = min(_level(code) if _level(code) else 1.5 for code in pool)
    chosen = sorted(code for code in pool if (_level(code) if _level(code) else 1.5) == best)
    if len(chosen) > 1:
        raise PlaceNotFound(f"{name!r} names several places ({', '.join(chosen)})",
                          f"“{name}”对应多个行政区划（{'、'.join(chosen)}）")
    code = chosen[0]
    if code[:2] in MUNICIPALITIES and _level(code) == 0:
        code = code[:2] + "0100"
    return code


class PlaceNotFound(ValueError):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason, self.reason_zh = reason, reason_zh
