"""Schema migrations (Alembic), run programmatically so ``zhulian init`` needs no alembic.ini.

The store's own tables live in ``store/migrations/versions``. A module that keeps tables of its own (federation,
registry, analytics, …) owns them in ``<module>/migrations/``: a branch of its own whose first revision has
``down_revision = None``, ``branch_labels = ("<module>",)`` and ``depends_on = "0002"`` (or whichever store
revision it needs). Upgrading goes to every head, so modules never have to agree on one linear history.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from zhulian.store.engine import WRITE

MIGRATIONS = Path(__file__).parent / "migrations"
PACKAGE = Path(__file__).parent.parent


def version_locations() -> list[Path]:
    modules = sorted(p for p in PACKAGE.glob("*/migrations") if p != MIGRATIONS and any(p.glob("*.py")))
    return [MIGRATIONS / "versions", *modules]


def alembic_config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("version_locations", " ".join(str(p) for p in version_locations()))
    config.set_main_option("path_separator", "space")
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine) -> None:
    # A write transaction from the start: on SQLite a read that turns into a write fails at once when another
    # process wrote meanwhile, where a write transaction waits its turn.
    with engine.connect() as connection:
        connection = connection.execution_options(**{WRITE: True})
        with connection.begin():
            command.upgrade(alembic_config(connection), "heads")
