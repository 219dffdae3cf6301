"""Organisation and person names reduced to comparable keys.

Every name goes through ``zhulian.text.analysis.normalize`` (NFKC width folding, lowercase, traditional →
simplified), then loses what does not tell two organisations apart: punctuation and spaces, legal forms
(有限公司, Co., Ltd.), campus qualifiers (（深圳校区）, 南校区). A name written in two scripts
(中山大学 Sun Yat-sen University) gives one variant per script. English names also give an acronym
(Beijing University of Posts and Telecommunications → bupt), and Chinese names a reading in English words
(安徽医科大学 → anhui medical university) so that an English name can meet a Chinese one.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from pypinyin import lazy_pinyin

from zhulian.errors import Problem, ZhulianError
from zhulian.text.analysis import normalize

MAX_NAME = 500  # a name longer than a record may hold is refused, not truncated into a wrong match
DATA = Path(__file__).parent / "data"

# Longest first, so 股份有限公司 is removed whole rather than leaving 股份.
_LEGAL_ZH = ("集团股份有限公司", "股份有限公司", "有限责任公司", "集团有限公司", "有限公司")
_LEGAL_EN = re.compile(r"\b(co\.?,? ?ltd\.?|company limited|limited|ltd\.?|inc\.?|incorporated|corp\.?|"
                       r"corporation|llc|plc|gmbh)$")
_BRACKETS = re.compile(r"[（(\[【]([^）)\]】]*)[）)\]】]")
_CAMPUS = re.compile(r"(?:[\u4e00-\u9fff]{1,6})?校区$")
_NON_WORD = re.compile(r"[\W_]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_CJK_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff0-9]+")
_LATIN_RUN = re.compile(r"[a-z0-9][a-z0-9 .,&'’\-]*[a-z0-9.]|[a-z0-9]")
_EN_SMALL = {"of", "and", "the", "for", "in", "at", "&"}
_EN_ABBREVIATIONS = {"univ": "university", "inst": "institute", "tech": "technology", "coll": "college",
                     "acad": "academy", "sci": "science", "natl": "national", "st": "saint", "u": "university"}

# Words a name may end with that say what kind of body it is: 华南理工 and 华南理工大学 are one name,
# while 广州银行 and 广州银行佛山分行 are a parent and its branch.
GENERIC_ENDINGS = ("大学", "学院", "学校", "公司", "集团", "研究院", "研究所", "医院", "university", "college",
                   "institute", "school", "company", "group", "academy")
# Endings that make a name a unit of another organisation rather than another spelling of it.
BRANCH_ENDINGS = ("分行", "支行", "分公司", "分院", "分校", "分部", "分中心", "研究院", "研究所", "实验室",
                  "学院", "branch", "researchinstitute", "institute", "laboratory", "school", "college")


def check_name(name: object, field: str = "name") -> str:
    """A name a person can ask about, or a bilingual 400 saying why not."""
    if not isinstance(name, str) or not name.strip():
        raise ZhulianError("name_empty", "Give a name to resolve.", "请填写要解析的名称。", 400,
                           [Problem(field, name, "the name is empty", "名称为空")])
    if len(name) > MAX_NAME:
        raise ZhulianError("name_too_long", f"A name has at most {MAX_NAME} characters; this one has {len(name)}.",
                           f"名称最多 {MAX_NAME} 个字符，此名称有 {len(name)} 个。", 400,
                           [Problem(field, name[:40] + "…", f"at most {MAX_NAME} characters",
                                    f"最多 {MAX_NAME} 个字符")])
    if not name_keys(name):
        raise ZhulianError("name_no_words", "The name is only a legal form or punctuation (such as 有限公司); "
                           "give the organisation's own name.",
                           "名称只有公司类型或标点（如“有限公司”），请填写机构本身的名称。", 400,
                           [Problem(field, name, "nothing left once legal forms are removed",
                                    "去掉公司类型后名称为空")])
    return name


def _strip_legal(text: str) -> str:
    for suffix in _LEGAL_ZH:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
        if text == suffix:
            return ""
    return _LEGAL_EN.sub("", text).strip(" ,.")


def _english_words(text: str) -> list[str]:
    words = [w for w in re.split(r"[^a-z0-9]+", text.replace("&", " and ")) if w]
    return [_EN_ABBREVIATIONS.get(w, w) for w in words]


def _key(text: str) -> str:
    """One script's part of a name as a key: legal form, campus and punctuation gone."""
    text = _strip_legal(text.strip())
    if not _CJK.search(text):
        words = _english_words(text)
        if words and words[0] == "the":
            words = words[1:]
        return "".join(words)
    text = _CAMPUS.sub("", text) if len(text) > 4 else text
    return _NON_WORD.sub("", text)


