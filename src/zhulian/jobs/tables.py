"""The jobs table (migrations branch ``jobs``): one row a job, written when it is submitted and when it ends.
Progress while it runs is kept in the process that runs it: writing it to the store would wait behind the very
write transaction the job holds (SQLite has one writer)."""

from __future__ import annotations

import sqlalchemy as sa

from zhulian.store.tables import Json, Timestamp

metadata = sa.MetaData()

jobs = sa.Table(
    "jobs", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # job_<ULID>
    sa.Column("kind", sa.String(40), nullable=False),  # import | …
    sa.Column("owner", sa.String(200), nullable=False, index=True),  # the principal that submitted it
    sa.Column("state", sa.String(12), nullable=False),  # queued | running | succeeded | failed
    sa.Column("detail", Json),  # what it works on (file name, type, options)
    sa.Column("result", Json),  # the job's answer (an import report's summary and problems)
    sa.Column("error", Json),  # the error envelope when it failed
    sa.Column("host", sa.String(200), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("started", Timestamp),
    sa.Column("finished", Timestamp),
)
