"""Federation: module feeds — a cursor per harvested node and feed, and the origin of every harvested entry.

Revision ID: federation_0003
Revises: federation_0002
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0003"
down_revision = "federation_0002"
branch_labels = None
depends_on = None

Timestamp = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "fed_feed_cursors",
        sa.Column("node", sa.String(64), primary_key=True),
        sa.Column("feed", sa.String(100), primary_key=True),
        sa.Column("cursor", sa.String(200), nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("harvested", sa.BigInteger, nullable=False),
        sa.Column("stored", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "fed_feed_origins",
        sa.Column("feed", sa.String(100), primary_key=True),
        sa.Column("key", sa.String(500), primary_key=True),
        sa.Column("origin_node", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("harvested", Timestamp, nullable=False),
    )
    op.create_index("ix_fed_feed_origins_origin", "fed_feed_origins", ["origin_node"])


def downgrade() -> None:
    op.drop_table("fed_feed_origins")
    op.drop_table("fed_feed_cursors")
