"""Federation: harvested nodes, the origin of every harvested record, and harvest conflicts.

Revision ID: federation_0001
Revises: (branch federation, after store 0002)
"""

from alembic import op

from zhulian.federation.tables import conflicts, nodes, origin_revisions, origins

revision = "federation_0001"
down_revision = None
branch_labels = ("federation",)
depends_on = "0002"


def upgrade() -> None:
    bind = op.get_bind()
    for table in (nodes, origins, origin_revisions, conflicts):
        table.create(bind)


def downgrade() -> None:
    for name in ("fed_conflicts", "fed_origin_revisions", "fed_origins", "fed_nodes"):
        op.drop_table(name)
