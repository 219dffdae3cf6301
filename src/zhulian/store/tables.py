"""The store's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them.

``records`` holds each record's current state; ``revisions`` every state it ever had, numbered by a
global ``seq`` that makes it the change feed; ``pids``, ``relations`` and ``record_fields`` are projections
written in the same transaction so that look-ups by identifier, both ends of a relation and list filters
never read JSON.
Timestamps are ISO-8601 UTC strings, which sort the same way on every database.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Timestamp = sa.String(32)
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

records = sa.Table(
    "records", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("label", sa.String(500), nullable=False),
    sa.Column("sort_name", sa.String(500)),  # the label's pinyin: what sort=name orders by (广州 before 深圳)
    sa.Column("city", sa.String(6)),
    sa.Column("node", sa.String(6)),
    sa.Column("access", sa.String(12), nullable=False),
    sa.Column("year", sa.Integer),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.Column("deleted", Timestamp),
    sa.Column("data", Json, nullable=False),
    # A tombstone left by merging one record into another names the survivor, which its id resolves to.
    sa.Column("merged_into", sa.String(40)),
    sa.Index("ix_records_type_id", "type", "id"),
    sa.Index("ix_records_city", "city"),
    sa.Index("ix_records_type_sort_name", "type", "sort_name"),
    sa.Index("ix_records_updated", "updated"),
)

revisions = sa.Table(
    "revisions", metadata,
    # The change feed is this table read in ``seq`` order: every write is one revision.
    sa.Column("seq", Serial, primary_key=True, autoincrement=True),
    sa.Column("record_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("op", sa.String(8), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
    # The record as this revision left it, except for the record's latest revision, which holds JSON null: that
    # state is ``records.data``, written once, and it is copied here when the next revision replaces it. Read it
    # as ``revision_data`` over ``revisions_and_records``.
    sa.Column("data", Json, nullable=False),
    sa.UniqueConstraint("record_id", "revision", name="uq_revisions_record_revision"),
    sqlite_autoincrement=True,
)

revisions_and_records = revisions.join(records, records.c.id == revisions.c.record_id)
# What ``revisions.data`` means, whichever revision a row is (stores written before the latest revision's copy was
# left out hold it in both places, and read the same).
revision_data = sa.case((revisions.c.revision == records.c.revision, records.c.data), else_=revisions.c.data)

pids = sa.Table(
    "pids", metadata,
    sa.Column("scheme", sa.String(32), primary_key=True),
    sa.Column("value", sa.String(200), primary_key=True),
    sa.Column("record_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False, index=True),
)

relations = sa.Table(
    "relations", metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column("owner_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False, index=True),
    sa.Column("subject_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False),
    sa.Column("predicate", sa.String(32), nullable=False),
    sa.Column("object_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False),
    sa.Column("role", sa.String(500)),
    sa.Column("rank", sa.Integer),
    sa.Column("valid_from", sa.String(10)),
    sa.Column("valid_to", sa.String(10)),
    sa.Index("ix_relations_subject", "subject_id", "predicate"),
    sa.Index("ix_relations_object", "object_id", "predicate"),
)

record_fields = sa.Table(
    "record_fields", metadata,
    sa.Column("record_id", sa.String(40), sa.ForeignKey("records.id"), nullable=False, index=True),
    sa.Column("field", sa.String(40), nullable=False),
    sa.Column("value", sa.String(500), nullable=False),
    sa.Column("number", sa.Float),
    sa.Index("ix_record_fields_value", "field", "value"),
    # Only the rows that hold a number (most are text): every number filter implies it (migration 0006).
    sa.Index("ix_record_fields_number", "field", "number", sqlite_where=sa.text("number IS NOT NULL"),
             postgresql_where=sa.text("number IS NOT NULL")),
)

api_keys = sa.Table(
    "api_keys", metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("node", sa.String(6)),
    # Keys are long random strings, so a SHA-256 digest is enough to store; the key itself never is.
    sa.Column("digest", sa.String(64), nullable=False, unique=True),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("revoked", Timestamp),
    sa.Column("last_used", Timestamp),
)

audit_log = sa.Table(
    "audit_log", metadata,
    sa.Column("seq", Serial, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),  # key id, or "cli" for the local command line
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("record_id", sa.String(40), index=True),
    sa.Column("revision", sa.Integer),
    sa.Column("origin", sa.String(200)),  # the client address, or the host the command ran on
    sa.Column("detail", Json),
    sqlite_autoincrement=True,
)

store_identity = sa.Table(
    "store_identity", metadata,
    # One row, written when the store is created: what derived data (the search index) checks it belongs to,
    # so that a data folder moved, renamed or restored elsewhere is still the same store.
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created", Timestamp, nullable=False),
)
