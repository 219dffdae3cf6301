"""Building blocks shared by every resource type: bounded text, flexible dates, adcodes, choices."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from zhulian.model.ids import parse_ref
from zhulian.region.adcodes import PlaceNotFound, adcode_for, is_adcode

MAX_SHORT = 500
MAX_TEXT = 20_000
MAX_LONG_TEXT = 200_000
MAX_LIST = 200


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _no_control_chars(value: str) -> str:
    if _CONTROL_CHARS.search(value):
        raise PydanticCustomError("control_chars", "text contains control characters",
                                  {"reason_zh": "文本包含控制字符"})
    return value


ShortText = Annotated[str, Field(min_length=1, max_length=MAX_SHORT), AfterValidator(_no_control_chars)]
Text = Annotated[str, Field(min_length=1, max_length=MAX_TEXT), AfterValidator(_no_control_chars)]
LongText = Annotated[str, Field(min_length=1, max_length=MAX_LONG_TEXT), AfterValidator(_no_control_chars)]
Keyword = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_no_control_chars)]
Keywords = Annotated[list[Keyword], Field(max_length=MAX_LIST)]
ShortTexts = Annotated[list[ShortText], Field(max_length=MAX_LIST)]
Year = Annotated[int, Field(ge=1900, le=2100)]
_MONEY = re.compile(r"(?P<n>-?\d+(?:\.\d+)?)(?P<unit>万元|亿元|元|万|亿)?")
_TO_WAN = {None: 1, "万元": 1, "万": 1, "亿元": 10_000, "亿": 10_000, "元": 0.0001}


def _money_in_wan(value: Any) -> Any:
    """Money in 万元 (10k CNY), as sources write it: 12.5, "12.5万元", "1.2亿元", "3,000元"."""
    if not isinstance(value, str):
        return value
    text = unicodedata.normalize("NFKC", value).strip().replace(",", "").replace(" ", "")
    match = _MONEY.fullmatch(text)
    if not match:
        raise PydanticCustomError("money", "an amount is a number of 万元, optionally written with 万元, 亿元 or 元",
                                  {"reason_zh": "金额应为以万元计的数字，可带单位 万元、亿元 或 元"})
    return round(float(match["n"]) * _TO_WAN[match["unit"]], 6)


Amount = Annotated[float, BeforeValidator(_money_in_wan), Field(ge=0, le=1e12, allow_inf_nan=False)]


def _check_url(value: str) -> str:
    if not re.fullmatch(r"https?://[^\s<>\"]{3,2000}", value):
        raise PydanticCustomError("url", "a web address starts with http:// or https://",
                                  {"reason_zh": "网址应以 http:// 或 https:// 开头"})
    return value


Url = Annotated[str, AfterValidator(_check_url)]


_DATE_FORMS = (
    re.compile(r"(?P<y>\d{4})年?"),
    re.compile(r"(?P<y>\d{4})(?:年|[-/.])(?P<m>\d{1,2})月?"),
    re.compile(r"(?P<y>\d{4})(?:年|[-/.])(?P<m>\d{1,2})(?:月|[-/.])(?P<d>\d{1,2})日?"),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"),
)


def _date_error() -> PydanticCustomError:
    return PydanticCustomError("date", "a date is written YYYY-MM-DD, YYYY-MM or YYYY (also 2016年4月1日, 2016/4/1, 2016.4)",
                               {"reason_zh": "日期应写作 YYYY-MM-DD、YYYY-MM 或 YYYY（也可写作 2016年4月1日、2016/4/1、2016.4）"})


def _check_flex_date(value: Any) -> Any:
    """A calendar date at the precision the source knows, normalised to ``2016``, ``2016-04`` or
    ``2016-04-01`` from the ways Chinese sources write it."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise _date_error()
    text = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    match = next((m for form in _DATE_FORMS if (m := form.fullmatch(text))), None)
    if not match:
        raise _date_error()
    parts = match.groupdict()
    year = int(parts["y"])
    month, day = (int(parts[k]) if parts.get(k) else None for k in ("m", "d"))
    try:
        dt.date(year, 1 if month is None else month, 1 if day is None else day)
    except ValueError:
        raise PydanticCustomError("date_not_exist", "this date does not exist",
                                  {"reason_zh": "该日期不存在"}) from None
    if not 1900 <= year <= 2100:
        raise PydanticCustomError("date_range", "the year must lie between 1900 and 2100",
                                  {"reason_zh": "年份应在 1900 至 2100 之间"})
    return f"{year:04d}" + (f"-{month:02d}" if month else "") + (f"-{day:02d}" if day else "")


