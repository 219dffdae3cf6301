"""Organisation and person resolution: one record however an institution's name is written.

Resolution runs in three steps, each explained: identifiers (``uscc``, ``moe``, any pid) and the record's
own id first; then blocking on name keys (``index.Blocker``); then the Fellegi–Sunter model in ``scoring``.
A confident match updates the existing record (the new spelling kept in its ``aliases``); an uncertain one
becomes a new record and a review candidate. Human decisions — same, not same, merge, split, parent — are
written to ``registry_decisions`` and to the records themselves (aliases, tombstones that redirect,
``member_of`` relations), so every later run obeys them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from zhulian.access.principal import Principal, visibility
from zhulian.errors import Problem, ZhulianError, conflict, invalid
from zhulian.model import new_id, validate_record
from zhulian.model.common import MAX_LIST
from zhulian.model.types import Resource
from zhulian.registry import index
from zhulian.registry.normalize import check_name, grams, name_keys, person_key, seed_aliases
from zhulian.registry.scoring import MATCH, REVIEW, PersonProfile, Profile, Score, score_org, score_person
from zhulian.registry.tables import registry_candidates, registry_decisions
from zhulian.store import Store, Visibility, content_of, now, pids as pid_table, records, relations, resolve_ref
from zhulian.text.analysis import normalize

DECISIONS = {
    "same": ("同一机构", "the same: merge the incoming record into the candidate"),
    "not_same": ("不是同一机构", "not the same: keep both"),
    "child": ("为下属单位", "the incoming record is a unit of the candidate"),
    "parent": ("为上级单位", "the candidate is a unit of the incoming record"),
}
SHOWN = 10
REVIEWS_PER_RECORD = 3


@dataclass
class Ranked:
    record: dict[str, Any]
    score: Score

    def as_dict(self) -> dict[str, Any]:
        record = self.record
        return {"id": record["id"], "type": record["type"], "name": record.get("name"),
                "aliases": record.get("aliases", []), "city": record.get("city"), "kind": record.get("kind"),
                "node": record.get("node"), "score": round(self.score.probability, 4),
                "weight": round(self.score.weight, 2), "decision": self.score.decision,
                "relation": self.score.relation, "reasons": [r.as_dict() for r in self.score.reasons]}


def _forbidden(what: str, what_zh: str) -> ZhulianError:
    return ZhulianError("forbidden", f"Only administrators {what}.", f"只有管理员可以{what_zh}。", 403)


# Statements built once: an import resolves thousands of rows, and building a statement per row leaves
# garbage the importer's paused collector would only reclaim late.
_LIVE_ROWS = sa.select(records.c.id, records.c.data, records.c.access, records.c.node).where(
    records.c.id.in_(sa.bindparam("ids", expanding=True)), records.c.type == sa.bindparam("type"),
    records.c.deleted.is_(None))
_PID_OWNERS = sa.select(pid_table.c.value, pid_table.c.record_id).where(
    pid_table.c.scheme == sa.bindparam("scheme"), pid_table.c.value.in_(sa.bindparam("values", expanding=True)))
_QUEUED = sa.select(registry_candidates.c.id).where(registry_candidates.c.record_id == sa.bindparam("record"),
                                                    registry_candidates.c.candidate_id == sa.bindparam("candidate"))


def _live_rows(connection: sa.Connection, ids: Iterable[str], type_name: str) -> dict[str, sa.Row]:
    ids = list(dict.fromkeys(ids))
    found: dict[str, sa.Row] = {}
    for start in range(0, len(ids), 500):
        rows = connection.execute(_LIVE_ROWS, {"ids": ids[start:start + 500], "type": type_name})
        found.update({row.id: row for row in rows})
    return found


class Lookup:
    """What resolving a batch of organisations reads, each thing once: blocking postings, live records,
    identifier owners. Valid while the batch is being resolved (nothing is written meanwhile)."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.blocker = index.Blocker(connection, "organization")
        self._rows: dict[str, sa.Row | None] = {}
        self._owners: dict[tuple[str, str], str | None] = {}

    def rows(self, ids: Iterable[str]) -> dict[str, sa.Row]:
        ids = list(dict.fromkeys(ids))
        missing = [i for i in ids if i not in self._rows]
        if missing:
            found = _live_rows(self.connection, missing, "organization")
            self._rows.update({i: found.get(i) for i in missing})
        return {i: row for i in ids if (row := self._rows[i]) is not None}

    def prefetch_pids(self, keys: Iterable[tuple[str, str]]) -> None:
        by_scheme: dict[str, list[str]] = {}
        for scheme, value in set(keys) - set(self._owners):
            by_scheme.setdefault(scheme, []).append(value)
            self._owners[(scheme, value)] = None
        for scheme, values in by_scheme.items():
            for start in range(0, len(values), 500):
                rows = self.connection.execute(_PID_OWNERS, {"scheme": scheme, "values": values[start:start + 500]})
                self._owners.update({(scheme, value): owner for value, owner in rows})

    def pid_owners(self, pids: dict[str, str]) -> list[str]:
        self.prefetch_pids(pids.items())
        return [owner for key in pids.items() if (owner := self._owners[key])]


