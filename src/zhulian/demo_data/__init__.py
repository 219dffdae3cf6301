"""A small real sample for ``zhulian demo`` (under 2 MB, licences and sources in README.md here): the
universities of the nine PRD cities (MoE list), Chinese papers (CSL, Apache-2.0) and patents (KPPatent-ZH,
MIT) on the region's industries, and three demands written from needs the seed document states (marked as
such), so that search, matching and the portal show real results on a fresh install.
Each file is read through a built-in import mapping, as ``zhulian import FILE --mapping NAME`` would."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).parent


def sample_files() -> list[tuple[Path, str, str | None]]:
    """The sample's files in the order to import them: (path, record type, import mapping name)."""
    return [(HERE / "prd_universities.csv", "organization", "moe-universities"),
            (HERE / "csl_papers.tsv", "paper", "csl"),
            (HERE / "kppatent_patents.jsonl", "patent", "kppatent"),
            (HERE / "seed_demands.jsonl", "demand", None)]
