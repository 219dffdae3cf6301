"""store_identity: the id a store is known by wherever its files lie (a moved or restored data folder keeps it).

Written once here, for new stores and for stores that existed before this revision alike.

Revision ID: 0004
Revises: 0003
"""

import datetime as dt
import uuid

from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    table = op.create_table('store_identity',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('created', sa.String(length=32), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    op.bulk_insert(table, [{'id': uuid.uuid4().hex, 'created': created}])


def downgrade() -> None:
    op.drop_table('store_identity')
