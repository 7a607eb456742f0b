"""Queries of the statements: the fiscal years, balances over a range, the closings' lines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, Entry, EntryLine, FiscalYear
from grandlivre.report import repository as report_repo
from grandlivre.report.window import Window
from grandlivre.store import EntryStatus

CLOSING_ROLE = "closing"  # Entry.role of the entry that zeroes classes 6 and 7 (closing/)


@dataclass(frozen=True)
class Year:
    """A fiscal year as a statement reads it: its name, bounds and whether it is closed."""

    year: int
    start: date
    end: date
    status: str


async def years_through(session: AsyncSession, ledger_id: uuid.UUID, year: int) -> list[Year]:
    """Return the ledger's fiscal years named `year` or before, in order."""
    result = await session.execute(
        select(FiscalYear.year, FiscalYear.start_date, FiscalYear.end_date, FiscalYear.status)
        .where(FiscalYear.ledger_id == ledger_id, FiscalYear.year <= year)
        .order_by(FiscalYear.year)
    )
    return [Year(r.year, r.start_date, r.end_date, r.status) for r in result]


async def balances_between(
    session: AsyncSession, ledger_id: uuid.UUID, start: date, end: date
) -> dict[str, int]:
    """Return the balance (debit − credit) of every account moved by validated entries dated
    in [start, end], closings and openings included, by number: one round trip.

    Read through the trial balance's query, which takes sealed entries from the day totals
    (a row per account and day, whatever the number of entries) and only the unsealed ones
    from their lines. Its window counts the movements of the entries dated after `since` up
    to `date_to`, with no opening (no `date_from`) and no opening entry left out (no
    `restated`): exactly the entries of [start, end].
    """
    window = Window(date_from=None, date_to=end, since=start - timedelta(days=1))
    figures = await report_repo.account_figures(session, ledger_id, window)
    return {f.number: f.debit - f.credit for f in figures}


async def closing_lines(
    session: AsyncSession, ledger_id: uuid.UUID, days: Sequence[date]
) -> list[tuple[str, date, int]]:
    """Return (account number, day, signed total) of the lines of the closing entries dated
    on these days (and their reversals by a reopening, which carry the same role): one round
    trip.

    A closing entry is dated on its year's last day and a reopening's reversal on the day of
    what it reverses (closing/service.py), so the days asked for are the closed years' last
    days: the entries' (ledger, date, id) index then reads those days' entries only, rather
    than every entry of the range to find the few with a role.
    """
    if not days:
        return []
    total = func.sum(EntryLine.amount)
    result = await session.execute(
        select(Account.number, Entry.entry_date, total.label("amount"))
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Account, Account.id == EntryLine.account_id)
        .where(
            Entry.ledger_id == ledger_id,
            Entry.entry_date.in_(sorted(set(days))),
            Entry.role == CLOSING_ROLE,
            Entry.status != EntryStatus.draft,
        )
        .group_by(Account.number, Entry.entry_date)
    )
    return [(r.number, r.entry_date, int(r.amount)) for r in result]
