"""Target extraction on the seed's own policy passages (issue 8, evaluation), beside a baseline in the same run.

    python bench/targets_eval.py

Text: ../shared/seeds/000_630e50ae92f037f8.txt. Gold: tests/data/seed_targets_gold.json, 17 numeric targets made
by hand from that text (how they were chosen is written in the file). A proposal matches a gold target when it
names the same indicator code, the same value (and upper value) and the same unit; each gold target matches
once. Precision = matched / proposed, recall = matched / gold. For matched targets the comparator, year,
region and 力争 flag are compared with the gold list too.

Baseline: every number followed by a known unit in the text is a target, its indicator is what
``match_indicator`` makes of the clause it stands in, and its comparator is ≥ — what a regular expression
without the extractor's rules (cues, verbs, denominators, 分别, enumerations, dedup) finds.

Speed: the seed text repeated to about 1 MB, extracted once, for both.
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT.parent / "shared" / "seeds" / "000_630e50ae92f037f8.txt"
GOLD = ROOT / "tests" / "data" / "seed_targets_gold.json"


def baseline(text: str) -> list:
    from zhulian.indicators.extract import _UNIT, Proposal, _digits, _fold, match_indicator

    found = []
    for clause in re.split(r"[,，。；;\n]", _digits(_fold(text))):
        for match in re.finditer(r"(\d+(?:\.\d+)?)(" + _UNIT + ")", clause):
            found.append(Proposal(indicator=clause[:match.start()], comparator=">=", value=float(match[1]),
                                  unit=match[2], clause=clause, indicator_code=match_indicator(clause[:match.start()])))
    return found


def report(name: str, proposals: list, gold: list, seconds: float, size: int) -> None:
    from zhulian.indicators.evaluate import score

    result = score(proposals, gold)
    print(f"\n== {name}")
    print(f"proposed {len(proposals)}  matched {len(result.matched)}  gold {len(gold)}")
    print(f"precision {result.precision:.3f}  recall {result.recall:.3f}")
    for field in ("comparator", "year", "region", "aspirational"):
        right, judged = result.agreement(field)
        print(f"  {field:<13} right {right}/{judged}")
    print(f"speed: {size / seconds / 1e6:.2f} MB/s ({size:,} characters in {seconds:.2f} s)")
    for proposal, _gold in result.matched:
        print(f"  found   {proposal.indicator_code:<36} {proposal.comparator:<7} {proposal.value:g}"
              f"{'–%g' % proposal.value_max if proposal.value_max is not None else ''} {proposal.unit or ''}"
              f"  year={proposal.year} region={proposal.region}")
    for proposal in result.spurious[:15]:
        print(f"  extra   {proposal.indicator_code or '?':<36} {proposal.value:g} {proposal.unit or ''}"
              f"  «{proposal.clause[:40]}»")
    if len(result.spurious) > 15:
        print(f"  … {len(result.spurious) - 15} more extra")
    for target in result.missed:
        print(f"  missed  {target['indicator_code']:<36} {target['value']:g} {target['unit']}  «{target['clause']}»")


def main() -> int:
    if not SEED.exists():
        print(f"seed text not found at {SEED}; nothing to measure")
        return 0
    from zhulian.indicators.extract import extract_targets

    text = SEED.read_text(encoding="utf-8")
    gold = json.loads(GOLD.read_text(encoding="utf-8"))["targets"]
    big = (text + "\n") * max(1, 1_000_000 // len(text))
    for name, extractor in (("zhulian.indicators extractor", lambda t: extract_targets(t).proposals),
                            ("baseline: number + unit", baseline)):
        proposals = extractor(text)
        started = time.perf_counter()
        extractor(big)
        report(name, proposals, gold, time.perf_counter() - started, len(big))
    return 0


if __name__ == "__main__":
    sys.exit(main())
