"""Which entries a range counts once years are closed (report/window.py): pure rules."""

from __future__ import annotations

from datetime import date

import pytest

from grandlivre.errors import FiscalYearNotFound, InvalidDateRange
from grandlivre.report.window import (
    Window,
    YearBounds,
    as_of_window,
    range_window,
    resolve_range,
)

Y2025 = YearBounds(2025, date(2025, 1, 1), date(2025, 12, 31), closed=True)
Y2026 = YearBounds(2026, date(2026, 1, 1), date(2026, 12, 31), closed=True)
Y2027 = YearBounds(2027, date(2027, 1, 1), date(2027, 12, 31), closed=False)
YEARS = [Y2025, Y2026, Y2027]


def test_without_a_closed_year_the_opening_sums_from_the_beginning() -> None:
    open_years = [YearBounds(2026, date(2026, 1, 1), date(2026, 12, 31), closed=False)]
    assert range_window(open_years, date(2026, 3, 1), date(2026, 3, 31)) == Window(
        date(2026, 3, 1), date(2026, 3, 31)
    )


def test_a_range_opens_after_the_last_closed_year_before_it() -> None:
    window = range_window(YEARS, date(2027, 3, 1), date(2027, 3, 31))
    assert window == Window(date(2027, 3, 1), date(2027, 3, 31), since=date(2026, 12, 31))


def test_a_range_starting_on_a_year_first_day_has_nothing_before_it() -> None:
    # Its opening entry (dated that day) is a movement of the range.
    window = range_window(YEARS, date(2027, 1, 1), date(2027, 12, 31))
    assert window.since == date(2026, 12, 31)
    assert window.restated == ()


def test_a_range_across_closed_years_leaves_their_openings_out_of_its_movements() -> None:
    window = range_window(YEARS, date(2025, 6, 1), date(2027, 6, 30))
    assert window.since is None
    assert window.restated == (date(2026, 1, 1), date(2027, 1, 1))
    every = range_window(YEARS, None, None)
    assert (every.since, every.restated) == (None, (date(2026, 1, 1), date(2027, 1, 1)))


def test_a_range_ending_on_a_closed_year_last_day_restates_nothing() -> None:
    window = range_window(YEARS, None, date(2026, 12, 31))
    assert window.restated == (date(2026, 1, 1),)


def test_a_balance_as_of_a_day_counts_from_the_year_after_the_last_closed_one() -> None:
    assert as_of_window(YEARS, date(2027, 5, 1)) == Window(
        date(2027, 1, 1), date(2027, 5, 1), since=date(2026, 12, 31)
    )
    # The last day of a closed year is the end of that year's own balances.
    assert as_of_window(YEARS, date(2026, 12, 31)) == Window(
        date(2026, 1, 1), date(2026, 12, 31), since=date(2025, 12, 31)
    )
    assert as_of_window(YEARS, None) == Window(date(2027, 1, 1), None, since=date(2026, 12, 31))
    assert as_of_window(YEARS, date(2025, 7, 1)) == Window(None, date(2025, 7, 1))


def test_a_fiscal_year_stands_for_its_bounds() -> None:
    assert resolve_range("main", YEARS, None, None, 2026) == (date(2026, 1, 1), date(2026, 12, 31))
    assert resolve_range("main", YEARS, date(2026, 2, 1), None, None) == (date(2026, 2, 1), None)


@pytest.mark.parametrize(
    ("date_from", "date_to"),
    [(date(2026, 1, 1), None), (None, date(2026, 12, 31)), (date(2026, 1, 1), date(2026, 2, 1))],
)
def test_a_fiscal_year_and_dates_together_are_refused(
    date_from: date | None, date_to: date | None
) -> None:
    with pytest.raises(InvalidDateRange, match="not both"):
        resolve_range("main", YEARS, date_from, date_to, 2026)


def test_an_unknown_fiscal_year_is_not_found() -> None:
    with pytest.raises(FiscalYearNotFound, match="2031"):
        resolve_range("main", YEARS, None, None, 2031)
