"""PostgreSQL: the values' primary key also carries ``value`` and ``flag``, so a station's raw values over a span
(its last 24 hours: 8,640 minute values) are read by an index-only scan of each month's partition instead of one
heap page per few rows (rows of every station arrive interleaved). SQLite's table is stored in key order already.

Revision ID: environment_0006
Revises: environment_0005
Create Date: 2026-11-30 07:10:00
"""

from alembic import op

revision = "environment_0006"
down_revision = "environment_0005"
branch_labels = None
depends_on = None

KEY = "station_id, time, code, interval"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE env_values DROP CONSTRAINT env_values_pkey, ADD PRIMARY KEY ({KEY}) INCLUDE (value, flag)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE env_values DROP CONSTRAINT env_values_pkey, ADD PRIMARY KEY ({KEY})")
