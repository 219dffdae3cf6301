"""Building and updating the network tables: a full rebuild, and the incremental update that the change-feed
follower applies for the records a batch of the feed touched.

Both are state-based: an update recomputes the activities a changed record can reach from what the store
holds now and replaces what they contributed before, so applying the same change twice changes nothing.
Betweenness and communities are global; the incremental path keeps links, degrees, strengths and the city
matrix exact and leaves those two to ``refresh_metrics``, which the follower runs once the feed is quiet.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import igraph
import sqlalchemy as sa

from zhulian.analytics import derive
from zhulian.analytics.derive import Activity, region_city
from zhulian.analytics.tables import (
    network_activities,
    network_cities,
    network_links,
    network_nodes,
    network_participants,
    network_state,
    network_topics,
)
from zhulian.store import WRITE, now

NETWORK_LOCK = 0x7A686E  # PostgreSQL advisory lock serialising writers of the network tables ("zhn")
EXACT_BETWEENNESS_NODES = 1_000  # above this, betweenness is estimated from sampled sources
BETWEENNESS_SAMPLES = 48
SEED = 20140101
CHUNK = 200  # keys per statement: an ORed list of composite keys stays within SQLite's limits
DERIVED = (network_activities, network_participants, network_links, network_nodes, network_topics,
           network_cities)

Progress = Callable[[str], None] | None


def write_connection(engine: sa.Engine) -> Any:
    return engine.connect().execution_options(**{WRITE: True})


def lock(connection: sa.Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(sa.select(sa.func.pg_advisory_xact_lock(NETWORK_LOCK)))


def read_state(connection: sa.Connection) -> dict[str, Any]:
    return {row.key: row.value for row in connection.execute(sa.select(network_state))}


def write_state(connection: sa.Connection, **values: Any) -> None:
    existing = set(connection.execute(sa.select(network_state.c.key).where(
        network_state.c.key.in_(list(values)))).scalars())
    for key, value in values.items():
        if key in existing:
            connection.execute(network_state.update().where(network_state.c.key == key).values(value=value))
        else:
            connection.execute(network_state.insert().values(key=key, value=value))


# -- the full rebuild --------------------------------------------------------------------------------

def rebuild(engine: sa.Engine, position: int, progress: Progress = None) -> dict[str, Any]:
    """Every derived table from the store, replaced in one transaction. ``position`` is the change-feed
    sequence read before reading the store: changes after it are applied again later, harmlessly."""
    started = time.perf_counter()
    say = progress or (lambda _step: None)
    with engine.connect() as reading:
        say("organisations")
        nodes = {row["org_id"]: row for row in derive.organisations(reading)}
        say("activities")
        found = derive.activities(reading)
        say("topics")
        topics = derive.activity_topics(reading, sorted(found))
    say("links")
    links: Counter = Counter()
    for activity in found.values():
        derive.link_deltas(activity, 1, links)
    city_of_org = {org_id: region_city(node["city"]) for org_id, node in nodes.items()}
    cities = derive.city_deltas(links, city_of_org)
    totals = _pair_totals(links)
    say("metrics")
    betweenness, community, method = metrics(totals)
    degree, strength = Counter(), Counter()
    for (a, b), weight in totals.items():
        degree[a] += 1
        degree[b] += 1
        strength[a] += weight
        strength[b] += weight
    say("writing")
    with write_connection(engine) as connection, connection.begin():
        lock(connection)
        # On SQLite the tables are emptied and filled without their secondary indexes, which are then built
        # once: maintaining them row by row costs more than all the rest of the writing. Not on PostgreSQL,
        # where dropping an index locks out every reader until the rebuild commits.
        rebuilt_indexes = [i for t in DERIVED for i in t.indexes] if connection.dialect.name == "sqlite" else []
        for index in rebuilt_indexes:
            index.drop(connection)
        for table in DERIVED:
            connection.execute(table.delete())
        insert(connection, network_nodes, [
            {**{k: v for k, v in node.items() if k != "topics"}, "degree": degree[org_id],
             "strength": strength[org_id], "betweenness": betweenness.get(org_id, 0.0),
             "community": community.get(org_id)} for org_id, node in nodes.items()])
        insert(connection, network_activities, [{"activity_id": a.id, "type": a.type, "year": a.year}
                                                for a in found.values()])
        insert(connection, network_participants, _participant_rows(found.values()))
        insert(connection, network_links, [{"org_a": a, "org_b": b, "kind": kind, "year": year, "weight": w}
                                           for (a, b, kind, year), w in sorted(links.items())])
        insert(connection, network_cities, [{"city_a": a, "city_b": b, "kind": kind, "year": year, "weight": w}
                                            for (a, b, kind, year), w in cities.items()])
        insert(connection, network_topics, _topic_rows(nodes.values(), found.values(), topics))
        for index in rebuilt_indexes:
            index.create(connection)
        stamp = now()
        state = {"position": position, "built_at": stamp, "applied_at": stamp, "metrics_position": position,
                 "metrics_at": stamp, "betweenness": method}
        write_state(connection, **state)
    return {**state, "organisations": len(nodes), "activities": len(found), "links": len(totals),
            "seconds": round(time.perf_counter() - started, 3)}


def _pair_totals(links: Counter) -> Counter:
    totals: Counter = Counter()
    for (a, b, _kind, _year), weight in links.items():
        if weight:
            totals[(a, b)] += weight
    return totals


def _participant_rows(found: Iterable[Activity]) -> list[dict[str, Any]]:
    return [{"activity_id": p.activity_id, "org_id": p.org_id, "via_id": p.via_id, "predicate": p.predicate}
            for activity in found for p in activity.participants]


def _topic_rows(nodes: Iterable[dict[str, Any]], found: Iterable[Activity],
                topics: dict[str, list[str]]) -> list[dict[str, Any]]:
    rows = [{"org_id": node["org_id"], "topic": topic, "source_id": node["org_id"]}
            for node in nodes for topic in node["topics"]]
    rows += [{"org_id": org_id, "topic": topic, "source_id": activity.id}
             for activity in found for org_id in activity.orgs for topic in topics.get(activity.id, [])]
    return rows


def insert(connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """Many rows at once, straight through the driver: COPY on PostgreSQL, executemany on SQLite. A rebuild
    writes millions of small rows, and SQLAlchemy's per-row handling would cost more than the database."""
    if not rows:
        return
    keys = list(rows[0])
    json_keys = {k for k in keys if isinstance(table.c[k].type, sa.JSON)}
    values = [tuple(json.dumps(row[k], ensure_ascii=False) if k in json_keys else row[k] for k in keys)
              for row in rows]
    if connection.dialect.name == "postgresql":
        cursor = connection.connection.driver_connection.cursor()
        with cursor, cursor.copy(f"COPY {table.name} ({', '.join(keys)}) FROM STDIN") as copy:
            for value in values:
                copy.write_row(value)
        return
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(keys)}) VALUES ({', '.join('?' * len(keys))})",
                               values)


