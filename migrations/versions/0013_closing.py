"""closing: entries written by a fiscal year's closing carry their role, and may go into the
locked periods of the year they close or open

The period trigger of 0009 lets an entry into a locked month when the transaction says it is a
closing of that ledger (the transaction-local setting `grandlivre.closing`, set by the closing
itself); a closed year and a wrong fiscal year stay refused.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 23:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first key of the ledger's period lock (fiscal/repository.py: PERIOD_LOCK_CLASS).
PERIOD_LOCK_CLASS = 0x5EA2


def _function(closing_bypass: bool) -> str:
    bypass = (
        "AND current_setting('grandlivre.closing', true) IS DISTINCT FROM NEW.ledger_id::text"
        if closing_bypass
        else ""
    )
    return f"""
CREATE OR REPLACE FUNCTION grandlivre_check_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_year smallint;
    found_status varchar;
BEGIN
    PERFORM pg_advisory_xact_lock_shared({PERIOD_LOCK_CLASS}, hashtext(NEW.ledger_id::text));
    SELECT y.year, y.status INTO found_year, found_status FROM fiscal_years y
    WHERE y.ledger_id = NEW.ledger_id AND NEW.entry_date BETWEEN y.start_date AND y.end_date;
    IF found_year IS NULL OR found_status <> 'open' OR NEW.fiscal_year <> found_year OR (EXISTS (
        SELECT FROM fiscal_periods p
        WHERE p.ledger_id = NEW.ledger_id
          AND p.month = date_trunc('month', NEW.entry_date)::date
          AND p.locked_at IS NOT NULL
    ) {bypass}) THEN
        RAISE EXCEPTION 'entry % is dated %, outside an open and unlocked period',
            NEW.id, NEW.entry_date
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_entries_open_period';
    END IF;
    NEW.fiscal_year := found_year;
    RETURN NEW;
END $$
"""  # noqa: S608 (constants of this file are the only things formatted in)


def upgrade() -> None:
    op.add_column("entries", sa.Column("role", sa.String(length=20), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(closing_bypass=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_function(closing_bypass=False))
    with op.batch_alter_table("entries", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("role")