FlexDate = Annotated[str, BeforeValidator(_check_flex_date)]


def _place_code(value: Any) -> Any:
    """A code as given, or the code of a place name people type (广州市, 深圳, 香港, Guangzhou, 番禺区)."""
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or is_adcode(value.strip()):
        return value.strip() if isinstance(value, str) else value
    try:
        return adcode_for(value, within="44")  # a name several provinces share means the Guangdong one here
    except PlaceNotFound as error:
        raise PydanticCustomError("adcode", "{reason}: give a GB/T 2260 administrative division code (e.g. "
                                  "440100) or a place name such as 广州市 or Guangzhou", {"reason": error.reason,
                                                   "reason_zh": f"{error.reason_zh}：请填写 GB/T 2260 行政区划代码"
                                                                "（如 440100）或地名（如 广州市）"}) from None


def _check_adcode(value: str) -> str:
    if not is_adcode(value):
        raise PydanticCustomError("adcode", "not a GB/T 2260 administrative division code (e.g. 440100)",
                                  {"reason_zh": "不是 GB/T 2260 行政区划代码（如 440100）"})
    return value


Adcode = Annotated[str, BeforeValidator(_place_code), AfterValidator(_check_adcode)]


def _check_ref(value: str) -> str:
    if parse_ref(value) is None:
        raise PydanticCustomError("ref", "a reference is a record id (org_01…) or scheme:value (moe:4144010558)",
                                  {"reason_zh": "引用应为记录编号（org_01…）或“方案:值”（如 moe:4144010558）"})
    return value.strip()


RefText = Annotated[str, AfterValidator(_check_ref)]

# Every choice list: code -> (Chinese label, English label). Inputs may use the code or either label.
CHOICES: dict[str, dict[str, tuple[str, str]]] = {}


def choice(name: str, options: dict[str, tuple[str, str]]) -> Any:
    """A closed vocabulary stored as codes; inputs may use the code, or its Chinese or English label."""
    CHOICES[name] = options
    lookup = {code: code for code in options}
    for code, (zh, en) in options.items():
        lookup[zh] = code
        lookup[en.lower()] = code

    allowed_en = ", ".join(f"{code} ({en})" for code, (_zh, en) in options.items())
    allowed_zh = "、".join(f"{code}（{zh}）" for code, (zh, _en) in options.items())

    def to_code(value: Any) -> Any:
        text = value.strip() if isinstance(value, str) else value
        code = lookup.get(text) or (lookup.get(text.lower()) if isinstance(text, str) else None)
        if code is None:
            raise PydanticCustomError("choice", "should be one of: {allowed}",
                                      {"allowed": allowed_en, "reason_zh": f"应为以下之一：{allowed_zh}"})
        return code

    return Annotated[Literal[tuple(options)], BeforeValidator(to_code)]  # type: ignore[valid-type]


def choice_label(name: str, code: str) -> dict[str, str]:
    zh, en = CHOICES.get(name, {}).get(code, (code, code))
    return {"zh": zh, "en": en}


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, populate_by_name=True)


class MultiLang(Strict):
    """A name or title in simplified Chinese, English and traditional Chinese; at least one is given."""

    zh: ShortText | None = Field(None, title="中文")
    en: ShortText | None = Field(None, title="English")
    zh_hant: ShortText | None = Field(None, title="繁體中文")

    @model_validator(mode="after")
    def _one_language_at_least(self) -> MultiLang:
        if not (self.zh or self.en or self.zh_hant):
            raise PydanticCustomError("name_empty", "give the name in at least one language (zh, en or zh_hant)",
                                      {"reason_zh": "至少填写一种语言的名称（zh、en 或 zh_hant）"})
        return self

    def best(self) -> str:
        return self.zh or self.zh_hant or self.en or ""


class MultiLangText(Strict):
    zh: Text | None = Field(None, title="中文")
    en: Text | None = Field(None, title="English")
    zh_hant: Text | None = Field(None, title="繁體中文")