# -- global metrics ----------------------------------------------------------------------------------

_IGRAPH_RANDOM = threading.Lock()


@contextmanager
def seeded_igraph(seed: int) -> Iterator[None]:
    """igraph draws from one process-wide generator: hold it, seeded, for one call (so the same graph gives the
    same communities or layout), then hand igraph back its default, so that no request's seed leaks into
    another thread's call or into the rest of the process."""
    with _IGRAPH_RANDOM:
        igraph.set_random_number_generator(random.Random(seed))
        try:
            yield
        finally:
            igraph.set_random_number_generator(random)

def metrics(totals: Counter) -> tuple[dict[str, float], dict[str, int], dict[str, Any]]:
    """Normalised betweenness (hops, unweighted) and Louvain communities (weighted by shared activities).
    Betweenness is exact up to ``EXACT_BETWEENNESS_NODES`` organisations with partners and estimated from
    ``BETWEENNESS_SAMPLES`` random sources above (Brandes–Pich), as exact betweenness on 100,000 nodes takes
    hours. Organisations without partners get no community."""
    connected = sorted({org for pair in totals for org in pair})
    index = {org: n for n, org in enumerate(connected)}
    graph = igraph.Graph(n=len(connected), edges=[(index[a], index[b]) for a, b in totals])
    weights = list(totals.values())
    count = len(connected)
    if count <= EXACT_BETWEENNESS_NODES:
        raw, method = graph.betweenness(directed=False), {"method": "exact", "nodes": count}
    else:
        sources = random.Random(SEED).sample(range(count), BETWEENNESS_SAMPLES)
        scale = count / BETWEENNESS_SAMPLES
        raw = [value * scale for value in graph.betweenness(directed=False, sources=sources)]
        method = {"method": "sampled", "sources": BETWEENNESS_SAMPLES, "nodes": count}
    pairs = (count - 1) * (count - 2) / 2 or 1
    betweenness = {org: round(raw[index[org]] / pairs, 8) for org in connected}
    with seeded_igraph(SEED):
        membership = graph.community_multilevel(weights=weights).membership if count else []
    sizes = Counter(membership)
    order = {group: rank for rank, (group, _n) in enumerate(sorted(sizes.items(), key=lambda g: (-g[1], g[0])))}
    community = {org: order[membership[index[org]]] for org in connected}
    method["communities"] = len(sizes)
    return betweenness, community, method


