"""Search speed at scale, beside two baselines measured in the same run (DESIGN §5, issue 4).

    python bench/search_bench.py                    # 50,000 records (a few minutes here)
    python bench/search_bench.py --records 1000000  # the issue's full run

A corpus of N papers and patents is built from the real CSL and KPPatent text in ../shared/data: every
record recombines a real title, two real abstracts' halves and real keywords, so the vocabulary is the
real one. The records go into a SQLite store (timed for information), then:

* index build, end to end from the store (``SearchService.rebuild``): records/s, index size beside
  the raw text size;
* 1,000 two-term queries made of two real keywords of one record, through the search service
  (top 20, ``type`` and ``city`` facets with exact counts, highlights, records read from the store):
  p50/p95;
* the same queries against SQLite FTS5 over rjieba-pre-tokenised text ordered by bm25 (with snippet()
  highlights and the two GROUP BY facets), and against raw Tantivy (the same index, a bare query, ids
  only, no facets, highlights or store) - both ratios printed;
* the serving process's resident memory.

Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CSL = DATA / "csl" / "csl_full_fields_union.tsv"
PATENTS = DATA / "patents" / "kppatent_zh_test_696.jsonl"
CITIES = ["440100", "440300", "440400", "440600", "441300", "441900", "442000", "440700", "441200", "810000",
          "820000"]


def sources() -> list[dict]:
    if not CSL.exists() or not PATENTS.exists():
        sys.exit(f"The real data is absent ({CSL}, {PATENTS}); it sits beside the checkout in ../shared/data.")
    csv.field_size_limit(10**9)
    with CSL.open(encoding="utf-8") as handle:
        rows = [{"type": "paper", "title": r["title"], "abstract": r["abstract"],
                 "keywords": [k for k in r["keywords"].split(";") if 0 < len(k) <= 100],
                 "category": r["category"], "discipline": r["discipline"]}
                for r in csv.DictReader(handle, delimiter="\t")]
    with PATENTS.open(encoding="utf-8") as handle:
        for line in handle:
            r = json.loads(line)
            rows.append({"type": "patent", "title": r["title"], "abstract": r["abstract"],
                         "keywords": [k for k in r.get("keyphrases", []) if 0 < len(k) <= 100]})
    return [r for r in rows if r["title"] and r["abstract"] and r["keywords"]]


def _halves(text: str) -> tuple[str, str]:
    parts = [p for p in re.split(r"(?<=[。.;；])", text) if p]
    middle = max(1, len(parts) // 2)
    return "".join(parts[:middle]), "".join(parts[middle:])


def corpus(count: int, pool: list[dict], seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    records = []
    for n in range(count):
        base, other = pool[n % len(pool)], pool[rng.randrange(len(pool))]
        copy = n // len(pool)
        title = base["title"] if copy == 0 else f"{base['title']}：{rng.choice(other['keywords'])}"
        abstract = _halves(base["abstract"])[0] + _halves(other["abstract"])[1] if copy else base["abstract"]
        keywords = list(dict.fromkeys(base["keywords"] + ([rng.choice(other["keywords"])] if copy else [])))[:50]
        record = {"type": base["type"], "title": {"zh": title[:500]}, "abstract": abstract[:5000],
                  "keywords": keywords, "city": rng.choice(CITIES), "pids": {"ref": f"bench-{n}"}}
        if base["type"] == "paper":
            record |= {"year_published": 2010 + n % 11, "category": base["category"][:500] or None,
                       "disciplines": [base["discipline"]] if base["discipline"] else []}
        else:
            record |= {"application_date": f"{2010 + n % 11}-01-01"}
        records.append(record)
    return records


def queries(records: list[dict], count: int, seed: int = 11) -> list[str]:
    rng = random.Random(seed)
    out = []
    while len(out) < count:
        keywords = [k for k in rng.choice(records)["keywords"] if " " not in k and len(k) <= 12]
        if len(keywords) >= 2:
            out.append(" ".join(rng.sample(keywords, 2)))
    return out


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    p50 = ordered[len(ordered) // 2]
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"p50 {p50:7.2f} ms   p95 {p95:7.2f} ms   mean {statistics.fmean(ordered):7.2f} ms", p50, p95


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return

    import rjieba

    from zhulian.search import SearchService
    from zhulian.store import Store
    from zhulian.text import normalize

    work = args.dir or Path(tempfile.mkdtemp(prefix="zhulian-search-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"work folder: {work}")
    pool = sources()
    records = corpus(args.records, pool)
    raw_bytes = sum(len((r["title"]["zh"] + r["abstract"] + "".join(r["keywords"])).encode()) for r in records)
    print(f"corpus: {len(records):,} records from {len(pool):,} real CSL/KPPatent records; "
          f"raw text {raw_bytes / 1e6:,.1f} MB")

    store = Store(f"sqlite:///{work / 'zhulian.db'}")
    store.migrate()
    started = time.perf_counter()
    for start in range(0, len(records), 5000):
        with store.transaction() as writer:
            writer.upsert_many(records[start:start + 5000])
    seconds = time.perf_counter() - started
    print(f"store load (for information): {len(records) / seconds:,.0f} records/s ({seconds:,.1f} s)")

    service = SearchService(store, path=work / "index")
    started = time.perf_counter()
    state = service.rebuild()
    seconds = time.perf_counter() - started
    index_bytes = dir_size(work / "index")
    print(f"index build from the store: {state['records']:,} records in {seconds:,.1f} s = "
          f"{state['records'] / seconds:,.0f} records/s (target ≥ 10,000)")
    print(f"index size: {index_bytes / 1e6:,.1f} MB = {index_bytes / raw_bytes:.2f}× the raw text (target ≤ 1.5×)")

    # FTS5 baseline: build it from the same records, pre-tokenised with rjieba (search mode)
    fts_path = work / "fts5.db"
    fts = sqlite3.connect(fts_path)
    fts.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, type UNINDEXED, city UNINDEXED, title, "
                "keywords, abstract, tokenize='unicode61')")
    started = time.perf_counter()

    def tokens(text: str) -> str:
        return " ".join(w for w in rjieba.cut_for_search(normalize(text)) if w.strip())

    with fts:
        fts.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?)", (
            (str(n), r["type"], r["city"], tokens(r["title"]["zh"]), tokens(" ".join(r["keywords"])),
             tokens(r["abstract"])) for n, r in enumerate(records)))
    seconds = time.perf_counter() - started
    print(f"FTS5 baseline build (records in memory, not from the store): {len(records) / seconds:,.0f} records/s; "
          f"size {fts_path.stat().st_size / 1e6:,.1f} MB")

    fts.close()
    (work / "queries.json").write_text(json.dumps(queries(records, args.queries), ensure_ascii=False),
                                       encoding="utf-8")
    store.close()
    del records
    # Queries run in a fresh process that only opens the store and the index, so its memory is a server's.
    subprocess.run([sys.executable, __file__, "--serve", str(work)], check=True)
    if not args.keep and args.dir is None:
        shutil.rmtree(work, ignore_errors=True)


def serve(work: Path) -> None:
    import rjieba

    from zhulian.search import SearchService
    from zhulian.search.service import Occur, Query
    from zhulian.store import Store
    from zhulian.text import normalize

    def tokens(text: str) -> str:
        return " ".join(w for w in rjieba.cut_for_search(normalize(text)) if w.strip())

    store = Store(f"sqlite:///{work / 'zhulian.db'}")
    service = SearchService(store, path=work / "index")
    fts = sqlite3.connect(work / "fts5.db")
    qs = json.loads((work / "queries.json").read_text(encoding="utf-8"))
    for q in qs[:20]:  # warm up caches for all three
        service.search(q, per_page=20, group_by="type,city")

    timings, counts = [], []
    for q in qs:
        t = time.perf_counter()
        body = service.search(q, per_page=20, group_by="type,city")
        timings.append((time.perf_counter() - t) * 1000)
        counts.append(body["meta"]["count"])
    line, ours50, ours95 = percentiles(timings)
    print(f"ours (service: top 20, type+city facets, highlights, records from the store): {line} "
          f"(targets p50 ≤ 5, p95 ≤ 25); median hits {statistics.median(counts):,.0f}")

    index = service.index()
    schema = index.schema
    raw = []
    for q in qs:
        t = time.perf_counter()
        searcher = index.searcher()
        parts = []
        for word, _surface in index.analyzer.query_tokens(normalize(q)):
            parts.append((Occur.Must, Query.disjunction_max_query(
                [Query.term_query(schema, f, word) for f in ("name_w", "kw_w", "body_w")])))
        result = searcher.search(Query.boolean_query(parts), 20)
        [searcher.doc(address)["id"][0] for _s, address in result.hits]
        raw.append((time.perf_counter() - t) * 1000)
    line, raw50, raw95 = percentiles(raw)
    print(f"raw Tantivy (same index, bare query, ids only):                       {line}")

    fts_times = []
    for q in qs:
        match = " AND ".join('"' + t.replace('"', "") + '"' for t in tokens(q).split())
        t = time.perf_counter()
        fts.execute("SELECT id, snippet(docs, 5, '<em>', '</em>', '…', 20) FROM docs WHERE docs MATCH ? "
                    "ORDER BY bm25(docs) LIMIT 20", (match,)).fetchall()
        fts.execute("SELECT type, count(*) FROM docs WHERE docs MATCH ? GROUP BY type", (match,)).fetchall()
        fts.execute("SELECT city, count(*) FROM docs WHERE docs MATCH ? GROUP BY city", (match,)).fetchall()
        fts_times.append((time.perf_counter() - t) * 1000)
    line, fts50, fts95 = percentiles(fts_times)
    print(f"SQLite FTS5 (bm25, snippet, two GROUP BY facets):                     {line}")
    print(f"ratios: ours/FTS5 p50 {ours50 / fts50:.2f}× p95 {ours95 / fts95:.2f}×;   "
          f"ours/raw Tantivy p50 {ours50 / raw50:.2f}× p95 {ours95 / raw95:.2f}×")
    print(f"serving memory (RSS of the query process: store, index, analyzer, FTS5 connection): {rss_mb():,.0f} MB "
          f"(target ≤ 1,024)")
    fts.close()
    store.close()


if __name__ == "__main__":
    main()
