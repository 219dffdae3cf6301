"""An explained Fellegi–Sunter model: each comparison between a query and a candidate falls into one level,
each level has an m probability (of seeing it when the two are the same) and a u probability (when they are
not), and the match weight is the prior plus the sum of log2(m/u). Every level a pair falls into is returned
with its weight and a reason in Chinese and English, so a reviewer sees why a score is what it is.

The m and u values are set from what the levels mean and checked on ``bench/registry.py`` (the MoE list, the
university domain list and the entity list): u is how often two *different* institutions agree at that level
(two universities share a city often, a normalised name almost never), m how often two spellings of one
institution do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from rapidfuzz import fuzz

from zhulian.registry.normalize import (
    BRANCH_ENDINGS, GENERIC_ENDINGS, NameForm, english_reading, name_forms, person_key, seed_aliases,
)

MATCH = 0.95  # at or above: the same organisation, linked without asking
REVIEW = 0.30  # at or above (and below MATCH): a candidate a reviewer decides
ORG_PRIOR = math.log2(1 / 50)  # of the candidates blocking finds for a name, about one in fifty is it

# level -> (m, u, reason in English, reason in Chinese)
NAME_LEVELS: dict[str, tuple[float, float, str, str]] = {
    "exact": (0.70, 0.0001, "the same name once script, width, punctuation and legal form are folded",
              "繁简、全半角、标点与公司类型归一后名称相同"),
    "alias": (0.12, 0.001, "a known alias, abbreviation or acronym of the name", "为已知别名、简称或缩写"),
    "truncated": (0.05, 0.002, "the same name without its generic ending (大学, 公司, University…)",
                  "去掉“大学、公司”等通用后缀后名称相同"),
    "reading": (0.05, 0.001, "the English name reads as the Chinese one (pinyin and glossary)",
                "英文名与中文名按拼音和词表对应"),
    "close": (0.08, 0.004, "nearly the same name (one or two characters differ)", "名称几乎相同（相差一两个字）"),
    "child": (0.004, 0.01, "a unit of the candidate: its name with a branch or institute added",
              "为候选机构的下属单位：候选名称加上分支、院所等"),
    "parent": (0.004, 0.01, "the candidate is a unit of it: the candidate's name adds a branch or institute",
               "候选机构为其下属单位"),
    "similar": (0.04, 0.03, "a similar name", "名称相近"),
    "different": (0.005, 0.95, "different names", "名称不同"),
}
PID_LEVELS = {
    "same": (0.90, 0.000001, "the same identifier", "标识符相同"),
    "conflict": (0.001, 0.90, "different values of the same identifier scheme", "同一标识方案的值不同"),
}
CITY_LEVELS = {
    "same": (0.90, 0.10, "the same city", "城市相同"),
    "different": (0.10, 0.90, "different cities", "城市不同"),
}
KIND_LEVELS = {
    "same": (0.95, 0.30, "the same kind of organisation", "机构类型相同"),
    "different": (0.05, 0.70, "different kinds of organisation", "机构类型不同"),
}


@dataclass
class Reason:
    comparison: str
    level: str
    weight: float
    reason: str
    reason_zh: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"comparison": self.comparison, "level": self.level, "weight": round(self.weight, 2),
                "reason": self.reason, "reason_zh": self.reason_zh, "detail": self.detail}


def _reason(comparison: str, level: str, table: dict[str, tuple[float, float, str, str]], detail: str = "") -> Reason:
    m, u, en, zh = table[level]
    return Reason(comparison, level, _weight(m, u), en, zh, detail)


@cache
def _weight(m: float, u: float) -> float:
    return math.log2(m / u)


@dataclass
class Profile:
    """What the model compares about an organisation: its names, identifiers, city and kind."""

    names: list[str]
    pids: dict[str, str] = field(default_factory=dict)
    city: str | None = None
    kind: str | None = None

    @classmethod
    def of_record(cls, record: dict[str, Any]) -> Profile:
        names = [n for n in (record.get("name") or {}).values() if isinstance(n, str)]
        return cls(names + list(record.get("aliases") or []), dict(record.get("pids") or {}),
                   record.get("city"), record.get("kind"))


@dataclass
class Score:
    weight: float
    reasons: list[Reason]
    relation: str  # same | child | parent: what the name comparison says the candidate is to the query
    ambiguous: bool = False  # another candidate matches as well: a person has to choose

    def mark_ambiguous(self, others: int) -> None:
        self.ambiguous = True
        self.reasons.append(Reason("ambiguity", "ambiguous", 0.0, f"{others} other record(s) match as well",
                                   f"另有 {others} 条记录同样匹配"))

    @property
    def probability(self) -> float:
        return 1 / (1 + 2 ** -self.weight)

    @property
    def has_evidence(self) -> bool:
        """Whether anything says the two may be one: a name at all alike, or a shared identifier."""
        return any(r.level not in ("different", "conflict") and r.comparison in ("name", "affiliation", "orcid")
                   or (r.comparison.startswith("pids.") and r.level == "same") for r in self.reasons)

    @property
    def decision(self) -> str:
        if self.relation != "same":
            return "related"
        if self.ambiguous and self.probability >= MATCH:
            return "review"
        return "match" if self.probability >= MATCH else "review" if self.probability >= REVIEW else "none"


def score_org(query: Profile, candidate: Profile) -> Score:
    reasons = [_compare_names(query.names, candidate.names)]
    reasons += _compare_pids(query.pids, candidate.pids)
    if query.city and candidate.city:
        reasons.append(_reason("city", "same" if query.city == candidate.city else "different", CITY_LEVELS,
                               f"{query.city} / {candidate.city}"))
    if query.kind and candidate.kind:
        reasons.append(_reason("kind", "same" if query.kind == candidate.kind else "different", KIND_LEVELS,
                               f"{query.kind} / {candidate.kind}"))
    relation = reasons[0].level if reasons[0].level in ("child", "parent") else "same"
    return Score(ORG_PRIOR + sum(r.weight for r in reasons), reasons, relation)


def _compare_pids(query: dict[str, str], candidate: dict[str, str]) -> list[Reason]:
    reasons = []
    for scheme in sorted(set(query) & set(candidate)):
        level = "same" if query[scheme] == candidate[scheme] else "conflict"
        reasons.append(_reason(f"pids.{scheme}", level, PID_LEVELS, f"{query[scheme]} / {candidate[scheme]}"))
    return reasons


_ORDER = list(NAME_LEVELS)


def _compare_names(query: Iterable[str], candidate: Iterable[str]) -> Reason:
    """The strongest level any of the query's names reaches against any of the candidate's."""
    best = ("different", "")
    candidate_forms = [(name, form) for name in candidate for form in name_forms(name)]
    for q_name in query:
        for q_form in name_forms(q_name):
            for c_name, c_form in candidate_forms:
                level = _name_level(q_form, c_form)
                if _ORDER.index(level) < _ORDER.index(best[0]):
                    best = (level, f"{q_name} ~ {c_name}")
    return _reason("name", best[0], NAME_LEVELS, best[1])


def _name_level(q: NameForm, c: NameForm) -> str:
    if q.key == c.key:
        return "exact"
    aliases = seed_aliases()
    canonical_q, canonical_c = aliases.get(q.key), aliases.get(c.key)
    if (canonical_q and (canonical_q == canonical_c or c.key in _keys(canonical_q))) or \
            (canonical_c and q.key in _keys(canonical_c)) or \
            (q.acronym and q.acronym == c.key) or (c.acronym and c.acronym == q.key):
        return "alias"
    if q.script != c.script:
        return _reading_level(q, c) if q.script == "zh" else _reading_level(c, q)
    for longer, shorter, unit in ((q.key, c.key, "child"), (c.key, q.key, "parent")):
        if len(shorter) >= 2 and longer.startswith(shorter):
            rest = longer[len(shorter):]
            if rest in GENERIC_ENDINGS:
                return "truncated"
            if rest.endswith(BRANCH_ENDINGS) or q.script == "en" or (len(shorter) >= 4 and len(rest) >= 2):
                return unit
    ratio = fuzz.ratio(q.key, c.key)
    if ratio >= 90:
        return "close"
    return "similar" if ratio >= 80 else "different"


def _reading_level(zh: NameForm, en: NameForm) -> str:
    reading = [w for w in english_reading(zh.key) if w not in ("of", "and", "the")]
    words = [w for w in en.words if w not in ("of", "and", "the")]
    if sorted(reading) == sorted(words):
        return "reading"
    return "similar" if fuzz.token_sort_ratio(" ".join(reading), " ".join(words)) >= 90 else "different"


def _keys(name: str) -> list[str]:
    return [form.key for form in name_forms(name)]


# -- people ----------------------------------------------------------------------------------------------

PERSON_LEVELS = {
    "orcid_same": (0.95, 0.000001, "the same ORCID iD", "ORCID 相同"),
    "orcid_conflict": (0.001, 0.95, "different ORCID iDs", "ORCID 不同"),
    "affiliation_same": (0.80, 0.01, "the same affiliation", "任职单位相同"),
    "affiliation_different": (0.20, 0.99, "different affiliations", "任职单位不同"),
    "field_shared": (0.60, 0.05, "a research field in common", "有共同的研究领域"),
    "field_none": (0.40, 0.95, "no research field in common", "没有共同的研究领域"),
    "coauthor_shared": (0.50, 0.01, "a co-author in common", "有共同的合作者"),
}


@dataclass
class PersonProfile:
    name: str
    orcid: str | None = None
    affiliations: set[str] = field(default_factory=set)  # organisation ids (survivors) or name keys
    fields: set[str] = field(default_factory=set)
    coauthors: set[str] = field(default_factory=set)


def score_person(query: PersonProfile, candidate: PersonProfile, namesakes: int) -> Score:
    """Two people with one name are one person only on evidence: a person's prior is one in
    (namesakes + 1), and lower again for two-character Chinese names, which many people share."""
    key = person_key(query.name)
    prior = math.log2(1 / (namesakes + 1)) - (2 if len(key) == 2 else 0)
    reasons = [Reason("name", "same", prior, f"the same name, shared by {namesakes} record(s): a prior, not evidence",
                      f"同名（共 {namesakes} 条记录同名）：只是先验，不是证据", query.name)]
    if query.orcid and candidate.orcid:
        reasons.append(_reason("orcid", "orcid_same" if query.orcid == candidate.orcid else "orcid_conflict",
                               PERSON_LEVELS, f"{query.orcid} / {candidate.orcid}"))
    if query.affiliations and candidate.affiliations:
        shared = query.affiliations & candidate.affiliations
        reasons.append(_reason("affiliation", "affiliation_same" if shared else "affiliation_different",
                               PERSON_LEVELS, "、".join(sorted(shared))))
    if query.fields and candidate.fields:
        shared = query.fields & candidate.fields
        reasons.append(_reason("fields", "field_shared" if shared else "field_none", PERSON_LEVELS,
                               "、".join(sorted(shared))))
    if shared_coauthors := query.coauthors & candidate.coauthors:
        reasons.append(_reason("coauthors", "coauthor_shared", PERSON_LEVELS, "、".join(sorted(shared_coauthors))))
    return Score(sum(r.weight for r in reasons), reasons, "same")
