"""Alerts (one open per station × kind × code), webhooks and their delivery queue.

Revision ID: environment_0003
Revises: environment_0002
Create Date: 2026-11-30 04:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "environment_0003"
down_revision = "environment_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "env_alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("opened", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("closed_by", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ux_env_alerts_open", "env_alerts", ["station_id", "kind", "code"], unique=True,
                    sqlite_where=sa.text("state <> 'closed'"), postgresql_where=sa.text("state <> 'closed'"))
    op.create_index("ix_env_alerts_state", "env_alerts", ["state"])
    op.create_table(
        "env_webhooks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("url"),
    )
    op.create_table(
        "env_deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("due", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_env_deliveries_due", "env_deliveries", ["state", "due"])


def downgrade() -> None:
    op.drop_index("ix_env_deliveries_due", table_name="env_deliveries")
    op.drop_table("env_deliveries")
    op.drop_table("env_webhooks")
    op.drop_index("ix_env_alerts_state", table_name="env_alerts")
    op.drop_index("ux_env_alerts_open", table_name="env_alerts")
    op.drop_table("env_alerts")
