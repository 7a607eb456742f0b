"""The pure rules of lettrage: the sequence of codes, due dates and age bands."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grandlivre.lettering.service import bucket_of, code_after, due_date


@pytest.mark.parametrize(
    ("before", "after"),
    [(None, "A"), ("A", "B"), ("Y", "Z"), ("Z", "AA"), ("AZ", "BA"), ("ZZ", "AAA"), ("AZZ", "BAA")],
)
def test_codes_run_a_to_z_then_aa_to_zz(before: str | None, after: str) -> None:
    assert code_after(before) == after


def _rank(code: str) -> int:
    """The code's place in the sequence, from 1 (bijective base 26)."""
    value = 0
    for letter in code:
        value = value * 26 + ord(letter) - ord("A") + 1
    return value


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=7))
def test_the_code_after_is_the_next_in_the_sequence(code: str) -> None:
    following = code_after(code)
    assert _rank(following) == _rank(code) + 1
    # The sequence's order is by length, then alphabetical: what the index sorts by.
    assert (len(following), following) > (len(code), code)


@pytest.mark.parametrize(
    ("days", "band"),
    [
        (-1, "not_due"),
        (0, "0-30"),
        (30, "0-30"),
        (31, "31-60"),
        (60, "31-60"),
        (61, "61-90"),
        (90, "61-90"),
        (91, "over_90"),
    ],
)
def test_age_bands_are_days_past_due(days: int, band: str) -> None:
    assert bucket_of(days) == band


def test_an_invoice_falls_due_after_its_terms_and_a_payment_on_its_date() -> None:
    day = date(2026, 1, 31)
    assert due_date("customer", 100, day, 30) == date(2026, 3, 2)
    assert due_date("customer", -100, day, 30) == day
    assert due_date("supplier", -100, day, 45) == date(2026, 3, 17)
    assert due_date("supplier", 100, day, 45) == day
    assert due_date("customer", 100, day, 0) == day
