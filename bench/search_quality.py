"""Search quality on real data, beside a plain BM25 baseline in the same run (issue 4, item 5).

    python bench/search_quality.py            # needs bm25s for the baseline: pip install bm25s

Corpus: the CSL papers in ../shared/data/csl (4,758 with title, abstract, keywords), the Ministry of
Education's institutions in ../shared/data/universities (2,631), and the region's seed records, all
written to a SQLite store and indexed by ``zhulian.search``.

Query sets (recall@10 and MRR@10; a known-item query has one right answer):
  titles          a paper's exact title
  partial titles  the first half of a title (at least 4 characters)
  traditional     the title in traditional characters (OpenCC s2t)
  full-width      a title holding Latin letters or digits, written full-width
  institutions    an institution's official name, and its traditional form
  keywords        one CSL keyword; every paper that carries it is relevant

Baseline: bm25s (BM25, k1=1.5, b=0.75) over the same tokens our analyser makes (title, keywords and
abstract together, one field), queried with the same query tokens. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CSL = DATA / "csl" / "csl_full_fields_union.tsv"
MOE = DATA / "universities" / "moe_hei_list_2017.csv"
SAMPLE = 300


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else ("\u3000" if c == " " else c) for c in text)


def main() -> None:
    if not CSL.exists() or not MOE.exists():
        sys.exit(f"The real data is absent ({CSL}, {MOE}); it sits beside the checkout in ../shared/data.")
    try:
        import bm25s
    except ImportError:
        sys.exit("The baseline needs bm25s: pip install bm25s")
    import opencc

    from zhulian.records.reference import load_region
    from zhulian.search import SearchService
    from zhulian.store import Store
    from zhulian.text import normalize

    rng = random.Random(5)
    work = Path(tempfile.mkdtemp(prefix="zhulian-quality-"))
    store = Store(f"sqlite:///{work / 'zhulian.db'}")
    store.migrate()
    load_region(store)
    csv.field_size_limit(10**9)
    with CSL.open(encoding="utf-8") as handle:
        papers = [{"type": "paper", "title": {"zh": r["title"][:500]}, "abstract": r["abstract"][:5000] or None,
                   "keywords": [k for k in r["keywords"].split(";") if 0 < len(k) <= 100][:50],
                   "pids": {"ref": r["id"]}} for r in csv.DictReader(handle, delimiter="\t") if r["title"]]
    with MOE.open(encoding="utf-8") as handle:
        seen = {r["name"]["zh"] for r in store.iterate("organization")}
        orgs = [{"type": "organization", "name": {"zh": r["name"]}, "kind": "university",
                 "pids": {"moe": r["moe_code"]}} for r in csv.DictReader(handle) if r["name"] not in seen]
    with store.transaction() as writer:
        stored_papers = [result.record for result in writer.upsert_many(papers)]
        writer.upsert_many(orgs, collect_errors=True)
    service = SearchService(store, path=work / "index")
    service.rebuild()
    index = service.index()
    records = list(store.iterate())
    print(f"corpus: {len(records):,} records ({len(stored_papers):,} CSL papers, {len(orgs):,} MoE institutions, "
          f"the region's seed records)")

    # the baseline: BM25 over the same tokens, one field
    def text_of(record: dict) -> str:
        names = record.get("name") or record.get("title") or {}
        parts = [*names.values(), *record.get("aliases", []), *record.get("keywords", []),
                 record.get("abstract") or "", *(record.get("description") or {}).values()]
        return " ".join(p for p in parts if isinstance(p, str))

    started = time.perf_counter()
    corpus_tokens = [index.analyzer.index_tokens(normalize(text_of(r))) or ["∅"] for r in records]
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    ids = [r["id"] for r in records]
    print(f"bm25s baseline indexed in {time.perf_counter() - started:.1f} s")

    def ours(q: str) -> list[str]:
        return [r["id"] for r in service.search(q, per_page=10, fetch=False)["results"]]

    def baseline(q: str) -> list[str]:
        tokens = [stemmed for stemmed, _surface in index.analyzer.query_tokens(normalize(q))]
        tokens = [t for t in tokens if t in retriever.vocab_dict] or ["∅"]
        docs, scores = retriever.retrieve([tokens], k=10, show_progress=False)
        return [ids[d] for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    to_hant = opencc.OpenCC("s2t")
    sample = rng.sample(stored_papers, SAMPLE)
    latin = [p for p in stored_papers if any(c.isascii() and c.isalnum() for c in p["title"]["zh"])]
    stored_orgs = [r for r in records if r["type"] == "organization"]
    known_item = {
        "titles": [(p["title"]["zh"], {p["id"]}) for p in sample],
        "partial titles": [(p["title"]["zh"][:max(4, len(p["title"]["zh"]) // 2)], {p["id"]}) for p in sample],
        "traditional": [(to_hant.convert(p["title"]["zh"]), {p["id"]}) for p in sample],
        "full-width": [(full_width(p["title"]["zh"]), {p["id"]}) for p in rng.sample(latin, min(SAMPLE, len(latin)))],
        "institutions": [(q, {o["id"]}) for o in rng.sample(stored_orgs, SAMPLE)
                         for q in (o["name"]["zh"], to_hant.convert(o["name"]["zh"]))],
    }
    by_keyword: dict[str, set[str]] = {}
    for p in stored_papers:
        for k in p.get("keywords", []):
            by_keyword.setdefault(k, set()).add(p["id"])
    keywords = [k for k, v in by_keyword.items() if 2 <= len(v) <= 50 and " " not in k]
    known_item["keywords"] = [(k, by_keyword[k]) for k in rng.sample(keywords, min(SAMPLE, len(keywords)))]

    print(f"{'query set':16s} {'n':>5s}   {'recall@10 ours':>14s} {'bm25':>6s}   {'MRR@10 ours':>11s} {'bm25':>6s}")
    for name, items in known_item.items():
        figures = []
        for run in (ours, baseline):
            recall = mrr = 0.0
            for q, relevant in items:
                found = run(q)
                recall += len(relevant & set(found)) / min(10, len(relevant))
                mrr += next((1 / rank for rank, i in enumerate(found, 1) if i in relevant), 0.0)
            figures.append((recall / len(items), mrr / len(items)))
        (r_ours, m_ours), (r_bm, m_bm) = figures
        flag = "" if r_ours >= r_bm and m_ours >= m_bm else "   <- below the baseline"
        print(f"{name:16s} {len(items):5d}   {r_ours:14.3f} {r_bm:6.3f}   {m_ours:11.3f} {m_bm:6.3f}{flag}")
    store.close()


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    main()
