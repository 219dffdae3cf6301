"""The sharing module's own tables (migrations branch ``sharing``). Money is kept in fen (integers), so sums
and balances are exact; times are ISO-8601 UTC strings like every store timestamp."""

from __future__ import annotations

import sqlalchemy as sa

from zhulian.store import Json, Timestamp

metadata = sa.MetaData()

ACTIVE_STATES = ("requested", "confirmed", "in_use")  # a booking in one of these holds its slot

profiles = sa.Table(
    "sharing_profiles", metadata,
    sa.Column("instrument_id", sa.String(40), primary_key=True),
    sa.Column("node", sa.String(6), index=True),  # the host node: its publishers confirm bookings
    sa.Column("city", sa.String(6), index=True),
    sa.Column("profile", Json, nullable=False),  # services, fees, operators, opening hours, calendar
    sa.Column("updated", Timestamp, nullable=False),
)

bookings = sa.Table(
    "sharing_bookings", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # bkg_<ULID>
    sa.Column("instrument_id", sa.String(40), nullable=False),
    sa.Column("node", sa.String(6), index=True),
    sa.Column("city", sa.String(6), index=True),  # where the instrument stands
    sa.Column("host", sa.String(200)),
    sa.Column("start_at", Timestamp, nullable=False),
    sa.Column("end_at", Timestamp, nullable=False),
    sa.Column("service", sa.String(40), nullable=False),
    sa.Column("samples", sa.Integer, nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("user_id", sa.String(200), nullable=False, index=True),  # the key that booked
    sa.Column("user_role", sa.String(16), nullable=False),
    sa.Column("user_name", sa.String(200), nullable=False),
    sa.Column("organization", sa.String(40), index=True),  # the booking organisation's record
    sa.Column("user_class", sa.String(12), nullable=False),  # internal | external | enterprise
    sa.Column("user_city", sa.String(6)),
    sa.Column("state", sa.String(12), nullable=False, index=True),
    sa.Column("reason", sa.Text),  # why it was refused or cancelled
    sa.Column("hours_used", sa.Float),
    sa.Column("samples_used", sa.Integer),
    sa.Column("fee_fen", sa.BigInteger),
    sa.Column("rate_fen", sa.BigInteger),
    sa.Column("unit", sa.String(8)),  # hour | sample
    sa.Column("rating", sa.Integer),
    sa.Column("comment", sa.Text),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("confirmed_at", Timestamp),
    sa.Column("completed_at", Timestamp),
    sa.Column("updated", Timestamp, nullable=False, index=True),  # the order a hub pulls decisions back in
    # Set on a hub: this row mirrors a booking forwarded to the instrument's origin node, which decides it.
    sa.Column("origin_node", sa.String(6)),
    # The overlap check reads an instrument's bookings ending after the new one starts: the few still ahead,
    # not the instrument's whole history.
    sa.Index("ix_sharing_bookings_slot", "instrument_id", "end_at"),
)

# The nodes this node forwards bookings to: the origin of an instrument record (its ``node``), where to reach it
# and the reader key it issued to this node; ``cursor`` is the last change of a forwarded booking pulled back.
relays = sa.Table(
    "sharing_relays", metadata,
    sa.Column("node", sa.String(6), primary_key=True),
    sa.Column("url", sa.String(500), nullable=False),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("cursor", Timestamp, nullable=False),
    sa.Column("added", Timestamp, nullable=False),
    sa.Column("last_pull", Timestamp),
    sa.Column("last_error", sa.Text),
)

programs = sa.Table(
    "sharing_voucher_programs", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # vpg_<ULID>
    sa.Column("city", sa.String(6), nullable=False, index=True),  # the issuing city, which settles
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("budget_fen", sa.BigInteger, nullable=False),
    sa.Column("issued_fen", sa.BigInteger, nullable=False),
    sa.Column("share", sa.Float, nullable=False),  # the most of a fee a voucher pays
    sa.Column("rules", Json, nullable=False),  # eligibility: enterprise types, sizes, cities
    sa.Column("created", Timestamp, nullable=False),
    sa.CheckConstraint("issued_fen >= 0 AND issued_fen <= budget_fen", name="ck_sharing_programs_budget"),
)

vouchers = sa.Table(
    "sharing_vouchers", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # vch_<ULID>
    sa.Column("program_id", sa.String(40), nullable=False, index=True),
    sa.Column("city", sa.String(6), nullable=False, index=True),
    sa.Column("firm", sa.String(40), nullable=False, index=True),  # the firm's organisation record
    sa.Column("firm_name", sa.String(200), nullable=False),
    sa.Column("firm_city", sa.String(6)),
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("balance_fen", sa.BigInteger, nullable=False),
    sa.Column("share", sa.Float, nullable=False),
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("updated", Timestamp, nullable=False),
    sa.CheckConstraint("balance_fen >= 0 AND balance_fen <= amount_fen", name="ck_sharing_vouchers_balance"),
)

redemptions = sa.Table(
    "sharing_redemptions", metadata,
    sa.Column("id", sa.String(40), primary_key=True),  # rdm_<ULID>
    sa.Column("voucher_id", sa.String(40), nullable=False, index=True),
    sa.Column("booking_id", sa.String(40), nullable=False, unique=True),  # a fee is paid by one voucher once
    sa.Column("amount_fen", sa.BigInteger, nullable=False),
    sa.Column("issuing_city", sa.String(6), nullable=False),
    sa.Column("provider_city", sa.String(6)),
    sa.Column("provider_node", sa.String(6)),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("state", sa.String(10), nullable=False),  # redeemed | claimed | settled
    sa.Column("created", Timestamp, nullable=False),
    sa.Column("claimed_at", Timestamp),
    sa.Column("settled_at", Timestamp),
    sa.CheckConstraint("amount_fen > 0", name="ck_sharing_redemptions_amount"),
)
