"""EPCIS events, their identifiers by role, their sensor reports, error declarations and capture jobs.

Revision ID: trace_0001
Revises:
Create Date: 2026-11-30 03:40:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "trace_0001"
down_revision = None
branch_labels = ("trace",)
depends_on = "0002"

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "trace_events",
        sa.Column("seq", SERIAL, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(length=500), nullable=False, unique=True),
        sa.Column("event_hash", sa.String(length=120), nullable=False, unique=True),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=8), nullable=True),
        sa.Column("event_time", sa.String(length=32), nullable=False),
        sa.Column("record_time", sa.String(length=32), nullable=False),
        sa.Column("biz_step", sa.String(length=500), nullable=True),
        sa.Column("disposition", sa.String(length=500), nullable=True),
        sa.Column("read_point", sa.String(length=500), nullable=True),
        sa.Column("biz_location", sa.String(length=500), nullable=True),
        sa.Column("capture_id", sa.String(length=40), nullable=True),
        sa.Column("document", JSON, nullable=False),
    )
    for column in ("event_type", "event_time", "record_time", "biz_step", "disposition", "read_point",
                   "biz_location", "capture_id"):
        op.create_index(f"ix_trace_events_{column}", "trace_events", [column])
    op.create_table(
        "trace_event_ids",
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=500), nullable=False),
        sa.Column("kind", sa.String(length=200), nullable=True),
        sa.Column("quantity", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
    )
    op.create_index("ix_trace_event_ids_event_seq", "trace_event_ids", ["event_seq"])
    op.create_index("ix_trace_event_ids_identifier_role", "trace_event_ids", ["identifier", "role"])
    op.create_table(
        "trace_sensor_reports",
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        *(sa.Column(name, sa.String(length=500), nullable=True) for name in (
            "type", "device_id", "data_processing_method", "microorganism", "chemical_substance", "biz_rules",
            "string_value", "uri_value", "hex_binary_value", "uom")),
        sa.Column("boolean_value", sa.Boolean(), nullable=True),
        *(sa.Column(name, sa.Float(), nullable=True) for name in (
            "value", "min_value", "max_value", "mean_value", "s_dev", "perc_value")),
        *(sa.Column(name, sa.String(length=32), nullable=True) for name in ("time", "start_time", "end_time")),
    )
    op.create_index("ix_trace_sensor_reports_event_seq", "trace_sensor_reports", ["event_seq"])
    op.create_table(
        "trace_declarations",
        sa.Column("event_id", sa.String(length=500), primary_key=True),
        sa.Column("declaration", JSON, nullable=False),
        sa.Column("declaration_time", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("record_time", sa.String(length=32), nullable=False),
        sa.Column("capture_id", sa.String(length=40), nullable=True),
    )
    op.create_index("ix_trace_declarations_declaration_time", "trace_declarations", ["declaration_time"])
    op.create_index("ix_trace_declarations_reason", "trace_declarations", ["reason"])
    op.create_table(
        "trace_captures",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("behaviour", sa.String(length=10), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("errors", JSON, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.Column("finished", sa.String(length=32), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("trace_captures")
    op.drop_index("ix_trace_declarations_reason", table_name="trace_declarations")
    op.drop_index("ix_trace_declarations_declaration_time", table_name="trace_declarations")
    op.drop_table("trace_declarations")
    op.drop_index("ix_trace_sensor_reports_event_seq", table_name="trace_sensor_reports")
    op.drop_table("trace_sensor_reports")
    op.drop_index("ix_trace_event_ids_identifier_role", table_name="trace_event_ids")
    op.drop_index("ix_trace_event_ids_event_seq", table_name="trace_event_ids")
    op.drop_table("trace_event_ids")
    for column in ("event_type", "event_time", "record_time", "biz_step", "disposition", "read_point",
                   "biz_location", "capture_id"):
        op.drop_index(f"ix_trace_events_{column}", table_name="trace_events")
    op.drop_table("trace_events")
