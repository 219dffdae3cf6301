"""The match service: a demand (free text or a demand record) → ranked achievements, patents, papers,
platforms and instruments with checkable reasons, and the experts behind them.

Candidates come from the search index (``SearchService``, BM25 over the demand's content words ORed), so
matching sees what search sees: the same records, kept current by the change feed, filtered by the
caller's access levels. ``zhulian.match.scoring`` re-scores them.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from zhulian.access import Principal, search_levels, visibility
from zhulian.errors import Problem, ZhulianError, invalid
from zhulian.match import scoring
from zhulian.match.scoring import FIELD_LABELS, Demand, Term
from zhulian.model import TYPE_LABELS, record_label, resolve_type
from zhulian.region.adcodes import adcode_names
from zhulian.region.cities import CIRCLES, CITIES, city_of
from zhulian.store import records as records_table, relations as relations_table
from zhulian.text import normalize

MATCH_TYPES = ("achievement", "patent", "paper", "platform", "instrument")
EVIDENCE_TYPES = ("paper", "patent", "achievement")  # works that show what someone knows
EXPERT_PREDICATES = ("author_of", "inventor_of")
PROFILE_TYPES = ("person", "platform", "organization")  # where people state expertise or hold a place
GROUP_PREDICATES = ("member_of", "affiliated_with")
# A person's own keywords, positions and description, and the platforms and organisations they belong to, say what
# they claim or where they sit, not what they have done: such evidence counts at these fractions of a work's score,
# and anyone with a matching work ranks above everyone without one (expert finders rank by works first).
PROFILE_WEIGHTS = {"declared": 0.5, "member_of": 0.3, "affiliated_with": 0.3}
EVIDENCE_KINDS = (*EVIDENCE_TYPES, "declared", "platform", "organization")
ROLE_LABELS = {"author_of": ("作者", "author"), "inventor_of": ("发明人", "inventor"),
               "declared": ("本人登记的专长", "own declared expertise"), "member_of": ("成员", "member"),
               "affiliated_with": ("任职", "works there")}
CANDIDATES = 100
EXPERT_CANDIDATES = 200
MAX_LIMIT = 100
MAX_TEXT = 5_000
MAX_QUERY_CHARS = 480  # the search service reads 500 characters of a query
MAX_TERMS = 40


class MatchService:
    def __init__(self, store: Any, search: Any) -> None:
        self.store = store
        self.search = search

    # -- matching ------------------------------------------------------------------------------------

    def match(self, principal: Principal, *, text: str | None = None, demand: str | None = None,
              types: str | list[str] | None = None, city: str | None = None, circle: str | None = None,
              limit: int = 20) -> dict[str, Any]:
        started = time.perf_counter()
        wanted = self._demand(principal, text, demand)
        type_names = _match_types(types)
        places = _places(city, circle)
        _check_limit(limit)
        scored, searched = self._scored(principal, wanted, type_names, places, CANDIDATES)
        results = [scoring.result_of(item) for item in scored[:limit]]
        evidence = [item for item in scored if item.profile.record["type"] in EVIDENCE_TYPES]
        meta: dict[str, Any] = {
            "count": len(results), "candidates": searched, "types": list(type_names),
            "terms": [{"term": t.surface, "weight": round(t.weight, 3)} for t in wanted.terms],
            "demand": wanted.record_id, "city": city, "circle": circle,
            "took_ms": 0.0}
        if not results:
            meta["notice"], meta["notice_zh"] = _nothing_found(type_names, places)
        body = {"meta": meta, "results": results, "experts": self._experts(principal, wanted, evidence, places)[0][:5]}
        meta["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return body

    def lexical(self, principal: Principal, text: str, *, types: str | list[str] | None = None,
                limit: int = 10) -> list[str]:
        """The search index's own ranking of the candidates matching starts from (plain BM25 over the
        demand's words ORed): the baseline matching is measured against."""
        wanted = self._demand(principal, text, None)
        return [record_id for record_id, _score in self._candidates(principal, wanted, _match_types(types), None,
                                                                    limit)]

    def _scored(self, principal: Principal, wanted: Demand, type_names: tuple[str, ...], places: list[str] | None,
                depth: int) -> tuple[list[scoring.Scored], int]:
        hits = self._candidates(principal, wanted, type_names, places, depth)
        found = self.store.get_many([record_id for record_id, _s in hits], visible=visibility(principal))
        analyzer = self.search.index().analyzer
        candidates = [(scoring.profile(analyzer, found[record_id]), lexical) for record_id, lexical in hits
                      if record_id in found]
        return scoring.score(wanted, candidates), len(candidates)

    def _candidates(self, principal: Principal, wanted: Demand, type_names: tuple[str, ...],
                    places: list[str] | None, depth: int) -> list[tuple[str, float]]:
        query = ""
        for term in sorted(wanted.terms, key=lambda t: -t.weight):
            longer = f"{query} OR {term.surface}" if query else term.surface
            if len(longer) > MAX_QUERY_CHARS:
                break
            query = longer
        body = self.search.search(query, type=list(type_names), filter=f"city:{'|'.join(places)}" if places else None,
                                  per_page=depth, highlights=False, fetch=False, access=search_levels(principal))
        return [(hit["id"], float(hit["score"])) for hit in body["results"]]

    def _demand(self, principal: Principal, text: str | None, demand: str | None) -> Demand:
        if (text is None or not text.strip()) and not demand:
            raise invalid([Problem("text", text, "describe the need in words, or give a demand id",
                                   "请用文字描述需求，或给出企业需求编号")], "query")
        if text is not None and len(text) > MAX_TEXT:
            raise invalid([Problem("text", text[:100] + "…", f"at most {MAX_TEXT} characters",
                                   f"需求描述最多 {MAX_TEXT} 个字符")], "query")
        city, disciplines, record_id = None, [], None
        if demand:
            record = self.store.get(demand, visible=visibility(principal))
            if record["type"] != "demand":
                raise invalid([Problem("demand", demand, f"{record['id']} is a {record['type']}, not a demand",
                                       f"{record['id']} 是{TYPE_LABELS[record['type']][0]}，不是企业需求")], "query")
            text = " ".join([text or "", *scoring.texts(record.get("title")),
                             *scoring.texts(record.get("description")), *record.get("keywords", []),
                             *record.get("disciplines", [])])
            city, disciplines, record_id = record.get("city"), record.get("disciplines", []), record["id"]
        terms = self._terms(text or "")
        if not terms:
            raise invalid([Problem("text", text, "the text holds no word to match on (only phrasing or "
                                   "punctuation); name the technology, product or problem",
                                   "需求描述中没有可用于匹配的词（只有套话或标点），请写明技术、产品或问题")], "query")
        return Demand(text or "", terms, city, disciplines, record_id)

    def _terms(self, text: str) -> list[Term]:
        index = self.search.index()
        searcher = index.searcher()
        documents = max(searcher.num_docs, 1)
        terms = []
        for stemmed, surface in scoring.content_words(index.analyzer, text)[:MAX_TERMS]:
            frequency = max(searcher.doc_freq(f, stemmed) for f in ("name_w", "kw_w", "body_w"))
            terms.append(Term(stemmed, surface, scoring.inverse_document_frequency(documents, frequency)))
        return terms

    # -- experts -------------------------------------------------------------------------------------

    def experts(self, principal: Principal, topic: str | None, *, city: str | None = None,
                circle: str | None = None, limit: int = 20) -> dict[str, Any]:
        """People ranked by their papers, patents and achievements on a topic, then by what they declare and the
        platforms and organisations they belong to, each with the evidence and its reason."""
        started = time.perf_counter()
        if topic is None or not topic.strip():
            raise invalid([Problem("topic", topic, "give a topic", "请给出主题")], "query")
        wanted = self._demand(principal, topic, None)
        _check_limit(limit)
        places = _places(city, circle)
        scored, searched = self._scored(principal, wanted, EVIDENCE_TYPES, places, EXPERT_CANDIDATES)
        experts, profiles = self._experts(principal, wanted, scored, places)
        meta: dict[str, Any] = {"count": min(len(experts), limit), "topic": topic, "evidence_searched": searched,
                                "profiles_searched": profiles}
        if not experts:
            meta["notice"], meta["notice_zh"] = _no_expert(searched)
        meta["took_ms"] = round((time.perf_counter() - started) * 1000, 2)
        return {"meta": meta, "results": experts[:limit]}

    def _experts(self, principal: Principal, wanted: Demand, works: list[scoring.Scored],
                 places: list[str] | None) -> tuple[list[dict[str, Any]], int]:
        """People behind the works (``works``) and people whose own profile, platform or organisation matches
        the demand, ranked; and how many profiles matched."""
        experts: dict[str, dict[str, Any]] = {}
        self._add_works(principal, experts, works)
        profiles, searched = self._scored(principal, wanted, PROFILE_TYPES, places, EXPERT_CANDIDATES)
        self._add_profiles(principal, experts, profiles)
        ranked = sorted(experts.values(), key=lambda e: (not any(e["counts"][t] for t in EVIDENCE_TYPES),
                                                         -e["score"], e["name"]))
        for expert in ranked:
            expert["score"] = round(expert["score"], 4)
            expert.pop("_seen")
        return ranked, searched

    def _add_works(self, principal: Principal, experts: dict[str, dict[str, Any]],
                   works: list[scoring.Scored]) -> None:
        """Person records linked to the works by ``author_of``/``inventor_of`` where there are any, otherwise
        the names on the work grouped by name and affiliation (never by a name alone: two authors of the same
        name without an affiliation stay two)."""
        linked = self._linked_people(principal, [item.profile.record["id"] for item in works], EXPERT_PREDICATES)
        for item in works:
            record = item.profile.record
            people = linked.get(record["id"], [])
            linked_names = {normalize(record_label(person)) for person, _p, _r in people}
            for person, predicate, _role in people:
                _add_evidence(experts, person["id"], _person(person), item, predicate)
            affiliation = _affiliation(record)
            for field, role in (("authors", "author_of"), ("inventors", "inventor_of")):
                for name in record.get(field, []):
                    if normalize(name) in linked_names:
                        continue
                    key = f"{normalize(name)}|{normalize(affiliation)}" if affiliation else f"{normalize(name)}|{record['id']}"
                    _add_evidence(experts, key, {"id": None, "name": name, "affiliation": affiliation,
                                                 "city": record.get("city"), "research_fields": []}, item, role)

    def _add_profiles(self, principal: Principal, experts: dict[str, dict[str, Any]],
                      profiles: list[scoring.Scored]) -> None:
        """People whose own record matches (declared expertise), and the members and staff of matching
        platforms and organisations."""
        groups = [item for item in profiles if item.profile.record["type"] != "person"]
        members = self._linked_people(principal, [item.profile.record["id"] for item in groups], GROUP_PREDICATES)
        for item in profiles:
            record = item.profile.record
            if record["type"] == "person":
                _add_evidence(experts, record["id"], _person(record), item, "declared")
            for person, predicate, role in members.get(record["id"], []):
                _add_evidence(experts, person["id"], _person(person), item, predicate, role)

    def _linked_people(self, principal: Principal, record_ids: list[str],
                       predicates: tuple[str, ...]) -> dict[str, list[tuple[dict, str, str | None]]]:
        """For each record, the people the caller may see who point at it by one of ``predicates``, with the
        predicate and the relation's role (联合理事长)."""
        if not record_ids:
            return {}
        statement = (sa.select(relations_table.c.subject_id, relations_table.c.object_id, relations_table.c.predicate,
                               relations_table.c.role)
                     .join(records_table, records_table.c.id == relations_table.c.subject_id)
                     .where(relations_table.c.object_id.in_(record_ids),
                            relations_table.c.predicate.in_(predicates),
                            records_table.c.type == "person", records_table.c.deleted.is_(None)))
        with self.store.engine.connect() as connection:
            rows = connection.execute(statement).all()
        people = self.store.get_many(sorted({row.subject_id for row in rows}), visible=visibility(principal))
        linked: dict[str, list[tuple[dict, str, str | None]]] = defaultdict(list)
        for row in rows:
            if row.subject_id in people:
                linked[row.object_id].append((people[row.subject_id], row.predicate, row.role))
        return linked


