"""Trace codes of GS1 and other identifiers, for the consumer page /t/{code}.

Revision ID: trace_0004
Revises: trace_0003
Create Date: 2026-11-30 04:25:00
"""

import sqlalchemy as sa
from alembic import op

revision = "trace_0004"
down_revision = "trace_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_codes",
        sa.Column("code", sa.String(length=40), primary_key=True),
        sa.Column("identifier", sa.String(length=500), nullable=False, unique=True),
        sa.Column("created", sa.String(length=32), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trace_codes")
