"""Money at the edge: decimal strings in, minor units inside, nothing inexact accepted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from grandlivre.money import (
    CURRENCY_DECIMALS,
    MAX_LINE_MINOR,
    AmountError,
    format_amount,
    parse_amount,
)

DECIMALS = st.sampled_from([0, 2, 3])


@pytest.mark.parametrize(
    ("text", "decimals", "minor"),
    [
        ("120.00", 2, 12000),
        ("120", 2, 12000),
        ("120.5", 2, 12050),
        ("0.01", 2, 1),
        ("1234.56", 2, 123456),
        ("120.500000", 2, 12050),
        ("007.10", 2, 710),
        ("100", 0, 100),
        ("100.000", 0, 100),
        ("1.234", 3, 1234),
        ("0.001", 3, 1),
        ("12", 3, 12000),
    ],
)
def test_exact_decimal_strings_parse_to_minor_units(text: str, decimals: int, minor: int) -> None:
    assert parse_amount(text, decimals) == minor


@pytest.mark.parametrize(
    ("text", "decimals"),
    [("1.001", 2), ("0.005", 2), ("100.5", 0), ("1.2345", 3), ("0.0001", 3)],
)
def test_more_decimals_than_the_currency_has_are_refused(text: str, decimals: int) -> None:
    with pytest.raises(AmountError, match="decimal places"):
        parse_amount(text, decimals)


@pytest.mark.parametrize("text", ["0", "0.00", "0.000000", "000"])
def test_zero_is_refused(text: str) -> None:
    with pytest.raises(AmountError, match="greater than zero"):
        parse_amount(text, 2)


@pytest.mark.parametrize("text", ["-1.00", "-0.01", "+1.00", "- 1"])
def test_signed_strings_are_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 2)


@pytest.mark.parametrize(
    "text",
    ["1e3", "1E3", "1.5e2", "1e-2", "inf", "nan", "Infinity", "0x10"],
)
def test_exponents_and_float_spellings_are_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 2)


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1,00", "1 000.00", " 1.00", "1.00 ", "1.", ".5", "1.2.3", "1_000", "١٢٣"],
)
def test_strings_that_are_not_plain_decimals_are_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 2)


@pytest.mark.parametrize("text", ["1.00\n", "1\n"])
def test_a_trailing_newline_is_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 2)


@pytest.mark.parametrize("decimals", [0, 2, 3])
def test_the_largest_line_amount_is_accepted_and_one_unit_more_refused(decimals: int) -> None:
    largest = format_amount(MAX_LINE_MINOR, decimals)
    assert parse_amount(largest, decimals) == MAX_LINE_MINOR
    with pytest.raises(AmountError, match="exceeds"):
        parse_amount(format_amount(MAX_LINE_MINOR + 1, decimals), decimals)


@pytest.mark.parametrize("text", ["9999999999999999", "9999999999999999.99", "99999999999999999"])
def test_huge_amounts_are_refused(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 2)


@pytest.mark.parametrize(
    ("minor", "decimals", "text"),
    [
        (12000, 2, "120.00"),
        (-2000, 2, "-20.00"),
        (0, 2, "0.00"),
        (5, 2, "0.05"),
        (-5, 2, "-0.05"),
        (123456, 2, "1234.56"),
        (100, 0, "100"),
        (-100, 0, "-100"),
        (0, 0, "0"),
        (1234, 3, "1.234"),
        (1, 3, "0.001"),
        (-1, 3, "-0.001"),
        (10**17, 2, "1000000000000000.00"),
    ],
)
def test_minor_units_format_with_the_currency_decimals(
    minor: int, decimals: int, text: str
) -> None:
    assert format_amount(minor, decimals) == text


def test_known_currencies_have_the_iso_4217_minor_units() -> None:
    assert CURRENCY_DECIMALS["EUR"] == 2
    assert CURRENCY_DECIMALS["JPY"] == 0
    assert CURRENCY_DECIMALS["XOF"] == 0
    assert CURRENCY_DECIMALS["TND"] == 3
    assert CURRENCY_DECIMALS["KWD"] == 3


@st.composite
def valid_amounts(draw: st.DrawFn) -> tuple[str, int]:
    """A decimal string the currency can represent exactly, perhaps with padding zeros."""
    decimals = draw(DECIMALS)
    minor = draw(st.integers(min_value=1, max_value=MAX_LINE_MINOR))
    whole, frac = divmod(minor, 10**decimals)
    leading = "0" * draw(st.integers(min_value=0, max_value=16 - len(str(whole))))
    digits = f"{frac:0{decimals}d}" if decimals else ""
    digits += "0" * draw(st.integers(min_value=0, max_value=12 - decimals))
    if digits.strip("0") == "" and draw(st.booleans()):
        digits = ""  # "120" as well as "120.00"
    text = f"{leading}{whole}" + (f".{digits}" if digits else "")
    return text, decimals


@given(valid_amounts())
def test_valid_amounts_round_trip_to_their_canonical_form(case: tuple[str, int]) -> None:
    text, decimals = case
    minor = parse_amount(text, decimals)
    formatted = format_amount(minor, decimals)
    assert Decimal(formatted) == Decimal(text)
    assert formatted == f"{Decimal(text):.{decimals}f}"
    assert parse_amount(formatted, decimals) == minor


@given(DECIMALS, st.integers(min_value=1, max_value=MAX_LINE_MINOR))
def test_format_parse_format_is_the_identity(decimals: int, minor: int) -> None:
    text = format_amount(minor, decimals)
    assert parse_amount(text, decimals) == minor
    assert format_amount(parse_amount(text, decimals), decimals) == text
    assert format_amount(-minor, decimals) == "-" + text


@given(DECIMALS, st.integers(min_value=1, max_value=MAX_LINE_MINOR), st.integers(1, 5))
def test_one_digit_too_many_is_always_refused(decimals: int, minor: int, extra: int) -> None:
    text = format_amount(minor, decimals)
    text += ("" if decimals else ".") + "0" * (extra - 1) + "1"
    with pytest.raises(AmountError):
        parse_amount(text, decimals)