def _person(record: dict[str, Any]) -> dict[str, Any]:
    return {"id": record["id"], "name": record_label(record), "affiliation": None, "city": record.get("city"),
            "research_fields": record.get("research_fields", [])}


def _affiliation(record: dict[str, Any]) -> str | None:
    """Where the people named on a record work, as the record says: a patent's first applicant, an
    achievement's first owner."""
    for field in ("applicants", "owners"):
        if record.get(field):
            return record[field][0]
    return None


def _add_evidence(experts: dict[str, dict[str, Any]], key: str, who: dict[str, Any], item: scoring.Scored,
                  role: str, relation_role: str | None = None) -> None:
    expert = experts.setdefault(key, {**who, "score": 0.0, "counts": {kind: 0 for kind in EVIDENCE_KINDS},
                                      "evidence": [], "_seen": set()})
    record = item.profile.record
    if record["id"] in expert["_seen"]:
        return
    expert["_seen"].add(record["id"])
    weighted = item.score * PROFILE_WEIGHTS.get(role, 1.0)
    # The best few pieces of evidence count fully and later ones less, so many weak papers do not outrank
    # a few strong ones.
    expert["score"] += weighted / (1 + len(expert["evidence"]) * 0.5)
    expert["counts"]["declared" if role == "declared" else record["type"]] += 1
    expert["evidence"].append({"id": record["id"], "type": record["type"], "title": record_label(record),
                               "role": role, "score": round(weighted, 4),
                               "matched_terms": [m["term"] for m in item.reasons["matched_terms"]],
                               "reason": _evidence_reason(role, relation_role, item)})


