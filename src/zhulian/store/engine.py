"""Engines for the two databases the store runs on, each set up the way the store relies on."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

from zhulian.errors import Problem, ZhulianError, invalid

WRITE = "zhulian_write"
# How long a write waits for a lock another transaction holds (SQLite's one write lock, a PostgreSQL row or
# the change feed's append lock) before it gives up with a 503 ``busy``: a long import must never make
# another writer hang, and a retry a few seconds later is something a client can act on.
WRITE_WAIT_S = 10


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = _sqlite_engine(url)
    else:
        # No server-side prepared statements: psycopg prepares a query after five runs, and PostgreSQL's
        # generic plan for a look-up by a list of identifiers, made while an import fills a new table,
        # scans the table on every later batch.
        engine = sa.create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})
        event.listen(engine, "begin", _bounded_lock_wait)
    event.listen(engine, "handle_error", _refuse_unstorable)
    event.listen(engine, "handle_error", _answer_busy)
    return engine


def _bounded_lock_wait(connection: sa.Connection) -> None:
    if connection.get_execution_options().get(WRITE):
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{WRITE_WAIT_S}s'")


def _answer_busy(context: sa.engine.ExceptionContext) -> None:
    """A write that waited ``WRITE_WAIT_S`` for a lock is answered 503 ``busy`` (the web layer adds a
    Retry-After from the running jobs' progress), not a 500 or a hang."""
    error = context.original_exception
    if "database is locked" in str(error) or getattr(error, "sqlstate", None) == "55P03":  # lock_not_available
        raise ZhulianError(
            "busy", "Another write, such as a long import, holds what this write needs; nothing was written. "
            "Send it again in a few seconds (see Retry-After).",
            "另一项写入（例如正在进行的大批量导入）正占用本次写入所需的数据，未写入任何内容。请几秒后重新提交（见 Retry-After）。",
            503) from None


def _refuse_unstorable(context: sa.engine.ExceptionContext) -> None:
    """A value the database cannot hold is the caller's mistake, answered as a 400 rather than a 500: a NUL
    character (PostgreSQL's text and JSONB refuse it) or a number beyond a 64-bit column. Checked when the
    database refuses, so that every other statement pays nothing."""
    error = context.original_exception
    text = str(error)
    if "NUL (0x00)" in text or "\\u0000 cannot be converted" in text:
        raise invalid([Problem("(value)", None, "a value holds a NUL character (\\x00), which cannot be stored; remove it",
                               "某个值含有空字符（\\x00），无法保存，请删除")], "query") from None
    if isinstance(error, OverflowError) or "out of range" in text:
        raise invalid([Problem("(value)", None, "a number is beyond what the database holds (at most 2^63-1)",
                               "数值超出数据库可保存的范围（最大 2^63-1）")], "query") from None


def _sqlite_engine(url: str) -> sa.Engine:
    database = sa.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        # Readable by this user only, as the records include internal ones and the API keys' digests; SQLite
        # creates its -wal and -shm files with the database file's mode.
        Path(database).touch(mode=0o600, exist_ok=True)
    # A pool at least as large as the server's worker threads (ZHULIAN_THREADS): an overflow connection
    # is opened and closed for every request, and each opening re-runs the pragmas below.
    engine = sa.create_engine(url, connect_args={"timeout": WRITE_WAIT_S}, pool_size=40, max_overflow=20)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        # The driver's own transaction handling is switched off so that BEGIN is ours to emit (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: bulk imports touch many index pages
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        # A write transaction takes the write lock up front, so two writers queue instead of failing
        # when both try to upgrade a read lock; readers still begin deferred and never wait on WAL.
        connection.exec_driver_sql("BEGIN IMMEDIATE" if connection.get_execution_options().get(WRITE) else "BEGIN")

    return engine