def _decided_apart(connection: sa.Connection, record_id: str | None) -> set[str]:
    """Records a reviewer said this one is not."""
    if not record_id:
        return set()
    rows = connection.execute(sa.select(registry_decisions.c.subject_id, registry_decisions.c.object_id).where(
        registry_decisions.c.kind == "not_same",
        sa.or_(registry_decisions.c.subject_id == record_id, registry_decisions.c.object_id == record_id)))
    return {other for row in rows for other in row if other != record_id}


def rank_orgs(lookup: Lookup, profile: Profile, *, exclude: str | None = None,
              visible: Visibility | None = None) -> list[Ranked]:
    """Existing organisations for a profile, most likely first, each with its score and reasons."""
    ids = lookup.pid_owners(profile.pids) + lookup.blocker.candidates(query_grams(profile.names))
    apart = _decided_apart(lookup.connection, exclude) | {exclude}
    rows = lookup.rows(i for i in ids if i not in apart)
    ranked = [Ranked(row.data, score_org(profile, Profile.of_record(row.data))) for row in rows.values()
              if visible is None or visible.allows(row.access, row.node)]
    ranked = sorted((r for r in ranked if r.score.has_evidence), key=lambda r: (-r.score.weight, r.record["id"]))
    matches = [r for r in ranked if r.score.decision == "match"]
    if len(matches) > 1:
        for r in matches:
            r.score.mark_ambiguous(len(matches) - 1)
    return ranked


def query_grams(names: Iterable[str]) -> set[str]:
    """Blocking keys of a query's names and of the canonical names its seed aliases stand for (中大 → 中山大学)."""
    aliases = seed_aliases()
    wanted: set[str] = set()
    for name in names:
        wanted |= grams(name)
        wanted |= {gram for key in name_keys(name) if key in aliases for gram in grams(aliases[key])}
    return wanted


# -- the import hook --------------------------------------------------------------------------------------

@dataclass
class Resolution:
    """A batch of incoming records after resolution, and the review candidates to queue once written."""

    records: list[Resource]
    reviews: dict[int, list[Ranked]] = field(default_factory=dict)
    new_ids: set[str] = field(default_factory=set)  # ids given to rows that are new records
    resolved: bool = False  # whether any organisation was looked at

    def after_write(self, writer: Any, results: list[Any]) -> None:
        """Candidates for the rows that were written as new records (``WriteResult`` per row); a candidate
        from the same batch counts only if it was written too."""
        created = {result.record["id"] for result in results if result.outcome == "created"}
        rows = []
        for result in results:
            for ranked in self.reviews.get(result.index, []) if result.outcome == "created" else []:
                if ranked.record["id"] in created or ranked.record["id"] not in self.new_ids:
                    rows.append(_candidate_row(result.record, ranked, "import"))
        _insert_candidates(writer.connection, rows)


