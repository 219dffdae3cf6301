"""Locks that hold across processes and end with the process that holds them, so a killed harvester leaves
nothing stale behind: a file lock (``flock``) for work tied to one machine's data folder, and one harvest of a
node at a time on a store (a file lock beside a SQLite database, a session advisory lock on PostgreSQL)."""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path
from typing import IO

import sqlalchemy as sa

from zhulian.store import Store


class FileLock:
    """An exclusive lock on a file, held until released or the process ends."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[bytes] | None = None

    def acquire(self, *, wait: bool = False) -> bool:
        """True once held; without ``wait``, False at once when another process holds it."""
        if self._handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("ab")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


class NodeHarvestLock:
    """One harvest of a given node at a time among all processes writing to this store (the server's schedule, a
    `zhulian harvest` beside it, several workers): two at once would fetch the same pages and one would be refused
    at commit."""

    def __init__(self, store: Store, node: str) -> None:
        self.store, self.node = store, node
        self._file: FileLock | None = None
        self._connection: sa.Connection | None = None

    def acquire(self, *, wait: bool = True) -> bool:
        if self.store.is_postgres:
            return self._acquire_advisory(wait)
        database = self.store.engine.url.database
        if not database or database == ":memory:":  # one process only: nothing to share the node with
            return True
        self._file = FileLock(Path(database).with_name(f"{Path(database).name}.harvest-{self.node}.lock"))
        return self._file.acquire(wait=wait)

    def release(self) -> None:
        if self._file is not None:
            self._file.release()
            self._file = None
        if self._connection is not None:
            self._connection.execute(sa.select(sa.func.pg_advisory_unlock(self._key())))
            self._connection.commit()
            self._connection.close()
            self._connection = None

    def _acquire_advisory(self, wait: bool) -> bool:
        connection = self.store.engine.connect()
        function = sa.func.pg_advisory_lock if wait else sa.func.pg_try_advisory_lock
        held = connection.execute(sa.select(function(self._key()))).scalar()
        connection.commit()  # the lock belongs to the session, not to this transaction
        if held is False:
            connection.close()
            return False
        self._connection = connection
        return True

    def _key(self) -> int:
        # The store's address is part of the key: stores in other databases or schemas harvest on their own.
        digest = hashlib.sha256(f"zhulian-harvest:{self.store.engine.url}:{self.node}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)
