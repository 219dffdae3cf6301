"""Collaboration-network speed (issue 8): rebuilding every derived table for 100,000 organisations and
1,000,000 relations, and the incremental update for one new relation, each beside a baseline from the same run.

    python bench/network.py               # 100,000 organisations, 1,000,000 relations, SQLite
    python bench/network.py --scale 0.1   # a tenth of that, for a quick look
    python bench/network.py --postgres    # on PostgreSQL (ZHULIAN_BENCH_POSTGRES_URL or the local server, database
                                          # ``test``) in a fresh schema dropped afterwards

The data is the real data scaled: organisations are the Ministry of Education's 2,631 institutions
(../shared/data/universities) copied with numbered branches, in their own city or moved into one of the nine
PRD cities, Hong Kong or Macao; subject words come from the CSL papers' keywords and the KPPatent
keyphrases. Collaboration is drawn at random (fixed seed) with preferential attachment and a pull towards the
same city: projects with lead and partner units, patents with co-applicants, platforms with hosts and
members, and papers whose authors are affiliated with organisations. The records and relations are written
straight into the store's tables (building them through the store's validation would time the importer, which
bench/import_bench.py measures).

Baselines: the rebuild beside a bare scan that reads every relation with both ends' types (the floor any
rebuild pays), and exact betweenness extrapolated from the sampled one; the incremental update beside the full
rebuild it replaces. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import random
import resource
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from zhulian.analytics.service import NetworkService  # noqa: E402
from zhulian.model import new_id  # noqa: E402
from zhulian.region.cities import CITIES  # noqa: E402
from zhulian.store import Store  # noqa: E402
from zhulian.store.tables import records, relations  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
SEED = 8
POSTGRES_URL = os.environ.get("ZHULIAN_BENCH_POSTGRES_URL",
                              os.environ.get("ZHULIAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
STAMP = "2026-11-26T00:00:00.000000Z"


def real_organisations() -> list[tuple[str, str]]:
    region = {c.zh: c.adcode for c in CITIES}
    rows = csv.DictReader((DATA / "universities" / "moe_hei_list_2017.csv").open(encoding="utf-8"))
    return [(r["name"], region.get(r["city"], (r["province_gb_prefix"] or "44") + "0000")) for r in rows]


def real_topics() -> list[str]:
    words: set[str] = set()
    with (DATA / "csl" / "csl_benchmark_2000.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            words.update(w for w in row["keywords"].split(";") if w)
    with (DATA / "patents" / "kppatent_zh_test_696.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            words.update(json.loads(line)["keyphrases"])
    return sorted(words)


class Builder:
    """Records and relations straight into the store's tables, in the shape the store writes them."""

    def __init__(self, rng: random.Random, topics: list[str]) -> None:
        self.rng, self.topics = rng, topics
        self.records: list[dict] = []
        self.relations: list[tuple[str, str, str, str]] = []

    def record(self, type_name: str, label: str, city: str | None = None, year: int | None = None,
               topics: int = 0) -> str:
        record_id = new_id(type_name)
        key = "name" if type_name in ("organization", "platform", "person") else "title"
        data = {"id": record_id, "type": type_name, key: {"zh": label}, "access": "public", "revision": 1}
        if topics:
            data["keywords"] = self.rng.sample(self.topics, topics)
        if city:
            data["city"] = city
        self.records.append({"id": record_id, "type": type_name, "revision": 1, "label": label, "city": city,
                             "node": None, "access": "public", "year": year, "created": STAMP, "updated": STAMP,
                             "deleted": None, "data": data})
        return record_id

    def relate(self, owner: str, subject: str, predicate: str, obj: str) -> None:
        self.relations.append((owner, subject, predicate, obj))


