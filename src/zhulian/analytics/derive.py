"""What the network is made of, read from the store's tables: who takes part in which activity, and the
organisation pairs (links) and city pairs each activity adds.

Counted (one rule for a full rebuild and for one changed record, so both give the same tables):

- platforms and projects: their ``lead_unit`` and ``partner_unit`` organisations, the organisations that
  ``hosts`` them or are a ``member_of`` them, and, for a partner that is itself a platform (a key laboratory
  brought into a centre), the organisations hosting that platform;
- patents: ``applicant_of`` organisations (co-application); ``owner_of`` organisations of patents and
  achievements;
- papers, standards, achievements (and inventors of patents): the organisations an ``author_of`` or
  ``inventor_of`` person is ``affiliated_with`` or a ``member_of`` (co-authorship at organisation level).

A patent's ``applicants`` list of plain names is *not* counted: a name is not yet an organisation (two
spellings of one applicant would count as two partners, one name shared by two would merge them). Entity
resolution turns names into ``applicant_of`` relations; from then on they count here.

Every pair of distinct organisations in one activity is linked once per activity, whatever number of
relations brought them in: an organisation that leads a centre and also hosts its partner laboratory makes no
self-loop, and the same partner named twice makes no second link.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from zhulian.region.cities import city_of
from zhulian.store import records, relations
from zhulian.text import normalize

ACTIVITY_TYPES = ("platform", "project", "paper", "patent", "standard", "achievement")
LINK_KINDS = {  # activity type -> how a link through it reads
    "platform": ("共建平台", "shared platform"), "project": ("联合项目", "joint project"),
    "paper": ("合著论文", "co-authored paper"), "patent": ("联合申请专利", "co-applied patent"),
    "standard": ("联合起草标准", "co-drafted standard"), "achievement": ("共有成果", "shared achievement"),
}
OUTSIDE = "other"  # the city key of organisations outside the eleven cities, or without a city
TOPIC_FIELDS = ("keywords", "disciplines", "research_directions", "research_fields")
TOPICS_PER_RECORD = 12
CHUNK = 500

_UNIT_OF = ("lead_unit", "partner_unit")  # activity -> organisation
_TAKES_PART = ("hosts", "member_of", "applicant_of", "owner_of")  # organisation -> activity
_PERSON_IN = ("author_of", "inventor_of")  # person -> activity
_PERSON_AT = ("affiliated_with", "member_of")  # person -> organisation


@dataclass(frozen=True)
class Participant:
    activity_id: str
    org_id: str
    via_id: str | None
    predicate: str


@dataclass
class Activity:
    id: str
    type: str
    year: int
    participants: list[Participant] = field(default_factory=list)

    @property
    def orgs(self) -> list[str]:
        return sorted({p.org_id for p in self.participants})


def region_city(adcode: str | None) -> str:
    """The matrix key of an organisation's city: one of the eleven, else ``other``."""
    city = city_of(adcode)
    return city.adcode if city else OUTSIDE


def pairs(orgs: list[str]) -> Iterator[tuple[str, str]]:
    """Each unordered pair of distinct organisations once (``orgs`` sorted and distinct)."""
    return itertools.combinations(orgs, 2)


def link_deltas(activity: Activity, sign: int, into: Counter) -> None:
    """Add (or with ``sign`` -1 take away) what one activity contributes to the links."""
    for a, b in pairs(activity.orgs):
        into[(a, b, activity.type, activity.year)] += sign


def city_deltas(links: Counter, city_of_org: dict[str, str]) -> Counter:
    cities: Counter = Counter()
    for (a, b, kind, year), weight in links.items():
        if weight:
            city_a, city_b = sorted((city_of_org[a], city_of_org[b]))
            cities[(city_a, city_b, kind, year)] += weight
    return cities


# -- reading the store -------------------------------------------------------------------------------

def _chunked(ids: list[str] | None) -> Iterator[list[str] | None]:
    if ids is None:
        yield None
        return
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def _live(*tables: sa.FromClause) -> list[Any]:
    return [t.c.deleted.is_(None) for t in tables]


def participants(connection: sa.Connection, activity_ids: list[str] | None = None) -> Iterator[Participant]:
    """Who takes part in the given activities (every activity with ``None``), by the rules above."""
    for chunk in _chunked(activity_ids):
        for statement in _participant_queries(chunk):
            for row in connection.execute(statement):
                yield Participant(*row)


def _participant_queries(chunk: list[str] | None) -> list[sa.Select]:
    act, org, mid = records.alias("act"), records.alias("org"), records.alias("mid")
    first, second = relations.alias("first"), relations.alias("second")

    def only(column: Any) -> list[Any]:
        return [] if chunk is None else [column.in_(chunk)]

    units = (sa.select(first.c.subject_id, first.c.object_id, sa.null(), first.c.predicate)
             .join(act, act.c.id == first.c.subject_id).join(org, org.c.id == first.c.object_id)
             .where(first.c.predicate.in_(_UNIT_OF), org.c.type == "organization", *_live(act, org),
                    *only(first.c.subject_id)))
    taking_part = (sa.select(first.c.object_id, first.c.subject_id, sa.null(), first.c.predicate)
                   .join(act, act.c.id == first.c.object_id).join(org, org.c.id == first.c.subject_id)
                   .where(first.c.predicate.in_(_TAKES_PART), org.c.type == "organization",
                          act.c.type.in_(ACTIVITY_TYPES), *_live(act, org), *only(first.c.object_id)))
    via_platform = (sa.select(first.c.subject_id, second.c.subject_id, first.c.object_id, first.c.predicate)
                    .join(act, act.c.id == first.c.subject_id).join(mid, mid.c.id == first.c.object_id)
                    .join(second, sa.and_(second.c.object_id == first.c.object_id, second.c.predicate == "hosts"))
                    .join(org, org.c.id == second.c.subject_id)
                    .where(first.c.predicate == "partner_unit", mid.c.type == "platform",
                           org.c.type == "organization", *_live(act, mid, org), *only(first.c.subject_id)))
    via_person = (sa.select(first.c.object_id, second.c.object_id, first.c.subject_id, first.c.predicate)
                  .join(act, act.c.id == first.c.object_id).join(mid, mid.c.id == first.c.subject_id)
                  .join(second, sa.and_(second.c.subject_id == first.c.subject_id,
                                        second.c.predicate.in_(_PERSON_AT)))
                  .join(org, org.c.id == second.c.object_id)
                  .where(first.c.predicate.in_(_PERSON_IN), mid.c.type == "person", org.c.type == "organization",
                         *_live(act, mid, org), *only(first.c.object_id)))
    return [units, taking_part, via_platform, via_person]


