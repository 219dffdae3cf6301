"""The SensorThings view's tables: sensors, observed properties and datastreams (station × parameter), with the
HJ 212 instrument and the air pollutants' properties packaged. Datastreams are added as a station's first value of a parameter arrives.

Revision ID: environment_0002
Revises: environment_0001
Create Date: 2026-11-30 04:30:00
"""

import sqlalchemy as sa
from alembic import op

from zhulian.environment.sta_catalogue import HJ212_SENSOR_ROW, PROPERTY_ROWS

revision = "environment_0002"
down_revision = "environment_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    sensors = op.create_table(
        "env_sensors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("encoding_type", sa.String(length=100), nullable=False),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    properties = op.create_table(
        "env_properties",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("definition", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "env_datastreams",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("unit", sa.JSON(), nullable=False),
        sa.Column("observation_type", sa.String(length=200), nullable=False),
        sa.Column("sensor_id", sa.Integer(), nullable=False),
        sa.Column("property_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("station_id", "code"),
    )
    op.create_index("ix_env_datastreams_sensor", "env_datastreams", ["sensor_id"])
    op.create_index("ix_env_datastreams_property", "env_datastreams", ["property_id"])
    op.bulk_insert(sensors, [HJ212_SENSOR_ROW])
    op.bulk_insert(properties, PROPERTY_ROWS)
    if op.get_bind().dialect.name == "postgresql":  # explicit ids above: move the sequences past them
        for table in ("env_sensors", "env_properties"):
            op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def downgrade() -> None:
    op.drop_index("ix_env_datastreams_property", table_name="env_datastreams")
    op.drop_index("ix_env_datastreams_sensor", table_name="env_datastreams")
    for table in ("env_datastreams", "env_properties", "env_sensors"):
        op.drop_table(table)