@dataclass(frozen=True)
class NameForm:
    """One way a name can be compared: its key, and for English its words and acronym."""

    key: str
    script: str  # zh | en
    words: tuple[str, ...] = ()
    acronym: str = ""


def _forms_of(part: str) -> list[NameForm]:
    key = _key(part)
    if not key:
        return []
    if _CJK.search(part):
        return [NameForm(key, "zh")]
    words = tuple(w for w in _english_words(_strip_legal(part)) if w != "the")
    initials = "".join(w[0] for w in words if w not in _EN_SMALL)
    return [NameForm(key, "en", words, initials if len(words) >= 3 else "")]


# Bounded: an import of millions of names must not keep one entry per name; the few thousand recent ones
# (candidates recur from row to row) are what saves time.
@lru_cache(maxsize=1024)
def name_forms(name: str) -> tuple[NameForm, ...]:
    """Every comparable form of one name, per script; a bracket that gives a former name (原…) is a form
    of its own."""
    text = normalize(name)[:MAX_NAME]
    forms: list[NameForm] = []
    former = [q[1:] for q in _BRACKETS.findall(text) if q.startswith("原")]
    bare = _BRACKETS.sub(_kept_qualifier, text)
    parts = _split_scripts(bare) if _bilingual(bare) else [bare]
    parts += former
    for part in parts:
        for form in _forms_of(part):
            if form not in forms:
                forms.append(form)
    return tuple(forms)


def _kept_qualifier(match: re.Match[str]) -> str:
    """A bracket naming a campus or a former name is not part of the name; one naming a place is
    (香港中文大学（深圳） is not 香港中文大学)."""
    qualifier = match.group(1)
    return " " if qualifier.startswith("原") or qualifier.endswith("校区") else f" {qualifier} "


_ONE_SCRIPT_EACH_SIDE = re.compile(r"[^a-z]*[\u3400-\u9fff\uf900-\ufaff][^a-z]*\s([^\u3400-\u9fff\uf900-\ufaff]*)|"
                                   r"([^\u3400-\u9fff\uf900-\ufaff]*)\s[^a-z]*[\u3400-\u9fff\uf900-\ufaff][^a-z]*")


def _bilingual(text: str) -> bool:
    """A name given in two scripts (中山大学 Sun Yat-sen University): the Chinese whole on one side, an
    English name of two or more words on the other. Latin letters inside a Chinese name (ABC科技有限公司,
    IBM 中国研究院) are part of that name: keying its scripts apart would make ABC科技 and XYZ科技 one."""
    match = _ONE_SCRIPT_EACH_SIDE.fullmatch(text.strip())
    latin = match and (match.group(1) if match.group(1) is not None else match.group(2))
    return bool(latin) and len(re.findall(r"[a-z]+", latin)) >= 2


def _split_scripts(text: str) -> list[str]:
    return [m.group().strip() for m in _CJK_RUN.finditer(text)] + \
           [m.group().strip() for m in _LATIN_RUN.finditer(text) if re.search(r"[a-z]{2}", m.group())]


def name_keys(name: str) -> list[str]:
    return [form.key for form in name_forms(name)]


