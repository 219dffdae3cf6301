"""Citizen reports and their status history.

Revision ID: environment_0004
Revises: environment_0003
Create Date: 2026-11-30 04:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = "environment_0004"
down_revision = "environment_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "env_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tracking", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.Column("photo_type", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tracking"),
    )
    op.create_index("ix_env_reports_address", "env_reports", ["address"])
    op.create_table(
        "env_report_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_env_report_events_report_id", "env_report_events", ["report_id"])


def downgrade() -> None:
    op.drop_index("ix_env_report_events_report_id", table_name="env_report_events")
    op.drop_table("env_report_events")
    op.drop_index("ix_env_reports_address", table_name="env_reports")
    op.drop_table("env_reports")
