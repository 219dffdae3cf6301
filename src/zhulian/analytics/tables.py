"""The collaboration network's derived tables (SQLAlchemy Core; ``migrations/`` creates them).

Everything here is derived from the store and rebuilt by ``zhulian network rebuild``; the follower keeps it
current from the change feed. An *activity* is a record organisations do something together in (a platform,
project, paper, patent, standard or achievement); ``network_participants`` says who takes part in which and
through what, ``network_links`` is the organisation graph (one row per pair, link type and year, weighted by
shared activities), ``network_cities`` the same summed by the two organisations' cities.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Serial = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

network_activities = sa.Table(
    "network_activities", metadata,
    sa.Column("activity_id", sa.String(40), primary_key=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),  # 0 when the record gives no year
)

network_participants = sa.Table(
    "network_participants", metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column("activity_id", sa.String(40), nullable=False, index=True),
    sa.Column("org_id", sa.String(40), nullable=False, index=True),
    # the person (an author's affiliation) or platform (a partner platform's host) the organisation came through
    sa.Column("via_id", sa.String(40), index=True),
    sa.Column("predicate", sa.String(32), nullable=False),
)

network_links = sa.Table(
    "network_links", metadata,
    sa.Column("org_a", sa.String(40), primary_key=True),  # org_a < org_b: each pair once
    sa.Column("org_b", sa.String(40), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),  # the activity type that joins them
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("weight", sa.Integer, nullable=False),
    sa.Index("ix_network_links_org_b", "org_b"),
)

network_nodes = sa.Table(
    "network_nodes", metadata,
    sa.Column("org_id", sa.String(40), primary_key=True),
    sa.Column("label", sa.String(500), nullable=False),
    sa.Column("name", Json, nullable=False),
    sa.Column("city", sa.String(6)),  # the region city (a county code folded into its city), else as given
    sa.Column("kind", sa.String(16)),
    sa.Column("access", sa.String(12), nullable=False),
    sa.Column("node", sa.String(6)),
    sa.Column("degree", sa.Integer, nullable=False),  # distinct partners
    sa.Column("strength", sa.Integer, nullable=False),  # shared activities summed over partners
    sa.Column("betweenness", sa.Float, nullable=False),
    sa.Column("community", sa.Integer),
    sa.Index("ix_network_nodes_degree", "degree"),
    sa.Index("ix_network_nodes_city", "city"),
    sa.Index("ix_network_nodes_community", "community"),
)

network_topics = sa.Table(
    "network_topics", metadata,
    sa.Column("id", Serial, primary_key=True, autoincrement=True),
    sa.Column("org_id", sa.String(40), nullable=False, index=True),
    sa.Column("topic", sa.String(200), nullable=False, index=True),
    sa.Column("source_id", sa.String(40), nullable=False, index=True),  # the org itself or one of its activities
)

network_cities = sa.Table(
    "network_cities", metadata,
    sa.Column("city_a", sa.String(6), primary_key=True),  # city_a <= city_b; "other" outside the region
    sa.Column("city_b", sa.String(6), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True),
    sa.Column("weight", sa.Integer, nullable=False),
)

network_state = sa.Table(
    "network_state", metadata,
    sa.Column("key", sa.String(40), primary_key=True),
    sa.Column("value", Json, nullable=False),
)