def resolve_incoming(writer: Any, batch: list[Resource]) -> Resolution:
    """What the importer calls on each batch before writing it: each organisation either names an
    existing record (by id, identifier or a confident name match: the row then updates that record and
    its spelling joins the aliases) or is new, with the uncertain candidates to review."""
    organisations = [i for i, record in enumerate(batch) if record.type == "organization"]
    resolution = Resolution(list(batch), resolved=bool(organisations))
    if not organisations:
        return resolution
    index.sync(writer.connection)
    lookup = Lookup(writer.connection)
    lookup.blocker.load(query_grams(n for i in organisations for n in _names(batch[i])))
    lookup.prefetch_pids(key for i in organisations for key in batch[i].pids.items())
    lookup.rows(candidate for i in organisations
                for candidate in lookup.blocker.candidates(query_grams(_names(batch[i]))))
    new_in_batch: dict[str, tuple[dict[str, Any], Profile]] = {}
    batch_postings: dict[str, list[str]] = {}
    for position in organisations:
        record = batch[position]
        existing = _identified(lookup, record)
        if existing is not None:
            resolution.records[position] = _with_names_kept(record, existing)
            continue
        if not any(name_keys(name) for name in _names(record)):
            continue  # a name made only of a legal form: nothing to compare, written as it is
        payload = record.model_dump(mode="json")
        profile = Profile.of_record(payload)
        ranked = rank_orgs(lookup, profile)
        best = ranked[0] if ranked else None
        if best is not None and best.score.decision == "match" and best.record.get("node") == record.node:
            merged = _updated_from(record, best.record)
            if merged is not None:
                resolution.records[position] = merged
                continue
        # Earlier new rows of this batch are not in the store yet: a reviewer decides about them too.
        wanted = query_grams(profile.names)
        earlier = [new_in_batch[i] for i in index.most_shared(wanted, batch_postings)]
        ranked += sorted((Ranked(other, score) for other, other_profile in earlier
                          if (score := score_org(profile, other_profile)).has_evidence),
                         key=lambda r: -r.score.weight)
        record = record.model_copy(update={"id": record.id or new_id("organization")})
        resolution.records[position] = record
        resolution.new_ids.add(record.id)
        new_in_batch[record.id] = ({**payload, "id": record.id}, profile)
        for gram in wanted:
            batch_postings.setdefault(gram, []).append(record.id)
        reviews = [r for r in ranked if r.score.decision in ("match", "review")][:REVIEWS_PER_RECORD]
        reviews += [r for r in ranked if r.score.decision == "related"][:1]
        if reviews:
            resolution.reviews[position] = reviews
    return resolution


def queue_harvested(store: Store, harvested: Iterable[dict[str, Any]]) -> int:
    """For the federation harvester: review candidates for harvested organisation records (already in the
    store under their own ids, which are never rewritten). Re-running queues nothing twice; pairs a
    reviewer already decided are not queued again. Returns how many candidates were queued."""
    queued = 0
    with store.transaction() as writer:
        connection = writer.connection
        index.sync(connection)
        lookup = Lookup(connection)
        for record in harvested:
            if record.get("type") != "organization" or record.get("deleted") or not record.get("id"):
                continue
            ranked = rank_orgs(lookup, Profile.of_record(record), exclude=record["id"])
            chosen = [r for r in ranked if r.score.decision in ("match", "review")][:REVIEWS_PER_RECORD]
            queued += _insert_candidates(connection, [_candidate_row(record, r, "harvest") for r in chosen])
    return queued


def _names(record: Resource) -> list[str]:
    names = record.name.model_dump(exclude_none=True).values() if getattr(record, "name", None) else []
    return [*names, *record.aliases]


