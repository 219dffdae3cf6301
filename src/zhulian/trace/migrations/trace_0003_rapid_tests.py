"""Rapid-test results projected for the supervision views.

Revision ID: trace_0003
Revises: trace_0002
Create Date: 2026-11-30 04:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "trace_0003"
down_revision = "trace_0002"
branch_labels = None
depends_on = None

_INDEXED = ("event_seq", "event_time", "city", "product_class", "analyte")


def upgrade() -> None:
    op.create_table(
        "trace_rapid_tests",
        sa.Column("event_seq", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.String(length=500), nullable=False),
        sa.Column("event_time", sa.String(length=32), nullable=False),
        sa.Column("lot", sa.String(length=500), nullable=True),
        sa.Column("city", sa.String(length=12), nullable=True),
        sa.Column("product_class", sa.String(length=100), nullable=True),
        sa.Column("analyte", sa.String(length=500), nullable=False),
        sa.Column("analyte_name", sa.String(length=200), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("uom", sa.String(length=16), nullable=True),
        sa.Column("limit_value", sa.Float(), nullable=True),
        sa.Column("method", sa.String(length=500), nullable=True),
        sa.Column("device", sa.String(length=500), nullable=True),
        sa.Column("verdict", sa.String(length=20), nullable=False),
    )
    for column in _INDEXED:
        op.create_index(f"ix_trace_rapid_tests_{column}", "trace_rapid_tests", [column])


def downgrade() -> None:
    for column in _INDEXED:
        op.drop_index(f"ix_trace_rapid_tests_{column}", table_name="trace_rapid_tests")
    op.drop_table("trace_rapid_tests")
