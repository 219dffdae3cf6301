"""External identifiers (pids), keyed by scheme, each checked and normalised by its scheme's rules.

Schemes we know are checked strictly (check digits included); other well-formed scheme names are
accepted so that a source can bring its own local ids, with only basic hygiene applied to the value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from zhulian.model.ids import PID_SCHEME_PATTERN

_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


class PidError(ValueError):
    def __init__(self, reason: str, reason_zh: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.reason_zh = reason_zh


def _uscc(value: str) -> str:
    """统一社会信用代码 (GB 32100-2015): 18 characters with a mod-31 check character."""
    value = value.upper().replace(" ", "")
    if len(value) != 18 or any(c not in _USCC_CHARS for c in value):
        raise PidError("a USCC has 18 characters from 0-9 and A-Y without I, O, S, V, Z",
                       "统一社会信用代码应为 18 位，由数字和除 I、O、S、V、Z 外的大写字母组成")
    total = sum(_USCC_CHARS.index(c) * w for c, w in zip(value[:17], _USCC_WEIGHTS, strict=True))
    if _USCC_CHARS[(31 - total % 31) % 31] != value[17]:
        raise PidError("the USCC check character does not match", "统一社会信用代码校验位不正确")
    return value


def _orcid(value: str) -> str:
    """ORCID iD: 16 characters in four groups, ISO 7064 MOD 11-2 check."""
    value = re.sub(r"^https?://orcid\.org/", "", value.strip()).upper()
    if not re.fullmatch(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", value):
        raise PidError("an ORCID looks like 0000-0002-1825-0097", "ORCID 格式应为 0000-0002-1825-0097")
    total = 0
    for digit in value.replace("-", "")[:15]:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    if ("X" if check == 10 else str(check)) != value[-1]:
        raise PidError("the ORCID check digit does not match", "ORCID 校验位不正确")
    return value


def _doi(value: str) -> str:
    value = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", value.strip(), flags=re.I)
    if not re.fullmatch(r"10\.\d{4,9}/\S+", value):
        raise PidError("a DOI starts with 10.NNNN/ followed by a suffix", "DOI 应以 10.NNNN/ 开头并带后缀")
    return value.lower()


def _pattern(regex: str, reason: str, reason_zh: str) -> Callable[[str], str]:
    compiled = re.compile(regex)

    def check(value: str) -> str:
        value = value.strip()
        if not compiled.fullmatch(value):
            raise PidError(reason, reason_zh)
        return value

    return check


_PATENT_HELP = ("a Chinese patent number is an application number (CN201710601862.3) or a publication number "
                "(CN111234567A)", "中国专利号应为申请号（如 CN201710601862.3）或公开/公告号（如 CN111234567A）")


def _patent_no(value: str) -> str:
    """A CNIPA application number in one canonical form, ``CN`` + 8 or 12 digits + ``.`` + check
    character (weights 2–9, 2–5; sum mod 11; 10 is X), or a publication number such as CN111234567A."""
    text = re.sub(r"[\s]", "", unicodedata.normalize("NFKC", value)).upper().removeprefix("ZL")
    if re.fullmatch(r"CN\d{7,9}[ABCUSY]\d?", text):
        return text
    match = re.fullmatch(r"(?:CN)?(\d{8}|\d{12})\.?([\dX])", text)
    if not match:
        raise PidError(*_PATENT_HELP)
    digits, check = match.groups()
    weights = (2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5)
    remainder = sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11
    if check != ("X" if remainder == 10 else str(remainder)):
        raise PidError("the application number's check character does not match", "专利申请号校验位不正确")
    return f"CN{digits}.{check}"


_STD_NO = re.compile(r"(?P<code>DB\d{2}(?:/[TZ])?|[A-Z]{1,6}(?:/[A-Z]{1,10})?)\s*"
                     r"(?P<number>\d+(?:\.\d+)*)(?:-(?P<year>(?:19|20)\d{2}))?")


def _std_no(value: str) -> str:
    """A standard number in one canonical form: code, one space, number, year — GB/T 2260-2007,
    DB44/T 1234-2020, T/CAS 115-2005, Q/SZX 001-2020."""
    text = unicodedata.normalize("NFKC", value).strip().upper().replace("—", "-").replace("–", "-")
    match = _STD_NO.fullmatch(re.sub(r"\s*-\s*", "-", text))
    if not match:
        raise PidError("a standard number looks like GB/T 2260-2007 or T/CAS 115-2005",
                       "标准号格式应如 GB/T 2260-2007 或 T/CAS 115-2005")
    year = f"-{match['year']}" if match["year"] else ""
    return f"{match['code']} {match['number']}{year}"


@dataclass(frozen=True)
class Scheme:
    name: str
    label_zh: str
    label_en: str
    normalise: Callable[[str], str]


SCHEMES = {
    s.name: s
    for s in (
        Scheme("uscc", "统一社会信用代码", "Unified social credit code", _uscc),
        Scheme("moe", "教育部院校代码", "Ministry of Education institution code",
               # 4… for most institutions; some colleges' codes start with 36 (e.g. 3622000335).
               _pattern(r"[34]\d{9}", "a MOE institution code has 10 digits starting with 4 or 3",
                        "教育部院校代码为以 4 或 3 开头的 10 位数字")),
        Scheme("cstr", "科技资源标识 (GB/T 32843)", "CSTR identifier (GB/T 32843)",
               _pattern(r"(CSTR:)?\d{5}\.\d{2}\.\S+", "a CSTR looks like CSTR:31253.11.example",
                        "CSTR 标识格式应为 CSTR:31253.11.xxx")),
        Scheme("doi", "DOI", "DOI", _doi),
        Scheme("orcid", "ORCID", "ORCID iD", _orcid),
        Scheme("patent_no", "专利号", "Patent number", _patent_no),
        Scheme("std_no", "标准号", "Standard number", _std_no),
        Scheme("ref", "参考数据键", "Reference-data key",
               _pattern(r"[a-z0-9][a-z0-9-]{0,79}", "a reference key is lowercase letters, digits and hyphens",
                        "参考数据键只能包含小写字母、数字和连字符")),
    )
}

MAX_PID_VALUE = 200


def normalise_pid(scheme: str, value: str) -> str:
    """The canonical form of ``value`` under ``scheme``; raises PidError when it is not one."""
    if not PID_SCHEME_PATTERN.match(scheme):
        raise PidError("a scheme name is 2-32 lowercase letters, digits or _ starting with a letter",
                       "标识方案名应为 2–32 位小写字母、数字或下划线，并以字母开头")
    if not isinstance(value, str) or not value.strip():
        raise PidError("an identifier value must not be empty", "标识值不能为空")
    if len(value) > MAX_PID_VALUE or any(ord(c) < 32 for c in value):
        raise PidError(f"an identifier value has at most {MAX_PID_VALUE} printable characters",
                       f"标识值最多 {MAX_PID_VALUE} 个可打印字符")
    known = SCHEMES.get(scheme)
    return known.normalise(value) if known else value.strip()
