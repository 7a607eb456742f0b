"""Queries on fiscal years and their periods."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import case, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.dialect import is_postgresql
from grandlivre.db.tables import Entry, EntryLine, FiscalPeriod, FiscalYear, Ledger


class YearSpan(NamedTuple):
    """A fiscal year as posting checks it: its name, bounds and status."""

    year: int
    start: date
    end: date
    status: str


# First key of the advisory lock that orders postings against locks and closings (the second
# is the ledger's): every entry inserted on PostgreSQL takes it in shared mode (the trigger of
# migration 0009), whatever changes a period or a year's status takes it alone.
PERIOD_LOCK_CLASS = 0x5EA2


async def lock_periods(session: AsyncSession, ledger_id: uuid.UUID) -> None:
    """Wait until no posting into the ledger is under way, and hold new ones off until this
    transaction ends: what it then changes in periods or years is seen by every later one.

    On SQLite the write transaction (BEGIN IMMEDIATE) shuts out every other writer already.
    """
    if is_postgresql(session):
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(:ledger))"),
            {"lock_class": PERIOD_LOCK_CLASS, "ledger": str(ledger_id)},
        )


async def get_ledger(session: AsyncSession, code: str) -> Ledger | None:
    """Return the ledger with that code, if any."""
    result = await session.execute(select(Ledger).where(Ledger.code == code))
    return result.scalar_one_or_none()


async def list_years(
    session: AsyncSession, ledger_id: uuid.UUID, *, after: int | None = None, limit: int = 1000
) -> Sequence[FiscalYear]:
    """Return the ledger's fiscal years in order, after the year `after`."""
    query = (
        select(FiscalYear)
        .where(FiscalYear.ledger_id == ledger_id)
        .order_by(FiscalYear.year)
        .limit(limit)
    )
    if after is not None:
        query = query.where(FiscalYear.year > after)
    return (await session.execute(query)).scalars().all()


async def get_year(session: AsyncSession, ledger_id: uuid.UUID, year: int) -> FiscalYear | None:
    """Return the ledger's fiscal year of that name, if any."""
    result = await session.execute(
        select(FiscalYear).where(FiscalYear.ledger_id == ledger_id, FiscalYear.year == year)
    )
    return result.scalar_one_or_none()


async def get_year_by_id(session: AsyncSession, year_id: uuid.UUID) -> FiscalYear | None:
    """Return the fiscal year with that id, if any."""
    return await session.get(FiscalYear, year_id)


async def last_year(session: AsyncSession, ledger_id: uuid.UUID) -> FiscalYear | None:
    """Return the ledger's latest fiscal year, if it has one."""
    result = await session.execute(
        select(FiscalYear)
        .where(FiscalYear.ledger_id == ledger_id)
        .order_by(FiscalYear.year.desc())
        .limit(1)
    )
    return result.scalar_one_or_none()


async def insert_year(
    session: AsyncSession, year: dict[str, Any], periods: Sequence[dict[str, Any]]
) -> None:
    """Insert a fiscal year and its periods (a twin makes this raise IntegrityError)."""
    await session.execute(insert(FiscalYear).values(year))
    await session.execute(insert(FiscalPeriod).values(list(periods)))


async def periods_of(session: AsyncSession, year_ids: Sequence[uuid.UUID]) -> list[FiscalPeriod]:
    """Return the periods of the fiscal years, in month order."""
    if not year_ids:
        return []
    result = await session.execute(
        select(FiscalPeriod)
        .where(FiscalPeriod.fiscal_year_id.in_(year_ids))
        .order_by(FiscalPeriod.month)
    )
    return list(result.scalars())


async def get_period(
    session: AsyncSession, ledger_id: uuid.UUID, month: date
) -> FiscalPeriod | None:
    """Return the ledger's period of that month (its first day), if a fiscal year covers it."""
    result = await session.execute(
        select(FiscalPeriod).where(FiscalPeriod.ledger_id == ledger_id, FiscalPeriod.month == month)
    )
    return result.scalar_one_or_none()


async def set_period_lock(
    session: AsyncSession, period: FiscalPeriod, locked_at: datetime | None
) -> None:
    """Lock a period at `locked_at`, or unlock it with None."""
    period.locked_at = locked_at
    await session.flush()


class YearSeal(NamedTuple):
    """What a closed year's validated entries come to: how many, their totals (minor units),
    how many are sealed yet, and the seq and hash of the last one sealed."""

    entries: int
    debit: int
    credit: int
    sealed: int
    last_seq: int | None
    last_hash: str | None


async def year_seal(session: AsyncSession, ledger_id: uuid.UUID, year: int) -> YearSeal:
    """Count and total the validated entries numbered in a fiscal year, and find its last
    sealed one."""
    in_year = (
        Entry.ledger_id == ledger_id,
        Entry.fiscal_year == year,
        Entry.status != "draft",
    )
    counts = (
        await session.execute(
            select(func.count(), func.count(Entry.seq), func.max(Entry.seq)).where(*in_year)
        )
    ).one()
    totals = (
        await session.execute(
            select(
                func.coalesce(func.sum(case((EntryLine.amount > 0, EntryLine.amount), else_=0)), 0),
                func.coalesce(
                    func.sum(case((EntryLine.amount < 0, -EntryLine.amount), else_=0)), 0
                ),
            )
            .join(Entry, Entry.id == EntryLine.entry_id)
            .where(*in_year)
        )
    ).one()
    last_hash = None
    if counts[2] is not None:
        last_hash = (
            await session.execute(
                select(Entry.hash).where(Entry.ledger_id == ledger_id, Entry.seq == counts[2])
            )
        ).scalar_one_or_none()
    return YearSeal(
        int(counts[0]), int(totals[0]), int(totals[1]), int(counts[1]), counts[2], last_hash
    )


async def year_ending(session: AsyncSession, ledger_id: uuid.UUID, day: date) -> FiscalYear | None:
    """Return the ledger's fiscal year that ends on `day`, if any."""
    result = await session.execute(
        select(FiscalYear).where(FiscalYear.ledger_id == ledger_id, FiscalYear.end_date == day)
    )
    return result.scalar_one_or_none()


async def set_year_status(
    session: AsyncSession, row: FiscalYear, status: str, closed_at: datetime | None
) -> None:
    """Write a fiscal year's status and closing instant."""
    row.status = status
    row.closed_at = closed_at
    await session.flush()
