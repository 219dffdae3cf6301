"""Search over real text: CSL Chinese scientific papers from ../shared/data (skipped when absent)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from zhulian.search import SearchService
from zhulian.text import normalize

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CSL = DATA / "csl" / "csl_full_fields_union.tsv"
N = 300


@pytest.fixture
def papers() -> list[dict]:
    if not CSL.exists():
        pytest.skip(f"real data not found at {CSL} (the shared data folder sits beside the checkout in CI)")
    with CSL.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))[:N]
    return [{"type": "paper", "title": {"zh": r["title"][:500]}, "abstract": r["abstract"][:5000],
             "keywords": [k[:100] for k in r["keywords"].split(";") if k.strip()][:50],
             "disciplines": [r["discipline"]] if r.get("discipline") else [], "category": r.get("category") or None,
             "language": "zh"} for r in rows]


def test_csl_titles_partial_titles_traditional_and_keywords(store, tmp_path: Path, papers: list[dict]) -> None:
    import opencc

    with store.transaction() as writer:
        stored = [writer.upsert(paper)[0] for paper in papers]
    service = SearchService(store, path=tmp_path / "index")
    service.rebuild()
    to_traditional = opencc.OpenCC("s2t")
    top1 = partial = traditional = keyword = 0
    sample = stored[::10]
    for record in sample:
        title = record["title"]["zh"]
        top1 += service.search(title, per_page=10, highlights=False)["results"][0]["id"] == record["id"]
        part = title[: max(4, len(title) // 2)]
        partial += record["id"] in [r["id"] for r in service.search(part, per_page=10)["results"]]
        hant = to_traditional.convert(title)
        traditional += service.search(hant, per_page=1)["results"][0]["id"] == record["id"]
        word = record["keywords"][0]
        keyword += any(normalize(word) in [normalize(k) for k in r.get("keywords", [])]
                       for r in service.search(word, per_page=10)["results"])
    n = len(sample)
    assert top1 == n and traditional == n
    assert partial >= 0.9 * n and keyword >= 0.9 * n
