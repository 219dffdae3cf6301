"""Federation: a conflict names the local record it collides with and, once settled, how, when and by whom.

Revision ID: federation_0002
Revises: federation_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "federation_0002"
down_revision = "federation_0001"
branch_labels = None
depends_on = None

Timestamp = sa.String(32)


def upgrade() -> None:
    with op.batch_alter_table("fed_conflicts") as table:
        table.add_column(sa.Column("local_id", sa.String(40)))
        table.add_column(sa.Column("resolved", Timestamp))
        table.add_column(sa.Column("resolution", sa.String(8)))
        table.add_column(sa.Column("resolved_by", sa.String(200)))
    op.execute("UPDATE fed_conflicts SET local_id = record_id")


def downgrade() -> None:
    with op.batch_alter_table("fed_conflicts") as table:
        for column in ("resolved_by", "resolution", "resolved", "local_id"):
            table.drop_column(column)
