"""Organisation resolution quality and speed on real names, beside a baseline in the same run (issue 7).

    python bench/registry.py

Store: the Ministry of Education list (../shared/data/universities/moe_hei_list_2017.csv) imported with the
``moe-universities`` mapping, except a held-out tenth; and the 60 entries of the entity list
(../shared/data/entity_resolution) as organisations with their Chinese and English names.

Query sets (each query has one right record, or none):
  traditional   a sample of MoE names in traditional characters (OpenCC s2t)           → that record
  english       English names from the university domain list (hipo), joined to a
                Chinese name through the website domain (zh_universities_with_website)  → the MoE record
  entity akas   every "also known as" of the entity list (acronyms, spelling variants,
                former names, sub-institutes)                                          → that entity
  entity zh     the entity's Chinese name in traditional characters                     → that entity
  held out      MoE names NOT in the store (similar names are)                          → nothing (or the
                entity-list record of the same name)

For each set: precision and recall of automatic links (decision ``match``), and recall of review (the right
record among the top three candidates at ``review`` or better). Baseline: exact equality of the
text-normalised name (``zhulian.text.analysis.normalize``, spaces removed) against any name of a record.
Speed: names resolved per second, and the MoE import with and without the registry hook.

With Splink installed (``pip install 'splink>=5,<6'``), the same sets also go through a Splink 5 model on
DuckDB (see ``splink_outcomes``), the equivalent the issue names, for comparison.
"""

from __future__ import annotations

import csv
import json
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
UNIVERSITIES = DATA / "universities"
ENTITIES = DATA / "entity_resolution" / "bis_entity_list_cn_academic.jsonl"
SAMPLE = 400


def domain(url: str) -> str:
    host = urlparse(url if "//" in url else f"http://{url}").hostname or ""
    return host.removeprefix("www.")


