"""The match module's own table: expressions of interest (migrations branch ``match``)."""

from __future__ import annotations

import sqlalchemy as sa

from zhulian.store import Timestamp

metadata = sa.MetaData()

interests = sa.Table(
    "match_interests", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # int_<ULID>
    sa.Column("target_id", sa.String(40), nullable=False, index=True),  # the achievement or patent
    sa.Column("target_type", sa.String(16), nullable=False),
    sa.Column("target_node", sa.String(6), index=True),  # whose publishers see and answer it
    sa.Column("sender", sa.String(200), nullable=False, index=True),  # the key id that sent it
    sa.Column("sender_role", sa.String(16), nullable=False),
    sa.Column("sender_name", sa.String(200), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("contact", sa.String(200)),
    sa.Column("answer", sa.Text),
    sa.Column("state", sa.String(12), nullable=False),  # sent | read | answered | closed
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("read_at", Timestamp),
    sa.Column("answered_at", Timestamp),
    sa.Column("closed_at", Timestamp),
    sa.Column("updated", Timestamp, nullable=False),
)
