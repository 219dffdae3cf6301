"""The environment module's tables (migrations branch ``environment``).

Times are integer seconds since the epoch (UTC): values arrive by the hundred thousand and compare, sort and
partition as plain numbers. ``env_values`` keeps every value as reported; ``env_hourly`` and ``env_daily`` are kept
current as values arrive. On PostgreSQL ``env_values`` is partitioned by month with a BRIN index on time (the
migration creates it; the service adds each month's partition when the first value of that month arrives).
"""

from __future__ import annotations

import sqlalchemy as sa

from zhulian.store import Timestamp

metadata = sa.MetaData()

stations = sa.Table(
    "env_stations", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("mn", sa.String(24), nullable=False, unique=True),  # the HJ 212 device code
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("city", sa.String(6), nullable=False, index=True),  # adcode
    sa.Column("district", sa.String(100)),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("password_hash", sa.String(120)),  # sha256$salt$hex of the HJ 212 PW; none: PW not checked
    sa.Column("zone_class", sa.String(4)),  # noise: GB 3096-2008 acoustic functional zone
    sa.Column("water_target", sa.String(4)),  # water: the GB 3838-2002 class the water body must keep
    sa.Column("created", Timestamp, nullable=False),
    # The ``station`` record this row mirrors (types.py): the record is the truth for the descriptive columns
    # above; none for a station added before stations were records.
    sa.Column("record_id", sa.String(40), unique=True),
)

values = sa.Table(
    "env_values", metadata,
    sa.Column("station_id", sa.Integer, primary_key=True),
    sa.Column("time", sa.BigInteger, primary_key=True),  # the period's start, UTC seconds
    sa.Column("code", sa.String(16), primary_key=True),  # HJ 212 pollutant code, e.g. a34004
    sa.Column("interval", sa.String(8), primary_key=True),  # rtd | minute | hour | day
    sa.Column("value", sa.Float),
    sa.Column("low", sa.Float),
    sa.Column("high", sa.Float),
    sa.Column("count", sa.Float),
    sa.Column("flag", sa.String(1), nullable=False),
    sqlite_with_rowid=False,
)


def _aggregate(name: str) -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column("station_id", sa.Integer, primary_key=True),
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("time", sa.BigInteger, primary_key=True),  # hour start (UTC) / China-time midnight
        sa.Column("n", sa.Integer, nullable=False),  # valid values summed
        sa.Column("total", sa.Float, nullable=False),
        sa.Column("low", sa.Float),
        sa.Column("high", sa.Float),
        sa.Column("reported", sa.Float),  # the station's own hourly (CN=2061) or daily (CN=2031) value
        # Federation (federation.py): bumped on every change from the env_aggregate_changes sequence; the
        # version is the change seq on the node that measured the values (a hub keeps the district's).
        sa.Column("change_seq", sa.BigInteger, index=True),
        sa.Column("version", sa.BigInteger),
        sqlite_with_rowid=False,
    )


hourly = _aggregate("env_hourly")  # from real-time and minute values; 2061 reports win
daily = _aggregate("env_daily")  # from hourly values (2061 or imported); 2031 reports win

# The SensorThings view (sta.py): a Datastream is a station's series of one parameter (its HJ 212 code); its
# Observations are that station's env_values of the code. Sensors and ObservedProperties are what SensorThings
# clients describe; values arriving over HJ 212 get the packaged HJ 212 instrument and their code's property.
sensors = sa.Table(
    "env_sensors", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("encoding_type", sa.String(100), nullable=False),
    sa.Column("metadata", sa.Text, nullable=False),
)

properties = sa.Table(
    "env_properties", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(16), nullable=False, unique=True),  # the parameter code its values are stored under
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("definition", sa.String(500), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
)

datastreams = sa.Table(
    "env_datastreams", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.Integer, nullable=False),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("unit", sa.JSON, nullable=False),  # SensorThings unitOfMeasurement {name, symbol, definition}
    sa.Column("observation_type", sa.String(200), nullable=False),
    sa.Column("sensor_id", sa.Integer, nullable=False),
    sa.Column("property_id", sa.Integer, nullable=False),
    sa.UniqueConstraint("station_id", "code"),
)
HJ212_SENSOR = 1  # the migration's packaged sensor: the HJ 212 data acquisition and transmission instrument

# Alerts (alerts.py): at most one open alert per station × kind × code (a partial unique index: state <> 'closed').
alerts = sa.Table(
    "env_alerts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("station_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(12), nullable=False),  # exceedance | rise | silent | fault
    sa.Column("code", sa.String(16), nullable=False),  # the parameter; "" for a silent station
    sa.Column("state", sa.String(12), nullable=False),  # open | acknowledged | closed
    sa.Column("level", sa.Integer, nullable=False),  # 1, raised while the condition persists
    sa.Column("opened", sa.BigInteger, nullable=False),  # the hour it was first seen (UTC seconds)
    sa.Column("last_seen", sa.BigInteger, nullable=False),
    sa.Column("value", sa.Float),
    sa.Column("threshold", sa.Float),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("message_zh", sa.Text, nullable=False),
    sa.Column("acknowledged_by", sa.String(64)),
    sa.Column("closed_by", sa.String(64)),
    sa.Column("note", sa.Text),
)

webhooks = sa.Table(
    "env_webhooks", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("url", sa.String(500), nullable=False, unique=True),
    sa.Column("created", Timestamp, nullable=False),
)

deliveries = sa.Table(
    "env_deliveries", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("webhook_id", sa.Integer, nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("due", sa.BigInteger, nullable=False),  # next attempt (UTC seconds); null once done
    sa.Column("state", sa.String(10), nullable=False),  # pending | delivered | failed
    sa.Column("last_error", sa.Text),
)

# Citizen reports (reports.py) and their public status history.
reports = sa.Table(
    "env_reports", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("tracking", sa.String(20), nullable=False, unique=True),
    sa.Column("kind", sa.String(12), nullable=False),  # fumes | noise | waste_gas | water
    sa.Column("place", sa.String(200), nullable=False),
    sa.Column("lon", sa.Float),
    sa.Column("lat", sa.Float),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("photo", sa.LargeBinary),
    sa.Column("photo_type", sa.String(20)),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("hidden", sa.Boolean, nullable=False),
    sa.Column("address", sa.String(64), nullable=False, index=True),  # sha256 of the sender's address
    sa.Column("created", Timestamp, nullable=False),
)

report_events = sa.Table(
    "env_report_events", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("report_id", sa.Integer, nullable=False, index=True),
    sa.Column("state", sa.String(12), nullable=False),
    sa.Column("reply", sa.Text),  # shown to the public
    sa.Column("actor", sa.String(64), nullable=False),
    sa.Column("at", Timestamp, nullable=False),
)
