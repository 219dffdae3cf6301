"""The SensorThings view's tables: sensors, observed properties and datastreams (station × parameter), with the
HJ 212 instrument and the air pollutants' properties packaged, and a datastream for every series already stored
(later ones are added as a station's first value of a parameter arrives).

Revision ID: environment_0002
Revises: environment_0001
Create Date: 2026-11-30 04:30:00
"""

import sqlalchemy as sa
from alembic import op

from zhulian.environment.sta_catalogue import HJ212_SENSOR_ROW, OBSERVATION_TYPE, PROPERTY_ROWS, unit_of

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

    _datastreams_of_stored_series(properties)


def _datastreams_of_stored_series(properties: sa.Table) -> None:
    """Every station × code with values gets its datastream (and the code its property), as new values would."""
    bind = op.get_bind()
    series = bind.execute(sa.text("SELECT DISTINCT station_id, code FROM env_hourly "
                                  "UNION SELECT DISTINCT station_id, code FROM env_daily")).all()
    known = dict(bind.execute(sa.text("SELECT code, id FROM env_properties")).all())
    for code in sorted({code for _, code in series} - set(known)):
        bind.execute(properties.insert().values(code=code, name=code, definition=f"HJ 212-2017 {code}",
                                                description=code))
    known = dict(bind.execute(sa.text("SELECT code, id FROM env_properties")).all())
    streams = sa.table("env_datastreams", *(sa.column(c) for c in (
        "station_id", "code", "name", "description", "observation_type", "sensor_id", "property_id")),
                       sa.column("unit", sa.JSON))
    rows = [{"station_id": station_id, "code": code, "name": next((p["name"] for p in PROPERTY_ROWS
                                                                    if p["code"] == code), code),
             "description": f"HJ 212-2017 {code}", "unit": unit_of(code),
             "observation_type": OBSERVATION_TYPE, "sensor_id": HJ212_SENSOR_ROW["id"], "property_id": known[code]}
            for station_id, code in series]
    if rows:
        bind.execute(streams.insert(), rows)


def downgrade() -> None:
    op.drop_index("ix_env_datastreams_property", table_name="env_datastreams")
    op.drop_index("ix_env_datastreams_sensor", table_name="env_datastreams")
    for table in ("env_datastreams", "env_properties", "env_sensors"):
        op.drop_table(table)
