"""The open-sharing evaluation as the national assessment of large research instruments counts it: for each
instrument and host, effective working hours (hours of recorded use), external service hours (use by anyone
outside the host) and their share, users served inside and outside the host and by city, income and the users'
rating; a yearly report per city and for the region. Only used (completed or rated) bookings count, each on the
node that decided it (a node's copies of bookings it forwarded elsewhere are not counted again)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from zhulian.model import record_label
from zhulian.region.cities import CITIES, CITY_BY_ADCODE
from zhulian.sharing.service import DONE_STATES, year_bounds
from zhulian.sharing.tables import bookings, profiles


class Tally:
    """The assessment's figures for one instrument, host, city or the region."""

    def __init__(self) -> None:
        self.hours = 0.0
        self.external_hours = 0.0
        self.income_fen = 0
        self.bookings = 0
        self.ratings: list[int] = []
        self.users_inside: set[str] = set()
        self.users_outside: set[str] = set()
        self.users_by_city: dict[str, set[str]] = defaultdict(set)
        self.instruments: set[str] = set()

    def add(self, row: dict[str, Any]) -> None:
        hours = row["hours_used"] or 0.0
        self.hours += hours
        self.bookings += 1
        self.income_fen += row["fee_fen"] or 0
        if row["user_class"] == "internal":
            self.users_inside.add(row["user_id"])
        else:
            self.external_hours += hours
            self.users_outside.add(row["user_id"])
        self.users_by_city[row["user_city"] or ""].add(row["user_id"])
        if row["rating"] is not None:
            self.ratings.append(row["rating"])

    def as_dict(self) -> dict[str, Any]:
        return {"instruments": len(self.instruments), "bookings": self.bookings, "hours": round(self.hours, 2),
                "external_hours": round(self.external_hours, 2),
                "external_share": round(self.external_hours / self.hours, 4) if self.hours else 0.0,
                "users_inside": len(self.users_inside), "users_outside": len(self.users_outside),
                "users_by_city": {city: len(users) for city, users in sorted(self.users_by_city.items())},
                "income": self.income_fen / 100,
                "rating": round(sum(self.ratings) / len(self.ratings), 2) if self.ratings else None,
                "ratings": len(self.ratings)}


def yearly_report(store: Any, year: int, city: str | None = None) -> dict[str, Any]:
    """Per instrument, per host, per city and for the region (or one city's part of it) in a year."""
    low, high = year_bounds(year)
    used = sa.select(bookings).where(bookings.c.state.in_(DONE_STATES), bookings.c.start_at >= low,
                                     bookings.c.start_at < high,
                                     bookings.c.origin_node.is_(None))  # mirrors: their origin counts them
    shared = sa.select(profiles.c.instrument_id, profiles.c.city, profiles.c.node)
    if city:
        used, shared = used.where(bookings.c.city == city), shared.where(profiles.c.city == city)
    with store.engine.connect() as connection:
        rows = [dict(row) for row in connection.execute(used).mappings()]
        offered = [dict(row) for row in connection.execute(shared).mappings()]
    names = store.get_many(sorted({r["instrument_id"] for r in offered} | {r["instrument_id"] for r in rows}))
    per_instrument: dict[str, Tally] = defaultdict(Tally)
    per_host: dict[tuple[str, str], Tally] = defaultdict(Tally)
    per_city: dict[str, Tally] = defaultdict(Tally)
    region = Tally()
    for item in offered:  # an instrument offered but unused counts as offered, with no hours
        record = names.get(item["instrument_id"], {})
        _count_instrument(item["instrument_id"], record, item["city"], per_instrument, per_host, per_city, region)
    for row in rows:
        record = names.get(row["instrument_id"], {})
        tallies = _count_instrument(row["instrument_id"], record, row["city"], per_instrument, per_host, per_city,
                                    region)
        for tally in tallies:
            tally.add(row)
    return {
        "year": year, "city": city,
        "region": region.as_dict(),
        "cities": [{"city": code, "name": _names(code), **per_city[code].as_dict()}
                   for code in _ordered_cities(per_city)],
        "hosts": sorted(({"host": host, "city": place, "name": _names(place), **tally.as_dict()}
                         for (host, place), tally in per_host.items()), key=lambda h: (-h["hours"], h["host"])),
        "instruments": sorted(({"id": key, "name": _label(names.get(key)), "host": (names.get(key) or {}).get("host"),
                                "city": (names.get(key) or {}).get("city"), **tally.as_dict()}
                               for key, tally in per_instrument.items()), key=lambda i: (-i["hours"], i["id"])),
    }


def _count_instrument(instrument_id: str, record: dict[str, Any], city: str | None, per_instrument: dict,
                      per_host: dict, per_city: dict, region: Tally) -> list[Tally]:
    tallies = [per_instrument[instrument_id], per_host[(record.get("host") or "", city or "")],
               per_city[city or ""], region]
    for tally in tallies:
        tally.instruments.add(instrument_id)
    return tallies


def _ordered_cities(per_city: dict[str, Tally]) -> list[str]:
    known = [city.adcode for city in CITIES if city.adcode in per_city]
    return known + sorted(code for code in per_city if code not in known)


def _names(code: str | None) -> dict[str, str]:
    city = CITY_BY_ADCODE.get(code or "")
    return {"zh": city.zh, "en": city.en} if city else {"zh": code or "未注明", "en": code or "not stated"}


def _label(record: dict[str, Any] | None) -> str:
    return record_label(record) if record else ""
