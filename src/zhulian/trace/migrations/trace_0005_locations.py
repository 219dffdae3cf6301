"""Location and party master data (what a GLN names), from EPCIS master data and uploads.

Revision ID: trace_0005
Revises: trace_0004
Create Date: 2026-11-30 06:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "trace_0005"
down_revision = "trace_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_locations",
        sa.Column("identifier", sa.String(length=500), primary_key=True),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("city", sa.String(length=12)),
        sa.Column("latitude", sa.Float()),
        sa.Column("longitude", sa.Float()),
        sa.Column("source", sa.String(length=10), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("trace_locations")
