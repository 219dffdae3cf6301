"""The region: nine Pearl River Delta cities plus Hong Kong and Macao (``data/cities.toml``).

Roles follow the "1+1+7" demonstration zone (Shenzhen and Guangzhou lead, seven cities follow) and the
three innovation circles named in the 2014–2020 integration action plan. Centroids are GCJ-02 longitude,
latitude as published in the GB/T 2260-based code list.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from zhulian.region.reference import DATA, ReferenceDataError, read_toml


@dataclass(frozen=True)
class City:
    adcode: str
    zh: str
    en: str
    zh_hant: str
    lng: float
    lat: float
    role: str
    circle: str | None
    aliases: tuple[str, ...] = ()  # other names people write: 穗, Canton, 香港, Macau …

    def as_dict(self) -> dict:
        return {
            "adcode": self.adcode,
            "name": {"zh": self.zh, "en": self.en, "zh_hant": self.zh_hant},
            "centroid": {"lng": self.lng, "lat": self.lat},
            "role": self.role,
            "role_display": ROLES[self.role],
            "circle": self.circle,
            "circle_display": CIRCLES.get(self.circle) if self.circle else None,
        }


def _city(entry: Any, position: int, roles: dict, circles: dict) -> City:
    where = f"cities.toml [[cities]] #{position}"
    optional = {"circle", "aliases"}
    required = {f.name for f in fields(City)} - optional
    if not isinstance(entry, dict) or not required <= entry.keys() or not entry.keys() <= required | optional:
        raise ReferenceDataError(where, f"a city has exactly {sorted(required)} and optionally circle and aliases",
                                 f"城市须有且只有 {sorted(required)}，circle 与 aliases 可选")
    if entry["role"] not in roles or entry.get("circle", None) not in (None, *circles):
        raise ReferenceDataError(where, f"role must be one of {sorted(roles)} and circle one of {sorted(circles)}",
                                 f"role 须为 {sorted(roles)} 之一，circle 须为 {sorted(circles)} 之一")
    return City(**{"circle": None, **entry, "aliases": tuple(entry.get("aliases", ()))})


def _load() -> tuple[dict, dict, tuple[City, ...]]:
    table = read_toml(DATA / "cities.toml")
    circles, roles = table.get("circles", {}), table.get("roles", {})
    cities = tuple(_city(entry, position, roles, circles) for position, entry in enumerate(table.get("cities", []), 1))
    return circles, roles, cities


CIRCLES, ROLES, CITIES = _load()
CITY_BY_ADCODE = {city.adcode: city for city in CITIES}


def city_of(adcode: str | None) -> City | None:
    """The region city an adcode lies in (a county code maps to its city)."""
    if not adcode:
        return None
    for candidate in (adcode, adcode[:4] + "00", adcode[:2] + "0000"):
        if candidate in CITY_BY_ADCODE:
            return CITY_BY_ADCODE[candidate]
    return None
