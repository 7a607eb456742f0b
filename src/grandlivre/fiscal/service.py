"""Rules of fiscal years and periods: their bounds, which one a date falls in, locking.

A ledger's fiscal years follow each other without a gap: the first one runs from any day for 6
to 24 months and ends on the last day of a month; each later one runs the 12 months after the
one before. A year is named by the calendar year in which it ends (a first year from
2026-07-01 to 2027-12-31 is `2027`). Each calendar month a year touches is one of its periods;
a locked period takes no new entries, a closed year none at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.clock import PARIS
from grandlivre.db.tables import FiscalPeriod, FiscalYear, Ledger
from grandlivre.errors import (
    FiscalYearClosed,
    FiscalYearExists,
    FiscalYearNotFound,
    FiscalYearNotNext,
    InvalidFiscalYear,
    LedgerNotFound,
    NoFiscalYear,
    PeriodLocked,
    PeriodNotFound,
)
from grandlivre.fiscal import repository as repo
from grandlivre.fiscal.repository import YearSpan

OPEN = "open"
CLOSED = "closed"
FIRST_YEAR_MONTHS = (6, 24)
YEAR_MONTHS = 12


@dataclass(frozen=True)
class PeriodView:
    """A month of a fiscal year, locked or not."""

    month: date
    locked_at: datetime | None


@dataclass(frozen=True)
class FiscalYearView:
    """A fiscal year with its periods."""

    ledger: str
    year: int
    start: date
    end: date
    status: str
    closed_at: datetime | None
    periods: list[PeriodView]
    decimals: int = 2
    seal: repo.YearSeal | None = None  # a closed year's only


def add_months(day: date, months: int) -> date:
    """Return the day `months` calendar months after `day`, kept within the month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, month_length(year, month + 1)))


def month_length(year: int, month: int) -> int:
    """Return how many days the month has."""
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


def month_end(day: date) -> date:
    """Return the last day of the month of `day`."""
    return day.replace(day=month_length(day.year, day.month))


def months_of(start: date, end: date) -> list[date]:
    """Return the first day of every calendar month from `start`'s to `end`'s."""
    months: list[date] = []
    month = start.replace(day=1)
    while month <= end:
        months.append(month)
        month = add_months(month, 1)
    return months


def first_year_bounds(start: date | None, end: date | None, *, today: date) -> tuple[date, date]:
    """Return the bounds of a ledger's first fiscal year, or raise InvalidFiscalYear.

    By default the calendar year of `today`; with only a start, the year ends on the last day
    of its twelfth month (a start on 2026-03-17 ends on 2027-02-28).
    """
    start = start or date(today.year, 1, 1)
    end = end or month_end(add_months(start, YEAR_MONTHS - 1))
    if end != month_end(end):
        raise InvalidFiscalYear(f"a fiscal year ends on the last day of a month, not on {end}")
    shortest, longest = FIRST_YEAR_MONTHS
    earliest = add_months(start, shortest) - timedelta(days=1)
    latest = add_months(start, longest) - timedelta(days=1)
    if not earliest <= end <= latest:
        last_end = latest if latest == month_end(latest) else latest.replace(day=1) - timedelta(1)
        raise InvalidFiscalYear(
            f"a first fiscal year from {start} runs {shortest} to {longest} months: it ends "
            f"between {month_end(earliest)} and {last_end}, not on {end}",
            start=start.isoformat(),
            end=end.isoformat(),
        )
    return start, end


def next_year_bounds(last_end: date) -> tuple[date, date]:
    """Return the bounds of the fiscal year after one that ends on `last_end`."""
    start = last_end + timedelta(days=1)
    return start, month_end(add_months(start, YEAR_MONTHS - 1))


def fiscal_year_id(ledger_id: uuid.UUID, year: int) -> uuid.UUID:
    """Return the id of the ledger's fiscal year `year`, the same on every database."""
    return uuid.uuid5(ledger_id, f"fiscal-year:{year}")


def period_id(ledger_id: uuid.UUID, month: date) -> uuid.UUID:
    """Return the id of the ledger's period of `month`, the same on every database."""
    return uuid.uuid5(ledger_id, f"period:{month:%Y-%m}")