def english_pairs(moe_names: set[str]) -> list[tuple[str, str]]:
    """(English name, Chinese MoE name) pairs where the two lists share a website domain."""
    by_domain = {}
    with (UNIVERSITIES / "zh_universities_with_website.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["website"] and row["name_zh"] in moe_names:
                by_domain[domain(row["website"])] = row["name_zh"]
    pairs = []
    with (UNIVERSITIES / "hipo_cn_hk_mo.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            names = {by_domain[d.removeprefix("www.")] for d in item["domains"] if d.removeprefix("www.") in by_domain}
            if len(names) == 1:
                pairs.append((item["name"], names.pop()))
    return pairs


def main() -> None:
    if not UNIVERSITIES.exists() or not ENTITIES.exists():
        sys.exit(f"shared data missing under {DATA}")
    import opencc

    import zhulian.registry
    from zhulian.access import CLI_ADMIN
    from zhulian.exchange import import_file
    from zhulian.registry import RegistryService
    from zhulian.store import Store
    from zhulian.text.analysis import normalize

    to_traditional = opencc.OpenCC("s2t")
    rng = random.Random(7)
    moe_rows = list(csv.DictReader((UNIVERSITIES / "moe_hei_list_2017.csv").open(encoding="utf-8")))
    held_out = set(rng.sample(range(len(moe_rows)), len(moe_rows) // 10))
    kept = [row for i, row in enumerate(moe_rows) if i not in held_out]
    entities = [json.loads(line) for line in ENTITIES.open(encoding="utf-8")]

    with tempfile.TemporaryDirectory() as folder:
        kept_csv = Path(folder) / "moe.csv"
        with kept_csv.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(moe_rows[0]))
            writer.writeheader()
            writer.writerows(kept)

        # -- import speed, with the hook and (baseline) without it -------------------------------------
        timings = {}
        for label, hooked in (("without registry (baseline)", False), ("with registry", True)):
            store = Store(f"sqlite:///{folder}/{label[:4]}.db")
            store.migrate()
            original = zhulian.registry.resolve_incoming
            if not hooked:
                zhulian.registry.resolve_incoming = lambda writer, batch: zhulian.registry.Resolution(list(batch))
            started = time.perf_counter()
            import_file(store, kept_csv, mapping="moe-universities")
            timings[label] = time.perf_counter() - started
            zhulian.registry.resolve_incoming = original
        print(f"MoE import, {len(kept)} rows (SQLite):")
        for label, seconds in timings.items():
            print(f"  {label:30s} {seconds:6.2f} s")

        entity_ids = {}
        with store.transaction() as writer:
            for entity in entities:
                record = writer.create({"type": "organization", "name": {"zh": entity["name_zh"], "en": entity["name_en"]}})
                entity_ids[entity["name_en"]] = record["id"]
        by_name = {row["name"]: store.get(f"moe:{row['moe_code']}")["id"] for row in kept}
        entity_by_zh = {e["name_zh"]: entity_ids[e["name_en"]] for e in entities}

        # The entity list and the MoE list share some universities: either record is a right answer.
        def right(moe_name: str | None = None, entity: str | None = None) -> frozenset[str]:
            ids = {by_name.get(moe_name), entity_by_zh.get(moe_name), entity}
            if entity is not None:
                ids.add(by_name.get(next(e["name_zh"] for e in entities if entity_ids[e["name_en"]] == entity)))
            return frozenset(i for i in ids if i)

        sets = {
            "traditional": [(to_traditional.convert(row["name"]), right(row["name"])) for row in rng.sample(kept, SAMPLE)],
            "english": [(en, right(zh)) for en, zh in english_pairs(set(by_name))],
            "entity akas": [(alias, right(entity=entity_ids[e["name_en"]])) for e in entities for alias in e["aliases_en"]],
            "entity zh": [(to_traditional.convert(e["name_zh"]), right(entity=entity_ids[e["name_en"]]))
                          for e in entities],
            "held out": [(moe_rows[i]["name"], right(moe_rows[i]["name"])) for i in sorted(held_out)],
        }

        # Baseline: exact equality of normalised names.
        exact = defaultdict(set)
        for record in store.iterate("organization"):
            for name in [*record["name"].values(), *record.get("aliases", [])]:
                exact[normalize(name).replace(" ", "")].add(record["id"])

        registry = RegistryService(store)
        print(f"\n{'query set':13s} {'n':>5s} | {'baseline P':>10s} {'R':>6s} {'links':>5s} | {'registry P':>10s} "
              f"{'R':>6s} {'links':>5s} {'review R':>9s} | {'names/s':>7s}")
        for label, queries in sets.items():
            base = _tally([(expected, sorted(exact.get(normalize(q).replace(" ", ""), set()))[:1]
                            if len(exact.get(normalize(q).replace(" ", ""), ())) == 1 else []) for q, expected in queries])
            outcomes, reviewed = [], 0
            started = time.perf_counter()
            for query, expected in queries:
                results = registry.resolve(CLI_ADMIN, query, limit=3)["results"]
                linked = [r["id"] for r in results[:1] if r["decision"] == "match"]
                outcomes.append((expected, linked))
                reviewed += any(r["id"] in expected and r["decision"] in ("match", "review") for r in results)
            rate = len(queries) / (time.perf_counter() - started)
            ours = _tally(outcomes)
            positives = sum(bool(expected) for _, expected in queries)
            review_recall = f"{reviewed / positives:9.3f}" if positives else f"{'–':>9s}"
            print(f"{label:13s} {len(queries):5d} | {base[0]:>10s} {base[1]:>6s} {base[2]:5d} | {ours[0]:>10s} "
                  f"{ours[1]:>6s} {ours[2]:5d} {review_recall} | {rate:7.0f}")
        try:
            import splink  # noqa: F401  (optional: pip install 'splink>=5,<6')
        except ImportError:
            splink = None
        if splink is not None:
            def key(name: str) -> str:
                return "".join(ch for ch in normalize(name) if ch.isalnum())

            print(f"\nSplink 5.0 (DuckDB) on the same sets:\n{'query set':13s} {'n':>5s} | {'splink P':>10s} {'R':>6s} "
                  f"{'links':>5s} {'review R':>9s} | {'names/s':>7s}")
            found = splink_outcomes(list(store.iterate("organization")), sets, key)
            for label, ((precision, recall, made), reviewed, rate) in found.items():
                positives = sum(bool(expected) for _, expected in sets[label])
                review_recall = f"{reviewed / positives:9.3f}" if positives else f"{'–':>9s}"
                print(f"{label:13s} {len(sets[label]):5d} | {precision:>10s} {recall:>6s} {made:5d} {review_recall} | "
                      f"{rate:7.0f}")
        store.close()
    print("\nP = right links / links made; R = right links / queries with a right answer (auto-links only);"
          "\nlinks = links made; review R = right record among the top 3 at 'review' or better.")


def splink_outcomes(records: list[dict], sets: dict[str, list[tuple[str, frozenset[str]]]], key) -> dict:
    """The same query sets through Splink 5 on DuckDB: Jaro-Winkler levels on the text-normalised Chinese
    and English names, u estimated by random sampling, m set as in our model (a name-only table has no
    second column for Splink's EM to learn m from), prior one right record per query."""
    import pandas as pd
    import splink.comparison_library as cl
    from splink import Linker, SettingsCreator, block_on
    from splink.backends.duckdb import DuckDBAPI

    def row(uid: str, names: list[str]) -> dict:
        zh = next((key(n) for n in names if not n.isascii()), None)
        en = next((key(n) for n in names if n.isascii()), None)
        return {"unique_id": uid, "name_zh": zh, "name_en": en}

    left = pd.DataFrame([row(r["id"], [*r["name"].values(), *r.get("aliases", [])]) for r in records])
    found = {}
    for label, queries in sets.items():
        right = pd.DataFrame([row(f"q{i}", [q]) for i, (q, _) in enumerate(queries)])
        m = [0.7, 0.15, 0.1, 0.05]
        settings = SettingsCreator(
            link_type="link_only", probability_two_random_records_match=1 / len(left),
            comparisons=[cl.JaroWinklerAtThresholds("name_zh", [0.95, 0.88]).configure(m_probabilities=m),
                         cl.JaroWinklerAtThresholds("name_en", [0.95, 0.88]).configure(m_probabilities=m)],
            blocking_rules_to_generate_predictions=[block_on("substr(name_zh,1,2)"), block_on("substr(name_en,1,4)")])
        db = DuckDBAPI()
        linker = Linker([db.register(left), db.register(right)], settings, log_level=40)
        started = time.perf_counter()
        linker.training.estimate_u_using_random_sampling(max_pairs=1e6)
        predictions = linker.inference.predict(threshold_match_probability=0.01).as_pandas_dataframe()
        seconds = time.perf_counter() - started
        ranked = predictions.sort_values("match_probability", ascending=False).groupby("unique_id_r")
        outcomes, reviewed = [], 0
        for i, (_, expected) in enumerate(queries):
            top = ranked.get_group(f"q{i}").head(3) if f"q{i}" in ranked.groups else predictions.head(0)
            best = top.head(1)
            outcomes.append((expected, list(best.unique_id_l[best.match_probability >= 0.95])))
            reviewed += any(uid in expected for uid in top.unique_id_l[top.match_probability >= 0.3])
        found[label] = (_tally(outcomes), reviewed, len(queries) / seconds)
    return found


def _tally(outcomes: list[tuple[frozenset[str], list[str]]]) -> tuple[str, str, int]:
    made = sum(bool(linked) for _, linked in outcomes)
    right = sum(bool(linked) and linked[0] in expected for expected, linked in outcomes)
    positives = sum(bool(expected) for expected, _ in outcomes)
    precision = f"{right / made:.3f}" if made else "–"
    recall = f"{right / positives:.3f}" if positives else "–"
    return precision, recall, made


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    main()
