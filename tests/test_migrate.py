"""Migrating an empty database reaches every head (the store's and each module's), on SQLite and PostgreSQL;
the migrated copies the other tests run on (conftest) are that same database, with nothing left to migrate."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from zhulian.store import Store
from zhulian.store.migrate import alembic_config


def _every_head() -> set[str]:
    return set(ScriptDirectory.from_config(alembic_config(None)).get_heads())


def _state(store: Store) -> tuple[set[str], dict[str, list[str]]]:
    """The revisions the database is at, and its tables with their columns."""
    with store.engine.connect() as connection:
        revisions = set(MigrationContext.configure(connection).get_current_heads())
        inspector = sa.inspect(connection)
        tables = {table: [column["name"] for column in inspector.get_columns(table)]
                  for table in inspector.get_table_names()}
    return revisions, tables


def test_an_empty_database_migrates_to_every_head_and_then_holds_records(empty_database_url: str) -> None:
    store = Store(empty_database_url)
    try:
        assert _state(store) == (set(), {})
        store.migrate()
        revisions, tables = _state(store)
        assert revisions == _every_head() and "records" in tables
        created = store.create({"type": "organization", "name": {"zh": "中山大学"}, "pids": {"ref": "sysu"}})
        assert store.get("ref:sysu")["id"] == created["id"]
    finally:
        store.close()


def test_a_test_database_is_what_migrating_an_empty_one_makes(database_url: str, empty_database_url: str) -> None:
    copy, fresh = Store(database_url), Store(empty_database_url)
    try:
        fresh.migrate()
        before = _state(copy)
        assert before == _state(fresh) and before[0] == _every_head()
        copy.migrate()
        assert _state(copy) == before
    finally:
        copy.close()
        fresh.close()