def place(day: date, years: Sequence[YearSpan], locked: set[date]) -> int:
    """Return the fiscal year an entry dated `day` is posted in, or raise why it cannot be."""
    for span in years:
        if span.start <= day <= span.end:
            if span.status != OPEN:
                raise FiscalYearClosed(
                    f"fiscal year {span.year} ({span.start} to {span.end}) is closed; "
                    f"nothing more is posted on {day}",
                    fiscal_year=span.year,
                )
            if day.replace(day=1) in locked:
                raise PeriodLocked(
                    f"period {day:%Y-%m} is locked; an admin may unlock it "
                    f"(POST .../periods/{day:%Y-%m}/unlock)",
                    period=f"{day:%Y-%m}",
                )
            return span.year
    raise NoFiscalYear(
        f"no fiscal year of the ledger covers {day}; an admin opens the next one with "
        "POST .../fiscal-years",
        date=day.isoformat(),
    )


async def _ledger(session: AsyncSession, code: str) -> Ledger:
    # Not through the ledger service: the ledger domain builds on this one (a new ledger
    # opens its first fiscal year), so this one does not build on it.
    ledger = await repo.get_ledger(session, code)
    if ledger is None:
        raise LedgerNotFound(f"no ledger with code {code!r}")
    return ledger


async def open_first_year(
    session: AsyncSession,
    ledger: Ledger,
    *,
    start: date | None,
    end: date | None,
    now: datetime,
) -> FiscalYear:
    """Give a new ledger its first fiscal year (the calendar year of `now`, in Paris, unless
    bounds are given)."""
    first, last = first_year_bounds(start, end, today=now.astimezone(PARIS).date())
    return await _insert(session, ledger, first, last, now=now)


async def open_next_year(
    session: AsyncSession, ledger_code: str, *, year: int | None, now: datetime
) -> FiscalYear:
    """Open the fiscal year after the ledger's last one; `year`, if given, must be its name."""
    ledger = await _ledger(session, ledger_code)
    last = await repo.last_year(session, ledger.id)
    if last is None:
        # Every ledger is made with a first year; this one predates them all.
        return await open_first_year(session, ledger, start=None, end=None, now=now)
    start, end = next_year_bounds(last.end_date)
    if year is not None and year != end.year:
        if await repo.get_year(session, ledger.id, year) is not None:
            raise FiscalYearExists(
                f"ledger {ledger.code!r} has a fiscal year {year} already", fiscal_year=year
            )
        raise FiscalYearNotNext(
            f"the next fiscal year of ledger {ledger.code!r} is {end.year} ({start} to {end}); "
            f"years are opened in order",
            next=end.year,
        )
    return await _insert(session, ledger, start, end, now=now)


async def _insert(
    session: AsyncSession, ledger: Ledger, start: date, end: date, *, now: datetime
) -> FiscalYear:
    year_id = fiscal_year_id(ledger.id, end.year)
    row = {
        "id": year_id,
        "ledger_id": ledger.id,
        "year": end.year,
        "start_date": start,
        "end_date": end,
        "status": OPEN,
        "created_at": now,
        "closed_at": None,
    }
    periods = [
        {
            "id": period_id(ledger.id, month),
            "ledger_id": ledger.id,
            "fiscal_year_id": year_id,
            "month": month,
            "locked_at": None,
        }
        for month in months_of(start, end)
    ]
    # A concurrent twin makes this fail on the unique keys; the store runs the unit again,
    # and the next year is then the one after it.
    await repo.insert_year(session, row, periods)
    return FiscalYear(**row)


async def find_year(session: AsyncSession, ledger_code: str, year: int) -> FiscalYear:
    """Return the ledger's fiscal year of that name, or raise FiscalYearNotFound."""
    ledger = await _ledger(session, ledger_code)
    row = await repo.get_year(session, ledger.id, year)
    if row is None:
        raise FiscalYearNotFound(f"ledger {ledger.code!r} has no fiscal year {year}")
    return row


async def next_year_of(session: AsyncSession, row: FiscalYear) -> FiscalYear | None:
    """Return the fiscal year after this one, if it was opened."""
    return await repo.get_year(session, row.ledger_id, next_year_bounds(row.end_date)[1].year)


