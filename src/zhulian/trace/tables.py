"""The trace module's own tables (migrations branch ``trace``). EPCIS events are standard documents, not
platform records: each is stored once as captured (``trace_events.document``), never edited; what queries
filter on is projected beside it in the same transaction — identifiers in their canonical form with their role
in the event (``trace_event_ids``) — and a correction is an error declaration (``trace_declarations``)."""

from __future__ import annotations

import sqlalchemy as sa

from zhulian.store import Json, Serial, Timestamp

metadata = sa.MetaData()

events = sa.Table(
    "trace_events", metadata,
    sa.Column("seq", Serial, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(500), nullable=False, unique=True),
    sa.Column("event_hash", sa.String(120), nullable=False, unique=True),  # ni:///sha-256;…?ver=CBV2.0
    sa.Column("event_type", sa.String(32), nullable=False, index=True),
    sa.Column("action", sa.String(8)),
    sa.Column("event_time", Timestamp, nullable=False, index=True),  # UTC, milliseconds, Z
    sa.Column("record_time", Timestamp, nullable=False, index=True),
    sa.Column("biz_step", sa.String(500), index=True),  # CBV bare word, or the URI as given
    sa.Column("disposition", sa.String(500), index=True),
    sa.Column("read_point", sa.String(500), index=True),  # canonical identifier
    sa.Column("biz_location", sa.String(500), index=True),
    sa.Column("capture_id", sa.String(40), index=True),
    sa.Column("document", Json, nullable=False),  # the event as captured, with eventID and recordTime
)

