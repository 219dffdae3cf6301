"""Search speed at scale, beside two baselines doing the same work in the same run (DESIGN §5, issues 4, 14, 21).

    python bench/search_bench.py                    # 50,000 records
    python bench/search_bench.py --records 100000   # the shared machine's run (1M only on a quiet machine)

A corpus of N papers and patents is built from the real CSL and KPPatent text in ../shared/data (or
$ZHULIAN_SHARED_DATA): every record recombines a real title, two real abstracts' halves and real keywords, so the
vocabulary is the real one. The records go into a SQLite store in a temporary folder (removed at the end however
the run ends), then:

* index build, end to end from the store (``SearchService.rebuild``), beside the raw baseline: tantivy-py with
  rjieba on the same texts, documents added straight from memory; records/s, wall and CPU time (CPU > wall means
  both cores worked), the stage's peak RSS, the machine's load, and the index size beside the raw text;
* queries in a fresh process (its memory is a server's): broad words (研究, 技术 …, tens of thousands of hits)
  and narrow pairs of one record's real keywords, each through three contenders doing the same work — top 20,
  the exact hit count, ``type`` and ``city`` facet counts (and, for ours and FTS5, the page's highlights):
  - ours: the search service (records read from the store, highlights, facets);
  - raw Tantivy: its own index of rjieba words with ``type`` and ``city`` fast fields, a boolean query, ``count``,
    one terms aggregation for both facets, the 20 ids read from stored fields;
  - SQLite FTS5 over character bigrams (the CJK-appropriate choice a user would make: unicode61 alone keeps a
    Chinese run as one token, trigram cannot match two-character words), ``bm25`` order, ``snippet()``
    highlights, ``count(*)`` and two ``GROUP BY`` facets;
  - ours' Tantivy part: the query our service builds (built before the clock), searched, counted and
    aggregated by Tantivy alone, with the 20 ids read: how much of ours is Tantivy executing our query (whose
    design decides its ratio to raw's), and how much the Python around it;
  every contender is warmed on the same queries first, the rounds alternate between them (the order rotating),
  and the medians over the rounds of each round's p50 and p95 are printed with the ratios and the hit counts.

A contender that fails, or returns no hit for a query the corpus certainly holds, fails the run (exit 1 and
the reason).

Profiles (pyinstrument on this bench's 20,000-record corpus, the machine shared at load 9 on 2 cores):

* a broad query (研究, 技术 …: thousands of hits), through the service — highlights 47 % (normalising each page
  record's texts again with their offset maps, then fragment search and HTML escaping), the store read of the
  page 19 % (one ``get_many``), facets 14 % (``terms_with_prefix(filter_query=…)`` evaluates the query again
  for every value counted: 2 types, 11 cities), Tantivy's search itself 13 %, stored ids 2 %. Hence: facets from
  one aggregation over a fast field (issue 14), and highlights the next thing to make cheaper.
* the index build (20,000 records: 70 s wall, 16 s CPU) — Python analysis per record 80 % (normalising with
  OpenCC twice over, once per field group and once for sort keys, 29 %; rjieba with stemming 19 %; character
  bigrams and unigrams 14 %; field extraction and the autocomplete card 10 %), Tantivy's add and commit 13 %,
  reading the store 3 %. Hence: analysis spread over both cores; Tantivy's own n-gram tokenizer for bigrams is
  the next step.

Second round (pyinstrument, 10,000-record corpus, load 10–14 on 2 cores; 60 narrow and 6 broad queries × 3):

* Tantivy's n-gram tokenizer cannot take the bigram fields' place: tantivy 0.27 (tantivy-py's
  ``TextAnalyzerBuilder(Tokenizer.ngram(2, 2))``) gives every gram position 0 (quickwit-oss/tantivy#2471, closed
  unmerged), so the phrase queries that make substrings and exact phrases work match nothing (checked: the phrase
  ``研究 究方`` does not find 研究方法); it also makes grams across spaces and punctuation. A regex-substitution
  form of the bigrams was 7× slower than the present ``str.join`` (Python 3.11 expands templates in Python).
  Bigrams stay in Python.
* analysis per record (4,000 records): the pure-Python Snowball stemmer was 19 % → PyStemmer (the same algorithm
  compiled; identical stems on the 4,507 distinct English words of 3 MB of CSL) 4 %; ``str.translate`` for five
  variant characters, which calls back into Python per character, 6 % → one regex pass. Left: rjieba 17 %,
  bigrams 17 %, NFKC and OpenCC 15 %, unigrams 7 %, field extraction 10 %.
* a broad query: highlights 45 % → 29 % of a search (2.40 s → 0.82 s over the profile's 180 searches). A page's
  texts are folded in one OpenCC call except the few that NFKC lengthens (``℃`` → ``°c``; one such text used
  to send the whole page down the per-character path), identity offset maps are ``range`` objects instead of
  lists as long as the text, and each fragment is escaped once with its marks made tags after. Tantivy's
  ``SnippetGenerator`` does not fit: it needs the text stored in the index and analysed by a registered
  tokenizer, where ours is analysed in Python (and stored text would add the bodies to the index). The store
  read of the page (``get_many``: one round trip of id and JSON) is now the largest part, 24 % broad and 33 %
  narrow, most of it SQLAlchemy's statement building and the connection's BEGIN, not SQLite; it belongs to the
  store. Facets (one aggregation) 17–22 %, Tantivy's search 12–17 %.
* the follower (2,000 edits): analysis 55 %, Tantivy's commit per 500-entry batch 31 %, the feed read 4 %;
  about 1,300–1,600 entries per CPU-second on one core, so ≥ 2,000 writes/s needs the analysis of a batch
  spread over both cores, as the build does.

Measured after this round (``python bench/search_bench.py --records 100000``, load 2.4–4.4 on 2 cores): broad p50
7.42 ms, p95 9.48 ms (raw Tantivy 1.08 / 1.85, FTS5 208.8 / 243.2); narrow p50 4.00 ms, p95 5.94 ms (raw 0.39 /
0.74, FTS5 1.91 / 3.49); build 2,315 records/s (raw 13,558 docs/s); follower 1,719 writes/s; query process peak
RSS 322 MB.

Third round (pyinstrument on this bench's 100,000-record corpus, load 11–18 on 2 cores, so the shares matter more
than the times):

* the page's store read: ``Store.get_many`` for 20 ids took about 2.0 ms, a compiled statement on the driver
  connection 0.6 ms, of which 0.3 ms is decoding the JSON (the same 300 pages, alternated, in one process). It
  now runs one statement compiled once per dialect, visibility and number of ids, with no BEGIN: 9 % of a narrow
  search here, where the second round found 33 %.
* a narrow query after that: highlights 46 % (folding 21 %, called once per record; fragment search 19 %),
  Tantivy's search 16 %, facets 13 %, query building 7 %. The page's texts are now folded in one call.
* a broad query: the facet aggregation 35 %. The single ``facet`` field of field=value pairs made every count
  read all of a match's values (8 a paper) to keep the two asked for. A JSON fast field (``groups``) keeps one
  column per field, and the terms aggregations read only those: over 100,000 synthetic documents, 31 ms →
  0.35 ms for type and city.
* the build, per stage on 3,000–5,000 of the corpus's records (CPU time, one process): analysis 2,100–2,600
  records per CPU-second (rjieba 26 %, bigrams 16 %, folding with OpenCC 17 %, the autocomplete card's JSON 7 %,
  unigrams 6 %, field extraction 10 %); Tantivy indexing our documents 2,300–3,000 records per CPU-second, half
  of it the ``body_b`` bigrams with positions (dropping that field alone nearly doubles Tantivy's rate); reading the
  store 17,500/s, pickling records and fields to and from the workers 27,000/s, building ``tantivy.Document``
  68,000/s. A record costs about 450 µs of analysis and 350 µs of Tantivy: about 2,500 records/s on two idle
  cores, whatever the scheduling. 10,000 records/s needs the bigram fields gone from Python and cheaper to index
  (Tantivy's n-gram tokenizer with correct positions), not a better pipeline around them.

Measured after this round, the same session as the round before it, on a machine at load 11–23 (so only the
same-run ratios compare): ``--records 100000`` before, load 11–14: broad p50 98.9 ms = 11.2× raw Tantivy, narrow
p50 67.5 ms = 58.9× raw and 2.05× FTS5; after, load 18–23: broad p50 43.5 ms = 4.1× raw, narrow p50 31.2 ms =
30.9× raw and 1.42× FTS5; build and follower unchanged (0.32–0.35× raw's speed); query process peak RSS 332 MB.

Fourth round, 2026-11-30 (py-spy --subprocesses of a 20,000-record build, cProfile of the follower and of
queries, stage timers on 3,000–5,000 records; the machine shared at load 3–8 on 2 cores, so ratios, not times):

* the build, per record in one process: analysis about 250 µs of CPU (rjieba 66, the pinyin sort key 28, folding
  27, bigrams of names and body 40, field extraction and filter values 18); Tantivy indexing our documents 230–240
  µs of CPU, of which the body's bigrams with positions about 80 (without ``body_b``: 171); ``tantivy.Document``
  20–27. py-spy of a whole build: the writer's process was the bottleneck, its one core (the GIL) decoding every
  record read from the store, pickling it to the workers and their fields back, and rewriting the progress file
  after every 100-record chunk, while the workers waited; the two cores were 0.6–0.7 busy.
* changed: the body's phrases are matched on its characters with positions (``body_c``, schema 6: one C-level
  join, ``|`` between runs so a phrase still spans a break only where the text has one) instead of bigrams:
  Tantivy 230–238 → 150–156 µs a record, the grams' analysis 40 → 19 µs, the 100k index 159 → 122 MB. Names keep
  bigrams: their short postings keep the substring clause of every Chinese query word cheap (characters for names
  too indexed hardly faster, 135–157 µs). The workers read their own chunks of records (this process reads only
  the ids that bound them) with the store's ``records.sort_name`` beside the JSON, instead of the pinyin key worked
  out again; progress is written every 0.5 s. 20,000 records, alternated: 1,399–1,551 → 1,562–1,782 records/s.
  Documents are made by ``tantivy.Document.from_dict`` with the schema (12.5 µs each; keyword arguments 20–120).
* the follower (5,000 edits): analysis 66 %, Tantivy's commits 18 % (164 ms each, one per 500 entries), NFKC of
  whole texts 5 % (each edited title has a full-width bracket). Now 2,000 entries a commit (4.2–4.8 → 3.1 CPU-s
  for the 5,000), and full-width forms are replaced in one regex pass before NFKC (the same result; half its cost
  on the corpus's texts, of which 27 % are not NFKC already).
* a query (stage timers, 20,000 records): narrow — Tantivy's search 0.9–1.0 ms, the group aggregation 0.7,
  highlights 0.5, the store read 0.36, query building 0.3; broad — highlights 1.7–2.0 ms (about 160 texts a page,
  keywords one by one; a quarter of it folding, character by character, the few texts NFKC lengthens), search
  1.0–1.8, aggregation 1.0, store read 0.7–0.8. Our narrow query costs Tantivy 0.55 ms even without its phrase
  clauses (each word is 3 fields' terms, a bigram phrase and a dismax; raw's is 3 terms): evaluation, not Python,
  is the largest part, and the next step is a query with fewer clauses per word, not a faster wrapper. Changed:
  the aggregation runs on the ranking query (same counts; unscored, its phrase bonuses cost it nothing measurable)
  instead of a second query built without them; highlights skip absent needles with one ``in`` scan and compile
  each pattern once. Thread CPU time per query, alternated 3 times in one process each: no change beyond the noise
  (broad 3.0–4.0 vs 3.2–3.7 ms, narrow 2.1–2.7 vs 2.0–2.9).
* not done: 10,000 records/s needs about 200 µs of CPU a record on two cores; we spend about 250 on analysis
  (rjieba alone 66, raw's whole Python side) and 150 in Tantivy. What is left to cut is the number of fields
  analysed and indexed per record (three rjieba passes, bigrams and unigrams of names, the ``groups`` JSON and
  ``kv`` pairs, four sort columns), each a schema change to weigh against the queries it serves. The follower
  analyses on one core (1,998 writes/s quiet, 793–1,421 loaded): spreading it over both, as the build does, is
  next. Queries at 1M (p50 ≤ 5 ms) need the query's clauses per word reduced (above). The query process's 1.2 GB
  at 1M includes the raw index and the FTS5 database; ours alone was not measured.

Measured after this round (``python bench/search_bench.py --records 100000`` unless said; each figure one run,
the baseline in the same run; the load changed more than the code between some of them):

* before (0370bc2), load 3.2–7.8: build 811 records/s = 0.11× raw (7,143), follower 530 writes/s, index 159 MB;
  broad p50 5.81 ms = 5.84× raw; narrow p50 4.58 ms, p95 14.83 = 11.4× raw, 2.11× / 1.93× FTS5; 335 MB.
* after the build changes (a7ffd93), load 4.5–8.2: build 1,124 records/s = 0.29× raw (3,925), follower 793.
* after the query changes too (664af37), load 5.1–8.2: build 1,311 = 0.23× raw (5,785), follower 1,269; narrow
  p50 6.70 ms = 13.2× raw, 2.32× FTS5 (the query ratios move by this much from run to run on a loaded machine).
* ``--records 1000000`` once (the build at 2cba374), load 1.2–6.3: build 1,820 records/s on 1.08 cores = 0.17× raw
  (10,568); follower 1,421 writes/s; index 1,026 MB = 1.39× the raw text; broad p50 32.1 ms, p95 33.7 = 3.24× /
  1.95× raw, 0.01× FTS5; narrow p50 9.17 ms, p95 19.85 = 2.80× / 2.50× raw and 0.96× / 0.82× FTS5 (faster at
  both: at 1M raw's and FTS5's work grows with the matches, ours is mostly a fixed cost per query); query process
  peak RSS 1,213 MB with the raw index and the FTS5 database open beside ours.
* last (ae522a8), on a quiet machine, load 0.4–2.0: build 4,028 records/s on 1.92 cores = 0.29× raw (14,017; the
  second round's 2,315 at load 2.4–4.4 was 0.17×); follower 1,998 writes/s; index 122 MB; broad p50 6.46 ms, p95
  7.46 = 5.67× / 3.96× raw, 0.03× FTS5; narrow p50 5.11 ms, p95 8.22 = 11.8× / 10.5× raw, 2.31× / 1.99× FTS5;
  query process 311 MB.

Serving memory, 2026-11-30: the query process above opens ours, raw's index and the FTS5 database together, so its
1,213 MB at 1M did not say what a server needs. A second fresh process now opens only what a server opens (the
store, the search service and its follower), runs our queries as often as the timing process does, and prints its
peak RSS, RssAnon and RssFile. ``--records 1000000`` (load 1.1–1.2 while querying): ours alone peak 913 MB, of which
RssAnon 196 MB and RssFile 717 MB (all three: 1,213); 100k: 285 MB, 158 and 127 (all three: 309). By step at 1M
(/proc/self/status in a probe on the kept folder): the imports 82 MB anonymous, opening the index +25, the first pass
of queries +52, three more passes +32 (12 passes at 100k level off at 160 MB: the allocator's high-water mark, not a
leak; there tracemalloc counts 39 MB of Python's own objects); the memory-mapped files (smaps) are the index's
postings 349 MB, positions 227, stored documents 94, the rest 13, libraries 34. Anonymous memory grows little with
the corpus (158 → 196 MB for 10× the records); the rest is page cache the kernel can drop, and grows with what the
queries touch.
The same 1M run, load 4.6–5.9 while building (the machine shared): build 1,298 records/s = 0.22× raw; follower
1,226 writes/s; index 1,034 MB; broad p50 60.0 ms = 4.03× raw; narrow p50 16.1 ms = 3.75× raw, 0.99× FTS5.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATA, BenchFailed, alternate, machine, peak_memory_mb, stage, work_folder  # noqa: E402

BROAD = ["研究", "技术", "方法", "系统", "分析", "研究 技术"]
CSL = DATA / "csl" / "csl_full_fields_union.tsv"
PATENTS = DATA / "patents" / "kppatent_zh_test_696.jsonl"
CITIES = ["440100", "440300", "440400", "440600", "441300", "441900", "442000", "440700", "441200", "810000",
          "820000"]


def sources() -> list[dict]:
    if not CSL.exists() or not PATENTS.exists():
        raise BenchFailed(f"the real data is absent ({CSL}, {PATENTS}); it sits beside the checkout in ../shared/data "
                          "or where ZHULIAN_SHARED_DATA says")
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


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())



def bigram_text(text: str) -> str:
    """Overlapping character pairs of each run of CJK characters, other words whole: what FTS5 indexes."""
    out = []
    for run in re.findall(r"[\u3400-\u9fff]+|[0-9a-z]+", text.lower()):
        out += [run[i:i + 2] for i in range(len(run) - 1)] if run[0] >= "\u3400" and len(run) > 1 else [run]
    return " ".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=300, help="narrow queries (the broad ones are added)")
    parser.add_argument("--rounds", type=int, default=3, help="alternated runs of each contender")
    parser.add_argument("--dir", type=Path, default=None, help="work folder to keep (default: a temporary one)")
    parser.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--serve-ours", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.rounds)
        return
    if args.serve_ours:
        serve_ours(args.serve_ours, args.rounds)
        return
    print(f"machine: {machine()}")
    with work_folder("zhulian-search-bench-", keep=args.dir) as work:
        prepare(work, args)
        # Queries run in a fresh process that only opens the store and the indexes; then ours alone in another,
        # which opens what a server opens and nothing else, so its memory is a server's.
        for flag in ("--serve", "--serve-ours"):
            done = subprocess.run([sys.executable, __file__, flag, str(work), "--rounds", str(args.rounds)])
            if done.returncode:
                raise BenchFailed(f"the query process ({flag}) exited with {done.returncode}")


def prepare(work: Path, args: argparse.Namespace) -> None:
    from zhulian.search import SearchService
    from zhulian.store import Store

    pool = sources()
    records = corpus(args.records, pool)
    raw_bytes = sum(len((r["title"]["zh"] + r["abstract"] + "".join(r["keywords"])).encode()) for r in records)
    print(f"corpus: {len(records):,} records from {len(pool):,} real CSL/KPPatent records; "
          f"raw text {raw_bytes / 1e6:,.1f} MB")

    store = Store(f"sqlite:///{work / 'zhulian.db'}")
    store.migrate()
    with stage("store load (for information)") as load:
        for start in range(0, len(records), 5000):
            with store.transaction() as writer:
                writer.upsert_many(records[start:start + 5000])
    print(f"store load: {len(records) / load['wall']:,.0f} records/s")

    service = SearchService(store, path=work / "index")
    with stage("ours: index build from the store") as ours:
        state = service.rebuild()
    with stage("raw tantivy-py + rjieba: the same texts from memory") as raw:
        raw_build(work / "raw", records)
    if state["records"] != len(records):
        raise BenchFailed(f"the index holds {state['records']:,} records of {len(records):,}")
    follow(store, service, records)
    index_bytes = dir_size(work / "index")
    print(f"index build: ours {len(records) / ours['wall']:,.0f} records/s, raw {len(records) / raw['wall']:,.0f} "
          f"docs/s = ours {raw['wall'] / ours['wall']:.2f}× raw's speed (target ≥ 10,000 records/s and ≥ 0.5×)")
    print(f"index size: {index_bytes / 1e6:,.1f} MB = {index_bytes / raw_bytes:.2f}× the raw text; raw's "
          f"{dir_size(work / 'raw') / 1e6:,.1f} MB")

    fts = sqlite3.connect(work / "fts5.db")
    fts.execute("CREATE VIRTUAL TABLE docs USING fts5(id UNINDEXED, type UNINDEXED, city UNINDEXED, title, "
                "keywords, abstract, tokenize='unicode61')")
    with stage("FTS5 over bigrams: the same texts from memory (for information)") as built, fts:
        fts.executemany("INSERT INTO docs VALUES (?,?,?,?,?,?)", (
            (str(n), r["type"], r["city"], bigram_text(r["title"]["zh"]), bigram_text(" ".join(r["keywords"])),
             bigram_text(r["abstract"])) for n, r in enumerate(records)))
    print(f"FTS5 build: {len(records) / built['wall']:,.0f} records/s; size "
          f"{(work / 'fts5.db').stat().st_size / 1e6:,.1f} MB")
    fts.close()
    (work / "queries.json").write_text(json.dumps({"broad": BROAD, "narrow": queries(records, args.queries)},
                                                  ensure_ascii=False), encoding="utf-8")
    store.close()


def follow(store, service, records: list[dict]) -> None:
    """The follower's rate: a burst of edits (the first 5,000 records retitled) written to the store, then the
    change feed applied to the index as a server's follower does, timed from the first batch to the last."""
    edits = [{**r, "title": {"zh": r["title"]["zh"] + "（修订）"}} for r in records[:5000]]
    with stage("store: a burst of edits (for information)") as written:
        for start in range(0, len(edits), 1000):
            with store.transaction() as writer:
                writer.upsert_many(edits[start:start + 1000])
    with stage("ours: the follower applying the burst") as applied:
        done = service.catch_up()
    if done != len(edits):
        raise BenchFailed(f"the follower applied {done:,} of {len(edits):,} edits")
    print(f"follower: {done / applied['wall']:,.0f} writes/s applied (target ≥ 2,000), the store took them at "
          f"{len(edits) / written['wall']:,.0f} writes/s")


