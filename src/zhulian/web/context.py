"""What a module's router gets from the web app: the services it is thin over, and ``while_serving``, the one
way a module runs background work (a feed follower, a schedule, a notifier) with the app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import anyio
from fastapi import Request

from zhulian.access import Principal
from zhulian.config import Settings
from zhulian.records import RecordService
from zhulian.search.service import SearchService
from zhulian.store import Store


@dataclass(frozen=True)
class WebContext:
    settings: Settings
    store: Store
    records: RecordService
    search: SearchService
    principal_of: Callable[[Request], Principal]


class Worker(Protocol):
    """Background work: ``start`` begins it in its own thread, ``stop`` ends it and waits for the thread."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def while_serving(*workers: Callable[[], Worker | None]) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    """A router's ``lifespan`` (``APIRouter(lifespan=while_serving(...))``): each time the app starts serving,
    every factory makes its worker afresh (None: not wanted now) and starts it; when the app stops, they are
    stopped, last first, off the event loop. An app that is made but never served starts nothing."""
    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        started: list[Worker] = []
        try:
            for make in workers:
                worker = make()
                if worker is not None:
                    worker.start()
                    started.append(worker)
            yield
        finally:
            for worker in reversed(started):
                await anyio.to_thread.run_sync(worker.stop)  # joins a thread: not on the event loop

    return lifespan
