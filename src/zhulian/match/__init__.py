"""Technology supply ↔ demand matching (DESIGN §1, match): a demand finds the achievements, patents,
papers, platforms and instruments that can answer it, with reasons; the experts behind them; and
enterprises' expressions of interest, answered by the owner's node."""

from zhulian.match.service import MATCH_TYPES, MatchService

__all__ = ["MATCH_TYPES", "MatchService"]
