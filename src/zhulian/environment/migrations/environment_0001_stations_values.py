"""Environmental stations, their values and hourly and daily aggregates.

Revision ID: environment_0001
Revises:
Create Date: 2026-11-30 03:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "environment_0001"
down_revision = None
branch_labels = ("environment",)
depends_on = "0002"

AGGREGATES = ("env_hourly", "env_daily")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "env_stations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mn", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("city", sa.String(length=6), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("password_hash", sa.String(length=120), nullable=True),
        sa.Column("zone_class", sa.String(length=4), nullable=True),
        sa.Column("water_target", sa.String(length=4), nullable=True),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mn"),
    )
    op.create_index("ix_env_stations_city", "env_stations", ["city"])
    columns = ("station_id integer NOT NULL, time bigint NOT NULL, code varchar(16) NOT NULL, "
               "interval varchar(8) NOT NULL, value double precision, low double precision, high double precision, "
               "count double precision, flag varchar(1) NOT NULL, PRIMARY KEY (station_id, time, code, interval)")
    if postgres:  # monthly partitions (added as data arrive) and a BRIN index on time
        op.execute(f"CREATE TABLE env_values ({columns}) PARTITION BY RANGE (time)")
        op.execute("CREATE INDEX ix_env_values_time ON env_values USING brin (time)")
    else:
        op.execute(f"CREATE TABLE env_values ({columns}) WITHOUT ROWID")
    for name in AGGREGATES:
        op.execute(f"CREATE TABLE {name} (station_id integer NOT NULL, code varchar(16) NOT NULL, time bigint NOT NULL, "
                   "n integer NOT NULL, total double precision NOT NULL, low double precision, high double precision, "
                   "reported double precision, PRIMARY KEY (station_id, code, time))"
                   + ("" if postgres else " WITHOUT ROWID"))


def downgrade() -> None:
    for name in (*AGGREGATES, "env_values"):
        op.execute(f"DROP TABLE {name}")
    op.drop_index("ix_env_stations_city", table_name="env_stations")
    op.drop_table("env_stations")
