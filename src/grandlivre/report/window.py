"""Which entries a report over a range of dates counts, once fiscal years are closed.

Closing year N writes an opening entry (journal AN, role "opening", dated N+1's first day) that
restates every balance sheet balance of N (closing/service.py). Summing every entry since the
beginning would count N twice as soon as N+1 is opened. So, for a range from day d to day e:

- its **opening** sums the entries dated after `since`, the end of the latest closed fiscal
  year ending before d (whose balances the opening entry of the next year carries), and before
  d; from the beginning of the books when no closed year ends before d;
- its **movements** are the entries dated d to e, less the opening entries of the years that
  start strictly inside the range (`restated`): those restate what the range holds already;
- a **balance as of** e is the closing of a range ending on e that starts after the end of
  the latest closed year ending before e.

So opening + movements of any range equals the balance as of its last day, and a year's
balances are counted once whatever the range. Closed years always form a prefix of a ledger's
years (a year closes after the one before it, reopens before the one after it), and a reopened
year's closing and opening entries are reversed by entries of the same role and date, which
cancel them: only the years closed now count here.

Pure: no I/O, so that each rule is tested in milliseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from grandlivre.errors import FiscalYearNotFound, InvalidDateRange

OPENING_ROLE = "opening"


@dataclass(frozen=True)
class YearBounds:
    """A fiscal year of a ledger: its name, first and last day, and whether it is closed."""

    year: int
    start: date
    end: date
    closed: bool


@dataclass(frozen=True)
class Window:
    """What a report over `date_from`..`date_to` (inclusive, None: unbounded) counts.

    The opening sums entries dated after `since` (None: from the beginning) and before
    `date_from`; the movements, entries dated in the range except the opening entries dated
    on a day of `restated`.
    """

    date_from: date | None
    date_to: date | None
    since: date | None = None
    restated: tuple[date, ...] = ()


def _closed_ends(years: Sequence[YearBounds]) -> list[date]:
    return sorted(y.end for y in years if y.closed)


def range_window(
    years: Sequence[YearBounds], date_from: date | None, date_to: date | None
) -> Window:
    """Return what a range counts, given the ledger's fiscal years."""
    ends = _closed_ends(years)
    since = None
    if date_from is not None:
        before = [end for end in ends if end < date_from]
        since = before[-1] if before else None
    restated = tuple(
        end + timedelta(days=1)
        for end in ends
        if (date_from is None or end >= date_from) and (date_to is None or end < date_to)
    )
    return Window(date_from, date_to, since, restated)


def as_of_window(years: Sequence[YearBounds], as_of: date | None) -> Window:
    """Return what a balance as of a day (None: of every entry) counts: the movements of a
    range that starts after the latest closed year ending before it."""
    before = [end for end in _closed_ends(years) if as_of is None or end < as_of]
    if not before:
        return Window(None, as_of)
    since = before[-1]
    return Window(since + timedelta(days=1), as_of, since)


def check_range(date_from: date | None, date_to: date | None, fiscal_year: int | None) -> None:
    """Refuse a range that ends before it starts, or given both as dates and as a year."""
    if fiscal_year is not None and (date_from is not None or date_to is not None):
        raise InvalidDateRange(
            "give either fiscal_year or from/to, not both: fiscal_year stands for the range "
            "of its first to its last day"
        )
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidDateRange(f"from ({date_from}) is after to ({date_to})")


def resolve_range(
    ledger_code: str,
    years: Sequence[YearBounds],
    date_from: date | None,
    date_to: date | None,
    fiscal_year: int | None,
) -> tuple[date | None, date | None]:
    """Return the range asked: `from`/`to`, or the bounds of `fiscal_year`; never both."""
    check_range(date_from, date_to, fiscal_year)
    if fiscal_year is None:
        return date_from, date_to
    for year in years:
        if year.year == fiscal_year:
            return year.start, year.end
    raise FiscalYearNotFound(f"ledger {ledger_code!r} has no fiscal year {fiscal_year}")