def grams(name: str) -> set[str]:
    """Blocking keys: the whole key, character bigrams of Chinese keys, words and the acronym of English
    ones, and the English reading of Chinese names."""
    found: set[str] = set()
    for form in name_forms(name):
        found.add("k:" + form.key[:60])
        if form.script == "zh":
            found.update("g:" + form.key[i:i + 2] for i in range(max(len(form.key) - 1, 1)))
            found.update("w:" + word for word in english_reading(form.key) if word not in _EN_SMALL)
        else:
            found.update("w:" + word[:40] for word in form.words if word not in _EN_SMALL)
            if form.acronym:
                found.add("a:" + form.acronym[:40])
            if len(form.words) == 1 and len(form.key) <= 12:
                found.add("a:" + form.key)  # a one-word name may be an acronym (BUPT) of another's name
    return found


# Chinese words in institution names and how English names render them; the rest is read as pinyin.
_GLOSS = {
    "中国科学院": "chinese academy of sciences", "中国": "china", "华南": "south china", "华北": "north china",
    "华东": "east china", "华中": "central china", "西北": "northwest", "东北": "northeast", "西南": "southwest",
    "东南": "southeast", "香港": "hong kong", "澳门": "macau", "大学": "university", "学院": "college",
    "职业技术学院": "vocational technical college", "职业学院": "vocational college", "医科": "medical",
    "医学院": "medical college", "中医药": "chinese medicine", "师范": "normal", "理工": "science technology",
    "科技": "science technology", "工业": "technology", "工程": "engineering", "农业": "agricultural",
    "林业": "forestry", "财经": "finance economics", "经济": "economics", "外国语": "foreign studies",
    "外语外贸": "foreign studies", "政法": "political science law", "交通": "jiaotong", "电子": "electronic",
    "海洋": "ocean", "石油": "petroleum", "矿业": "mining", "药科": "pharmaceutical", "民族": "minzu",
    "艺术": "arts", "美术": "fine arts", "音乐": "music", "体育": "sport", "传媒": "communication",
    "航空航天": "aeronautics astronautics", "邮电": "posts telecommunications", "研究所": "institute",
    "研究院": "research institute", "科学院": "academy of sciences", "国防": "national defense",
    "人民": "people", "第一": "first", "第二": "second", "城市": "city", "信息": "information",
    "材料": "materials", "化工": "chemical", "建筑": "architecture", "地质": "geosciences", "水利": "water",
    "电力": "electric power", "大连": "dalian", "学校": "school", "医院": "hospital", "银行": "bank",
}
_GLOSS_PATTERN = re.compile("|".join(sorted(map(re.escape, _GLOSS), key=len, reverse=True)))


@lru_cache(maxsize=1024)
def english_reading(key: str) -> tuple[str, ...]:
    """安徽医科大学 → (anhui, medical, university): glossary words in English, other characters in pinyin
    with a place name's syllables joined (安徽 → anhui), for meeting English names."""
    words: list[str] = []
    position = 0
    for match in _GLOSS_PATTERN.finditer(key):
        if match.start() > position:
            words.append("".join(lazy_pinyin(key[position:match.start()])))
        words.extend(_GLOSS[match.group()].split())
        position = match.end()
    if position < len(key):
        words.append("".join(lazy_pinyin(key[position:])))
    return tuple(w for w in words if w.isascii() and w.isalnum())


@cache
def seed_aliases() -> dict[str, str]:
    """Abbreviation, English or former name key → the canonical Chinese name (``data/aliases.toml``)."""
    with (DATA / "aliases.toml").open("rb") as handle:
        table = tomllib.load(handle)
    found: dict[str, str] = {}
    for canonical, aliases in table["aliases"].items():
        for alias in aliases:
            for key in name_keys(alias):
                found[key] = canonical
    return found


def person_key(name: str) -> str:
    """A person's name as a key: Chinese without spaces; Latin words sorted, so Wang Wei = Wei Wang."""
    text = normalize(name)[:MAX_NAME]
    if _CJK.search(text):
        return _NON_WORD.sub("", text)
    return " ".join(sorted(w for w in re.split(r"[^a-z0-9]+", text) if w))
