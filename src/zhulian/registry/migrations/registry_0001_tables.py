"""Registry: blocking keys, feed position, review candidates and human decisions.

Revision ID: registry_0001
Revises:
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "registry_0001"
down_revision = None
branch_labels = ("registry",)
depends_on = "0003"

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
SERIAL = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "registry_keys",
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("gram", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("record_id", "gram", name="pk_registry_keys"),
    )
    op.create_index("ix_registry_keys_gram", "registry_keys", ["type", "gram"])
    op.create_table(
        "registry_state",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "registry_candidates",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("record_id", sa.String(length=40), nullable=False),
        sa.Column("candidate_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("reasons", JSON, nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created", sa.String(length=32), nullable=False),
        sa.Column("decided", sa.String(length=32), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("record_id", "candidate_id", name="uq_registry_candidates_pair"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_registry_candidates_status", "registry_candidates", ["status", "score"])
    op.create_table(
        "registry_decisions",
        sa.Column("id", SERIAL, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("object_id", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_registry_decisions_subject", "registry_decisions", ["subject_id"])
    op.create_index("ix_registry_decisions_object", "registry_decisions", ["object_id"])


def downgrade() -> None:
    op.drop_table("registry_decisions")
    op.drop_table("registry_candidates")
    op.drop_table("registry_state")
    op.drop_table("registry_keys")
