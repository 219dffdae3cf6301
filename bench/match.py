"""Matching quality on real data, beside plain BM25 over the same index in the same run (issue 7).

    python bench/match.py              # report on the test queries
    python bench/match.py --tune       # fit scoring.WEIGHTS on the tuning queries (disjoint from the test ones)

Corpus: the CSL papers in ../shared/data/csl (csl_full_fields_union.tsv, 4,758 with title, abstract and
keywords) and the KPPatent-ZH test patents in ../shared/data/patents (696 with title, abstract, claims and
keyphrases), imported with the ``csl`` and ``kppatent`` exchange mappings into a SQLite store and indexed by
``zhulian.search``.

Queries are demand-like texts built from real keyword lists: "寻求<k1>、<k2>、…相关技术" for a paper's
keywords (or a patent's keyphrases). Relevant: that record and every record of its kind sharing at least two
keywords with it (exact, after normalisation). Figures: hit@10, MRR@10, nDCG@10 (binary gains).

Baselines, both the same Tantivy index through ``SearchService.search``, queried plainly:
  bm25 keywords   the keywords ORed ("k1 OR k2 OR …"), each keyword's words together
  bm25 words      the demand's content words ORed: exactly the candidates matching re-ranks
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CSL = DATA / "csl" / "csl_full_fields_union.tsv"
PATENTS = DATA / "patents" / "kppatent_zh_test_696.jsonl"
PAPER_QUERIES, PATENT_QUERIES = 300, 200
K = 10


def demand_text(keywords: list[str]) -> str:
    return f"寻求{'、'.join(keywords)}相关技术"


def relevant_sets(records: list[dict], normalize) -> dict[str, set[str]]:
    """For each record, itself and the records of its type sharing at least two keywords with it."""
    keywords = {r["id"]: {normalize(k) for k in r.get("keywords", [])} for r in records}
    by_keyword: dict[str, set[str]] = {}
    for record_id, words in keywords.items():
        for word in words:
            by_keyword.setdefault(word, set()).add(record_id)
    relevant = {}
    for record_id, words in keywords.items():
        shared: dict[str, int] = {}
        for word in words:
            for other in by_keyword[word]:
                shared[other] = shared.get(other, 0) + 1
        relevant[record_id] = {other for other, n in shared.items() if n >= 2} | {record_id}
    return relevant


def figures(ranked: list[str], relevant: set[str]) -> tuple[float, float, float]:
    top = ranked[:K]
    hit = 1.0 if relevant & set(top) else 0.0
    mrr = next((1 / rank for rank, i in enumerate(top, 1) if i in relevant), 0.0)
    dcg = sum(1 / math.log2(rank + 1) for rank, i in enumerate(top, 1) if i in relevant)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(K, len(relevant)) + 1))
    return hit, mrr, dcg / ideal


def mean(rows: list[tuple[float, ...]]) -> tuple[float, ...]:
    return tuple(sum(column) / len(rows) for column in zip(*rows, strict=True))


def reweighted(results: list[dict], weights: dict[str, float]) -> list[str]:
    scored = sorted(results, key=lambda r: (-sum(weights[k] * v for k, v in r["features"].items()),
                                            -r["lexical_score"], r["id"]))
    return [r["id"] for r in scored]


def tune(queries: list[tuple[str, str, list[str], set[str], str | None]], service, principal) -> dict[str, float]:
    """Coordinate ascent on the weights, maximising mean nDCG@10 over the tuning queries."""
    from zhulian.match.scoring import WEIGHTS

    runs = [([r for r in service.match(principal, text=text, limit=100)["results"] if r["id"] != own], relevant)
            for _kind, text, _keywords, relevant, own in queries]

    def quality(weights: dict[str, float]) -> float:
        return mean([figures(reweighted(results, weights), relevant) for results, relevant in runs])[2]

    weights, best = dict(WEIGHTS), quality(WEIGHTS)
    for _round in range(3):
        for name in weights:
            for value in (0.0, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 4.0, 6.0):
                trial = {**weights, name: value}
                if (q := quality(trial)) > best + 1e-6:
                    weights, best = trial, q
        print(f"  round {_round + 1}: nDCG@10 {best:.4f} {json.dumps(weights)}")
    return weights


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tune", action="store_true", help="fit the weights on the tuning queries")
    args = parser.parse_args()
    if not CSL.exists() or not PATENTS.exists():
        sys.exit(f"The real data is absent ({CSL}, {PATENTS}); it sits beside the checkout in ../shared/data.")

    with tempfile.TemporaryDirectory(prefix="zhulian-match-") as folder:
        run(Path(folder), tune_weights=args.tune)


def run(work: Path, *, tune_weights: bool) -> None:
    from zhulian.access import CLI_ADMIN
    from zhulian.exchange import import_file
    from zhulian.match import MATCH_TYPES, MatchService
    from zhulian.search import SearchService
    from zhulian.store import Store
    from zhulian.text import normalize

    store = Store(f"sqlite:///{work / 'zhulian.db'}")
    store.migrate()
    started = time.perf_counter()
    for path, mapping in ((CSL, "csl"), (PATENTS, "kppatent")):
        report = import_file(store, path, mapping=mapping, skip_invalid=True)
        print(f"imported {path.name}: {report.created:,} created, {report.invalid:,} invalid")
    search = SearchService(store, path=work / "index")
    search.rebuild()
    service = MatchService(store, search)
    papers, patents = list(store.iterate("paper")), list(store.iterate("patent"))
    print(f"corpus: {len(papers):,} CSL papers + {len(patents):,} KPPatent patents = {len(papers) + len(patents):,} "
          f"records, loaded and indexed in {time.perf_counter() - started:.0f} s")

    rng = random.Random(7)
    # (query set, demand text, keywords, relevant ids, the query's own record id or None)
    queries: dict[str, list[tuple[str, str, list[str], set[str], str | None]]] = {"tune": [], "test": []}
    for kind, records, n in (("papers", papers, PAPER_QUERIES), ("patents", patents, PATENT_QUERIES)):
        relevant = relevant_sets(records, normalize)
        usable = [r for r in records if len(r.get("keywords", [])) >= 2]
        rng.shuffle(usable)
        for part, chosen in (("tune", usable[:n // 2]), ("test", usable[n // 2:n // 2 + n])):
            queries[part] += [(kind, demand_text(r["keywords"]), r["keywords"], relevant[r["id"]], None)
                              for r in chosen]
        # The harder question a user asks: which *other* records answer it (the query's own record left out).
        peers = [r for r in usable if len(relevant[r["id"]]) > 1]
        third = len(peers) // 3
        for part, chosen in (("tune", peers[:third]), ("test", peers[third:])):
            queries[part] += [(f"{kind}, others", demand_text(r["keywords"]), r["keywords"],
                               relevant[r["id"]] - {r["id"]}, r["id"]) for r in chosen]
    if tune_weights:
        print(f"tuning on {len(queries['tune'])} queries (disjoint from the test queries)")
        print(json.dumps(tune(queries["tune"], service, CLI_ADMIN)))
        store.close()
        return

    types = list(MATCH_TYPES)
    systems = {
        "matching": lambda text, _keywords: [
            r["id"] for r in service.match(CLI_ADMIN, text=text, limit=K + 1)["results"]],
        "bm25 keywords": lambda _text, keywords: [h["id"] for h in search.search(
            " OR ".join(keywords), type=types, per_page=K + 1, fetch=False, highlights=False)["results"]],
        "bm25 words": lambda text, _keywords: service.lexical(CLI_ADMIN, text, limit=K + 1),
    }
    print(f"\n{'query set':16s} {'n':>4s} {'rel/q':>5s}  {'system':14s} {'hit@10':>7s} {'MRR@10':>7s} {'nDCG@10':>8s} "
          f"{'ms/query':>8s}")
    for name in dict.fromkeys(k for k, *_rest in queries["test"]):
        chosen = [q for q in queries["test"] if q[0] == name]
        average = sum(len(q[3]) for q in chosen) / len(chosen)
        for system, run in systems.items():
            begun = time.perf_counter()
            rows = [figures([i for i in run(text, keywords) if i != own], relevant)
                    for _n, text, keywords, relevant, own in chosen]
            took = (time.perf_counter() - begun) * 1000 / len(chosen)
            hit, mrr, ndcg = mean(rows)
            print(f"{name:16s} {len(chosen):4d} {average:5.1f}  {system:14s} {hit:7.3f} {mrr:7.3f} {ndcg:8.3f} {took:8.1f}")
    store.close()


if __name__ == "__main__":
    main()
