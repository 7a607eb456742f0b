"""The books as a Beancount ledger (https://beancount.github.io/docs/): what `bean-check`
and Fava read.

Each PCG account becomes `<Root>:<number>-<label>`, its root from its class (Assets,
Liabilities, Equity, Income, Expenses), its label with whatever Beancount does not allow in
an account name written as `-`. Amounts keep their sign: a debit is positive, as in
Beancount. Each entry is a transaction dated its date, with its id, journal, number and
reference as metadata; each line's third party and label are the posting's. After the last
transaction, a `balance` assertion per account states our balance, so that Beancount's own
loader checks the two agree.

Pure: rows in, text out. The service streams it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from grandlivre.money import format_amount

_NOT_IN_NAME = re.compile(r"[^\w]+|_+")
# PCG accounts by the root Beancount gives them; the longest prefix wins, the class decides
# the rest. Class 4 holds both sides: its debtor accounts are assets.
_ROOTS: dict[str, str] = {
    "1": "Equity",
    "15": "Liabilities",
    "16": "Liabilities",
    "17": "Liabilities",
    "18": "Liabilities",
    "19": "Liabilities",
    "2": "Assets",
    "3": "Assets",
    "4": "Liabilities",
    "41": "Assets",
    "409": "Assets",
    "481": "Assets",
    "486": "Assets",
    "49": "Assets",
    "5": "Assets",
    "519": "Liabilities",
    "6": "Expenses",
    "7": "Income",
    "8": "Equity",
}


def account_root(number: str) -> str:
    """Return the Beancount root of a PCG account number."""
    for size in range(len(number), 0, -1):
        root = _ROOTS.get(number[:size])
        if root is not None:
            return root
    return "Equity"


@functools.lru_cache(maxsize=4096)
def account_name(number: str, label: str) -> str:
    """Return the Beancount account of a PCG account: `Assets:512000-Banques`."""
    words = _NOT_IN_NAME.sub("-", label).strip("-")
    return (
        f"{account_root(number)}:{number}-{words}" if words else f"{account_root(number)}:{number}"
    )


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header(title: str, currency: str) -> str:
    """Return the options that open the file."""
    return (
        f"; Grand Livre export: the validated entries of {title}\n"
        f'option "title" {_quoted(title)}\n'
        f'option "operating_currency" "{currency}"\n\n'
    )


def transactions(lines: Iterable[Sequence[Any]], currency: str, decimals: int) -> str:
    """Return the transactions of consecutive lines, grouped by entry (the driver's rows, read
    by position: attribute reads per line cost more than the text)."""
    out: list[str] = []
    current = None
    for (
        entry_id,
        entry_date,
        _document_date,
        journal,
        number,
        label,
        reference,
        account,
        account_label,
        party_code,
        line_label,
        amount,
    ) in lines:
        if entry_id != current:
            current = entry_id
            out.append(f"\n{entry_date.isoformat()} * {_quoted(label)}\n")
            out.append(f'  id: "{entry_id}"\n')
            out.append(f"  journal: {_quoted(journal)}\n")
            if number is not None:
                out.append(f"  number: {number}\n")
            if reference is not None:
                out.append(f"  reference: {_quoted(reference)}\n")
        name = account_name(account, account_label)
        out.append(f"  {name}  {format_amount(amount, decimals)} {currency}\n")
        if party_code is not None:
            out.append(f"    third_party: {_quoted(party_code)}\n")
        if line_label is not None:
            out.append(f"    label: {_quoted(line_label)}\n")
    return "".join(out)


def closing(
    opened: date, asserted: date, balances: dict[str, int], currency: str, decimals: int
) -> str:
    """Return the `open` of every account used and the `balance` that asserts its total."""
    out = ["\n"]
    for name in sorted(balances):
        out.append(f"{opened.isoformat()} open {name} {currency}\n")
    out.append("\n")
    for name, total in sorted(balances.items()):
        out.append(
            f"{asserted.isoformat()} balance {name}  {format_amount(total, decimals)} {currency}\n"
        )
    return "".join(out)
