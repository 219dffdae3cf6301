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
