"""fiscal years and their monthly periods; entries carry their fiscal year, document date and
validation instant from the start

Every ledger that exists gets calendar fiscal years, from the year of its first entry (or of its
creation) to the current one: what its entries were numbered by until now. On PostgreSQL a
trigger refuses an entry whose date lies outside an open fiscal year or in a locked period, after
taking the ledger's period lock in shared mode, so that no posting slips past a lock or a closing
that commits while it runs (see fiscal/repository.py: lock_periods).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 21:10:00.000000
"""

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The first key of the ledger's period lock (fiscal/repository.py: PERIOD_LOCK_CLASS).
PERIOD_LOCK_CLASS = 0x5EA2

CHECK_PERIOD = f"""
CREATE FUNCTION grandlivre_check_period() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    found_year smallint;
    found_status varchar;
BEGIN
    PERFORM pg_advisory_xact_lock_shared({PERIOD_LOCK_CLASS}, hashtext(NEW.ledger_id::text));
    -- A VOLATILE function's queries each take a fresh snapshot: what a lock or a closing
    -- committed while this transaction waited above is seen here.
    SELECT y.year, y.status INTO found_year, found_status FROM fiscal_years y
    WHERE y.ledger_id = NEW.ledger_id AND NEW.entry_date BETWEEN y.start_date AND y.end_date;
    IF found_year IS NULL OR found_status <> 'open' OR NEW.fiscal_year <> found_year OR EXISTS (
        SELECT FROM fiscal_periods p
        WHERE p.ledger_id = NEW.ledger_id
          AND p.month = date_trunc('month', NEW.entry_date)::date
          AND p.locked_at IS NOT NULL
    ) THEN
        RAISE EXCEPTION 'entry % is dated %, outside an open and unlocked period',
            NEW.id, NEW.entry_date
            USING ERRCODE = 'check_violation', CONSTRAINT = 'ck_entries_open_period';
    END IF;
    NEW.fiscal_year := found_year;
    RETURN NEW;
END $$
"""  # noqa: S608 (a constant of this file is the only thing formatted in)


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def _year(value: object) -> int | None:
    # SQLite hands dates and instants back as text from a raw query.
    if value is None:
        return None
    if isinstance(value, date):
        return value.year
    return int(str(value)[:4])


