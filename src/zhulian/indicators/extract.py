"""Numeric targets proposed from a Chinese policy text, for a reviewer to confirm or edit.

How a target is found (each rule is something policy drafting does, not a guess about one document):

1. The text is folded (full-width digits and signs to ASCII) and Chinese numerals standing before a unit or a
   year, or after 百分之, become digits (cn2an): 百分之七十 → 70%, 两千家 → 2000家, 二〇二五年 → 2025年.
2. It is cut into sentences (。！？ and line ends) and each sentence into clauses (；，：, never a comma inside a
   number). A clause speaks of targets while the paragraph's last word on time looks ahead — 到2025年,
   2030年前, “十四五”期末, 力争, 确保, 将, 要, 目标, 规划提出, 5年内 — and not back: a year standing alone
   (2020年，全省…), 截至, 已, “十三五”期间, 同比, 从…提高到… make what follows a report of what happened.
3. Every number with a unit in such a clause is a candidate (a range 3－5家 or 15%－20% is one): it is a
   target when a verb of commitment stands before it in the clause (达到, 超过, 突破, 不低于, 控制在, 下降,
   新增, 建成, 培育, …) or a qualifier after it (以上, 以下, 以内, 左右). The nearest verb and the qualifier give
   the comparator (以上/不低于 ≥, 超过/突破/多 >, 以内/以下/控制在 ≤, 左右/约 ≈, a range: between, 为 and
   building verbs =, otherwise ≥). Dates, article and document numbers (〔2023〕28号, 第5条), phone numbers,
   ordinals and scale words (千亿级, 千万千瓦级) are never candidates.
4. A number that follows another through 、和及 shares its verb; numbers after 分别 pair with the parts named
   before it (占A和B的比重分别…, 京津冀、长三角等区域…分别下降25%、20%); a bare number in such a list takes
   the unit written after the last one. 比2020年下降13.5% records 2020 as the baseline.
5. The year is the nearest 到/至 YYYY 年 (or YYYY年前, “十四五”期末) before the target in its sentence; 5年内 /
   未来5年 are kept as the horizon (and become a year when the policy's base year is known). 力争 marks a
   target as aspirational. The region is the one city the sentence names, else the city last named alone,
   else the caller's default.
6. The indicator is the words before the verb (or the object built). It is mapped to a catalogue code only by
   the indicator's name (``match_indicator``) and only when the units agree; otherwise the proposal is a new
   indicator, flagged for the reviewer. A number whose unit the extractor does not know is reported as a
   problem, never turned into a target; so is a year beyond 1900–2100. Repeated targets are proposed once;
   targets that give the same indicator, region and year different values are marked as contradicting.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

import cn2an

from zhulian.model.indicators import BY_KEY, INDICATORS, UNITS, fold, indicator_code, name_key, unit_kind
from zhulian.region.cities import CITIES

MAX_TEXT_CHARS = 2_000_000
FAR_FUTURE_YEARS = 50  # a target further than this beyond its base year is reported for review

# Full-width ASCII, the ideographic space and dashes, one character for one so clauses keep their places.
_FULL_WIDTH = ({code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
               | {0x3000: 0x20, 0x2014: 0x2D, 0x2013: 0x2D, 0x2212: 0x2D, 0xFF5E: 0x7E, 0x301C: 0x7E})
_CN_DIGIT = "零〇一二两三四五六七八九"
_CN_NUMERAL = re.compile(rf"[{_CN_DIGIT}十百千点]*[{_CN_DIGIT}十][{_CN_DIGIT}十百千点]*(?:[万亿](?![元亩人件吨千]))?")
_UNIT_NAMES = sorted(UNITS, key=len, reverse=True)
UNIT = "|".join(map(re.escape, _UNIT_NAMES))
NUMBER = r"\d+(?:\.\d+)?"
# A number with its unit: 25件, 3－5家, 15%-20%, 1.2万家 (万 and 亿 scale a unit they do not form one with);
# a whole number before 年 is a year, a decimal one a duration (受教育年限11.3年).
_MENTION = re.compile(
    r"(?<![\d.A-Za-z])(?P<num>\d+\.\d+(?=年)|" + NUMBER + r"(?![\d.]*[年月日]))(?P<unit1>%)?"
    r"(?:\s*[-~至到]\s*(?P<num2>" + NUMBER + r"))?"
    r"(?P<more>多|余)?(?P<unit>" + UNIT + r"|[万亿](?:" + UNIT + r"))?")
# 10个量化的预期性指标, 18个专栏: a count of the plan's own parts, not a target.
_ABOUT_THE_TEXT = re.compile(r"[^,;、。]{0,12}?(?:目标|指标|任务|方面|专栏|行动|举措|措施|章|篇)(?:[,;、。]|$)")
_CONNECTOR = re.compile(r"[、和及与]|以及")
_AFTER = re.compile(r"以上|以下|以内|左右|多")
_BOUNDS = ("以上", "以下", "以内", "左右")
_NO_VERB = re.match("", "")  # a target stated by its bound alone

# Verbs of commitment, longest first; what each makes of the comparator when no qualifier follows.
_VERBS: dict[str, str] = {
    "不低于": ">=", "不少于": ">=", "不小于": ">=", "不高于": "<=", "不超过": "<=", "不大于": "<=",
    "控制在": "<=", "低于": "<", "超过": ">", "突破": ">", "高于": ">", "大于": ">", "多于": ">", "超": ">",
    "为": "=", "新增建设": "=", "新增": "=", "新建": "=", "建设": "=", "建成": "=", "培育": "=", "引进": "=",
    "认定": "=", "打造": "=", "布局": "=", "创建": "=", "累计": ">=",
    "下降": ">=", "降低": ">=", "减少": ">=", "削减": ">=",
    "达到": ">=", "达": ">=", "保持在": ">=", "稳定在": ">=", "提高到": ">=", "提升到": ">=", "提高至": ">=",
    "提升至": ">=", "增加到": ">=", "增长到": ">=", "增至": ">=", "提高": ">=", "提升": ">=", "增长": ">=",
    "增加": ">=", "实现": ">=", "完成": ">=",
}
_BUILDING = {verb for verb, comparator in _VERBS.items() if comparator == "=" and verb != "为"}
_VERB = re.compile("|".join(sorted(map(re.escape, _VERBS), key=len, reverse=True)))
_REDUCE = re.compile(r"(?:比|较)(\d{4})年(?:底)?(?:下降|降低|减少|削减)")

_FIVE_YEAR_PLANS = {"十四五": 2025, "十五五": 2030, "十三五": 2020}
# 到2025年 looks ahead, but 从2020年的…增加到2024年的… and 2020年至2024年间 look back.
_AHEAD = r"(?<!\d年)(?<![截止])(?:到|至|于)(\d{4})年(?!的|间)"
_YEAR = re.compile(_AHEAD + r"|(\d{4})年(?:前|底前|以前|的?(?:具体|主要)?目标)|[\"“]?(十[三四五]五)[\"”]?(?:期末|末期)")
_HORIZON = re.compile(r"(\d+)年内|未来(\d+)年")
# What makes a clause speak of the future, or of the past; the later of the two in a clause wins, except that a
# verb of completion (达到了, 超额完成) always reports the past.
_FUTURE = re.compile(_AHEAD + r"|\d{4}年(?:前|底前|以前|的?(?:具体|主要)?目标)|十[三四五]五[\"”]?(?:期末|末期)|力争|确保|争取|努力"
                     r"|(?:比|较)\d{4}年(?:底)?(?:下降|降低|减少)(?!了)"
                     r"|目标|提出|计划|规划|方案|要求|明确|应当|必须|(?<![主需重必纪摘提简])要(?![求素点是闻件])|将|\d+年内|未来\d+年"
                     r"|不低于|不少于|不高于|不超过|控制在")
_COMPLETED = re.compile(r"(?:达到|降到|降至|提高|提升|增长|增加|下降|超过|完成|实现|突破|上升)了|超额完成|提前完成|提前达到"
                        r"|截至|截止|去年|同比")
_PAST = re.compile(_COMPLETED.pattern + r"|已经|已|(?<![较比从])目前|现有|比上年|较上年|十[一二三]五[\"”]?(?:期间|时期|以来|末)"
                   r"|以来|从\d{4}年|由\d|\d{4}年(?:至|到|-)\d{4}年"
                   r"|(?<![到至比较于在从\d])(?P<bare>\d{4})年(?!前|底前|以前|基础|水平|的?(?:具体|主要)?目标|\d|[\"”])")
_NOISE = re.compile(r"[〔\[【(]\d{4}[〕\]】)]\s*\d+号|第\d+[条章节款项篇号批期届次位名]|\d{3,4}-\d{7,8}|(?<!\d)1\d{10}(?!\d)"
                    r"|\d{4}年\d{1,2}月(?:\d{1,2}日)?|\d{1,2}月\d{1,2}日|\d{4}-\d{4}年|\d+(?:\.\d+)?(?:" + UNIT
                    + r"|[十百千万亿]+[^\d,;]{0,3})?级")
_NOT_A_UNIT = set("以左的和及与、至到多等,;。分年月日号倍前后内中个条批次类大小级型余")
_LEADING = re.compile(r"^(?:.*?(?:到|至)\d{4}年(?:底)?|.*?\d{4}年(?:前|底前)|[\"“]?十[三四五]五[\"”]?(?:期末|末期)?|在[^,]*?中(?:安排)?"
                      r"|其中|同时|并且|并|使|力争|争取|确保|要|应当|将|可|均|逐步|进一步|全市|全省|全国|我国|我省|我市"
                      r"|广东省?|珠三角(?:地区)?|珠江三角洲(?:地区)?|规划|方案|纲要|提出|明确|目标|计划)+")
_TRAILING = re.compile(r"(?:要|应当|应|将|可|均|逐步|分别|力争|的|要求|确保|继续|稳步|大幅|持续)+$")
_BRACKETS = re.compile(r"\([^)]*\)|（[^）]*）|\"|“|”")
_NON_INDICATOR = re.compile(r"^(?:每个?市|各市|每个|未来\d+年|\d+市|其他\d+市|其余\d+市)")
_CITY_NAMES = {name: city.adcode for city in CITIES
               for name in {city.zh, city.zh.removesuffix("市"), city.zh.removesuffix("特别行政区")} if len(name) >= 2}
_CITY = re.compile("(?:" + "|".join(sorted(map(re.escape, _CITY_NAMES), key=len, reverse=True))
                   + ")(?!大学|学院|路|大道)")  # 中山大学 and 中山路 are not the city of Zhongshan
_REGION_WORDS = re.compile(r"珠三角(?:地区)?|珠江三角洲(?:地区)?|粤港澳大湾区|大湾区|" + _CITY.pattern)
# 珠三角9市全部达到国家森林城市建设标准: a count of cities; 实现生态林全覆盖: a coverage of 100 %.
_ALL_CITIES = re.compile(r"(?P<num>\d+)个?(?:市|城市|地市)全部(?P<what>(?:达到|建成|实现)[^,;]+)")
_FULL_COVERAGE = re.compile(r"实现(?P<what>[^,;、]{1,12}?)全覆盖")


# What each warning a proposal may carry tells the reviewer (zh, en); unit_contradicts:<code> names the code.
WARNINGS: dict[str, tuple[str, str]] = {
    "new_indicator": ("新指标：不在指标目录中，请确认或选择已有指标",
                      "new indicator: not in the catalogue; confirm it or pick one"),
    "unit_contradicts": ("单位与目录指标 {code} 不符，未归入该指标", "the unit contradicts catalogue indicator {code}; not filed under it"),
    "several_regions": ("句中有多个地区，请确认地区", "the sentence names several regions; check the region"),
    "contradicts_another": ("与另一条目标矛盾", "contradicts another proposal"),
    "year_out_of_range": ("年份超出 1900–2100", "the year lies outside 1900–2100"),
    "year_far_future": ("目标年份远超政策年份", "the year lies far beyond the policy's"),
}


def warning_text(warning: str, lang: str = "zh") -> str:
    """A proposal's warning as the reviewer reads it, in Chinese or English."""
    code, _, detail = warning.partition(":")
    zh, en = WARNINGS.get(code, (warning, warning))
    return (zh if lang == "zh" else en).format(code=detail)


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
    baseline_year: int | None = None
    aspirational: bool = False
    warnings: list[str] = field(default_factory=list)

    def key(self) -> tuple[Any, ...]:
        return (self.indicator_code or fold(self.indicator), self.region, self.year or self.horizon)

    def as_target(self) -> dict[str, Any]:
        """The proposal as a policy target (the model's ``Target`` fields)."""
        known = INDICATORS.get(self.indicator_code or "")
        target = {"indicator": known.zh if known else self.indicator, "indicator_en": known.en if known else None,
                  "indicator_code": self.indicator_code, "comparator": self.comparator, "value": self.value,
                  "value_max": self.value_max, "unit": self.unit, "year": self.year, "region": self.region,
                  "clause": self.clause, "aspirational": self.aspirational}
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


