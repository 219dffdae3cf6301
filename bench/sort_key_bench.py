"""What the pinyin sort key costs each write (records.sort_name, sort=name): ``pinyin_sort_key`` against
pypinyin's ``lazy_pinyin`` (the baseline: the library call the key replaces) over the demo's real names, and the
store's whole write of a record beside them for scale. Medians of each round's per-name p50, rounds alternating.

    PYTHONPATH=src python bench/sort_key_bench.py --rounds 5
"""

from __future__ import annotations

import argparse
import csv
import json
import time

from common import ROOT, alternate, machine, report_at_exit, work_folder
from pypinyin import lazy_pinyin

from zhulian.store import Store
from zhulian.text import pinyin_sort_key

SAMPLE = ROOT / "src" / "zhulian" / "demo_data"


def real_names() -> list[str]:
    """The demo's university names, paper titles and patent titles: 1,143 real labels."""
    with (SAMPLE / "prd_universities.csv").open(encoding="utf-8") as handle:
        names = [row["name"] for row in csv.DictReader(handle)]
    with (SAMPLE / "csl_papers.tsv").open(encoding="utf-8") as handle:
        names += [line.split("\t")[1] for line in list(handle)[1:]]
    with (SAMPLE / "kppatent_patents.jsonl").open(encoding="utf-8") as handle:
        names += [json.loads(line)["title"] for line in handle]
    return names


def timed(function, names: list[str]) -> list[float]:
    samples = []
    for name in names:
        started = time.perf_counter()
        function(name)
        samples.append((time.perf_counter() - started) * 1e6)
    return samples


def write_cost(names: list[str]) -> float:
    """Microseconds per record for the store to write organisations named ``names`` (SQLite, one transaction)."""
    with work_folder("zhulian-sortkey-") as folder:
        store = Store(f"sqlite:///{folder / 'z.db'}")
        store.migrate()
        started = time.perf_counter()
        with store.transaction() as writer:
            writer.upsert_many([{"type": "organization", "name": {"zh": name[:500]}} for name in names])
        store.close()
        return (time.perf_counter() - started) * 1e6 / len(names)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    names = real_names()
    pinyin_sort_key("长沙"), lazy_pinyin("长沙")  # both load their dictionaries before the clock starts
    figures = alternate({"pinyin_sort_key": lambda: timed(pinyin_sort_key, names),
                         "lazy_pinyin (baseline)": lambda: timed(lazy_pinyin, names)}, args.rounds)
    print(f"{len(names)} real names, {args.rounds} rounds; {machine()}")
    for name, figure in figures.items():
        print(f"{name:>24}: p50 {figure['p50']:.1f} µs  p95 {figure['p95']:.1f} µs per name")
    ratio = figures["lazy_pinyin (baseline)"]["p50"] / figures["pinyin_sort_key"]["p50"]
    print(f"{'ratio':>24}: the key takes 1/{ratio:.1f} of lazy_pinyin's time")
    print(f"{'store write':>24}: {write_cost(names):.0f} µs per record, sort key included; {machine()}")


if __name__ == "__main__":
    report_at_exit()
    main()