def _backfill() -> None:
    """Give every ledger calendar fiscal years covering its entries and today, all open."""
    bind = op.get_bind()
    now = datetime.now(UTC)
    ledgers = bind.execute(
        sa.text(
            "SELECT l.id, l.created_at, min(e.entry_date), max(e.entry_date) FROM ledgers l "
            "LEFT JOIN entries e ON e.ledger_id = l.id GROUP BY l.id, l.created_at"
        )
    ).all()
    years, periods = [], []
    for ledger_id, created_at, first, last in ledgers:
        ledger = ledger_id if isinstance(ledger_id, uuid.UUID) else uuid.UUID(str(ledger_id))
        known = [y for y in (_year(first), _year(last), _year(created_at)) if y is not None]
        low, high = min([*known, now.year]), max([*known, now.year])
        for year in range(low, high + 1):
            year_id = uuid.uuid5(ledger, f"fiscal-year:{year}")
            start, end = date(year, 1, 1), date(year, 12, 31)
            years.append(
                {
                    "id": year_id,
                    "ledger_id": ledger,
                    "year": year,
                    "start_date": start,
                    "end_date": end,
                    "status": "open",
                    "created_at": now,
                }
            )
            periods.extend(
                {
                    "id": uuid.uuid5(ledger, f"period:{month:%Y-%m}"),
                    "ledger_id": ledger,
                    "fiscal_year_id": year_id,
                    "month": month,
                }
                for month in _months(start, end)
            )
    fiscal_years = sa.table(
        "fiscal_years",
        sa.column("id", sa.Uuid()),
        sa.column("ledger_id", sa.Uuid()),
        sa.column("year", sa.SmallInteger()),
        sa.column("start_date", sa.Date()),
        sa.column("end_date", sa.Date()),
        sa.column("status", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    fiscal_periods = sa.table(
        "fiscal_periods",
        sa.column("id", sa.Uuid()),
        sa.column("ledger_id", sa.Uuid()),
        sa.column("fiscal_year_id", sa.Uuid()),
        sa.column("month", sa.Date()),
    )
    if years:
        op.bulk_insert(fiscal_years, years)  # type: ignore[arg-type]
        op.bulk_insert(fiscal_periods, periods)  # type: ignore[arg-type]


def upgrade() -> None:
    op.create_table(
        "fiscal_years",
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ledger_id", sa.Uuid(), nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledgers.id"], name=op.f("fk_fiscal_years_ledger_id_ledgers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fiscal_years")),
        sa.UniqueConstraint("ledger_id", "year", name=op.f("uq_fiscal_years_ledger_id_year")),
    )
    op.create_index(op.f("ix_fiscal_years_txid"), "fiscal_years", ["txid"], unique=False)
    op.create_table(
        "fiscal_periods",
        sa.Column("txid", sa.BigInteger(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("ledger_id", sa.Uuid(), nullable=False),
        sa.Column("fiscal_year_id", sa.Uuid(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["ledger_id"], ["ledgers.id"], name=op.f("fk_fiscal_periods_ledger_id_ledgers")
        ),
        sa.ForeignKeyConstraint(
            ["fiscal_year_id"],
            ["fiscal_years.id"],
            name=op.f("fk_fiscal_periods_fiscal_year_id_fiscal_years"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fiscal_periods")),
        sa.UniqueConstraint("ledger_id", "month", name=op.f("uq_fiscal_periods_ledger_id_month")),
    )
    op.create_index(op.f("ix_fiscal_periods_txid"), "fiscal_periods", ["txid"], unique=False)
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        for table in ("fiscal_years", "fiscal_periods"):
            op.execute(
                f"CREATE TRIGGER stamp_txid BEFORE INSERT OR UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION grandlivre_stamp_txid()"
            )
    _backfill()
    with op.batch_alter_table("entries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("validated_at", sa.DateTime(timezone=True), nullable=True))
    # In one pass over the entries: every one so far was posted final, from a document of its
    # own date, and those not sealed yet were to be numbered in the calendar year of their date.
    year = (
        "extract(year FROM entry_date)"
        if postgresql
        else "CAST(strftime('%Y', entry_date) AS INTEGER)"
    )
    backfill = (
        "UPDATE entries SET document_date = entry_date, validated_at = created_at, "  # noqa: S608
        f"fiscal_year = COALESCE(fiscal_year, {year})"
    )
    op.execute(backfill)
    if postgresql:
        # On SQLite the column stays nullable: making it NOT NULL there means copying the table,
        # which its lines' foreign keys refuse while they are enforced. Every write sets it.
        op.alter_column("entries", "document_date", existing_type=sa.Date(), nullable=False)
    if postgresql:
        op.execute(CHECK_PERIOD)
        op.execute(
            "CREATE TRIGGER check_period BEFORE INSERT ON entries "
            "FOR EACH ROW EXECUTE FUNCTION grandlivre_check_period()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS check_period ON entries")
        op.execute("DROP FUNCTION IF EXISTS grandlivre_check_period()")
    # Dropped in place (SQLite >= 3.35), as in 0004: a rebuild would drop a referenced table.
    with op.batch_alter_table("entries", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("validated_at")
        batch_op.drop_column("document_date")
    op.drop_index(op.f("ix_fiscal_periods_txid"), table_name="fiscal_periods")
    op.drop_table("fiscal_periods")
    op.drop_index(op.f("ix_fiscal_years_txid"), table_name="fiscal_years")
    op.drop_table("fiscal_years")
