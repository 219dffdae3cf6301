"""Fixtures: every store test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``ZHULIAN_TEST_POSTGRES_URL`` (default: the local server, database ``test``), as a role
that may create databases; each test gets a database of its own that is dropped afterwards. Without a server the
PostgreSQL half is skipped, unless ``ZHULIAN_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) turns that into a failure.

Each test's database is a copy of one migrated once per session (a file copy on SQLite, ``CREATE DATABASE …
TEMPLATE`` on PostgreSQL): running every migration took most of a store test's time. A copy is what the migrations
made, their version rows included, so ``migrate()`` on it finds nothing to do, as on a user's second start.
``test_migrate.py`` migrates empty databases from scratch.
"""

from __future__ import annotations

import os
import shutil
import uuid
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import sqlalchemy as sa

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


def postgres_database_url(name: str) -> str:
    """``ZHULIAN_TEST_POSTGRES_URL`` with its database replaced by ``name``."""
    return sa.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def postgres_admin(statement: str) -> None:
    """A statement such as CREATE DATABASE, which runs outside a transaction, on the test server."""
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(statement)


def create_postgres_database(template: str | None = None) -> str:
    """A new database, empty or a copy of ``template``; gives its name."""
    name = f"zl_test_{uuid.uuid4().hex[:12]}"
    postgres_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return name


def drop_postgres_database(name: str) -> None:
    """Even if a connection to it is still open, such as a server process the test started."""
    postgres_admin(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextmanager
def dropped_after(name: str) -> Iterator[str]:
    try:
        yield name
    finally:
        drop_postgres_database(name)


def _migrate(url: str) -> None:
    store = Store(url)
    store.migrate()
    store.close()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "zhulian.db"
    _migrate(f"sqlite:///{path}")
    # Closing the last connection checkpointed the write-ahead log into the file, so the file alone is the copy.
    assert not path.with_name(f"{path.name}-wal").exists()
    return path


@pytest.fixture(scope="session")
def postgresql_template() -> Iterator[str]:
    # CREATE DATABASE … TEMPLATE refuses while anyone is connected to the template: _migrate closes its store.
    with dropped_after(create_postgres_database()) as name:
        _migrate(postgres_database_url(name))
        yield name


@pytest.fixture(scope="session")
def postgresql_copies(postgresql_template: str) -> Iterator[Callable[[], str]]:
    """``take()`` gives the name of a new copy of the template. Each copy is made in a thread while the test
    before runs: CREATE DATABASE spends most of its time waiting on the disk, which the test leaves idle."""
    with ThreadPoolExecutor(max_workers=1) as maker:
        ahead = maker.submit(create_postgres_database, postgresql_template)

        def take() -> str:
            nonlocal ahead
            name, ahead = ahead.result(), maker.submit(create_postgres_database, postgresql_template)
            return name

        yield take
        drop_postgres_database(ahead.result())


def sqlite_copy(template: Path, path: Path) -> str:
    """The URL of a migrated SQLite database at ``path``, copied from ``template`` with its mode (0600)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def migrated_sqlite(sqlite_template: Path) -> Callable[[Path], str]:
    """``migrated_sqlite(path)`` puts a migrated SQLite database at ``path`` and gives its URL: for a store a
    test makes itself, such as a node's in its data folder."""
    return partial(sqlite_copy, sqlite_template)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_kind(request: pytest.FixtureRequest, postgres_available: bool) -> str:
    """Which database this test runs on: each test that asks for a database runs once on each."""
    if request.param == "postgresql" and not postgres_available:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    return request.param


@pytest.fixture
def migrated_database(database_kind: str, request: pytest.FixtureRequest,
                      tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``migrated_database(name)`` gives the URL of a new, migrated database of this test's kind (SQLite
    ``<tmp_path>/<name>.db`` or a PostgreSQL database of its own), for a test that needs more than one."""
    source = request.getfixturevalue("sqlite_template" if database_kind == "sqlite" else "postgresql_copies")
    with ExitStack() as databases:
        def make(name: str) -> str:
            if database_kind == "sqlite":
                return sqlite_copy(source, tmp_path / f"{name}.db")
            return postgres_database_url(databases.enter_context(dropped_after(source())))

        yield make


@pytest.fixture
def empty_database_url(database_kind: str, tmp_path: Path) -> Iterator[str]:
    """A database of this test's kind that nothing was migrated in, for the tests of migrating itself."""
    if database_kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    with dropped_after(create_postgres_database()) as name:
        yield postgres_database_url(name)


@pytest.fixture
def database_url(migrated_database: Callable[[str], str]) -> str:
    return migrated_database("zhulian")


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    store = Store(database_url)
    store.migrate()
    yield store
    store.close()


@pytest.fixture
def sqlite_store(tmp_path: Path, sqlite_template: Path) -> Iterator[Store]:
    """For the tests over HTTP, which add the web layer to what the service tests run on both databases."""
    store = Store(sqlite_copy(sqlite_template, tmp_path / "zhulian.db"))
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