def raw_schema():
    import tantivy

    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in ("title", "keywords", "abstract"):
        b.add_text_field(name, tokenizer_name="whitespace")
    for name in ("type", "city"):
        b.add_text_field(name, tokenizer_name="raw", fast=True)
    return b.build()


def raw_build(path: Path, records: list[dict]) -> None:
    import rjieba
    import tantivy

    path.mkdir()
    index = tantivy.Index(raw_schema(), path=str(path))
    writer = index.writer(256_000_000, 2)
    for n, r in enumerate(records):
        writer.add_document(tantivy.Document(
            id=str(n), type=r["type"], city=r["city"], title=" ".join(rjieba.cut_for_search(r["title"]["zh"])),
            keywords=" ".join(w for k in r["keywords"] for w in rjieba.cut_for_search(k)),
            abstract=" ".join(rjieba.cut_for_search(r["abstract"]))))
    writer.commit()
    writer.wait_merging_threads()


def serve(work: Path, rounds: int) -> None:
    import rjieba
    import tantivy

    from zhulian.search import SearchService
    from zhulian.store import Store
    from zhulian.text import normalize

    store = Store(f"sqlite:///{work / 'zhulian.db'}")
    service = SearchService(store, path=work / "index")
    raw_index = tantivy.Index.open(str(work / "raw"))
    raw_schema_ = raw_index.schema
    fts = sqlite3.connect(work / "fts5.db")
    sets = json.loads((work / "queries.json").read_text(encoding="utf-8"))
    hits: dict[str, dict[str, list[int]]] = {}

    def ours(q: str) -> int:
        return search_ours(service, q)

    def raw(q: str) -> int:
        searcher = raw_index.searcher()
        words = [w for w in rjieba.cut_for_search(normalize(q)) if w.strip()]
        query = tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.disjunction_max_query(
            [tantivy.Query.term_query(raw_schema_, f, w) for f in ("title", "keywords", "abstract")]))
            for w in words])
        result = searcher.search(query, 20, count=True)
        [searcher.doc(address)["id"][0] for _s, address in result.hits]
        searcher.aggregate(query, {"type": {"terms": {"field": "type", "size": 100}},
                                   "city": {"terms": {"field": "city", "size": 100}}})
        return result.count

    def fts5(q: str) -> int:
        phrases = [bigram_text(w) for w in normalize(q).split()]
        match = " AND ".join('"' + p + '"' for p in phrases if p)
        rows = fts.execute("SELECT id, snippet(docs, 5, '<em>', '</em>', '…', 20) FROM docs WHERE docs MATCH ? "
                           "ORDER BY bm25(docs) LIMIT 20", (match,)).fetchall()
        count = fts.execute("SELECT count(*) FROM docs WHERE docs MATCH ?", (match,)).fetchone()[0]
        fts.execute("SELECT type, count(*) FROM docs WHERE docs MATCH ? GROUP BY type", (match,)).fetchall()
        fts.execute("SELECT city, count(*) FROM docs WHERE docs MATCH ? GROUP BY city", (match,)).fetchall()
        if count and not rows:
            raise BenchFailed(f"FTS5: {q!r} counted {count} but returned no rows")
        return count

    ours_in_tantivy = tantivy_part(service)
    contenders = {"ours (service)": ours, "raw Tantivy": raw, "FTS5 bigrams": fts5,
                  "ours' Tantivy part": ours_in_tantivy}
    for name, run in contenders.items():  # warm every contender the same way: each query once
        for q in sets["broad"] + sets["narrow"]:
            run(q)
    for kind, qs in sets.items():
        def timed(run, name: str, qs=qs, kind=kind) -> list[float]:
            samples, counts = [], []
            for q in qs:
                started = time.perf_counter()
                counts.append(run(q))
                samples.append((time.perf_counter() - started) * 1000)
            if not any(counts):
                raise BenchFailed(f"{name} found nothing for any {kind} query: the run is broken")
            hits.setdefault(kind, {})[name] = counts
            return samples

        figures = alternate({name: lambda run=run, name=name: timed(run, name) for name, run in contenders.items()},
                            rounds)
        print(f"\n{kind} queries ({len(qs)}; top 20, exact count, type+city facets, highlights) — medians of "
              f"{rounds} alternated rounds; {machine()}")
        for name, f in figures.items():
            print(f"  {name:<18} p50 {f['p50']:8.2f} ms   p95 {f['p95']:8.2f} ms   median hits "
                  f"{statistics.median(hits[kind][name]):,.0f}")
        o, r, s, t = (figures[n] for n in contenders)
        print(f"  ratios: ours/raw Tantivy p50 {o['p50'] / r['p50']:.2f}× p95 {o['p95'] / r['p95']:.2f}× "
              f"(target ≤ 2×); ours/FTS5 p50 {o['p50'] / s['p50']:.2f}× p95 {o['p95'] / s['p95']:.2f}× (target < 1×); "
              f"Tantivy's part of ours p50 {t['p50'] / o['p50']:.0%}, and {t['p50'] / r['p50']:.2f}× raw's query")
    print(f"\nthe contenders' query process peak RSS (store, ours and raw's indexes, analyzer, FTS5 "
          f"connection): {peak_memory_mb():,.0f} MB")
    fts.close()
    store.close()


