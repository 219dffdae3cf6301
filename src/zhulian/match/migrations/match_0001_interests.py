"""Expressions of interest: an enterprise's interest in an achievement or patent, and its answer.

Revision ID: match_0001
Revises:
Create Date: 2026-11-26 10:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = "match_0001"
down_revision = None
branch_labels = ("match",)
depends_on = "0002"


def upgrade() -> None:
    op.create_table(
        "match_interests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("target_id", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=16), nullable=False),
        sa.Column("target_node", sa.String(length=6), nullable=True),
        sa.Column("sender", sa.String(length=200), nullable=False),
        sa.Column("sender_role", sa.String(length=16), nullable=False),
        sa.Column("sender_name", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("contact", sa.String(length=200), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.Column("read_at", sa.String(length=32), nullable=True),
        sa.Column("answered_at", sa.String(length=32), nullable=True),
        sa.Column("closed_at", sa.String(length=32), nullable=True),
        sa.Column("updated", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("match_interests", schema=None) as batch_op:
        batch_op.create_index("ix_match_interests_target_id", ["target_id"], unique=False)
        batch_op.create_index("ix_match_interests_target_node", ["target_node"], unique=False)
        batch_op.create_index("ix_match_interests_sender", ["sender"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("match_interests", schema=None) as batch_op:
        batch_op.drop_index("ix_match_interests_sender")
        batch_op.drop_index("ix_match_interests_target_node")
        batch_op.drop_index("ix_match_interests_target_id")
    op.drop_table("match_interests")
