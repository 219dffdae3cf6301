"""The registry's tables (SQLAlchemy Core), created by the ``registry`` Alembic branch.

``registry_keys`` is a blocking index derived from the change feed (rebuildable; ``registry_state`` holds
how far it has read); ``registry_candidates`` is the review queue; ``registry_decisions`` every human
decision, which resolution obeys on every later run.
"""

from __future__ import annotations

import sqlalchemy as sa

from zhulian.store import Json, Serial, Timestamp

metadata = sa.MetaData()

registry_keys = sa.Table(
    "registry_keys", metadata,
    sa.Column("record_id", sa.String(40), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("gram", sa.String(64), nullable=False),
    sa.PrimaryKeyConstraint("record_id", "gram", name="pk_registry_keys"),
    sa.Index("ix_registry_keys_gram", "type", "gram"),
)

registry_state = sa.Table(
    "registry_state", metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
)

registry_candidates = sa.Table(
    "registry_candidates", metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(40), nullable=False),  # the incoming record
    sa.Column("candidate_id", sa.String(40), nullable=False),  # the existing record it may be
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("relation", sa.String(16), nullable=False),  # same | child | parent
    sa.Column("reasons", Json, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # import | harvest
    sa.Column("status", sa.String(16), nullable=False),  # open | decided
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("decided", Timestamp),
    sa.Column("decision", sa.String(16)),
    sa.UniqueConstraint("record_id", "candidate_id", name="uq_registry_candidates_pair"),
    sa.Index("ix_registry_candidates_status", "status", "score"),
    sqlite_autoincrement=True,
)

registry_decisions = sa.Table(
    "registry_decisions", metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column("kind", sa.String(16), nullable=False),  # same | not_same | merge | split | parent
    sa.Column("subject_id", sa.String(40), nullable=False),
    sa.Column("object_id", sa.String(40), nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("note", sa.String(500)),
    sa.Index("ix_registry_decisions_subject", "subject_id"),
    sa.Index("ix_registry_decisions_object", "object_id"),
    sqlite_autoincrement=True,
)
