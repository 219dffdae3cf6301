"""The federation's own tables: the nodes this node harvests, where each harvested record came from, and the
conflicts a harvest found and left for a person to settle."""

from __future__ import annotations

import sqlalchemy as sa

from zhulian.store import Json, Serial, Timestamp

metadata = sa.MetaData()

nodes = sa.Table(
    "fed_nodes", metadata,
    sa.Column("name", sa.String(64), primary_key=True),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),  # the harvest key the remote node issued to us
    sa.Column("sets", Json, nullable=False),  # record types to harvest; empty: all
    sa.Column("interval_s", sa.Integer, nullable=False),
    sa.Column("cursor", sa.String(200), nullable=False),  # the last committed resumption cursor
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("remote_node", sa.String(64)),
    sa.Column("harvested", sa.BigInteger, nullable=False),
    sa.Column("conflicts", sa.BigInteger, nullable=False),
    sa.Column("added", Timestamp, nullable=False),
    sa.Column("last_attempt", Timestamp),
    sa.Column("last_success", Timestamp),
    sa.Column("last_error", sa.Text),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("next_attempt", Timestamp),
    sa.Column("lag", sa.BigInteger),  # changes the remote had beyond our cursor at the last attempt
)

# A harvested record's origin, and the origin revision it holds now: a hub takes a change only when it is newer
# than what it holds, so a record reaching it by two paths (a circle hub and its city) never goes back.
origins = sa.Table(
    "fed_origins", metadata,
    sa.Column("record_id", sa.String(40), primary_key=True),
    sa.Column("origin_node", sa.String(64), nullable=False),
    sa.Column("origin_revision", sa.Integer, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),  # the harvested node it arrived from
    sa.Column("harvested", Timestamp, nullable=False),
)

# Which origin revision each local revision of a harvested record carries, so that this node's own feed tells
# the hubs above it the origin revision of every entry, old or new.
origin_revisions = sa.Table(
    "fed_origin_revisions", metadata,
    sa.Column("record_id", sa.String(40), primary_key=True),
    sa.Column("revision", sa.Integer, primary_key=True),
    sa.Column("origin_node", sa.String(64), nullable=False),
    sa.Column("origin_revision", sa.Integer, nullable=False),
)

conflicts = sa.Table(
    "fed_conflicts", metadata,
    sa.Column("seq", Serial, primary_key=True, autoincrement=True),
    sa.Column("at", Timestamp, nullable=False),
    sa.Column("source", sa.String(64), nullable=False),
    sa.Column("record_id", sa.String(40), nullable=False),
    sa.Column("origin_node", sa.String(64), nullable=False),
    sa.Column("origin_revision", sa.Integer, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("reason_zh", sa.Text, nullable=False),
    sa.Column("record", Json),  # the remote version
    sa.Column("local_id", sa.String(40)),  # the local record it collides with (by id or by an identifier)
    sa.Column("resolved", Timestamp),  # settled: when, keeping which version, by whom
    sa.Column("resolution", sa.String(8)),
    sa.Column("resolved_by", sa.String(200)),
    sa.Index("ix_fed_conflicts_record", "record_id"),
)

# Module feeds (``zhulian.federation.module_feeds``): how far each harvested node's feed has been taken, committed
# with each page; and the origin of every entry a hub stored, so its own feed serves the entry onwards with it.
feed_cursors = sa.Table(
    "fed_feed_cursors", metadata,
    sa.Column("node", sa.String(64), primary_key=True),  # the harvested node (fed_nodes.name)
    sa.Column("feed", sa.String(100), primary_key=True),
    sa.Column("cursor", sa.String(200), nullable=False),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("harvested", sa.BigInteger, nullable=False),  # entries taken, stored or already held
    sa.Column("stored", sa.BigInteger, nullable=False),
)

feed_origins = sa.Table(
    "fed_feed_origins", metadata,
    sa.Column("feed", sa.String(100), primary_key=True),
    sa.Column("key", sa.String(500), primary_key=True),
    sa.Column("origin_node", sa.String(64), nullable=False),
    sa.Column("source", sa.String(64), nullable=False),  # the harvested node it arrived from
    sa.Column("harvested", Timestamp, nullable=False),
    sa.Index("ix_fed_feed_origins_origin", "origin_node"),  # the node description lists the origins served
)
