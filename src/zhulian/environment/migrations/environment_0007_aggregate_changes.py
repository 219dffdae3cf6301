"""The hourly and daily aggregates federate (docs/modules.md §8): each row carries ``change_seq``, a serial bumped
on every change from one sequence the module owns (``env_aggregate_changes``: a sequence on PostgreSQL, a one-row
counter on SQLite), and ``version``, the change seq of the row on the node where its values were measured (on a
hub, the district's), so a hub takes an entry only when it is newer than the one it holds. Rows already stored are
numbered in time order.

Revision ID: environment_0007
Revises: environment_0006
Create Date: 2026-11-30 08:15:00
"""

import sqlalchemy as sa
from alembic import op

revision = "environment_0007"
down_revision = "environment_0006"
branch_labels = None
depends_on = None

TABLES = ("env_hourly", "env_daily")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    numbered = 0
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("change_seq", sa.BigInteger, nullable=True))
            batch.add_column(sa.Column("version", sa.BigInteger, nullable=True))
        op.execute(f"UPDATE {table} SET change_seq = numbered.n + {numbered}, version = numbered.n + {numbered} "
                   f"FROM (SELECT station_id, code, time, row_number() OVER (ORDER BY time, station_id, code) AS n "
                   f"FROM {table}) AS numbered WHERE {table}.station_id = numbered.station_id "
                   f"AND {table}.code = numbered.code AND {table}.time = numbered.time")
        numbered += op.get_bind().execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
        op.create_index(f"ix_{table}_change_seq", table, ["change_seq"])
    if postgres:
        op.execute(f"CREATE SEQUENCE env_aggregate_changes START WITH {numbered + 1}")
    else:
        op.execute("CREATE TABLE env_aggregate_changes (last BIGINT NOT NULL)")
        op.execute(f"INSERT INTO env_aggregate_changes (last) VALUES ({numbered})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE env_aggregate_changes")
    else:
        op.execute("DROP TABLE env_aggregate_changes")
    for table in TABLES:
        op.drop_index(f"ix_{table}_change_seq", table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("version")
            batch.drop_column("change_seq")
