"""record_fields: the (field, number) index keeps only the rows that hold a number. Most projected values are
text (disciplines, keywords, languages) with no number, and indexing each of them again cost every import a
third of its projection writes (bench/import_bench.py). Every number filter compares the number, which implies
it is not null, so both databases still use the index for it.

Revision ID: 0006
Revises: 0005
"""

from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

HOLDS_A_NUMBER = sa.text('number IS NOT NULL')


def upgrade() -> None:
    op.drop_index('ix_record_fields_number', table_name='record_fields')
    op.create_index('ix_record_fields_number', 'record_fields', ['field', 'number'],
                    sqlite_where=HOLDS_A_NUMBER, postgresql_where=HOLDS_A_NUMBER)


def downgrade() -> None:
    op.drop_index('ix_record_fields_number', table_name='record_fields')
    op.create_index('ix_record_fields_number', 'record_fields', ['field', 'number'])