def build(store: Store, organisations: int, relation_target: int) -> dict[str, int]:
    rng = random.Random(SEED)
    builder = Builder(rng, real_topics())
    region = [c.adcode for c in CITIES]
    real = real_organisations()
    orgs, cities = [], []
    for n in range(organisations):
        name, city = real[n % len(real)]
        copy = n // len(real)
        city = city if copy == 0 or rng.random() < 0.4 else rng.choice(region)
        orgs.append(builder.record("organization", name if copy == 0 else f"{name}（分支 {copy}）", city, topics=2))
        cities.append(city)
    by_city: dict[str, list[int]] = {}
    for index, city in enumerate(cities):
        by_city.setdefault(city, []).append(index)
    attachment: list[int] = list(range(organisations))  # preferential: chosen organisations are chosen again

    def pick(near: int | None = None) -> str:
        if near is not None and rng.random() < 0.6:
            index = rng.choice(by_city[cities[near]])
        else:
            index = rng.choice(attachment)
        attachment.append(index)
        return orgs[index]

    def team(size: int) -> list[str]:
        first = rng.randrange(organisations)
        members = {orgs[first]}
        while len(members) < size:
            members.add(pick(first))
        return sorted(members)

    persons = [builder.record("person", f"研究者{n}") for n in range(organisations // 2)]
    for person in persons:
        builder.relate(person, person, "affiliated_with", pick())
    while len(builder.relations) < relation_target:
        roll = rng.random()
        year = rng.randint(2005, 2020)
        if roll < 0.3:
            project = builder.record("project", f"联合项目{len(builder.records)}", year=year, topics=1)
            lead, *partners = team(rng.randint(2, 6))
            builder.relate(project, project, "lead_unit", lead)
            for partner in partners:
                builder.relate(project, project, "partner_unit", partner)
        elif roll < 0.65:
            patent = builder.record("patent", f"专利{len(builder.records)}", year=year, topics=1)
            for applicant in team(rng.randint(1, 3)):
                builder.relate(patent, applicant, "applicant_of", patent)
        elif roll < 0.8:
            platform = builder.record("platform", f"平台{len(builder.records)}", year=year, topics=2)
            host, *members = team(rng.randint(2, 8))
            builder.relate(platform, host, "hosts", platform)
            for member in members:
                builder.relate(platform, member, "member_of", platform)
        else:
            paper = builder.record("paper", f"论文{len(builder.records)}", year=year, topics=2)
            for author in rng.sample(persons, rng.randint(1, 4)):
                builder.relate(paper, author, "author_of", paper)
    with store.engine.begin() as connection:
        for start in range(0, len(builder.records), 20_000):
            connection.execute(records.insert(), builder.records[start:start + 20_000])
        rows = [{"owner_id": o, "subject_id": s, "predicate": p, "object_id": b, "role": None, "rank": None,
                 "valid_from": None, "valid_to": None} for o, s, p, b in builder.relations]
        for start in range(0, len(rows), 50_000):
            connection.execute(relations.insert(), rows[start:start + 50_000])
    return {"organisations": organisations, "records": len(builder.records), "relations": len(builder.relations)}


def scan_floor(store: Store) -> float:
    subject, obj = records.alias("s"), records.alias("o")
    started = time.perf_counter()
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(relations.c.subject_id, relations.c.object_id, relations.c.predicate,
                                            subject.c.type, obj.c.type)
                                  .join(subject, subject.c.id == relations.c.subject_id)
                                  .join(obj, obj.c.id == relations.c.object_id)).all()
    assert rows
    return time.perf_counter() - started


def one_new_relation(store: Store, service: NetworkService, rng: random.Random) -> float:
    """An existing patent gains one co-applicant (a new ``applicant_of``): the store write, then the time the
    follower's ``catch_up`` takes to bring every table up to date."""
    with store.engine.connect() as connection:
        patent_id, org_id = (connection.execute(sa.select(records.c.id).where(records.c.type == type_name)
                                                .order_by(sa.func.random()).limit(1)).scalar_one()
                             for type_name in ("patent", "organization"))
    patent = store.get(patent_id)
    existing = [{"predicate": "applicant_of", "subject": o} for o in
                (r["subject"]["id"] for r in store.relations(patent_id) if r["predicate"] == "applicant_of")]
    store.update(patent_id, {"type": "patent", "title": patent["title"],
                             "relations": [*existing, {"predicate": "applicant_of", "subject": org_id}]})
    started = time.perf_counter()
    applied = service.catch_up()
    assert applied == 1
    return time.perf_counter() - started


@contextlib.contextmanager
def database(postgres: bool) -> Iterator[str]:
    if not postgres:
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.db"
        return
    import psycopg

    schema = f"zl_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{POSTGRES_URL}{'&' if '?' in POSTGRES_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: 100,000 organisations, 1,000,000 relations")
    parser.add_argument("--postgres", action="store_true", help="run on PostgreSQL instead of SQLite")
    args = parser.parse_args()
    if not (DATA / "universities").exists():
        sys.exit(f"needs the real data in {DATA}")
    with database(args.postgres) as url:
        store = Store(url)
        store.migrate()
        started = time.perf_counter()
        sizes = build(store, int(100_000 * args.scale), int(1_000_000 * args.scale))
        print(f"data: {sizes} written in {time.perf_counter() - started:.1f} s "
              f"({'PostgreSQL' if args.postgres else 'SQLite'})")
        floor = scan_floor(store)
        service = NetworkService(store)
        steps: list[tuple[str, float]] = []
        state = service.rebuild(progress=lambda step: steps.append((step, time.perf_counter())))
        stamps = [t for _s, t in steps] + [steps[0][1] + state["seconds"]]
        print(f"full rebuild: {state['seconds']:.1f} s  ({state['organisations']} organisations, "
              f"{state['activities']} activities, {state['links']} linked pairs); steps: "
              + ", ".join(f"{name} {stamps[i + 1] - stamps[i]:.1f} s" for i, (name, _t) in enumerate(steps)))
        print(f"  baseline: scanning every relation with both ends' types: {floor:.1f} s "
              f"(rebuild = {state['seconds'] / floor:.1f}× the scan)")
        metrics = service.refresh_metrics(only_if_stale=False)
        sampled = state["betweenness"]
        print(f"metrics (betweenness {sampled['method']}, Louvain {sampled['communities']} communities) alone: "
              f"{metrics['seconds']:.1f} s")
        if sampled["method"] == "sampled":
            import igraph

            from zhulian.analytics.network import BETWEENNESS_SAMPLES

            with store.engine.connect() as connection:
                pairs = connection.execute(sa.text("SELECT DISTINCT org_a, org_b FROM network_links")).all()
            ids = {o: n for n, o in enumerate(sorted({o for p in pairs for o in p}))}
            graph = igraph.Graph(n=len(ids), edges=[(ids[a], ids[b]) for a, b in pairs])
            began = time.perf_counter()
            graph.betweenness(directed=False, sources=list(range(BETWEENNESS_SAMPLES)))
            per_source = (time.perf_counter() - began) / BETWEENNESS_SAMPLES
            print(f"  baseline: exact betweenness would take ≈ {per_source * len(ids):.0f} s "
                  f"({len(ids)} sources × {per_source * 1000:.1f} ms) against {BETWEENNESS_SAMPLES} sampled sources")
        rng = random.Random(SEED)
        timings = [one_new_relation(store, service, rng) for _ in range(7)]
        print(f"incremental, one new relation (a patent gains a co-applicant), 7 runs: median "
              f"{statistics.median(timings) * 1000:.1f} ms, max {max(timings) * 1000:.1f} ms")
        print(f"  baseline: the full rebuild it replaces: {state['seconds']:.1f} s "
              f"({state['seconds'] / statistics.median(timings):.0f}× slower)")
        print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
        store.close()


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    main()