def _evidence_reason(role: str, relation_role: str | None, item: scoring.Scored) -> dict[str, str]:
    """Why a record counts for a person: their part in it and where it carries the topic's words
    (作者：标题含 石墨烯 / 成员（联合理事长）：关键词含 微电子)."""
    zh, en = ROLE_LABELS[role]
    if relation_role:
        zh, en = f"{zh}（{relation_role}）", f"{en} ({relation_role})"
    by_field: dict[str, list[str]] = defaultdict(list)
    for matched in item.reasons["matched_terms"]:
        for field in matched["fields"]:
            by_field[field].append(matched["term"])
    if not by_field:
        return {"zh": zh, "en": en}
    return {"zh": f"{zh}：" + "；".join(f"{FIELD_LABELS[f][0]}含 {'、'.join(t)}" for f, t in by_field.items()),
            "en": f"{en}: " + "; ".join(f"{FIELD_LABELS[f][1]} contain {', '.join(t)}" for f, t in by_field.items())}


def _no_expert(searched: int) -> tuple[str, str]:
    works_en, works_zh = ((f"None of the {searched} matching papers, patents and achievements names its authors or "
                           "inventors", f"匹配到的 {searched} 篇论文、专利和成果均未注明作者或发明人") if searched else
                          ("No paper, patent or achievement matches this topic", "没有与该主题匹配的论文、专利或成果"))
    return (f"{works_en}, and no person declares it or belongs to a platform or organisation that matches it.",
            f"{works_zh}；也没有人员登记该专长或属于与之相符的平台、机构。")


