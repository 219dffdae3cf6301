"""records.sort_name: the label's pinyin, so that sort=name orders Chinese names as readers look them up (北京,
广州, 深圳) instead of by code point; filled here for the records that exist.

Revision ID: 0005
Revises: 0004
"""

from alembic import op
import sqlalchemy as sa

from zhulian.text import pinyin_sort_key

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sort_name', sa.String(length=500), nullable=True))
        batch_op.create_index('ix_records_type_sort_name', ['type', 'sort_name'])
    records = sa.table('records', sa.column('id', sa.String), sa.column('label', sa.String),
                       sa.column('sort_name', sa.String))
    connection = op.get_bind()
    after = ''
    while rows := connection.execute(sa.select(records.c.id, records.c.label).where(records.c.id > after)
                                     .order_by(records.c.id).limit(BATCH)).all():
        connection.execute(records.update().where(records.c.id == sa.bindparam('_id')),
                           [{'_id': row.id, 'sort_name': pinyin_sort_key(row.label)} for row in rows])
        after = rows[-1].id


def downgrade() -> None:
    # Not in batch mode: that rebuilds the table on SQLite, which the other tables' foreign keys refuse;
    # SQLite (3.35 and later) drops an unindexed column in place.
    op.drop_index('ix_records_type_sort_name', table_name='records')
    op.drop_column('records', 'sort_name')