# role: epc | parent | child | input | output (instances), epc_class | child_class | input_class | output_class
# (quantities), source | destination (kind: the CBV source/destination type)
event_ids = sa.Table(
    "trace_event_ids", metadata,
    sa.Column("event_seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("identifier", sa.String(500), nullable=False),
    sa.Column("kind", sa.String(200)),
    sa.Column("quantity", sa.Float),
    sa.Column("uom", sa.String(16)),
    sa.Index("ix_trace_event_ids_identifier_role", "identifier", "role"),
)

# One row per sensorReport, with what its sensorMetadata says unless the report says otherwise (EPCIS 2.0 §7.3.9):
# the sensor filters of the SimpleEventQuery read these, all conditions of one query on the same report.
sensor_reports = sa.Table(
    "trace_sensor_reports", metadata,
    sa.Column("event_seq", sa.BigInteger, nullable=False, index=True),
    *(sa.Column(name, sa.String(500)) for name in (
        "type", "device_id", "data_processing_method", "microorganism", "chemical_substance", "biz_rules",
        "string_value", "uri_value", "hex_binary_value", "uom")),
    sa.Column("boolean_value", sa.Boolean),
    *(sa.Column(name, sa.Float) for name in ("value", "min_value", "max_value", "mean_value", "s_dev", "perc_value")),
    *(sa.Column(name, Timestamp) for name in ("time", "start_time", "end_time")),
)

declarations = sa.Table(
    "trace_declarations", metadata,
    sa.Column("event_id", sa.String(500), primary_key=True),
    sa.Column("declaration", Json, nullable=False),  # the errorDeclaration as captured
    sa.Column("declaration_time", Timestamp, index=True),  # UTC, for GE_/LT_errorDeclarationTime
    sa.Column("reason", sa.String(500), index=True),  # CBV error reason word or URI, for EQ_errorReason
    sa.Column("record_time", Timestamp, nullable=False),
    sa.Column("capture_id", sa.String(40)),
)

captures = sa.Table(
    "trace_captures", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # cap_<ULID>
    sa.Column("running", sa.Boolean, nullable=False),
    sa.Column("success", sa.Boolean, nullable=False),
    sa.Column("behaviour", sa.String(10), nullable=False),  # rollback | proceed
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("stored", sa.Integer, nullable=False),
    sa.Column("errors", Json, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("finished", Timestamp),
)

# Named queries and their webhook subscriptions (the REST binding's /queries). ``parameters`` is the query in
# the form GET /epcis/events takes it (a list as ``a|b``).
queries = sa.Table(
    "trace_queries", metadata,
    sa.Column("name", sa.String(100), primary_key=True),
    sa.Column("parameters", Json, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created", Timestamp, nullable=False),
)

# A subscription reports the events stored after ``last_seq`` (and at or after ``min_record_time``): at once
# when ``stream``, else at ``next_run`` by its ``schedule``.
subscriptions = sa.Table(
    "trace_subscriptions", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # sub_<ULID>
    sa.Column("query_name", sa.String(100), nullable=False, index=True),
    sa.Column("dest", sa.String(2000), nullable=False),
    sa.Column("signature_token", sa.String(500)),
    sa.Column("stream", sa.Boolean, nullable=False),
    sa.Column("schedule", Json),
    sa.Column("report_if_empty", sa.Boolean, nullable=False),
    sa.Column("epc_format", sa.String(40), nullable=False),
    sa.Column("initial_record_time", Timestamp),
    sa.Column("min_record_time", Timestamp),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
    sa.Column("next_run", Timestamp, index=True),
    sa.Column("last_notified", Timestamp),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created", Timestamp, nullable=False),
)

# The outbox: each report to a subscription's webhook, sent by the notifier with retries and backoff.
deliveries = sa.Table(
    "trace_deliveries", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # dlv_<ULID>
    sa.Column("subscription_id", sa.String(40), nullable=False, index=True),
    sa.Column("body", sa.Text, nullable=False),  # the EPCISQueryDocument exactly as signed and sent
    sa.Column("event_count", sa.Integer, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # pending | delivered | failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt", Timestamp, nullable=False, index=True),
    sa.Column("last_error", sa.String(500)),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("delivered", Timestamp),
)

# Recall cases: opened by a recall (executed at once) or by a non-conformant rapid test (for review).
recalls = sa.Table(
    "trace_recalls", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # rcl_<ULID>
    sa.Column("identifier", sa.String(500), nullable=False, index=True),  # canonical
    sa.Column("reason", sa.String(2000), nullable=False),
    sa.Column("status", sa.String(10), nullable=False),  # review | executed
    sa.Column("source_event", sa.String(500)),  # the rapid-test event that opened it, if one did
    sa.Column("affected", Json),  # the recall list, once executed
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("executed", Timestamp),
)

# One row per analyte of a rapid-test result (an inspecting or sampling event with a verdict disposition and a
# sensorReport naming a chemicalSubstance or microorganism), projected at capture for the supervision views.
rapid_tests = sa.Table(
    "trace_rapid_tests", metadata,
    sa.Column("event_seq", sa.BigInteger, nullable=False, index=True),
    sa.Column("event_id", sa.String(500), nullable=False),
    sa.Column("event_time", Timestamp, nullable=False, index=True),
    sa.Column("lot", sa.String(500)),
    sa.Column("city", sa.String(12), index=True),  # adcode
    sa.Column("product_class", sa.String(100), index=True),
    sa.Column("analyte", sa.String(500), nullable=False, index=True),  # chemicalSubstance or microorganism URI
    sa.Column("analyte_name", sa.String(200)),
    sa.Column("value", sa.Float),
    sa.Column("uom", sa.String(16)),
    sa.Column("limit_value", sa.Float),
    sa.Column("method", sa.String(500)),
    sa.Column("device", sa.String(500)),
    sa.Column("verdict", sa.String(20), nullable=False),  # conformant | non_conformant
)

# Trace codes of identifiers that are not the platform's own trace-code URNs (those are their own code).
codes = sa.Table(
    "trace_codes", metadata,
    sa.Column("code", sa.String(40), primary_key=True),
    sa.Column("identifier", sa.String(500), nullable=False, unique=True),  # canonical
    sa.Column("created", Timestamp, nullable=False),
)

# What GLNs name (master data): from captured documents' epcisMasterData and from uploads; organisations with a
# ``gln`` pid are read live from the records, not copied here (``masterdata``).
locations = sa.Table(
    "trace_locations", metadata,
    sa.Column("identifier", sa.String(500), primary_key=True),  # canonical: https://id.gs1.org/414/… or /417/…
    sa.Column("name", sa.String(500), nullable=False),
    sa.Column("city", sa.String(12)),  # adcode
    sa.Column("latitude", sa.Float),
    sa.Column("longitude", sa.Float),
    sa.Column("source", sa.String(10), nullable=False),  # epcis | upload
)
