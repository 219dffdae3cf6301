"""Numeric targets proposed from a Chinese policy text, for a reviewer to confirm or edit.

How a target is found (each rule is something policy drafting does, not a guess about one document):

1. The text is folded (full-width digits and signs to ASCII) and Chinese numerals standing before a unit or a
   year, or after 百分之, become digits (cn2an): 百分之七十 → 70%, 二十五件 → 25件, 二〇二〇年 → 2020年.
2. It is cut into sentences (。；！？ and line ends) and each sentence into clauses (，). A clause states a target
   only when it, or a clause before it in the sentence, carries a cue that it speaks of the future or of a
   norm (到2020年, 力争, 要, 应当, 将, 5年内, 不低于, …) — a report of what already happened does not.
3. Two clause shapes are read:
   - *indicator + verb + number + unit + qualifier*: 每万人发明专利拥有量达25件以上; the verb and the qualifier
     give the comparator (达到/以上 ≥, 超过 >, 不低于 ≥, 不高于 ≤, 左右 ≈, 3－5 between); 达到 X 总数的 50%
     names the denominator (→ 占 X 比例); 占A和B的比重分别达到48%和32% gives two targets;
   - *build verb + number + unit + object*: 新增建设71万亩高质量的碳汇林, 建设1个国家级湿地公园、2个省级湿地公园.
4. The year is the nearest 到/至 YYYY 年 before the target in its sentence; 5年内 / 未来5年 are kept as the horizon
   (and become a year when the policy's base year is known). 力争 marks a target as aspirational.
5. The region is the one city named in the target's sentence, else the city the text last named alone in a
   sentence, else the default the caller gives; several cities in one sentence leave it to the reviewer.
6. A number whose unit the extractor does not know is reported as a problem, never turned into a target; so
   is a year beyond the model's range (1900–2100). Repeated targets are proposed once; targets that give the
   same indicator, region and year different values are marked as contradicting each other.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import cn2an

from zhulian.model.indicators import INDICATORS, UNITS, fold, indicator_code
from zhulian.region.cities import CITIES

MAX_TEXT_CHARS = 2_000_000
FAR_FUTURE_YEARS = 50  # a target further than this beyond its base year is reported for review

# Full-width ASCII, the ideographic space and dashes, one character for one so clauses keep their places.
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0x2014: 0x2D, 0x2013: 0x2D}
_CN_DIGIT = "零〇一二两三四五六七八九"
_CN_NUMERAL = re.compile(rf"[{_CN_DIGIT}十百千点]*[{_CN_DIGIT}十][{_CN_DIGIT}十百千点]*(?:[万亿](?![元亩人件]))?")
_UNIT_NAMES = sorted(UNITS, key=len, reverse=True)
_UNIT = "|".join(map(re.escape, _UNIT_NAMES))
_NUMBER = r"\d+(?:\.\d+)?"
_CUES = re.compile(r"(?:到|至)\d{4,}年|\d{4,}年(?:前|底前)|力争|应当|必须|确保|计划|\d+年内|未来\d+年"
                   r"|不低于|不少于|不高于|不超过")
# A sentence saying what a plan sets out makes the rest of its paragraph speak of targets.
_PARAGRAPH_CUES = re.compile(r"根据规划|按照规划|规划提出|方案提出|明确|规定|目标")
_YEAR = re.compile(r"(?:到|至)(\d{4,})年|(\d{4,})年(?:前|底前|以前)")
_HORIZON = re.compile(r"(\d+)年内|未来(\d+)年")
_VERBS = ("分别要达到", "分别达到", "分别为", "应当达到", "要达到", "力争达到", "提高到", "提升到", "增加到", "增长到", "保持在",
          "控制在", "不低于", "不少于", "不高于", "不超过", "超过", "高于", "低于", "突破", "达到", "达")
_COMPARE = re.compile(
    r"(?P<ind>[^,]*?)(?P<verb>" + "|".join(_VERBS) + r")(?P<pre>[^\d,]{1,25}?的)?"
    r"(?P<num>" + _NUMBER + r")(?:(?P<unit1>" + _UNIT + r")?\s*[-~至到]\s*(?P<num2>" + _NUMBER + r"))?")
_BUILD = re.compile(r"(?P<verb>新增建设|新增|建设|培育|建成|引进|认定)(?P<num>" + _NUMBER + r")(?:\s*[-~至到]\s*(?P<num2>"
                    + _NUMBER + r"))?(?P<unit>" + _UNIT + r")(?P<obj>[^,、和;。]+)")
_MORE = re.compile(r"[、和及](?P<num>" + _NUMBER + r")(?P<unit>" + _UNIT + r")(?P<obj>[^,、和;。]+)")
_MULTIPLIERS = {"万": 1e4, "亿": 1e8}
_NOT_A_UNIT = set("以左的和及与、至到多等,;。分年月日市倍前后内")  # what may follow a bare number that is not a unit
_LEADING = re.compile(r"^(?:.*?(?:到|至)\d{4}年(?:底)?|在[^,]*?中(?:安排)?|其中|同时|并|使|力争|要|应当|将|可|均|逐步|进一步"
                      r"|全市|全省|广东省?|珠三角(?:地区)?|珠江三角洲(?:地区)?)+")
_TRAILING = re.compile(r"(?:要|应当|应|将|可|均|逐步|分别|力争|的)+$")
_BRACKETS = re.compile(r"\([^)]*\)|（[^）]*）")
_CITY_NAMES = {name: city.adcode for city in CITIES
               for name in {city.zh, city.zh.removesuffix("市"), city.zh.removesuffix("特别行政区")} if len(name) >= 2}
_CITY = re.compile("(?:" + "|".join(sorted(map(re.escape, _CITY_NAMES), key=len, reverse=True))
                   + ")(?!大学|学院|路|大道)")  # 中山大学 and 中山路 are not the city of Zhongshan


@dataclass
class Proposal:
    """One target as the text states it, with what the reviewer should check."""

    indicator: str
    comparator: str
    value: float
    unit: str | None
    clause: str
    indicator_code: str | None = None
    value_max: float | None = None
    year: int | None = None
    horizon: str | None = None
    region: str | None = None
    aspirational: bool = False
    warnings: list[str] = field(default_factory=list)

    def key(self) -> tuple[Any, ...]:
        return (self.indicator_code or fold(self.indicator), self.region, self.year or self.horizon)

    def as_target(self) -> dict[str, Any]:
        """The proposal as a policy target (the model's ``Target`` fields)."""
        known = INDICATORS.get(self.indicator_code or "")
        target = {"indicator": known.zh if known else self.indicator, "indicator_en": known.en if known else None,
                  "comparator": self.comparator, "value": self.value, "value_max": self.value_max,
                  "unit": self.unit, "year": self.year, "region": self.region, "clause": self.clause,
                  "aspirational": self.aspirational}
        return {k: v for k, v in target.items() if v is not None}


@dataclass
class Problem:
    """Something in the text that looks like a target but cannot be proposed as one."""

    code: str
    clause: str
    message: str
    message_zh: str


@dataclass
class Extraction:
    proposals: list[Proposal]
    problems: list[Problem]

    def as_dict(self) -> dict[str, Any]:
        return {"proposals": [asdict(p) for p in self.proposals], "problems": [asdict(p) for p in self.problems],
                "count": len(self.proposals)}


def extract_targets(text: str, *, region: str | None = None, base_year: int | None = None) -> Extraction:
    """Every numeric target the text states, as proposals; ``region`` is the default for targets whose city
    the text does not name, ``base_year`` (the policy's issue year) turns 5年内 into a year."""
    proposals: list[Proposal] = []
    problems: list[Problem] = []
    last_city: str | None = None
    for paragraph in text.splitlines():
        paragraph_cue = False
        for sentence in re.split(r"(?<=[。；;！!？?])", paragraph):
            proposals += _read_sentence(sentence, last_city or region, base_year, paragraph_cue, problems)
            paragraph_cue = paragraph_cue or bool(_PARAGRAPH_CUES.search(sentence))
            cities = {_CITY_NAMES[name] for name in _CITY.findall(_fold(sentence))}
            if cities:  # a sentence naming several cities leaves the city of what follows unknown
                last_city = next(iter(cities)) if len(cities) == 1 else None
    return Extraction(_mark_contradictions(_unique(proposals)), problems)


def _fold(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def _digits(text: str) -> str:
    """Chinese numerals that measure something become digits; words like 统一, 一批 stay as they are."""
    text = re.sub(r"百分之(" + _CN_NUMERAL.pattern + r"|" + _NUMBER + ")", lambda m: _to_number(m[1]) + "%", text)

    def convert(match: re.Match[str]) -> str:
        measured = re.match(_UNIT + "|年|%", text[match.end():match.end() + 4]) is not None
        return _to_number(match[0]) if measured else match[0]

    return _CN_NUMERAL.sub(convert, text)


def _to_number(numeral: str) -> str:
    if re.fullmatch(_NUMBER, numeral):
        return numeral
    try:
        number = cn2an.cn2an(numeral, "smart")
    except (ValueError, KeyError):
        return numeral
    return str(int(number)) if float(number).is_integer() else str(number)


def _read_sentence(sentence: str, default_region: str | None, base_year: int | None, paragraph_cue: bool,
                   problems: list[Problem]) -> list[Proposal]:
    original = re.split(r"[,，]", sentence)
    clauses = re.split(r",", _digits(_fold(sentence)))
    if len(clauses) != len(original):  # a numeral conversion never adds or removes a comma; guard anyway
        original = clauses
    cities = {_CITY_NAMES[name] for name in _CITY.findall(_fold(sentence))}
    region = next(iter(cities)) if len(cities) == 1 else (None if cities else default_region)
    context = {"cue": paragraph_cue, "year": None, "horizon": None, "aspirational": False}
    found: list[Proposal] = []
    for clause, source in zip(clauses, original):
        _update_context(context, clause)
        if not context["cue"]:
            continue
        source = source.strip(" 。；;")
        new = _compared(clause, source, found, problems) + _built(clause, source)
        for proposal in new:
            _place_in_time(proposal, context, base_year, problems)
            proposal.region = region
            if len(cities) > 1:
                proposal.warnings.append("several_regions")
            proposal.aspirational = context["aspirational"]
        found += new
    return found


def _update_context(context: dict[str, Any], clause: str) -> None:
    context["cue"] = context["cue"] or bool(_CUES.search(clause))
    context["aspirational"] = context["aspirational"] or "力争" in clause
    if year := _YEAR.search(clause):
        context["year"] = int(year[1] or year[2])
    if horizon := _HORIZON.search(clause):
        context["horizon"] = f"{horizon[1] or horizon[2]}年"


def _place_in_time(proposal: Proposal, context: dict[str, Any], base_year: int | None,
                   problems: list[Problem]) -> None:
    year, horizon = context["year"], context["horizon"]
    if year is None and horizon and base_year:
        year = base_year + int(horizon[:-1])
    proposal.horizon = horizon
    if year is None:
        return
    if not 1900 <= year <= 2100:
        problems.append(Problem("year_out_of_range", proposal.clause, f"The year {year} lies outside 1900–2100; the "
                                "target is proposed without a year.", f"年份 {year} 超出 1900–2100，目标未带年份。"))
        proposal.warnings.append("year_out_of_range")
        return
    if base_year and year > base_year + FAR_FUTURE_YEARS:
        proposal.warnings.append("year_far_future")
    proposal.year = year


def _compared(clause: str, source: str, earlier: list[Proposal], problems: list[Problem]) -> list[Proposal]:
    match = _COMPARE.search(clause)
    if not match:
        return []
    indicator = _clean(match["ind"])
    if indicator.startswith("占") and earlier:  # 占服务业增加值和GDP的比重: the subject is the clause before's
        indicator = _clean(earlier[-1].indicator) + indicator
    if match["pre"]:  # 达到当年一般预算支出的3%: the share is of what stands before 的
        indicator = f"{indicator.removesuffix('的比例').removesuffix('的比重')}占{match['pre'][:-1]}比例"
    if "分别" in match["verb"]:
        return _respectively(clause, match, indicator, source, problems)
    rest = clause[match.end():]
    scale = 1.0
    if (multiplier := _MULTIPLIERS.get(rest[:1])) and rest[:2] not in UNITS and re.match(_UNIT, rest[1:]):
        scale, rest = multiplier, rest[1:]  # 1万家: ten thousand of 家
    unit, unknown = _unit_at(rest)
    if unknown:
        problems.append(_unknown_unit(unknown, source))
        return []
    unit = unit or match["unit1"]
    suffix = rest[len(unit or ""):]
    if not indicator:
        return []
    return [_proposal(indicator, match["verb"], suffix, float(match["num"]) * scale,
                      float(match["num2"]) * scale if match["num2"] else None, unit, source)]


def _respectively(clause: str, match: re.Match[str], indicator: str, source: str,
                  problems: list[Problem]) -> list[Proposal]:
    """占A和B的比重分别达到48%和32%左右: one target per named part, in order."""
    values = re.findall(r"(" + _NUMBER + r")(" + _UNIT + r")?", clause[match.start("num"):])
    parts = re.fullmatch(r"(?P<subject>.*?)占(?P<parts>.+?)的?(?P<noun>比重|比例)", indicator)
    names = re.split(r"[和、及与]", parts["parts"]) if parts else []
    if not parts or len(names) != len(values):
        problems.append(Problem("respectively_unmatched", source, "Several values are given 'respectively' but the "
                                "names they belong to could not be paired with them.", "“分别”所列的数值与指标无法一一对应。"))
        return []
    suffix = clause[match.start("num"):].rsplit(values[-1][0] + values[-1][1], 1)[-1]
    return [_proposal(f"{parts['subject']}占{name}{parts['noun']}", match["verb"], suffix, float(number),
                      None, unit or None, source) for name, (number, unit) in zip(names, values)]


def _built(clause: str, source: str) -> list[Proposal]:
    match = _BUILD.search(clause)
    if not match:
        return []
    found = [_built_one(match, source)]
    for more in _MORE.finditer(clause, match.end()):
        found.append(_built_one(more, source))
    return found


def _built_one(match: re.Match[str], source: str) -> Proposal:
    unit = match["unit"]
    noun = "面积" if UNITS[unit][0] == "area" else "数量"
    indicator = _clean(re.sub(r"^(?:在|的)", "", match["obj"]).replace("高质量的", "高质量"))
    group = match.groupdict()
    return _proposal(indicator + noun, group.get("verb") or "", "", float(match["num"]),
                     float(group["num2"]) if group.get("num2") else None, unit, source, default="=")


def _unit_at(rest: str) -> tuple[str | None, str | None]:
    """The known unit ``rest`` starts with, or the unknown word standing where a unit would."""
    known = re.match(_UNIT, rest)
    if known:
        return known[0], None
    word = re.match(r"[\u4e00-\u9fff]{1,3}", rest)
    if word and word[0][0] not in _NOT_A_UNIT:
        return None, re.match(r"[^\s以左的和及与、至到多等,;。]{1,3}", rest)[0]
    return None, None


def _unknown_unit(unit: str, clause: str) -> Problem:
    return Problem("unit_unknown", clause,
                   f"The unit {unit!r} is not one the extractor knows ({', '.join(_UNIT_NAMES)}); "
                   "no target was proposed from this clause.",
                   f"单位“{unit}”不在可识别的单位之列（{'、'.join(_UNIT_NAMES)}），此条款未提出目标。")


def _proposal(indicator: str, verb: str, suffix: str, value: float, value_max: float | None, unit: str | None,
              source: str, default: str = ">=") -> Proposal:
    code = match_indicator(indicator)
    comparator = _comparator(verb, suffix, value_max, default)
    if code and unit and INDICATORS[code].unit.startswith(unit + "/"):
        unit = INDICATORS[code].unit  # 每万人发明专利拥有量达25件: 件 per 10,000 people
    proposal = Proposal(indicator=indicator, comparator=comparator, value=value, value_max=value_max, unit=unit,
                        clause=source, indicator_code=code)
    if code is None:
        proposal.warnings.append("indicator_unknown")
    if unit is None:
        proposal.warnings.append("unit_missing")
    return proposal


def _comparator(verb: str, suffix: str, value_max: float | None, default: str) -> str:
    if value_max is not None:
        return "between"
    if suffix.startswith("左右") or "约" in verb:
        return "≈"
    if verb in ("不低于", "不少于") or suffix.startswith("以上"):
        return ">="
    if verb in ("超过", "高于", "突破") or suffix.startswith("多"):
        return ">"
    if verb in ("不高于", "不超过") or suffix.startswith(("以下", "以内")):
        return "<="
    if verb == "低于":
        return "<"
    return default


def _clean(text: str) -> str:
    text = _BRACKETS.sub("", text.strip())
    text = _LEADING.sub("", text)
    text = _CITY.sub("", text, count=1) if _CITY.match(text) else text
    return _TRAILING.sub("", text).strip(" :：")


def match_indicator(text: str) -> str | None:
    """The vocabulary code a target's indicator text names: by any of its names, by a name the text contains
    (the longest wins), or by close similarity (difflib ratio ≥ 0.6); None when nothing is close."""
    if code := indicator_code(text):
        return code
    folded = fold(_BRACKETS.sub("", text))
    names = [(fold(name), i.code) for i in INDICATORS.values() for name in (i.zh, *i.synonyms)]
    contained = [(len(name), code) for name, code in names if name in folded]
    if contained:
        return max(contained)[1]
    scored = max((difflib.SequenceMatcher(None, folded, name).ratio(), code) for name, code in names)
    return scored[1] if scored[0] >= 0.6 else None


def _unique(proposals: list[Proposal]) -> list[Proposal]:
    """A target a text states twice (the seed repeats the 70 % income share) is proposed once."""
    seen: dict[tuple[Any, ...], Proposal] = {}
    for proposal in proposals:
        seen.setdefault((*proposal.key(), proposal.comparator, proposal.value, proposal.value_max), proposal)
    return list(seen.values())


def _mark_contradictions(proposals: list[Proposal]) -> list[Proposal]:
    by_key: dict[tuple[Any, ...], list[Proposal]] = {}
    for proposal in proposals:
        by_key.setdefault(proposal.key(), []).append(proposal)
    for group in by_key.values():
        if len(group) > 1:
            for proposal in group:
                proposal.warnings.append("contradicts_another")
    return proposals
