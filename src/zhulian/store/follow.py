"""A background thread that keeps something derived (the search index, the network tables) current from the
store's change feed while a server runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class FeedFollower(threading.Thread):
    """Calls ``step`` — apply what the feed holds beyond the derived state, return how many entries — until
    stopped, waiting ``interval`` seconds whenever a step found nothing to do. A failing step is logged and
    tried again after the wait: the feed is still there."""

    def __init__(self, name: str, step: Callable[[], int], interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.step = step
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                applied = self.step()
            except Exception:
                log.exception("%s: applying the change feed failed", self.name)
                applied = 0
            if not applied:
                self._stop_event.wait(self.interval)

    def stop(self, timeout: float = 10) -> None:
        self._stop_event.set()
        self.join(timeout)