def tantivy_part(service):
    """Ours without the Python around Tantivy: the query our service builds for ``q`` (built before the clock
    starts, once per query), searched for the top 20 and the exact count, the 20 ids read, and the type and city
    facets aggregated as the service does. What ours takes beyond it is analysis, query building, the store
    read of the page, highlights and the response; what it takes beyond raw's is the query's design."""
    from zhulian.search.query import parse
    from zhulian.search.service import VISIBLE_ACCESS, group_spec

    built: dict[str, object] = {}

    def query_for(q: str) -> object:
        if q not in built:
            index = service.index()
            built[q] = service.query(index, index.searcher(), parse(q), [], [], VISIBLE_ACCESS)
        return built[q]

    def run(q: str) -> int:
        query, searcher = query_for(q), service.index().searcher()
        result = searcher.search(query, 20, count=True)
        [searcher.doc(address)["id"][0] for _s, address in result.hits]
        searcher.aggregate(query, group_spec(["type", "city"]))
        return result.count

    return run


def search_ours(service, q: str) -> int:
    body = service.search(q, per_page=20, group_by="type,city")
    if not body["results"] and body["meta"]["count"]:
        raise BenchFailed(f"ours: {q!r} counted {body['meta']['count']} but returned no records")
    return body["meta"]["count"]


def serve_ours(work: Path, rounds: int) -> None:
    """Our serving memory on its own: what a server opens (the store, the search service following the feed)
    and nothing else, through our contender's queries as many times as the timing process runs them."""
    from zhulian.search import SearchService
    from zhulian.store import Store

    store = Store(f"sqlite:///{work / 'zhulian.db'}")
    service = SearchService(store, path=work / "index")
    service.start_follower()
    sets = json.loads((work / "queries.json").read_text(encoding="utf-8"))
    qs = (sets["broad"] + sets["narrow"]) * (1 + rounds)  # the warm-up and the rounds
    for q in qs:
        search_ours(service, q)
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    anon, mapped = (int(status[key].split()[0]) / 1024 for key in ("RssAnon", "RssFile"))
    print(f"our serving process alone (store, search service and its follower; {len(qs):,} queries): peak RSS "
          f"{peak_memory_mb():,.0f} MB; at the end RssAnon {anon:,.0f} MB (target ≤ 1,024) and RssFile "
          f"{mapped:,.0f} MB (the index's memory-mapped files and the libraries: page cache the kernel can drop)")
    service.stop_follower()
    store.close()


if __name__ == "__main__":
    main()
