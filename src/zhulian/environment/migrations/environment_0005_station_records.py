"""Each operational station row names the ``station`` record it mirrors.

Revision ID: environment_0005
Revises: environment_0004
Create Date: 2026-11-30 07:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "environment_0005"
down_revision = "environment_0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("env_stations") as table:
        table.add_column(sa.Column("record_id", sa.String(length=40), nullable=True))
        table.create_unique_constraint("uq_env_stations_record_id", ["record_id"])


def downgrade() -> None:
    with op.batch_alter_table("env_stations") as table:
        table.drop_constraint("uq_env_stations_record_id", type_="unique")
        table.drop_column("record_id")
