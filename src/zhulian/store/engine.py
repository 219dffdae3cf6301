"""Engines for the two databases the store runs on, each set up the way the store relies on."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event

WRITE = "zhulian_write"


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    # No server-side prepared statements: psycopg prepares a query after five runs, and PostgreSQL's
    # generic plan for a look-up by a list of identifiers, made while an import fills a new table,
    # scans the table on every later batch.
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"prepare_threshold": None})


def _sqlite_engine(url: str) -> sa.Engine:
    database = sa.make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # A pool at least as large as the server's worker threads (ZHULIAN_THREADS): an overflow connection
    # is opened and closed for every request, and each opening re-runs the pragmas below.
    engine = sa.create_engine(url, connect_args={"timeout": 30}, pool_size=40, max_overflow=20)

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
