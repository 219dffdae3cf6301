"""Initial schema: records, revisions (the change feed), pids, relations and record_fields.

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 07:12:22.983785
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('records',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('label', sa.String(length=500), nullable=False),
    sa.Column('city', sa.String(length=6), nullable=True),
    sa.Column('node', sa.String(length=6), nullable=True),
    sa.Column('access', sa.String(length=12), nullable=False),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('created', sa.String(length=32), nullable=False),
    sa.Column('updated', sa.String(length=32), nullable=False),
    sa.Column('deleted', sa.String(length=32), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.create_index('ix_records_city', ['city'], unique=False)
        batch_op.create_index('ix_records_type_id', ['type', 'id'], unique=False)
        batch_op.create_index('ix_records_updated', ['updated'], unique=False)

    op.create_table('pids',
    sa.Column('scheme', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], ),
    sa.PrimaryKeyConstraint('scheme', 'value')
    )
    with op.batch_alter_table('pids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pids_record_id'), ['record_id'], unique=False)

    op.create_table('record_fields',
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('value', sa.String(length=500), nullable=False),
    sa.Column('number', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], )
    )
    with op.batch_alter_table('record_fields', schema=None) as batch_op:
        batch_op.create_index('ix_record_fields_number', ['field', 'number'], unique=False)
        batch_op.create_index(batch_op.f('ix_record_fields_record_id'), ['record_id'], unique=False)
        batch_op.create_index('ix_record_fields_value', ['field', 'value'], unique=False)

    op.create_table('relations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('owner_id', sa.String(length=40), nullable=False),
    sa.Column('subject_id', sa.String(length=40), nullable=False),
    sa.Column('predicate', sa.String(length=32), nullable=False),
    sa.Column('object_id', sa.String(length=40), nullable=False),
    sa.Column('role', sa.String(length=500), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.String(length=10), nullable=True),
    sa.Column('valid_to', sa.String(length=10), nullable=True),
    sa.ForeignKeyConstraint(['object_id'], ['records.id'], ),
    sa.ForeignKeyConstraint(['owner_id'], ['records.id'], ),
    sa.ForeignKeyConstraint(['subject_id'], ['records.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('relations', schema=None) as batch_op:
        batch_op.create_index('ix_relations_object', ['object_id', 'predicate'], unique=False)
        batch_op.create_index(batch_op.f('ix_relations_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('ix_relations_subject', ['subject_id', 'predicate'], unique=False)

    op.create_table('revisions',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('record_id', sa.String(length=40), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('op', sa.String(length=8), nullable=False),
    sa.Column('at', sa.String(length=32), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['record_id'], ['records.id'], ),
    sa.PrimaryKeyConstraint('seq'),
    sa.UniqueConstraint('record_id', 'revision', name='uq_revisions_record_revision'),
    sqlite_autoincrement=True
    )


def downgrade() -> None:
    op.drop_table('revisions')
    with op.batch_alter_table('relations', schema=None) as batch_op:
        batch_op.drop_index('ix_relations_subject')
        batch_op.drop_index(batch_op.f('ix_relations_owner_id'))
        batch_op.drop_index('ix_relations_object')

    op.drop_table('relations')
    with op.batch_alter_table('record_fields', schema=None) as batch_op:
        batch_op.drop_index('ix_record_fields_value')
        batch_op.drop_index(batch_op.f('ix_record_fields_record_id'))
        batch_op.drop_index('ix_record_fields_number')

    op.drop_table('record_fields')
    with op.batch_alter_table('pids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pids_record_id'))

    op.drop_table('pids')
    with op.batch_alter_table('records', schema=None) as batch_op:
        batch_op.drop_index('ix_records_updated')
        batch_op.drop_index('ix_records_type_id')
        batch_op.drop_index('ix_records_city')

    op.drop_table('records')