def _match_types(types: str | list[str] | None) -> tuple[str, ...]:
    if not types:
        return MATCH_TYPES
    names = types if isinstance(types, list) else str(types).split(",")
    resolved, problems = [], []
    for name in (n.strip() for n in names if n and n.strip()):
        try:
            type_name = resolve_type(name)
        except ZhulianError:
            type_name = None
        if type_name not in MATCH_TYPES:
            problems.append(Problem("types", name, f"match finds {', '.join(MATCH_TYPES)}",
                                    f"匹配的类型为 {'、'.join(TYPE_LABELS[t][0] for t in MATCH_TYPES)}"))
        elif type_name not in resolved:
            resolved.append(type_name)
    if problems:
        raise invalid(problems, "query")
    return tuple(resolved) or MATCH_TYPES


def _places(city: str | None, circle: str | None) -> list[str] | None:
    """The adcodes (cities and their districts) a city or circle filter allows; filters that cannot both
    hold are refused, since they would exclude every record."""
    problems, cities = [], None
    if circle:
        key = next((k for k, c in CIRCLES.items() if circle.strip() in (k, c["zh"], c["en"])), None)
        if key is None:
            problems.append(Problem("circle", circle, f"one of {', '.join(CIRCLES)}",
                                    "应为 " + "、".join(f"{k}（{c['zh']}）" for k, c in CIRCLES.items()) + " 之一"))
        else:
            cities = [c for c in CITIES if c.circle == key]
    if city:
        found = city_of(city.strip())
        if found is None:
            problems.append(Problem("city", city, "a city of the region (adcode, e.g. 440300)",
                                    "应为本区域城市的行政区划代码（如 440300）"))
        elif cities is not None and found not in cities:
            names = CIRCLES[key]
            problems.append(Problem("city", city, f"{found.en} is not in the {names['en']}, so nothing could match",
                                    f"{found.zh}不属于{names['zh']}创新圈，两个条件无法同时满足"))
        else:
            cities = [found]
    if problems:
        raise invalid(problems, "query")
    if cities is None:
        return None
    codes = adcode_names()
    return sorted({c.adcode for c in cities} | {code for c in cities for code in codes
                                                if code.startswith(c.adcode[:4]) and c.adcode[2:] != "0000"})


def _check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_LIMIT:
        raise invalid([Problem("limit", limit, f"1 to {MAX_LIMIT}", f"应为 1 至 {MAX_LIMIT}")], "query")


def _nothing_found(types: tuple[str, ...], places: list[str] | None) -> tuple[str, str]:
    kinds_zh = "、".join(TYPE_LABELS[t][0] for t in types)
    kinds_en = ", ".join(TYPE_LABELS[t][1] for t in types)
    if places:
        return (f"No {kinds_en} in the chosen city or circle matches; widen the place or the types.",
                f"所选城市或创新圈内没有匹配的{kinds_zh}，请放宽地区或类型。")
    return (f"No {kinds_en} matches these words; try other words or more types.",
            f"没有与这些词匹配的{kinds_zh}，请换用其他词语或增加类型。")
