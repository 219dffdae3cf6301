"""A background thread that keeps something derived (the search index, the network tables) current from the
store's change feed while a server runs."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class FeedFollower(threading.Thread):
    """Calls ``step`` — apply what the feed holds beyond the derived state, return how many entries — until
    stopped, waiting ``interval`` seconds whenever a step found nothing to do. A failing step is tried again
    after the wait: the feed is still there. Its traceback is logged once for as long as it fails the same way
    (a deleted data folder used to log one every poll), and the recovery once."""

    def __init__(self, name: str, step: Callable[[], int], interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.step = step
        self.interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        failing: str | None = None
        while not self._stop_event.is_set():
            try:
                applied = self.step()
            except Exception as error:
                said = f"{type(error).__name__}: {error}"
                if said != failing:
                    failing = said
                    log.exception("%s: 应用变更流失败，将每 %s 秒重试 / applying the change feed failed; retrying "
                                  "every %s s", self.name, self.interval, self.interval)
                self._stop_event.wait(self.interval)
                continue
            if failing is not None:
                log.warning("%s: 变更流恢复应用 / applying the change feed works again", self.name)
                failing = None
            if not applied:
                self._stop_event.wait(self.interval)

    def stop(self, timeout: float = 10) -> None:
        self._stop_event.set()
        self.join(timeout)
