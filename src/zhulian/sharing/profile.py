"""An instrument's service profile (GB/T 31073's service metadata, reduced to what booking needs): the services
it offers with their sample requirements and fees by user class, its operators, its weekly opening hours and a
calendar of closures and maintenance. Times of day are China Standard Time (UTC+8, no daylight saving)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from zhulian.errors import Problem, invalid

CHINA = dt.timezone(dt.timedelta(hours=8), "CST")
USER_CLASSES = {"internal": ("校内/所内", "internal"), "external": ("校外/所外", "external"),
                "enterprise": ("企业", "enterprise")}
UNITS = {"hour": ("小时", "hour"), "sample": ("样品", "sample")}
CLOSURE_KINDS = {"closure": ("闭馆", "closed"), "maintenance": ("维护", "maintenance")}
Clock = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")]
Yuan = Annotated[float, Field(ge=0, le=10_000_000, allow_inf_nan=False)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Rates(Strict):
    """Yuan per unit for each user class; a class without a rate is not served."""

    internal: Yuan | None = None
    external: Yuan | None = None
    enterprise: Yuan | None = None


class Offer(Strict):
    code: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    name: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    samples: str | None = Field(None, max_length=2000, description="样品要求 sample requirements")
    unit: Literal["hour", "sample"]
    rates: Rates


class Window(Strict):
    """Open on these ISO weekdays (1 = Monday) from ``opens`` to ``closes``."""

    days: list[Annotated[int, Field(ge=1, le=7)]] = Field(min_length=1, max_length=7)
    opens: Clock
    closes: Clock

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.closes <= self.opens:
            raise ValueError("closes must be later than opens")
        return self


class Closure(Strict):
    """Closed (or under maintenance) from ``start`` to ``end``, both days included."""

    start: dt.date
    end: dt.date
    kind: Literal["closure", "maintenance"] = "closure"
    reason: str = Field("", max_length=500)

    @model_validator(mode="after")
    def _ordered(self) -> Closure:
        if self.end < self.start:
            raise ValueError("end must not be before start")
        return self


class Profile(Strict):
    services: list[Offer] = Field(min_length=1, max_length=50)
    operators: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(default_factory=list, max_length=50)
    opening: list[Window] = Field(min_length=1, max_length=20)
    closures: list[Closure] = Field(default_factory=list, max_length=500)
    max_hours: float = Field(8, gt=0, le=24 * 14, description="最长预约时长 longest booking, hours")

    def offer(self, code: str) -> Offer | None:
        return next((offer for offer in self.services if offer.code == code), None)

    def windows_on(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The opening windows of a local day, as aware datetimes; none on a closed day."""
        if any(c.start <= day <= c.end for c in self.closures):
            return []
        windows = []
        for window in self.opening:
            if day.isoweekday() in window.days:
                windows.append((_at(day, window.opens), _at(day, window.closes)))
        return sorted(windows)

    def closure_on(self, day: dt.date) -> Closure | None:
        return next((c for c in self.closures if c.start <= day <= c.end), None)


def _at(day: dt.date, clock: str) -> dt.datetime:
    if clock == "24:00":
        return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), CHINA)
    hour, minute = (int(part) for part in clock.split(":"))
    return dt.datetime.combine(day, dt.time(hour, minute), CHINA)


def parse_profile(data: Any) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as error:
        raise invalid([Problem(".".join(str(p) for p in item["loc"]) or "profile", _short(item.get("input")),
                               item["msg"], f"服务档案格式不符：{item['msg']}")
                       for item in error.errors(include_url=False)]) from None


def _short(value: Any) -> Any:
    return value if isinstance(value, (str, int, float, type(None))) and len(str(value)) <= 200 else repr(value)[:200]
