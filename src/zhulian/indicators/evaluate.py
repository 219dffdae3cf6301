"""Precision and recall of the target extractor against a hand-made list of the targets a text states."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from zhulian.indicators.extract import Proposal


@dataclass
class Score:
    matched: list[tuple[Proposal, dict[str, Any]]] = field(default_factory=list)
    spurious: list[Proposal] = field(default_factory=list)  # proposed, not in the gold list
    missed: list[dict[str, Any]] = field(default_factory=list)  # in the gold list, not proposed

    @property
    def precision(self) -> float:
        proposed = len(self.matched) + len(self.spurious)
        return len(self.matched) / proposed if proposed else 1.0

    @property
    def recall(self) -> float:
        stated = len(self.matched) + len(self.missed)
        return len(self.matched) / stated if stated else 1.0

    def agreement(self, field_name: str) -> tuple[int, int]:
        """Of the matched targets whose gold entry gives ``field_name``, how many the proposal got right."""
        judged = [(p, g) for p, g in self.matched if g.get(field_name) is not None]
        return sum(1 for p, g in judged if getattr(p, field_name) == g[field_name]), len(judged)


def same_target(proposal: Proposal, gold: dict[str, Any]) -> bool:
    """The same target: the same indicator, the same number (and upper number) in the same unit."""
    return (proposal.indicator_code == gold["indicator_code"] and proposal.value == gold["value"]
            and proposal.value_max == gold.get("value_max") and proposal.unit == gold["unit"])


def score(proposals: list[Proposal], gold: list[dict[str, Any]]) -> Score:
    result = Score()
    remaining = list(gold)
    for proposal in proposals:
        match = next((g for g in remaining if same_target(proposal, g)), None)
        if match is None:
            result.spurious.append(proposal)
        else:
            remaining.remove(match)
            result.matched.append((proposal, match))
    result.missed = remaining
    return result


TUPLE_FIELDS = ("value", "unit", "comparator", "year")


@dataclass
class HeldOutScore:
    """Precision and recall on (value, unit, comparator, year) over sentences with hand-checked targets."""

    right: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)  # (item, gold target)
    wrong: list[tuple[dict[str, Any], Proposal]] = field(default_factory=list)  # proposed, not in the gold
    missed: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    quiet_negatives: int = 0  # negative sentences from which nothing was proposed
    negatives: int = 0

    @property
    def precision(self) -> float:
        proposed = len(self.right) + len(self.wrong)
        return len(self.right) / proposed if proposed else 1.0

    @property
    def recall(self) -> float:
        stated = len(self.right) + len(self.missed)
        return len(self.right) / stated if stated else 1.0

    def by(self, key: Any) -> dict[str, tuple[int, int, int]]:
        """(right, wrong, missed) per value of ``key`` (a function of a target or proposal as a dict)."""
        counts: dict[str, list[int]] = {}
        for column, pairs in enumerate((self.right, self.wrong, self.missed)):
            for _item, target in pairs:
                counts.setdefault(str(key(_as_tuple(target))), [0, 0, 0])[column] += 1
        return {name: (r, w, m) for name, (r, w, m) in sorted(counts.items())}


def _as_tuple(target: Any) -> dict[str, Any]:
    return {name: (target.get(name) if isinstance(target, dict) else getattr(target, name)) for name in TUPLE_FIELDS}


def score_held_out(items: list[dict[str, Any]], extract: Any) -> HeldOutScore:
    """``extract(text)`` gives the proposals for each item's sentence; a proposal is right when a gold target
    of the same sentence has the same value, unit, comparator and year (each gold target counts once)."""
    result = HeldOutScore()
    for item in items:
        remaining = [_as_tuple(t) for t in item["targets"]]
        proposals = extract(item["text"])
        if not item["targets"]:
            result.negatives += 1
            result.quiet_negatives += not proposals
        for proposal in proposals:
            found = _as_tuple(proposal)
            if found in remaining:
                remaining.remove(found)
                result.right.append((item, found))
            else:
                result.wrong.append((item, proposal))
        result.missed += [(item, target) for target in remaining]
    return result
