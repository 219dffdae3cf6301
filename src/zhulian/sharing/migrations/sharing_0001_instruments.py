"""Shared instruments: service profiles, bookings (never two active ones overlapping), voucher programmes,
vouchers and redemptions.

Revision ID: sharing_0001
Revises:
Create Date: 2026-11-30 04:20:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "sharing_0001"
down_revision = None
branch_labels = ("sharing",)
depends_on = "0002"

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
BTREE_GIST_LOCK = 0x7A68_6273  # "zhbs"
TABLES = ("sharing_redemptions", "sharing_vouchers", "sharing_voucher_programs", "sharing_bookings", "sharing_profiles")


def upgrade() -> None:
    op.create_table(
        "sharing_profiles",
        sa.Column("instrument_id", sa.String(40), primary_key=True),
        sa.Column("node", sa.String(6), index=True),
        sa.Column("city", sa.String(6), index=True),
        sa.Column("profile", JSON, nullable=False),
        sa.Column("updated", sa.String(32), nullable=False),
    )
    op.create_table(
        "sharing_bookings",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("instrument_id", sa.String(40), nullable=False),
        sa.Column("node", sa.String(6), index=True),
        sa.Column("city", sa.String(6), index=True),
        sa.Column("host", sa.String(200)),
        sa.Column("start_at", sa.String(32), nullable=False),
        sa.Column("end_at", sa.String(32), nullable=False),
        sa.Column("service", sa.String(40), nullable=False),
        sa.Column("samples", sa.Integer, nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
        sa.Column("user_id", sa.String(200), nullable=False, index=True),
        sa.Column("user_role", sa.String(16), nullable=False),
        sa.Column("user_name", sa.String(200), nullable=False),
        sa.Column("organization", sa.String(40), index=True),
        sa.Column("user_class", sa.String(12), nullable=False),
        sa.Column("user_city", sa.String(6)),
        sa.Column("state", sa.String(12), nullable=False, index=True),
        sa.Column("reason", sa.Text),
        sa.Column("hours_used", sa.Float),
        sa.Column("samples_used", sa.Integer),
        sa.Column("fee_fen", sa.BigInteger),
        sa.Column("rate_fen", sa.BigInteger),
        sa.Column("unit", sa.String(8)),
        sa.Column("rating", sa.Integer),
        sa.Column("comment", sa.Text),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("confirmed_at", sa.String(32)),
        sa.Column("completed_at", sa.String(32)),
        sa.Column("updated", sa.String(32), nullable=False),
    )
    op.create_index("ix_sharing_bookings_slot", "sharing_bookings", ["instrument_id", "end_at"])
    op.create_table(
        "sharing_voucher_programs",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("city", sa.String(6), nullable=False, index=True),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("budget_fen", sa.BigInteger, nullable=False),
        sa.Column("issued_fen", sa.BigInteger, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.CheckConstraint("issued_fen >= 0 AND issued_fen <= budget_fen", name="ck_sharing_programs_budget"),
    )
    op.create_table(
        "sharing_vouchers",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("program_id", sa.String(40), nullable=False, index=True),
        sa.Column("city", sa.String(6), nullable=False, index=True),
        sa.Column("firm", sa.String(40), nullable=False, index=True),
        sa.Column("firm_name", sa.String(200), nullable=False),
        sa.Column("firm_city", sa.String(6)),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("balance_fen", sa.BigInteger, nullable=False),
        sa.Column("share", sa.Float, nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("updated", sa.String(32), nullable=False),
        sa.CheckConstraint("balance_fen >= 0 AND balance_fen <= amount_fen", name="ck_sharing_vouchers_balance"),
    )
    op.create_table(
        "sharing_redemptions",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("voucher_id", sa.String(40), nullable=False, index=True),
        sa.Column("booking_id", sa.String(40), nullable=False, unique=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("issuing_city", sa.String(6), nullable=False),
        sa.Column("provider_city", sa.String(6)),
        sa.Column("provider_node", sa.String(6)),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("created", sa.String(32), nullable=False),
        sa.Column("claimed_at", sa.String(32)),
        sa.Column("settled_at", sa.String(32)),
        sa.CheckConstraint("amount_fen > 0", name="ck_sharing_redemptions_amount"),
    )

    if op.get_bind().dialect.name == "postgresql":
        # Two active bookings of one instrument never overlap, whatever commits first: the database refuses
        # the second. Times are stored as ISO-8601 UTC text ending in Z, so reading them as timestamptz does
        # not depend on the session's time zone and the wrapper may be declared immutable.
        _create_btree_gist()
        op.execute("CREATE FUNCTION sharing_utc(text) RETURNS timestamptz LANGUAGE sql IMMUTABLE PARALLEL SAFE "
                   "AS $$ SELECT $1::timestamptz $$")
        op.execute("ALTER TABLE sharing_bookings ADD CONSTRAINT ex_sharing_bookings_slot EXCLUDE USING gist "
                   "(instrument_id WITH =, tstzrange(sharing_utc(start_at), sharing_utc(end_at), '[)') WITH &&) "
                   "WHERE (state IN ('requested', 'confirmed', 'in_use'))")


def _create_btree_gist() -> None:
    """The extension once per database, in ``public`` where there is one: an extension lives in one schema, and
    one installed in a schema that is later dropped (a test's) would take other schemas' constraints with it.
    The lock makes two databases' worth of migrations running at once create it one after the other."""
    op.execute(sa.text("SELECT pg_advisory_xact_lock(:lock)").bindparams(lock=BTREE_GIST_LOCK))
    public = op.get_bind().execute(sa.text("SELECT 1 FROM pg_namespace WHERE nspname = 'public'")).first()
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist" + (" SCHEMA public" if public else ""))


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION sharing_utc(text)")