def activities(connection: sa.Connection, ids: list[str] | None = None) -> dict[str, Activity]:
    """Live activities with their participants; an activity nobody takes part in is left out."""
    found: dict[str, Activity] = {}
    grouped: dict[str, list[Participant]] = {}
    for participant in participants(connection, ids):
        grouped.setdefault(participant.activity_id, []).append(participant)
    wanted = sorted(grouped)
    for chunk in _chunked(wanted):
        rows = connection.execute(sa.select(records.c.id, records.c.type, records.c.year)
                                  .where(records.c.id.in_(chunk)))
        for row in rows:
            found[row.id] = Activity(row.id, row.type, row.year or 0, _distinct(grouped[row.id]))
    return found


def _distinct(found: list[Participant]) -> list[Participant]:
    return sorted(set(found), key=lambda p: (p.org_id, p.via_id or "", p.predicate))


def organisations(connection: sa.Connection, ids: list[str] | None = None) -> Iterator[dict[str, Any]]:
    """Node rows (without metrics) for live organisations."""
    for chunk in _chunked(ids):
        statement = (sa.select(records.c.id, records.c.label, records.c.city, records.c.access, records.c.node,
                               records.c.data["name"], records.c.data["kind"], *_topic_columns())
                     .where(records.c.type == "organization", records.c.deleted.is_(None))
                     .order_by(records.c.id))
        if chunk is not None:
            statement = statement.where(records.c.id.in_(chunk))
        for row in connection.execute(statement):
            record_id, label, city, access, node, name, kind, *topics = row
            yield {"org_id": record_id, "label": label, "name": name or {"zh": label},
                   "city": region_city(city) if city_of(city) else city, "kind": kind, "access": access,
                   "node": node, "topics": topics_of(topics)}


def activity_topics(connection: sa.Connection, ids: list[str]) -> dict[str, list[str]]:
    found = {}
    for chunk in _chunked(ids):
        for record_id, *topics in connection.execute(sa.select(records.c.id, *_topic_columns())
                                                     .where(records.c.id.in_(chunk))):
            found[record_id] = topics_of(topics)
    return found


def _topic_columns() -> list[Any]:
    # Only these parts of the stored JSON are read: parsing whole records costs more than the rest of a rebuild.
    return [records.c.data[name] for name in TOPIC_FIELDS]


def topics_of(lists: list[Any]) -> list[str]:
    """A record's subject words (its ``TOPIC_FIELDS``' values), folded (traditional→simplified, width) so
    that spellings meet."""
    words: list[str] = []
    for values in lists:
        if isinstance(values, list):
            words += [_fold(v) for v in values if isinstance(v, str)]
    return list(dict.fromkeys(w for w in words if w))[:TOPICS_PER_RECORD]


@functools.lru_cache(maxsize=200_000)
def _fold(word: str) -> str:
    """Subject words repeat across records; folding each once saves most of a rebuild's text work."""
    return normalize(word).strip()[:200]


def affected_activities(connection: sa.Connection, changed: Iterable[str], known: sa.Table) -> set[str]:
    """The activities whose participants a change to these records may alter: the records themselves if
    they are activities, the activities they take part in now (current relations) or took part in before
    (``known``: the participants table), and one step on, the activities a changed platform is a partner of."""
    changed = sorted(set(changed))
    found: set[str] = set()
    for chunk in _chunked(changed):
        found |= set(connection.execute(sa.select(records.c.id).where(
            records.c.id.in_(chunk), records.c.type.in_(ACTIVITY_TYPES))).scalars())
        found |= set(connection.execute(sa.select(known.c.activity_id).where(
            sa.or_(known.c.org_id.in_(chunk), known.c.via_id.in_(chunk)))).scalars())
        found |= _related_activities(connection, chunk)
    platforms = sorted(found)
    for chunk in _chunked(platforms):  # a platform's hosts reach the centres it is a partner of
        found |= set(connection.execute(sa.select(relations.c.subject_id).where(
            relations.c.object_id.in_(chunk), relations.c.predicate == "partner_unit")).scalars())
    return found


def _related_activities(connection: sa.Connection, chunk: list[str]) -> set[str]:
    other = records.alias("other")
    outgoing = (sa.select(relations.c.object_id).join(other, other.c.id == relations.c.object_id)
                .where(relations.c.subject_id.in_(chunk), other.c.type.in_(ACTIVITY_TYPES)))
    incoming = (sa.select(relations.c.subject_id).join(other, other.c.id == relations.c.subject_id)
                .where(relations.c.object_id.in_(chunk), other.c.type.in_(ACTIVITY_TYPES)))
    return set(connection.execute(outgoing).scalars()) | set(connection.execute(incoming).scalars())
