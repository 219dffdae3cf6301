"""Federation: harvested nodes, the origin of every harvested record and revision, and harvest conflicts.

Revision ID: federation_0001
Revises: (branch federation, after store 0002)
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "federation_0001"
down_revision = None
branch_labels = ("federation",)
depends_on = "0002"

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "fed_nodes",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("sets", Json, nullable=False),
        sa.Column("interval_s", sa.Integer, nullable=False),
        sa.Column("cursor", sa.String(200), nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("remote_node", sa.String(64)),
        sa.Column("harvested", sa.BigInteger, nullable=False),
        sa.Column("conflicts", sa.BigInteger, nullable=False),
        sa.Column("added", Timestamp, nullable=False),
        sa.Column("last_attempt", Timestamp),
        sa.Column("last_success", Timestamp),
        sa.Column("last_error", sa.Text),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_attempt", Timestamp),
        sa.Column("lag", sa.BigInteger),
    )
    op.create_table(
        "fed_origins",
        sa.Column("record_id", sa.String(40), primary_key=True),
        sa.Column("origin_node", sa.String(64), nullable=False),
        sa.Column("origin_revision", sa.Integer, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("harvested", Timestamp, nullable=False),
    )
    op.create_table(
        "fed_origin_revisions",
        sa.Column("record_id", sa.String(40), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("origin_node", sa.String(64), nullable=False),
        sa.Column("origin_revision", sa.Integer, nullable=False),
    )
    op.create_table(
        "fed_conflicts",
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("at", Timestamp, nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(40), nullable=False),
        sa.Column("origin_node", sa.String(64), nullable=False),
        sa.Column("origin_revision", sa.Integer, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("reason_zh", sa.Text, nullable=False),
        sa.Column("record", Json),
    )
    op.create_index("ix_fed_conflicts_record", "fed_conflicts", ["record_id"])


def downgrade() -> None:
    for name in ("fed_conflicts", "fed_origin_revisions", "fed_origins", "fed_nodes"):
        op.drop_table(name)