def refresh_metrics(engine: sa.Engine) -> dict[str, Any]:
    """Betweenness and communities again from the current links, written in one transaction."""
    started = time.perf_counter()
    with engine.connect() as reading:
        position = read_state(reading).get("position", 0)
        rows = reading.execute(sa.select(network_links.c.org_a, network_links.c.org_b,
                                         sa.func.sum(network_links.c.weight))
                               .group_by(network_links.c.org_a, network_links.c.org_b))
        totals = Counter({(a, b): int(w) for a, b, w in rows if w})
    betweenness, community, method = metrics(totals)
    with write_connection(engine) as connection, connection.begin():
        lock(connection)
        connection.execute(network_nodes.update().values(betweenness=0.0, community=None))
        updates = [{"_id": org, "b": betweenness[org], "c": community[org]} for org in betweenness]
        if updates:
            connection.execute(network_nodes.update().where(network_nodes.c.org_id == sa.bindparam("_id"))
                               .values(betweenness=sa.bindparam("b"), community=sa.bindparam("c")), updates)
        write_state(connection, metrics_position=position, metrics_at=now(), betweenness=method)
    return {**method, "position": position, "seconds": round(time.perf_counter() - started, 3)}


# -- the incremental update --------------------------------------------------------------------------

def apply(connection: sa.Connection, changed: Iterable[str]) -> dict[str, int]:
    """Bring the tables up to date for records that changed, inside the caller's write transaction."""
    changed = sorted(set(changed))
    removed_orgs = _update_nodes(connection, changed)
    affected = sorted(derive.affected_activities(connection, changed, network_participants))
    before = _stored_activities(connection, affected)
    after = derive.activities(connection, affected)
    deltas: Counter = Counter()
    for activity in before.values():
        derive.link_deltas(activity, -1, deltas)
    for activity in after.values():
        derive.link_deltas(activity, 1, deltas)
    deltas = Counter({key: d for key, d in deltas.items() if d})
    orgs = {org for key in deltas for org in key[:2]}
    _ensure_nodes(connection, orgs)
    _apply_links(connection, deltas)
    cities = _cities(connection, orgs)
    _add(connection, network_cities, ("city_a", "city_b", "kind", "year"), derive.city_deltas(deltas, cities))
    _replace_activities(connection, affected, after)
    for chunk in _chunks(sorted(removed_orgs)):
        connection.execute(network_topics.delete().where(network_topics.c.org_id.in_(chunk)))
        connection.execute(network_nodes.delete().where(network_nodes.c.org_id.in_(chunk)))
    return {"records": len(changed), "activities": len(affected), "link_changes": len(deltas)}