@dataclass
class _Context:
    """What the text has said so far that governs the clause being read."""

    future: bool | None = None  # None: the paragraph has not yet said whether it looks ahead or back
    verb: str | None = None  # the verb of the sentence's last target: 技术合同成交额820亿元 after …为7000家
    year: int | None = None
    horizon: str | None = None
    aspirational: bool = False
    region: str | None = None
    several_regions: bool = False


def extract_targets(text: str, *, region: str | None = None, base_year: int | None = None) -> Extraction:
    """Every numeric target the text states, as proposals; ``region`` is the default for targets whose city
    the text does not name, ``base_year`` (the policy's issue year) turns 5年内 into a year."""
    proposals: list[Proposal] = []
    problems: list[Problem] = []
    last_city: str | None = None
    for paragraph in text.splitlines():
        context = _Context()
        for sentence in re.split(r"(?<=[。！!？?])", paragraph):
            cities = {_CITY_NAMES[name] for name in _CITY.findall(_fold(sentence))}
            context.region = next(iter(cities)) if len(cities) == 1 else (None if cities else last_city or region)
            context.several_regions = len(cities) > 1
            context.year, context.horizon, context.aspirational, context.verb = None, None, False, None
            proposals += _read_sentence(sentence, context, base_year, problems)
            if cities:  # a sentence naming several cities leaves the city of what follows unknown
                last_city = next(iter(cities)) if len(cities) == 1 else None
    return Extraction(_mark_contradictions(_unique(proposals)), problems)