def _identified(lookup: Lookup, record: Resource) -> dict[str, Any] | None:
    """The live record the incoming one names by id or identifier, as the store will find it."""
    ids = ([record.id] if record.id else []) + lookup.pid_owners(record.pids)
    rows = lookup.rows(ids)
    return next(iter(rows.values())).data if len(rows) == 1 else None


def _with_names_kept(record: Resource, existing: dict[str, Any]) -> Resource:
    """An incoming row for a known record keeps every spelling: a variant of the same name (中山大學 for
    中山大学) joins the aliases and the name stays; a different name (a rename) becomes the name and the
    old one an alias."""
    old_names = {k: v for k, v in (existing.get("name") or {}).items() if isinstance(v, str)}
    new_names = record.name.model_dump(exclude_none=True)
    old_keys = {key for name in old_names.values() for key in name_keys(name)}
    variant = any(key in old_keys for name in new_names.values() for key in name_keys(name))
    names, dropped = ({**new_names, **old_names}, new_names.values()) if variant else \
        ({**old_names, **new_names}, old_names.values())
    aliases = _aliases(existing.get("aliases", []), record.aliases, dropped, names.values())
    if names == new_names and aliases == record.aliases:
        return record
    return record.model_copy(update={"name": type(record.name)(**names), "aliases": aliases})


def _aliases(*groups: Iterable[str]) -> list[str]:
    """The alias lists joined in order, without the current names (the last group) or repeats."""
    *kept, current = groups
    current = set(current)
    joined = list(dict.fromkeys(a for group in kept for a in group if a and a not in current))
    return joined[:MAX_LIST]


def _updated_from(record: Resource, existing: dict[str, Any]) -> Resource | None:
    """The existing record with what the incoming row says laid over it; ``None`` if that would not be a
    valid record (then the row is written as new and reviewed)."""
    incoming = record.model_dump(mode="json", by_alias=True, exclude_none=True, exclude={"id"})
    merged = content_of(existing)
    for key, value in incoming.items():
        if value not in ([], {}, "") and key not in ("name", "aliases", "pids"):
            merged[key] = value
    merged["pids"] = {**incoming.get("pids", {}), **existing.get("pids", {})}
    merged["id"] = existing["id"]
    try:
        return _with_names_kept(validate_record({**merged, "name": incoming["name"],
                                                 "aliases": incoming.get("aliases", [])}), existing)
    except ZhulianError:
        return None


def _candidate_row(record: dict[str, Any], ranked: Ranked, source: str) -> dict[str, Any]:
    names = record.get("name") or {}
    return {"record_id": record["id"], "candidate_id": ranked.record["id"],
            "name": (names.get("zh") or names.get("zh_hant") or names.get("en") or "")[:500],
            "score": round(ranked.score.probability, 6), "relation": ranked.score.relation,
            "reasons": [r.as_dict() for r in ranked.score.reasons], "source": source, "status": "open",
            "created": now()}


def _insert_candidates(connection: sa.Connection, rows: list[dict[str, Any]]) -> int:
    """Insert the pairs not queued or decided before; returns how many were new."""
    inserted = 0
    for row in rows:
        pair = (row["record_id"], row["candidate_id"])
        seen = connection.execute(_QUEUED, {"record": pair[0], "candidate": pair[1]}).first()
        if seen is None and pair[1] not in _decided_apart(connection, pair[0]):
            connection.execute(registry_candidates.insert().values(**row))
            inserted += 1
    return inserted


# -- the service -----------------------------------------------------------------------------------------

