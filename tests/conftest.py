"""Fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``ZHULIAN_TEST_POSTGRES_URL`` (default: the local server, database ``test``); each test
gets a fresh schema that is dropped afterwards. Without a server the PostgreSQL half is skipped, unless
``ZHULIAN_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) turns that into a failure.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from collections.abc import Iterator

import psycopg
import pytest

from zhulian.store import Store

POSTGRES_URL = os.environ.get("ZHULIAN_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return None
    except psycopg.Error as error:
        return str(error).strip()


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    problem = _postgres_problem()
    if problem and os.environ.get("ZHULIAN_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required but unreachable at {POSTGRES_URL}: {problem}")
    return problem is None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path, postgres_available: bool) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zhulian.db'}"
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    schema = f"zl_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    try:
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """For the tests over HTTP, which add the web layer to what the service tests run on both databases."""
    store = Store(f"sqlite:///{tmp_path / 'zhulian.db'}")
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def run(database_url: str, tmp_path, monkeypatch: pytest.MonkeyPatch):
    """The ``zhulian`` command as a user runs it, in an empty folder, on this test's database:
    ``run("list", "policy", "--json", code=0)`` returns the result after checking the exit code."""
    from typer.testing import CliRunner

    from zhulian.cli import app

    monkeypatch.setenv("ZHULIAN_DATA_DIR", str(tmp_path / "data"))
    if database_url.startswith("postgresql"):
        monkeypatch.setenv("ZHULIAN_DATABASE_URL", database_url)
    else:
        monkeypatch.delenv("ZHULIAN_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def invoke(*args, code: int = 0):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == code, result.output + str(result.exception or "")
        return result

    return invoke


@pytest.fixture(scope="module")
def browser():
    """Chromium for one browser test module (``tests/browser.py``: Debian's, never a downloaded one)."""
    from tests.browser import launched, require_chromium

    require_chromium()
    with launched() as browser:
        yield browser
