"""PostgreSQL: each month's partition of ``env_values`` is vacuumed after every 100,000 values inserted, not after a
fifth of its rows (the default), so the visibility map covers all but the last hour or so of a busy month. A
station's last 24 hours are read by an index-only scan of the covering key; on pages the map does not mark yet,
every value costs a heap fetch (bench/env_bench.py: ~15 ms of the server's time for 8,640 values, against ~2.5 ms
once vacuumed). With the default, by the fifth day of a month the last day is never vacuumed before it is read.
The service creates new partitions with the same settings.

Revision ID: environment_0008
Revises: environment_0007
Create Date: 2026-11-30 13:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "environment_0008"
down_revision = "environment_0007"
branch_labels = None
depends_on = None

SETTINGS = "autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_insert_threshold = 100000"


def _partitions() -> list[str]:
    return list(op.get_bind().execute(sa.text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON "
        "p.oid = i.inhparent WHERE p.relname = 'env_values' AND p.relnamespace = current_schema()::regnamespace"
    )).scalars())


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for partition in _partitions():
            op.execute(f"ALTER TABLE {partition} SET ({SETTINGS})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for partition in _partitions():
            op.execute(f"ALTER TABLE {partition} RESET (autovacuum_vacuum_insert_scale_factor, "
                       "autovacuum_vacuum_insert_threshold)")
