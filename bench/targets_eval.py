"""Target extraction judged on text it was not tuned on (issue 16), beside an any-number baseline in the same run.

    PYTHONPATH=src python bench/targets_eval.py [--show]

Data: tests/data/targets_dev.json (development: the rules were tuned on it) and tests/data/targets_test.json
(held out: other documents, gold written before the extractor ever read them). Both are real sentences from
public Chinese policy documents and the news that reports them, each with its source and hand-checked targets;
sentences with no target are negatives. A proposal is right when its sentence has a gold target with the same
value, unit, comparator and year. Precision = right / proposed, recall = right / gold; "quiet negatives" is the
share of negative sentences from which nothing was proposed. Figures are broken down per comparator and per
unit kind.

Baseline: every number followed by a known unit is a target with comparator ≥ and the first 4-digit year of the
sentence — what a regular expression without the extractor's rules finds.

Also: the seed's own passages (../shared/seeds/000_630e50ae92f037f8.txt) against tests/data/seed_targets_gold.json
(indicator code, value, unit), which must all be found, and the speed on ~1 MB of text.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
SEED = next((p / "shared" / "seeds" / "000_630e50ae92f037f8.txt" for p in ROOT.parents
             if (p / "shared" / "seeds").is_dir()), ROOT.parent / "shared" / "seeds" / "000_630e50ae92f037f8.txt")


def baseline(text: str) -> list:
    from zhulian.indicators.extract import NUMBER, UNIT, Proposal, digits

    read = digits(text)
    year = re.search(r"(\d{4})年", read)
    return [Proposal(indicator="", comparator=">=", value=float(m[1]), unit=m[2], clause=read,
                     year=int(year[1]) if year else None)
            for m in re.finditer(r"(" + NUMBER + r")(" + UNIT + ")", read) if m[2] != "年" or "." in m[1]]


def extractor(text: str) -> list:
    from zhulian.indicators.extract import extract_targets

    return extract_targets(text).proposals


def held_out(name: str, show: bool) -> None:
    from zhulian.indicators.evaluate import score_held_out
    from zhulian.model.indicators import unit_kind

    data = json.loads((DATA / f"targets_{name}.json").read_text(encoding="utf-8"))
    items = data["items"]
    gold = sum(len(i["targets"]) for i in items)
    print(f"\n== {data['split']} set: {len(items)} sentences, {gold} targets, "
          f"{sum(1 for i in items if not i['targets'])} negative sentences")
    results = {label: score_held_out(items, extract) for label, extract in
               (("extractor", extractor), ("baseline: any number + unit", baseline))}
    for label, result in results.items():
        print(f"  {label:<30} precision {result.precision:.3f}  recall {result.recall:.3f}  "
              f"(right {len(result.right)}, wrong {len(result.wrong)}, missed {len(result.missed)})  "
              f"quiet negatives {result.quiet_negatives}/{result.negatives} "
              f"= {result.quiet_negatives / max(1, result.negatives):.2f}")
    for title, key in (("comparator", lambda t: t["comparator"]), ("unit kind", lambda t: unit_kind(t["unit"]))):
        print(f"  per {title} (right/wrong/missed), extractor | baseline:")
        ours, base = results["extractor"].by(key), results["baseline: any number + unit"].by(key)
        for value in sorted(set(ours) | set(base)):
            print(f"    {value:<16} {'/'.join(map(str, ours.get(value, (0, 0, 0)))):>10} | "
                  f"{'/'.join(map(str, base.get(value, (0, 0, 0))))}")
    if show:
        result = results["extractor"]
        for item, proposal in result.wrong:
            print(f"  wrong  {proposal.comparator} {proposal.value:g} {proposal.unit} {proposal.year}"
                  f"  «{item['text'][:60]}»")
        for item, target in result.missed:
            print(f"  missed {target['comparator']} {target['value']:g} {target['unit']} {target['year']}"
                  f"  «{item['text'][:60]}»")


def seed() -> None:
    from zhulian.indicators.evaluate import score
    from zhulian.indicators.extract import extract_targets

    if not SEED.exists():
        print(f"\nseed text not found at {SEED}")
        return
    text = SEED.read_text(encoding="utf-8")
    gold = json.loads((DATA / "seed_targets_gold.json").read_text(encoding="utf-8"))["targets"]
    result = score(extract_targets(text).proposals, gold)
    print(f"\n== seed passages: {len(result.matched)}/{len(gold)} gold targets found, {len(result.spurious)} extra")
    for target in result.missed:
        print(f"  missed  {target['indicator_code']} {target['value']:g} {target['unit']}  «{target['clause']}»")
    big = (text + "\n") * max(1, 1_000_000 // len(text))
    for label, extract in (("extractor", extractor), ("baseline", baseline)):
        started = time.perf_counter()
        extract(big)
        seconds = time.perf_counter() - started
        print(f"  speed, {label}: {len(big) / seconds / 1e6:.2f} MB/s ({len(big):,} characters in {seconds:.2f} s)")


def main() -> int:
    show = "--show" in sys.argv
    for name in ("dev", "test"):
        held_out(name, show)
    seed()
    return 0


if __name__ == "__main__":
    from common import report_at_exit  # the bench's own folder leads sys.path

    report_at_exit()
    sys.exit(main())
