"""Bookings across nodes: the nodes a hub forwards bookings to, and which bookings mirror one decided elsewhere.

Revision ID: sharing_0002
Revises: sharing_0001
Create Date: 2026-11-30 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "sharing_0002"
down_revision = "sharing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sharing_relays",
        sa.Column("node", sa.String(6), primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("cursor", sa.String(32), nullable=False),
        sa.Column("added", sa.String(32), nullable=False),
        sa.Column("last_pull", sa.String(32)),
        sa.Column("last_error", sa.Text),
    )
    with op.batch_alter_table("sharing_bookings") as batch_op:
        batch_op.add_column(sa.Column("origin_node", sa.String(6), nullable=True))
        batch_op.create_index("ix_sharing_bookings_updated", ["updated"])


def downgrade() -> None:
    with op.batch_alter_table("sharing_bookings") as batch_op:
        batch_op.drop_index("ix_sharing_bookings_updated")
        batch_op.drop_column("origin_node")
    op.drop_table("sharing_relays")