def _fold(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def digits(text: str) -> str:
    """Folded text whose Chinese numerals that measure something are digits; 统一, 一批 stay as they are."""
    text = _fold(text)
    text = re.sub(r"百分之(" + _CN_NUMERAL.pattern + r"|" + NUMBER + ")", lambda m: _to_number(m[1]) + "%", text)

    def convert(match: re.Match[str]) -> str:
        measured = re.match(UNIT + r"|[万亿](?:" + UNIT + r")|年|%|多|余", text[match.end():match.end() + 5])
        return _to_number(match[0]) if measured else match[0]

    return _CN_NUMERAL.sub(convert, text)


def _to_number(numeral: str) -> str:
    if re.fullmatch(NUMBER, numeral):
        return numeral
    try:
        number = cn2an.cn2an(numeral, "smart")
    except (ValueError, KeyError):
        return numeral
    return str(int(number)) if float(number).is_integer() else str(number)


def clauses(sentence: str) -> list[tuple[str, str]]:
    """The sentence's clauses, each as (text as written, text read): cut at ；，：, never inside 3,400."""
    folded = _fold(sentence)
    cuts = [0, *(m.end() for m in re.finditer(r"[;:]|(?<!\d),|,(?!\d)", folded)), len(folded)]
    return [(sentence[a:b].strip(" ,;:，；：。"), digits(sentence[a:b])) for a, b in zip(cuts, cuts[1:])
            if sentence[a:b].strip(" ,;:，；：。")]


def _read_sentence(sentence: str, context: _Context, base_year: int | None,
                   problems: list[Problem]) -> list[Proposal]:
    found: list[Proposal] = []
    for source, clause in clauses(sentence):
        _update_context(context, clause)
        if context.future is False:
            continue
        # Unsure of the time (民用运输机场400个左右 on its own), only a number qualified as a bound is a target.
        new = _idioms(clause, source) if context.future else []
        new = new or _targets_in(clause, source, found, problems, context, bounds_only=not context.future)
        for proposal in new:
            _place_in_time(proposal, context, base_year, problems)
            proposal.region = proposal.region or context.region  # 分别 may have named each part's city
            proposal.aspirational = context.aspirational
            if context.several_regions:
                proposal.warnings.append("several_regions")
        found += new
    return found


def _update_context(context: _Context, clause: str) -> None:
    future = [m.end() for m in _FUTURE.finditer(clause)]
    past = [m.end() for m in _PAST.finditer(clause) if not _restates_year(m, context)]
    if future or past:
        context.future = max(future, default=-1) > max(past, default=-1) and not _COMPLETED.search(clause)
    context.aspirational = context.aspirational or "力争" in clause
    if year := _YEAR.search(clause):
        context.year = int(year[1] or year[2]) if year[1] or year[2] else _FIVE_YEAR_PLANS[year[3]]
    elif context.future and (bare := re.match(r"(\d{4})年", clause)):  # 2025年我国森林蓄积量将达…
        context.year = int(bare[1])
    if horizon := _HORIZON.search(clause):
        context.horizon = f"{horizon[1] or horizon[2]}年"


def _restates_year(match: re.Match[str], context: _Context) -> bool:
    """到2025年，…；2025年人均预期寿命达79岁: a year standing alone after the year a plan looks to is not the past."""
    return bool(match["bare"]) and context.future and context.year is not None and int(match["bare"]) >= context.year


def _place_in_time(proposal: Proposal, context: _Context, base_year: int | None, problems: list[Problem]) -> None:
    year, horizon = context.year, context.horizon
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


def _idioms(clause: str, source: str) -> list[Proposal]:
    """Targets policies state without a number and unit side by side: 9市全部达到…, 实现…全覆盖."""
    if match := _ALL_CITIES.search(clause):
        return [_proposal(f"{_clean(match['what'])}的城市数量", "=", float(match["num"]), None, "个", source)]
    if match := _FULL_COVERAGE.search(clause):
        return [_proposal(f"{match['what']}覆盖率", "=", 100.0, None, "%", source)]
    return []


def _targets_in(clause: str, source: str, earlier: list[Proposal], problems: list[Problem],
                context: _Context, bounds_only: bool = False) -> list[Proposal]:
    """Every number with a unit in the clause that a verb commits to, read left to right; a list of targets
    whose first has the verb (…为7000家，技术合同成交额820亿元; 完成新造林3000万公顷、森林抚育3500万公顷) shares it."""
    masked = _NOISE.sub(lambda m: "#" * len(m[0]), clause)
    mentions = [m for m in _MENTION.finditer(masked) if not masked[max(0, m.start() - 1):m.start()] == "第"]
    found: list[Proposal] = []
    start, verb, subject = 0, None, ""
    for index, mention in enumerate(mentions):
        between = masked[start:mention.start()]
        # 1个国家级湿地公园、2个省级湿地公园 and 48%和32%: a number after a connector shares the verb before it
        chained = verb is not None and re.search(r"(?:[、和及与]|以及)\s*$", between) is not None \
            and not _VERB.search(between)
        if not chained:
            verbs = list(_VERB.finditer(between))
            listed = context.verb and (not found and start == 0 or re.match(r"\s*(?:[、和及与]|以及)", between))
            bound = _suffix_of(mentions[index:], masked) in _BOUNDS  # 民用运输机场400个左右: a bound commits
            if not verbs and not listed and not bound:
                start = mention.end()
                continue
            verb = verbs[-1] if verbs else _VERB.fullmatch(context.verb) if listed else _NO_VERB
            subject = between[:verb.start()] if verbs else between.lstrip("、和及与以 ")
            pre = between[verb.end():] if verbs else ""
        else:
            pre = ""
        unit, scale = _unit_of(mention)
        tail = masked[mention.end():]
        if unit is None and tail[:1] in ("万", "亿") and re.search(r"(?:人数|人口|人次)$", _clean(subject)):
            unit, scale = "人", 1e4 if tail[0] == "万" else 1e8  # 经常参加体育锻炼人数达4.35亿
        if unit is None:
            unit = _unit_later(mentions[index + 1:], masked, mention) if _CONNECTOR.match(tail) else None
            if unit is None:
                if (word := _unknown_unit(tail)) is not None:
                    problems.append(_unit_problem(word, source))
                start = mention.end()
                continue
        if unit_kind(unit) == "count" and _ABOUT_THE_TEXT.match(tail):
            start = mention.end()
            continue
        suffix = _suffix_of(mentions[index:], masked)
        if bounds_only and suffix not in _BOUNDS:
            start = mention.end()
            continue
        value = round(float(mention["num"]) * scale, 6)  # 4.35亿 is 435000000, not 434999999.99999994
        value_max = round(float(mention["num2"]) * scale, 6) if mention["num2"] else None
        comparator = _comparator(verb[0], subject + pre, mention["more"], suffix, value_max)
        indicator = _indicator_text(subject, verb[0], pre, tail, unit, earlier + found, chained)
        proposal = _proposal(indicator, comparator, value, value_max, unit, source)
        if baseline := _REDUCE.search(between if not chained else subject + verb[0]):
            proposal.baseline_year = int(baseline[1])
        found.append(proposal)
        context.verb = verb[0]
        start = mention.end()
    return _pair_respectively(clause, found)


def _unit_of(mention: re.Match[str]) -> tuple[str | None, float]:
    unit = mention["unit"] or mention["unit1"]
    if unit and unit[0] in "万亿" and unit not in UNITS:
        return unit[1:], 1e4 if unit[0] == "万" else 1e8
    return unit, 1.0


def _unit_later(following: list[re.Match[str]], text: str, mention: re.Match[str]) -> str | None:
    """分别为47、55和55微克/立方米: a bare number in a list takes the unit the list ends with."""
    end = mention.end()
    for later in following:
        if not _CONNECTOR.fullmatch(text[end:later.start()].strip()):
            return None
        if unit := _unit_of(later)[0]:
            return unit
        end = later.end()
    return None


def _suffix_of(mentions: list[re.Match[str]], text: str) -> str:
    """The qualifier after the number, or after the last number of the list it heads (48%和32%左右)."""
    end = mentions[0].end()
    for later in mentions[1:]:
        if not _CONNECTOR.fullmatch(text[end:later.start()].strip()):
            break
        end = later.end()
    own = _AFTER.match(text, mentions[0].end())
    if own:
        return own[0]
    listed = _AFTER.match(text, end)
    return listed[0] if listed else ""


def _unknown_unit(tail: str) -> str | None:
    word = re.match(r"[\u4e00-\u9fff]{1,3}", tail)
    if word and word[0][0] not in _NOT_A_UNIT:
        return re.match(r"[^\s以左的和及与、至到多等,;。]{1,3}", tail)[0]
    return None


def _unit_problem(unit: str, clause: str) -> Problem:
    return Problem("unit_unknown", clause,
                   f"The unit {unit!r} is not one the extractor knows ({', '.join(_UNIT_NAMES)}); "
                   "no target was proposed from this number.",
                   f"单位“{unit}”不在可识别的单位之列（{'、'.join(_UNIT_NAMES)}），此数值未提出目标。")


def _comparator(verb: str, pre: str, more: str | None, suffix: str, value_max: float | None) -> str:
    if value_max is not None:
        return "between"
    if suffix == "左右" or pre.endswith(("约", "大约")):
        return "≈"
    if suffix == "以上":
        return ">="
    if suffix in ("以下", "以内"):
        return "<="
    if more or suffix == "多":
        return ">"
    return _VERBS.get(verb, ">=")


def _indicator_text(subject: str, verb: str, pre: str, tail: str, unit: str, earlier: list[Proposal],
                    chained: bool) -> str:
    """What the number measures: the words before the verb, or for 建设1个国家级湿地公园 the object built."""
    indicator = _clean(re.sub(r"^(?:以上|以下|以内|左右|多)?(?:[、和及与]|以及)", "", subject))
    if verb in ("下降", "降低", "减少", "削减"):  # 能源消耗比2020年下降13.5%: the target is the reduction
        indicator += verb
    if indicator.startswith("占") and earlier:  # 占服务业增加值和GDP的比重: the subject is the clause before's
        indicator = _clean(earlier[-1].indicator) + indicator
    if pre.endswith("的") and len(pre) > 1 and unit == "%":  # 达到当年一般预算支出的3%: a share of what precedes 的
        return f"{indicator.removesuffix('的比例').removesuffix('的比重')}占{pre[:-1]}比例"
    if verb in _BUILDING or not indicator:
        built = (_clean(pre) if not chained else "") or _clean(re.split(r"[,、和及与;。]", tail.lstrip("以上下内左右多"))[0])
        noun = "面积" if unit_kind(unit) == "area" else "数量" if unit_kind(unit) == "count" else ""
        prefix = "新增" if verb.startswith("新增") else ""
        return f"{prefix}{built}{noun}" if built else indicator
    return indicator


def _pair_respectively(clause: str, found: list[Proposal]) -> list[Proposal]:
    """占A和B的比重分别达到48%和32%, 京津冀、长三角等区域…分别下降25%、20%: one named part for each value."""
    if "分别" not in clause or len(found) < 2:
        return found
    indicator = found[0].indicator
    shares = re.fullmatch(r"(?P<subject>.*?)占(?P<parts>.+?)的?(?P<noun>比重|比例)", indicator)
    if shares:
        names = re.split(r"[和、及与]", shares["parts"])
        if len(names) == len(found):
            for proposal, name in zip(found, names):
                proposal.indicator = f"{shares['subject']}占{name}{shares['noun']}"
                proposal.indicator_code = match_indicator(proposal.indicator, proposal.unit)
                proposal.warnings = [w for w in proposal.warnings if w != "new_indicator"]
                if proposal.indicator_code is None:
                    proposal.warnings.append("new_indicator")
            return found
    names, rest = _places(_LEADING.sub("", clause.split("分别")[0]))
    if len(names) == len(found):
        for proposal, name in zip(found, names):
            if name in _CITY_NAMES:
                proposal.region = _CITY_NAMES[name]
            proposal.indicator = f"{name}{rest}"
    return found


def _places(indicator: str) -> tuple[list[str], str]:
    """京津冀、长三角、珠三角等区域细颗粒物浓度 or 广州、深圳PM2.5年均浓度: the places listed, and what is measured."""
    head, listed, rest = indicator.partition("等")
    if listed:
        return re.split(r"[、和及与]", head), re.sub(r"^(?:区域|地区|城市|市|省份|省)", "", rest)
    names = []
    while city := _CITY.match(indicator):
        names.append(city[0])
        indicator = indicator[city.end():].lstrip("、和及与")
    return names, indicator


def _proposal(indicator: str, comparator: str, value: float, value_max: float | None, unit: str | None,
              source: str) -> Proposal:
    code = match_indicator(indicator, unit)
    warnings = []
    if code and unit and INDICATORS[code].unit.startswith(unit + "/"):
        unit = INDICATORS[code].unit  # 每万人发明专利拥有量达25件: 件 per 10,000 people
    if code is None:
        named = match_indicator(indicator)
        if named:  # the name fits a catalogue indicator the unit contradicts: never filed under it
            warnings.append(f"unit_contradicts:{named}")
        warnings.append("new_indicator")
    return Proposal(indicator=indicator, comparator=comparator, value=value, value_max=value_max, unit=unit,
                    clause=source, indicator_code=code, warnings=warnings)


def _clean(text: str) -> str:
    text = _BRACKETS.sub("", text.strip(" ,;:、"))
    text = _LEADING.sub("", text)
    text = _CITY.sub("", text, count=1) if _CITY.match(text) else text
    return _TRAILING.sub("", text).strip(" :：,、")


def match_indicator(text: str, unit: str | None = None) -> str | None:
    """The catalogue code an indicator phrase names, or None. The phrase names an indicator when, once the
    words that say where and when are dropped (每个市, 未来5年, 珠三角, city names) and synonyms folded, it is
    one of the indicator's names or ends with one (Chinese puts the head noun last: 全市高新技术企业数量).
    With a ``unit`` the indicator's unit must be of the same kind: a share is never filed under an amount."""
    if not text:
        return None
    code = indicator_code(text)
    if code is None:
        key = _NON_INDICATOR.sub("", name_key(_REGION_WORDS.sub("", _fold(text))))
        key = re.sub(r"所有|全部|各类", "", key)
        endings = [(len(name), code) for name, code in BY_KEY.items() if key.endswith(name)]
        code = max(endings)[1] if endings else None
    if code and unit and not INDICATORS[code].unit.startswith(unit + "/") and unit_kind(unit) != INDICATORS[code].kind:
        return None
    return code


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
