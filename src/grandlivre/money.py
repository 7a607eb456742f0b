"""Money: decimal strings at the edge, signed integers of minor units inside.

Debit is positive and credit negative. A float never carries an amount: the API takes and gives
decimal strings ("1234.56"), the database stores BIGINT minor units (cents for EUR).
"""

from __future__ import annotations

import re

# The largest amount one line may carry, in minor units: 10^13 cents is a hundred billion euros,
# far above any real line, and low enough that sums of many lines stay inside a BIGINT.
MAX_LINE_MINOR = 10**13

_DECIMAL = re.compile(r"^(?P<int>[0-9]{1,16})(?:\.(?P<frac>[0-9]{1,12}))?$")

# ISO 4217 minor units of the currencies a ledger may keep; anything else is refused.
CURRENCY_DECIMALS: dict[str, int] = {
    "EUR": 2,
    "USD": 2,
    "GBP": 2,
    "CHF": 2,
    "CAD": 2,
    "AUD": 2,
    "NZD": 2,
    "SEK": 2,
    "NOK": 2,
    "DKK": 2,
    "PLN": 2,
    "CZK": 2,
    "HUF": 2,
    "RON": 2,
    "BGN": 2,
    "MAD": 2,
    "TND": 3,
    "DZD": 2,
    "XOF": 0,
    "XAF": 0,
    "XPF": 0,
    "JPY": 0,
    "KRW": 0,
    "CNY": 2,
    "HKD": 2,
    "SGD": 2,
    "INR": 2,
    "BRL": 2,
    "MXN": 2,
    "ZAR": 2,
    "TRY": 2,
    "ILS": 2,
    "AED": 2,
    "SAR": 2,
    "KWD": 3,
    "BHD": 3,
    "OMR": 3,
    "JOD": 3,
    "ISK": 0,
    "CLP": 0,
    "VND": 0,
    "MUR": 2,
    "MGA": 2,
    "KMF": 0,
}


class AmountError(ValueError):
    """A string that is not an exactly representable, positive amount."""


def parse_amount(text: str, decimals: int) -> int:
    """Parse a positive decimal string into minor units, refusing anything inexact."""
    match = _DECIMAL.fullmatch(text)
    if match is None:
        raise AmountError(f'{text!r} is not a decimal string such as "1234.56"')
    frac = (match.group("frac") or "").rstrip("0")
    if len(frac) > decimals:
        raise AmountError(f"{text!r} has more than {decimals} decimal places")
    scale: int = 10**decimals
    minor = int(match.group("int")) * scale
    if decimals:
        minor += int(frac.ljust(decimals, "0"))
    if minor == 0:
        raise AmountError("an amount must be greater than zero")
    if minor > MAX_LINE_MINOR:
        raise AmountError(f"{text!r} exceeds the largest amount a line may carry")
    return minor


def format_amount(minor: int, decimals: int) -> str:
    """Format minor units as a signed decimal string with the currency's decimals."""
    sign = "-" if minor < 0 else ""
    whole, frac = divmod(abs(minor), 10**decimals)
    if decimals == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:0{decimals}d}"