class RegistryService:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- resolving ------------------------------------------------------------------------------------

    def resolve(self, principal: Principal, name: Any, *, type_name: str = "organization", city: str | None = None,
                kind: str | None = None, pids: dict[str, str] | None = None, affiliation: str | None = None,
                fields: list[str] | None = None, coauthors: list[str] | None = None,
                limit: int = SHOWN) -> dict[str, Any]:
        """Ranked candidates for a name, each with its id, names, score and reasons."""
        if type_name not in ("organization", "person"):
            raise invalid([Problem("type", type_name, "resolve organization or person", "类型应为 organization 或 person")],
                          "query")
        check_name(name)
        visible = visibility(principal)
        self._catch_up()
        with self.store.engine.connect() as connection:
            if type_name == "person":
                ranked = self._rank_people(connection, name, affiliation, fields or [], coauthors or [],
                                           (pids or {}).get("orcid"), visible)
            else:
                profile = Profile([name], pids or {}, city, kind)
                ranked = rank_orgs(Lookup(connection), profile, visible=visible)
        return {"query": name, "type": type_name,
                "keys": name_keys(name) if type_name == "organization" else [person_key(name)],
                "thresholds": {"match": MATCH, "review": REVIEW},
                "results": [r.as_dict() for r in ranked[:max(1, min(limit, 50))]]}

    def _catch_up(self) -> None:
        """Bring the blocking index up to the feed, taking the write lock only when it is behind: a lookup is a
        read, and must not queue behind (or block) every writer of the store."""
        with self.store.engine.connect() as connection:
            if not index.behind(connection):
                return
        with self.store.transaction() as writer:
            index.sync(writer.connection)

    def _rank_people(self, connection: sa.Connection, name: str, affiliation: str | None, fields: list[str],
                     coauthors: list[str], orcid: str | None, visible: Visibility) -> list[Ranked]:
        key = person_key(name)
        blocker = index.Blocker(connection, "person")
        rows = _live_rows(connection, blocker.candidates({"p:" + key[:60]}, limit=1000), "person")
        affiliations: set[str] = set()
        if affiliation:
            check_name(affiliation, "affiliation")
            affiliations = {"k:" + k for k in name_keys(affiliation)}
            org_ranked = rank_orgs(Lookup(connection), Profile([affiliation]))
            if org_ranked and org_ranked[0].score.decision == "match":
                affiliations.add(org_ranked[0].record["id"])
        query = PersonProfile(name, orcid, affiliations, {normalize(f) for f in fields if f},
                              {person_key(c) for c in coauthors if c})
        ranked = []
        for row in rows.values():
            if visible.allows(row.access, row.node):
                candidate = _person_profile(connection, row.data)
                ranked.append(Ranked(row.data, score_person(query, candidate, len(rows))))
        return sorted(ranked, key=lambda r: (-r.score.weight, r.record["id"]))

    # -- reviewing ------------------------------------------------------------------------------------

    def review(self, principal: Principal, *, status: str = "open", limit: int = 50,
               offset: int = 0) -> dict[str, Any]:
        if not principal.is_admin:
            raise _forbidden("review registry candidates", "审核机构候选")
        if status not in ("open", "decided", "all"):
            raise invalid([Problem("status", status, "open, decided or all", "应为 open、decided 或 all")], "query")
        where = [] if status == "all" else [registry_candidates.c.status == status]
        with self.store.engine.connect() as connection:
            count = connection.execute(sa.select(sa.func.count()).select_from(registry_candidates)
                                       .where(*where)).scalar_one()
            rows = connection.execute(sa.select(registry_candidates).where(*where).order_by(
                registry_candidates.c.score.desc(), registry_candidates.c.id).limit(limit).offset(offset)).mappings().all()
            labels = dict(connection.execute(sa.select(records.c.id, records.c.label).where(records.c.id.in_(
                {r["record_id"] for r in rows} | {r["candidate_id"] for r in rows})) ).all()) if rows else {}
        results = [{**dict(row), "record_name": labels.get(row["record_id"], ""),
                    "candidate_name": labels.get(row["candidate_id"], "")} for row in rows]
        return {"meta": {"count": count, "status": status}, "results": results}

    def decide(self, principal: Principal, candidate: int, decision: str, *, origin: str | None = None) -> dict:
        """A reviewer's answer to one candidate: ``same`` merges the incoming record into the candidate,
        ``not_same`` keeps both for good, ``child``/``parent`` records which is a unit of which."""
        if not principal.is_admin:
            raise _forbidden("decide registry candidates", "审定机构候选")
        decision = decision.replace("-", "_")
        if decision not in DECISIONS:
            raise invalid([Problem("decision", decision, f"one of {', '.join(DECISIONS)}",
                                   f"应为 {'、'.join(DECISIONS)} 之一")], "query")
        with self._batch(principal, origin) as writer:
            row = writer.connection.execute(sa.select(registry_candidates).where(
                registry_candidates.c.id == candidate)).mappings().first()
            if row is None:
                raise ZhulianError("not_found", f"No review candidate {candidate}.", f"没有编号为 {candidate} 的候选。", 404)
            if row["status"] != "open":
                raise conflict(f"Candidate {candidate} was already decided ({row['decision']}).",
                               f"候选 {candidate} 已审定（{row['decision']}）。")
            incoming, existing = row["record_id"], row["candidate_id"]
            if decision == "same":
                outcome = _merge(writer, principal, incoming, existing)
            elif decision == "not_same":
                _decide(writer, principal, "not_same", incoming, existing)
                outcome = {"kept": [incoming, existing]}
            else:
                child, parent = (incoming, existing) if decision == "child" else (existing, incoming)
                outcome = _set_parent(writer, principal, child, parent)
            writer.connection.execute(registry_candidates.update().where(registry_candidates.c.id == candidate)
                                      .values(status="decided", decision=decision, decided=now()))
            writer.log("decide", None, {"candidate": candidate, "decision": decision, "record": incoming,
                                        "candidate_record": existing})
        return {"candidate": candidate, "decision": decision, **outcome}

    def merge(self, principal: Principal, loser: str, survivor: str, *, origin: str | None = None) -> dict:
        if not principal.is_admin:
            raise _forbidden("merge records", "合并记录")
        with self._batch(principal, origin) as writer:
            return _merge(writer, principal, resolve_ref(writer.connection, loser), resolve_ref(writer.connection, survivor))

    def split(self, principal: Principal, merged: str, *, origin: str | None = None) -> dict:
        """Undo a merge: the merged-away record comes back as a record of its own (a new id, to which its
        old id now resolves), taking back its identifiers and names from the survivor."""
        if not principal.is_admin:
            raise _forbidden("split records", "拆分记录")
        with self._batch(principal, origin) as writer:
            return _split(writer, principal, merged)

    def set_parent(self, principal: Principal, child: str, parent: str, *, origin: str | None = None) -> dict:
        if not principal.is_admin:
            raise _forbidden("link parent organisations", "设置上级机构")
        with self._batch(principal, origin) as writer:
            return _set_parent(writer, principal, resolve_ref(writer.connection, child), resolve_ref(writer.connection, parent))

    def _batch(self, principal: Principal, origin: str | None) -> Any:
        """The record service batch a decision writes through: every record it changes is audited, with the
        decision's batch id (``registry_…``) in each entry."""
        from zhulian.records import RecordService

        return RecordService(self.store).batch(principal, origin, kind="registry")

    def decisions(self, principal: Principal, record: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        if not principal.is_admin:
            raise _forbidden("read registry decisions", "查看机构审定记录")
        statement = sa.select(registry_decisions).order_by(registry_decisions.c.id.desc()).limit(limit)
        if record:
            record_id = self.store.resolve(record)
            statement = statement.where(sa.or_(registry_decisions.c.subject_id == record_id,
                                               registry_decisions.c.object_id == record_id))
        with self.store.engine.connect() as connection:
            return [dict(row) for row in connection.execute(statement).mappings()]


# -- decisions ---------------------------------------------------------------------------------------------

def _decide(writer: Any, principal: Principal, kind: str, subject: str, obj: str, note: str | None = None) -> None:
    writer.connection.execute(registry_decisions.insert().values(
        kind=kind, subject_id=subject, object_id=obj, actor=principal.id, at=now(), note=note))


def _live(writer: Any, record_id: str, what: str, what_zh: str) -> dict[str, Any]:
    row = writer.connection.execute(sa.select(records.c.data, records.c.deleted, records.c.type).where(
        records.c.id == record_id)).first()
    if row.deleted:
        raise ZhulianError("gone", f"The {what} {record_id} is a tombstone (deleted or merged away); "
                           "choose a live record.", f"{what_zh} {record_id} 已删除或已被合并，请选择现存记录。", 409)
    return row.data


def _merge(writer: Any, principal: Principal, loser_id: str, survivor_id: str) -> dict:
    if loser_id == survivor_id:
        raise ZhulianError("merge_self", "A record cannot be merged into itself.", "记录不能合并到自身。", 400)
    loser = _live(writer, loser_id, "record to merge", "要合并的记录")
    survivor = _live(writer, survivor_id, "survivor", "保留的记录")
    if loser["type"] != survivor["type"] or loser["type"] not in ("organization", "person"):
        raise ZhulianError("merge_types", f"Only two organisations or two people merge, not a {loser['type']} "
                           f"into a {survivor['type']}.", f"只能合并两个机构或两位专家，不能将 {loser['type']} "
                           f"合并到 {survivor['type']}。", 400)
    connection = writer.connection
    referrers = connection.execute(sa.select(relations.c.owner_id).distinct().where(
        sa.or_(relations.c.object_id == loser_id, relations.c.subject_id == loser_id),
        relations.c.owner_id.not_in([loser_id, survivor_id]))).scalars().all()
    content = content_of(survivor)
    loser_names = [n for n in (loser.get("name") or {}).values() if isinstance(n, str)]
    content["aliases"] = _aliases(survivor.get("aliases", []), loser_names, loser.get("aliases", []),
                                  [n for n in (survivor.get("name") or {}).values() if isinstance(n, str)])
    content["pids"] = {**loser.get("pids", {}), **survivor.get("pids", {})}
    content["relations"] = _repointed(survivor.get("relations", []) + loser.get("relations", []),
                                      loser_id, survivor_id)
    merge = {"merged": loser_id, "into": survivor_id}
    writer.delete(loser_id, merged_into=survivor_id, action="merge", detail=merge)
    merged = writer.update(survivor_id, content, action="merge", detail=merge)
    for referrer in referrers:
        current = writer.connection.execute(sa.select(records.c.data).where(records.c.id == referrer)).scalar()
        writer.update(referrer, {**content_of(current),
                                 "relations": _repointed(current.get("relations", []), loser_id, survivor_id,
                                                         owner=referrer)}, detail=merge)
    _decide(writer, principal, "merge", loser_id, survivor_id)
    return {"merged": loser_id, "into": survivor_id, "record": merged, "referrers_updated": len(referrers)}


def _repointed(declared: list[dict[str, Any]], loser: str, survivor: str, owner: str | None = None) -> list[dict]:
    """Relations with the merged-away record replaced by the survivor, without duplicates or a relation of
    the survivor to itself."""
    owner = owner or survivor
    result, seen = [], set()
    for relation in declared:
        relation = {k: (survivor if v == loser and k in ("object", "subject") else v) for k, v in relation.items()}
        end = relation.get("object") or relation.get("subject")
        key = (relation["predicate"], relation.get("object"), relation.get("subject"))
        if end != owner and key not in seen:
            seen.add(key)
            result.append(relation)
    return result


def _split(writer: Any, principal: Principal, merged: str) -> dict:
    connection = writer.connection
    loser_id = resolve_ref(writer.connection, merged)
    row = connection.execute(sa.select(records.c.merged_into, records.c.revision).where(
        records.c.id == loser_id)).first()
    if not row.merged_into:
        raise ZhulianError("not_merged", f"{merged} was not merged into another record; nothing to split.",
                           f"{merged} 并未合并到其他记录，无需拆分。", 409)
    from zhulian.store import revision_data, revisions, revisions_and_records

    before = connection.execute(sa.select(revision_data).select_from(revisions_and_records).where(
        revisions.c.record_id == loser_id, revisions.c.revision == row.revision - 1)).scalar()
    survivor_id = row.merged_into
    survivor = _live(writer, survivor_id, "survivor", "保留的记录")
    taken_names = {n for n in (before.get("name") or {}).values() if isinstance(n, str)} | set(before.get("aliases", []))
    taken_pids = before.get("pids", {})
    remaining = content_of(survivor)
    remaining["aliases"] = [a for a in survivor.get("aliases", []) if a not in taken_names]
    remaining["pids"] = {s: v for s, v in survivor.get("pids", {}).items() if taken_pids.get(s) != v}
    split = {"restored": loser_id, "from": survivor_id}
    writer.update(survivor_id, remaining, action="split", detail=split)
    restored_content = {k: v for k, v in content_of(before).items() if k != "relations"}
    restored = writer.create(restored_content, action="split", detail=split)
    writer.redirect(loser_id, restored["id"], detail=split)
    _decide(writer, principal, "split", restored["id"], survivor_id, note=f"restored {loser_id}")
    _decide(writer, principal, "not_same", restored["id"], survivor_id)
    return {"restored": restored, "from": survivor_id, "old_id": loser_id}


def _ancestors(connection: sa.Connection, record_id: str) -> set[str]:
    """Every organisation above one through ``member_of``, however deep."""
    found: set[str] = set()
    frontier = {record_id}
    while frontier:
        parents = set(connection.execute(sa.select(relations.c.object_id).where(
            relations.c.subject_id.in_(frontier), relations.c.predicate == "member_of")).scalars())
        frontier = parents - found
        found |= parents
    return found


def _set_parent(writer: Any, principal: Principal, child: str, parent: str) -> dict:
    if child == parent:
        raise ZhulianError("parent_self", "An organisation cannot be its own parent.", "机构不能是自己的上级。", 400)
    child_record = _live(writer, child, "unit", "下属单位")
    _live(writer, parent, "parent", "上级单位")
    if child in _ancestors(writer.connection, parent):
        raise ZhulianError("parent_cycle", f"{parent} is already under {child}; making it {child}'s parent "
                           "would make a cycle.", f"{parent} 已隶属于 {child}，再设为其上级会形成循环。", 409)
    declared = child_record.get("relations", [])
    if not any(r["predicate"] == "member_of" and r.get("object") == parent for r in declared):
        declared = [*declared, {"predicate": "member_of", "object": parent}]
    updated = writer.update(child, {**content_of(child_record), "relations": declared},
                            detail={"member_of": parent, "by": "registry"})
    _decide(writer, principal, "parent", child, parent)
    return {"child": child, "parent": parent, "record": updated}


def _person_profile(connection: sa.Connection, record: dict[str, Any]) -> PersonProfile:
    """A person's evidence: ORCID, affiliations (organisation ids and their name keys), fields, co-authors."""
    orgs = [r["object"] for r in record.get("relations", [])
            if r["predicate"] in ("affiliated_with", "member_of") and r.get("object")]
    affiliations = set(orgs)
    for row in _live_rows(connection, orgs, "organization").values():
        for name in Profile.of_record(row.data).names:
            affiliations |= {"k:" + key for key in name_keys(name)}
    works = connection.execute(sa.select(relations.c.object_id).where(
        relations.c.subject_id == record["id"], relations.c.predicate == "author_of")).scalars().all()
    coauthors: set[str] = set()
    if works:
        others = connection.execute(sa.select(records.c.label).join(
            relations, relations.c.subject_id == records.c.id).where(
            relations.c.object_id.in_(works), relations.c.predicate == "author_of",
            relations.c.subject_id != record["id"])).scalars().all()
        coauthors = {person_key(name) for name in others}
    return PersonProfile(next(iter((record.get("name") or {}).values()), ""), (record.get("pids") or {}).get("orcid"),
                         affiliations, {normalize(f) for f in record.get("research_fields", [])}, coauthors)

