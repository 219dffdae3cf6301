"""Named queries, their webhook subscriptions and the delivery outbox; recall cases.

Revision ID: trace_0002
Revises: trace_0001
Create Date: 2026-11-30 04:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "trace_0002"
down_revision = "trace_0001"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
TIME = sa.String(length=32)


def upgrade() -> None:
    op.create_table(
        "trace_queries",
        sa.Column("name", sa.String(length=100), primary_key=True),
        sa.Column("parameters", JSON, nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created", TIME, nullable=False),
    )
    op.create_table(
        "trace_subscriptions",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("query_name", sa.String(length=100), nullable=False),
        sa.Column("dest", sa.String(length=2000), nullable=False),
        sa.Column("signature_token", sa.String(length=500), nullable=True),
        sa.Column("stream", sa.Boolean(), nullable=False),
        sa.Column("schedule", JSON, nullable=True),
        sa.Column("report_if_empty", sa.Boolean(), nullable=False),
        sa.Column("epc_format", sa.String(length=40), nullable=False),
        sa.Column("initial_record_time", TIME, nullable=True),
        sa.Column("min_record_time", TIME, nullable=True),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("next_run", TIME, nullable=True),
        sa.Column("last_notified", TIME, nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created", TIME, nullable=False),
    )
    op.create_index("ix_trace_subscriptions_query_name", "trace_subscriptions", ["query_name"])
    op.create_index("ix_trace_subscriptions_next_run", "trace_subscriptions", ["next_run"])
    op.create_table(
        "trace_deliveries",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("subscription_id", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", TIME, nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("created", TIME, nullable=False),
        sa.Column("delivered", TIME, nullable=True),
    )
    op.create_index("ix_trace_deliveries_subscription_id", "trace_deliveries", ["subscription_id"])
    op.create_index("ix_trace_deliveries_next_attempt", "trace_deliveries", ["next_attempt"])
    op.create_table(
        "trace_recalls",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("identifier", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("source_event", sa.String(length=500), nullable=True),
        sa.Column("affected", JSON, nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created", TIME, nullable=False),
        sa.Column("executed", TIME, nullable=True),
    )
    op.create_index("ix_trace_recalls_identifier", "trace_recalls", ["identifier"])


def downgrade() -> None:
    op.drop_index("ix_trace_recalls_identifier", table_name="trace_recalls")
    op.drop_table("trace_recalls")
    op.drop_index("ix_trace_deliveries_next_attempt", table_name="trace_deliveries")
    op.drop_index("ix_trace_deliveries_subscription_id", table_name="trace_deliveries")
    op.drop_table("trace_deliveries")
    op.drop_index("ix_trace_subscriptions_next_run", table_name="trace_subscriptions")
    op.drop_index("ix_trace_subscriptions_query_name", table_name="trace_subscriptions")
    op.drop_table("trace_subscriptions")
    op.drop_table("trace_queries")