async def previous_year_of(session: AsyncSession, row: FiscalYear) -> FiscalYear | None:
    """Return the fiscal year before this one, if there is one."""
    return await repo.year_ending(session, row.ledger_id, row.start_date - timedelta(days=1))


async def set_year_status(
    session: AsyncSession, row: FiscalYear, *, closed_at: datetime | None
) -> None:
    """Close a fiscal year (at `closed_at`) or reopen it (None), once the postings under way
    have committed: they hold the ledger's period lock, which this takes alone."""
    await repo.lock_periods(session, row.ledger_id)
    await repo.set_year_status(session, row, CLOSED if closed_at else OPEN, closed_at)


async def year_exists(session: AsyncSession, ledger_code: str, year: int) -> bool:
    """Tell whether the ledger has a fiscal year of that name."""
    ledger = await _ledger(session, ledger_code)
    return await repo.get_year(session, ledger.id, year) is not None


async def list_years(
    session: AsyncSession, ledger_code: str, *, after: int | None, limit: int
) -> list[FiscalYearView]:
    """Return a page of the ledger's fiscal years, with their periods, in order."""
    ledger = await _ledger(session, ledger_code)
    years = await repo.list_years(session, ledger.id, after=after, limit=limit)
    return await _views(session, ledger, years)


async def get_year(session: AsyncSession, ledger_code: str, year: int) -> FiscalYearView:
    """Return one fiscal year with its periods, or raise FiscalYearNotFound."""
    ledger = await _ledger(session, ledger_code)
    row = await repo.get_year(session, ledger.id, year)
    if row is None:
        raise FiscalYearNotFound(f"ledger {ledger.code!r} has no fiscal year {year}")
    return (await _views(session, ledger, [row]))[0]


async def lock_period(
    session: AsyncSession, ledger_code: str, month: date, *, now: datetime
) -> tuple[FiscalYearView, PeriodView]:
    """Lock a month: no entry dated in it is posted until it is unlocked. Locking a locked
    period keeps it as it was."""
    return await _set_lock(session, ledger_code, month, now)


async def unlock_period(
    session: AsyncSession, ledger_code: str, month: date
) -> tuple[FiscalYearView, PeriodView]:
    """Unlock a month of an open fiscal year; a closed year's periods stay locked."""
    return await _set_lock(session, ledger_code, month, None)


async def _set_lock(
    session: AsyncSession, ledger_code: str, month: date, locked_at: datetime | None
) -> tuple[FiscalYearView, PeriodView]:
    ledger = await _ledger(session, ledger_code)
    # Before reading the period: a posting under way either commits first or sees the lock.
    await repo.lock_periods(session, ledger.id)
    period = await repo.get_period(session, ledger.id, month)
    if period is None:
        raise PeriodNotFound(f"no fiscal year of ledger {ledger.code!r} covers {month:%Y-%m}")
    year = await repo.get_year_by_id(session, period.fiscal_year_id)
    assert year is not None  # a period belongs to a year (foreign key)
    if locked_at is None and year.status != OPEN:
        raise FiscalYearClosed(
            f"fiscal year {year.year} is closed: its periods stay locked", fiscal_year=year.year
        )
    if (period.locked_at is None) != (locked_at is None):
        await repo.set_period_lock(session, period, locked_at)
    view = (await _views(session, ledger, [year]))[0]
    return view, next(p for p in view.periods if p.month == month)


async def _views(
    session: AsyncSession, ledger: Ledger, years: Sequence[FiscalYear]
) -> list[FiscalYearView]:
    periods: dict[uuid.UUID, list[PeriodView]] = {y.id: [] for y in years}
    for period in await repo.periods_of(session, [y.id for y in years]):
        periods[period.fiscal_year_id].append(_period(period))
    return [
        FiscalYearView(
            ledger=ledger.code,
            year=y.year,
            start=y.start_date,
            end=y.end_date,
            status=y.status,
            closed_at=y.closed_at,
            periods=periods[y.id],
            decimals=ledger.decimals,
            seal=await repo.year_seal(session, ledger.id, y.year) if y.status == CLOSED else None,
        )
        for y in years
    ]


def _period(period: FiscalPeriod) -> PeriodView:
    return PeriodView(month=period.month, locked_at=period.locked_at)
