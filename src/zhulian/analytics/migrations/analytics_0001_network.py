"""The collaboration network's derived tables.

Revision ID: analytics_0001
Revises:
Create Date: 2026-11-26 10:10:00
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "analytics_0001"
down_revision = None
branch_labels = ("analytics",)
depends_on = "0002"

Json = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table("network_activities",
                    sa.Column("activity_id", sa.String(40), primary_key=True),
                    sa.Column("type", sa.String(16), nullable=False),
                    sa.Column("year", sa.Integer, nullable=False))
    op.create_table("network_participants",
                    sa.Column("id", Serial, primary_key=True, autoincrement=True),
                    sa.Column("activity_id", sa.String(40), nullable=False),
                    sa.Column("org_id", sa.String(40), nullable=False),
                    sa.Column("via_id", sa.String(40)),
                    sa.Column("predicate", sa.String(32), nullable=False))
    for column in ("activity_id", "org_id", "via_id"):
        op.create_index(f"ix_network_participants_{column}", "network_participants", [column])
    op.create_table("network_links",
                    sa.Column("org_a", sa.String(40), primary_key=True),
                    sa.Column("org_b", sa.String(40), primary_key=True),
                    sa.Column("kind", sa.String(16), primary_key=True),
                    sa.Column("year", sa.Integer, primary_key=True),
                    sa.Column("weight", sa.Integer, nullable=False))
    op.create_index("ix_network_links_org_b", "network_links", ["org_b"])
    op.create_table("network_nodes",
                    sa.Column("org_id", sa.String(40), primary_key=True),
                    sa.Column("label", sa.String(500), nullable=False),
                    sa.Column("name", Json, nullable=False),
                    sa.Column("city", sa.String(6)),
                    sa.Column("kind", sa.String(16)),
                    sa.Column("access", sa.String(12), nullable=False),
                    sa.Column("node", sa.String(6)),
                    sa.Column("degree", sa.Integer, nullable=False),
                    sa.Column("strength", sa.Integer, nullable=False),
                    sa.Column("betweenness", sa.Float, nullable=False),
                    sa.Column("community", sa.Integer))
    for column in ("degree", "city", "community"):
        op.create_index(f"ix_network_nodes_{column}", "network_nodes", [column])
    op.create_table("network_topics",
                    sa.Column("id", Serial, primary_key=True, autoincrement=True),
                    sa.Column("org_id", sa.String(40), nullable=False),
                    sa.Column("topic", sa.String(200), nullable=False),
                    sa.Column("source_id", sa.String(40), nullable=False))
    for column in ("org_id", "topic", "source_id"):
        op.create_index(f"ix_network_topics_{column}", "network_topics", [column])
    op.create_table("network_cities",
                    sa.Column("city_a", sa.String(6), primary_key=True),
                    sa.Column("city_b", sa.String(6), primary_key=True),
                    sa.Column("kind", sa.String(16), primary_key=True),
                    sa.Column("year", sa.Integer, primary_key=True),
                    sa.Column("weight", sa.Integer, nullable=False))
    op.create_table("network_state",
                    sa.Column("key", sa.String(40), primary_key=True),
                    sa.Column("value", Json, nullable=False))


def downgrade() -> None:
    for table in ("network_state", "network_cities", "network_topics", "network_nodes", "network_links",
                  "network_participants", "network_activities"):
        op.drop_table(table)