def _chunks(items: list[Any]) -> Iterable[list[Any]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _update_nodes(connection: sa.Connection, changed: list[str]) -> set[str]:
    """Node rows for changed organisations: attributes replaced (metrics kept), a city move carried into the
    city matrix, topics of their own replaced. Returns organisations deleted since, whose rows go last."""
    current = {row["org_id"]: row for row in derive.organisations(connection, changed)}
    stored = {}
    for chunk in _chunks(changed):
        stored.update({row.org_id: row for row in connection.execute(
            sa.select(network_nodes).where(network_nodes.c.org_id.in_(chunk)))})
    for org_id, row in current.items():
        node = {k: v for k, v in row.items() if k != "topics"}
        if org_id not in stored:
            connection.execute(network_nodes.insert().values(**node, degree=0, strength=0, betweenness=0.0))
            continue
        if region_city(stored[org_id].city) != region_city(row["city"]):
            _move_city(connection, org_id, region_city(stored[org_id].city), region_city(row["city"]))
        connection.execute(network_nodes.update().where(network_nodes.c.org_id == org_id).values(**node))
    for chunk in _chunks(changed):
        connection.execute(network_topics.delete().where(network_topics.c.source_id.in_(chunk)))
    insert(connection, network_topics, [{"org_id": org_id, "topic": topic, "source_id": org_id}
                                        for org_id, row in current.items() for topic in row["topics"]])
    return set(stored) - set(current)


def _move_city(connection: sa.Connection, org_id: str, old: str, new: str) -> None:
    other = network_nodes.alias("other")
    rows = connection.execute(
        sa.select(network_links.c.org_a, network_links.c.org_b, network_links.c.kind, network_links.c.year,
                  network_links.c.weight, other.c.city)
        .join(other, other.c.org_id == sa.case((network_links.c.org_a == org_id, network_links.c.org_b),
                                               else_=network_links.c.org_a))
        .where(sa.or_(network_links.c.org_a == org_id, network_links.c.org_b == org_id)))
    deltas: Counter = Counter()
    for row in rows:
        partner = region_city(row.city)
        deltas[(*sorted((old, partner)), row.kind, row.year)] -= row.weight
        deltas[(*sorted((new, partner)), row.kind, row.year)] += row.weight
    _add(connection, network_cities, ("city_a", "city_b", "kind", "year"), deltas)


def _ensure_nodes(connection: sa.Connection, orgs: set[str]) -> None:
    known: set[str] = set()
    for chunk in _chunks(sorted(orgs)):
        known |= set(connection.execute(sa.select(network_nodes.c.org_id)
                                        .where(network_nodes.c.org_id.in_(chunk))).scalars())
    missing = sorted(orgs - known)
    if missing:
        insert(connection, network_nodes, [{**{k: v for k, v in row.items() if k != "topics"}, "degree": 0,
                                            "strength": 0, "betweenness": 0.0, "community": None}
                                           for row in derive.organisations(connection, missing)])


def _stored_activities(connection: sa.Connection, ids: list[str]) -> dict[str, Activity]:
    found: dict[str, Activity] = {}
    for chunk in _chunks(ids):
        for row in connection.execute(sa.select(network_activities).where(
                network_activities.c.activity_id.in_(chunk))):
            found[row.activity_id] = Activity(row.activity_id, row.type, row.year)
        for row in connection.execute(sa.select(network_participants.c.activity_id, network_participants.c.org_id,
                                                network_participants.c.via_id, network_participants.c.predicate)
                                      .where(network_participants.c.activity_id.in_(chunk))):
            found[row.activity_id].participants.append(derive.Participant(*row))
    return found


def _apply_links(connection: sa.Connection, deltas: Counter) -> None:
    """Links changed by ``deltas``; a pair's degree counts once whatever number of link rows it has, so
    degrees change only when a pair's total weight leaves or reaches zero."""
    pair_delta: Counter = Counter()
    for (a, b, _kind, _year), d in deltas.items():
        pair_delta[(a, b)] += d
    before = _pair_weights(connection, list(pair_delta))
    _add(connection, network_links, ("org_a", "org_b", "kind", "year"), deltas)
    degree, strength = Counter(), Counter()
    for pair, d in pair_delta.items():
        old = before.get(pair, 0)
        step = (old + d > 0) - (old > 0)
        for org in pair:
            degree[org] += step
            strength[org] += d
    updates = [{"_id": org, "d": degree[org], "s": strength[org]} for org in set(degree) | set(strength)
               if degree[org] or strength[org]]
    if updates:
        connection.execute(network_nodes.update().where(network_nodes.c.org_id == sa.bindparam("_id")).values(
            degree=network_nodes.c.degree + sa.bindparam("d"), strength=network_nodes.c.strength + sa.bindparam("s")),
            updates)


def _pair_weights(connection: sa.Connection, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    for chunk in _chunks(pairs):
        rows = connection.execute(sa.select(network_links.c.org_a, network_links.c.org_b,
                                            sa.func.sum(network_links.c.weight))
                                  .where(_keys_in([network_links.c.org_a, network_links.c.org_b], chunk))
                                  .group_by(network_links.c.org_a, network_links.c.org_b))
        found.update({(a, b): int(w) for a, b, w in rows})
    return found


def _add(connection: sa.Connection, table: sa.Table, keys: tuple[str, ...], deltas: Counter) -> None:
    """Add ``deltas`` to the ``weight`` of rows keyed by ``keys``: rows are created, changed, or removed when
    their weight comes to zero."""
    items = [(key, d) for key, d in deltas.items() if d]
    columns = [table.c[k] for k in keys]
    for chunk in _chunks(items):
        wanted = [key for key, _d in chunk]
        existing = {tuple(row[:-1]): row[-1] for row in connection.execute(
            sa.select(*columns, table.c.weight).where(_keys_in(columns, wanted)))}
        inserts, updates, gone = [], [], []
        for key, d in chunk:
            weight = existing.get(key, 0) + d
            if key not in existing:
                inserts.append({**dict(zip(keys, key, strict=True)), "weight": weight})
            elif weight > 0:
                updates.append({**{f"_{k}": v for k, v in zip(keys, key, strict=True)}, "w": weight})
            else:
                gone.append(key)
        if inserts:
            connection.execute(table.insert(), inserts)
        if updates:
            connection.execute(table.update().where(*[c == sa.bindparam(f"_{c.name}") for c in columns])
                               .values(weight=sa.bindparam("w")), updates)
        if gone:
            connection.execute(table.delete().where(_keys_in(columns, gone)))


def _keys_in(columns: list[sa.Column], keys: list[tuple]) -> Any:
    """Rows whose composite key is one of ``keys``, written as ORed equalities: SQLite scans the whole table
    for a row-value ``IN (VALUES …)`` but answers each equality from the primary key."""
    return sa.or_(*[sa.and_(*[column == value for column, value in zip(columns, key, strict=True)]) for key in keys])


def _cities(connection: sa.Connection, orgs: set[str]) -> dict[str, str]:
    found: dict[str, str] = defaultdict(lambda: derive.OUTSIDE)
    for chunk in _chunks(sorted(orgs)):
        for org_id, city in connection.execute(sa.select(network_nodes.c.org_id, network_nodes.c.city)
                                               .where(network_nodes.c.org_id.in_(chunk))):
            found[org_id] = region_city(city)
    return found


def _replace_activities(connection: sa.Connection, affected: list[str], after: dict[str, Activity]) -> None:
    for chunk in _chunks(affected):
        for table in (network_activities, network_participants):
            connection.execute(table.delete().where(table.c.activity_id.in_(chunk)))
        connection.execute(network_topics.delete().where(network_topics.c.source_id.in_(chunk)))
    insert(connection, network_activities, [{"activity_id": a.id, "type": a.type, "year": a.year}
                                            for a in after.values()])
    insert(connection, network_participants, _participant_rows(after.values()))
    topics = derive.activity_topics(connection, sorted(after))
    insert(connection, network_topics, [{"org_id": org_id, "topic": topic, "source_id": activity.id}
                                        for activity in after.values() for org_id in activity.orgs
                                        for topic in topics.get(activity.id, [])])
