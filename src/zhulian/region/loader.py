"""Loading the seed records into a store, idempotently."""

from __future__ import annotations

from collections import Counter

from zhulian.region.seed import RECORDS
from zhulian.store import Store


def load_region(store: Store) -> Counter[str]:
    """Load the seed records in one transaction, matched by their ``ref`` pids, so that loading again
    changes nothing. Returns how many were created, updated and left unchanged."""
    outcomes: Counter[str] = Counter()
    with store.transaction() as writer:
        for record in RECORDS:
            _, outcome = writer.upsert(record)
            outcomes[outcome] += 1
    return outcomes
