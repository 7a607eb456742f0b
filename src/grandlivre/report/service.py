"""Balances over validated entries (and drafts, when asked for): the trial balance, the
balance auxiliaire, an account's or a third party's balance as of a day.

Every range follows report/window.py: a range's opening is summed from the end of the latest
closed fiscal year, so that a year carried forward by its opening entry (à-nouveaux) is never
counted twice. Round trips are counted in each read's docstring; the trial balance and the
account balances read the day totals of sealed entries plus the lines of unsealed ones, never
every line of the books. The general ledgers are in report/general_ledger.py, the journal
report in report/journal.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.dialect import is_postgresql
from grandlivre.db.tables import Ledger
from grandlivre.errors import LedgerNotFound, ThirdPartyNotFound
from grandlivre.fiscal import service as fiscal_service
from grandlivre.ledger import service as ledger_service
from grandlivre.party import service as party_service
from grandlivre.report import repository as repo
from grandlivre.report.repository import AccountFigures, PartyFigures
from grandlivre.report.window import (
    Window,
    YearBounds,
    as_of_window,
    range_window,
    resolve_range,
)

# The PCG's classes, which the trial balance subtotals.
CLASS_NAMES = {
    1: "Comptes de capitaux",
    2: "Comptes d'immobilisations",
    3: "Comptes de stocks et d'en-cours",
    4: "Comptes de tiers",
    5: "Comptes financiers",
    6: "Comptes de charges",
    7: "Comptes de produits",
    8: "Comptes spéciaux",
}


@dataclass(frozen=True)
class Books:
    """A ledger, its fiscal years, and the range a read asked for."""

    ledger: Ledger
    years: list[YearBounds]
    date_from: date | None
    date_to: date | None

    @property
    def window(self) -> Window:
        """What a report over the range counts."""
        return range_window(self.years, self.date_from, self.date_to)


async def find_books(
    session: AsyncSession,
    ledger_code: str,
    date_from: date | None = None,
    date_to: date | None = None,
    fiscal_year: int | None = None,
) -> Books:
    """Find the ledger and its years (one round trip) and resolve the range asked."""
    found = await repo.ledger_calendar(session, ledger_code)
    if found is None:
        raise LedgerNotFound(f"no ledger with code {ledger_code!r}")
    ledger, rows = found
    years = [YearBounds(r.year, r.start, r.end, r.status == fiscal_service.CLOSED) for r in rows]
    start, end = resolve_range(ledger_code, years, date_from, date_to, fiscal_year)
    return Books(ledger, years, start, end)


def is_shown(figures: AccountFigures | PartyFigures) -> bool:
    """A report lists the accounts moved in its range (comptes mouvementés): those with a
    line dated in it. Over a fiscal year after a closed one, that is every account with a
    balance, since the year's opening entry moves each of them on its first day."""
    return figures.lines > 0


def is_in_balance(figures: AccountFigures | PartyFigures) -> bool:
    """A trial balance lists the accounts moved in its range and those that carry a balance
    into it unmoved: without them, its opening and closing columns would not net to zero."""
    return figures.lines > 0 or figures.opening != 0


# -- trial balance -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassTotals:
    """The subtotal of one PCG class: the sums of its accounts' figures."""

    number: int
    name: str
    opening: int
    debit: int
    credit: int

    @property
    def closing(self) -> int:
        """The class's balance at the end of the range."""
        return self.opening + self.debit - self.credit


@dataclass(frozen=True)
class TrialBalance:
    """Figures per account and per class over a range; the grand totals of debit and credit
    are equal, and so are those of the opening and closing balances (they net to zero)."""

    decimals: int
    date_from: date | None
    date_to: date | None
    items: list[AccountFigures]
    classes: list[ClassTotals]
    debit: int
    credit: int


def class_totals(items: Sequence[AccountFigures]) -> list[ClassTotals]:
    """Subtotal accounts per PCG class (the first digit of their number), by class."""
    sums: dict[int, list[int]] = {}
    for item in items:
        row = sums.setdefault(int(item.number[0]), [0, 0, 0])
        row[0] += item.opening
        row[1] += item.debit
        row[2] += item.credit
    return [
        ClassTotals(n, CLASS_NAMES.get(n, f"Classe {n}"), opening, debit, credit)
        for n, (opening, debit, credit) in sorted(sums.items())
    ]


async def compute_trial_balance(
    session: AsyncSession,
    ledger_code: str,
    date_from: date | None,
    date_to: date | None,
    *,
    fiscal_year: int | None = None,
    include_drafts: bool = False,
) -> TrialBalance:
    """Return the opening, movements and closing of every account over a range (dates
    inclusive, or a fiscal year), subtotalled per class; drafts only if asked.

    Two round trips: the ledger with its years, then the figures (day totals and unsealed
    lines, the opening from the same day totals bounded below by the last closed year).
    """
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    figures = await repo.account_figures(
        session, books.ledger.id, books.window, include_drafts=include_drafts
    )
    items = [f for f in figures if is_in_balance(f)]
    return TrialBalance(
        decimals=books.ledger.decimals,
        date_from=books.date_from,
        date_to=books.date_to,
        items=items,
        classes=class_totals(items),
        debit=sum(i.debit for i in items),
        credit=sum(i.credit for i in items),
    )


# -- account balance ------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountBalance:
    """Totals of one account as of a date."""

    decimals: int
    number: str
    name: str
    debit: int
    credit: int


async def account_balance(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    as_of: date | None,
    *,
    include_drafts: bool = False,
) -> AccountBalance:
    """Return the totals of one account as of `as_of` (inclusive; None: of every entry):
    the entries dated after the end of the latest closed fiscal year before it, whose
    balances the next year's opening entry carries.

    One round trip on PostgreSQL (fixed SQL); three on SQLite (the ledger with its years,
    the account, the totals).
    """
    if is_postgresql(session):
        found = await repo.account_balance_by_number(
            session, ledger_code, number, as_of, include_drafts=include_drafts
        )
        if found is not None:
            return AccountBalance(
                found.decimals, found.number, found.name, found.debit, found.credit
            )
        # The ledger or the account is missing: the lookups below say which.
    books = await find_books(session, ledger_code)
    account = await ledger_service.get_account(session, books.ledger, number)
    figures = await repo.account_figures(
        session,
        books.ledger.id,
        as_of_window(books.years, as_of),
        include_drafts=include_drafts,
        account_id=account.id,
    )
    debit = sum(f.debit for f in figures)
    credit = sum(f.credit for f in figures)
    return AccountBalance(books.ledger.decimals, account.number, account.name, debit, credit)


# -- third parties --------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyBalance:
    """The balance auxiliaire: figures per collective account and third party."""

    decimals: int
    date_from: date | None
    date_to: date | None
    items: list[PartyFigures]


async def third_party_balance(
    session: AsyncSession,
    ledger_code: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    fiscal_year: int | None = None,
    account: str | None = None,
    third_party: str | None = None,
    include_drafts: bool = False,
) -> PartyBalance:
    """Return the opening, movements and closing of the lines of collective accounts per
    third party (one account, one party, or all); lines that name none are totalled apart,
    so each account's rows sum to its line of the trial balance.

    Two round trips (three with `account`, with `third_party`): the ledger with its years,
    [the account], [the third party], the figures, from the lines.
    """
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    account_id = party_id = None
    if account is not None:
        account_id = (await ledger_service.get_account(session, books.ledger, account)).id
    if third_party is not None:
        party_id = (await party_service.find_party(session, books.ledger, third_party)).id
    items = await repo.party_figures(
        session,
        books.ledger.id,
        books.window,
        account_id=account_id,
        third_party_id=party_id,
        include_drafts=include_drafts,
    )
    return PartyBalance(
        books.ledger.decimals,
        books.date_from,
        books.date_to,
        [i for i in items if is_in_balance(i)],
    )


@dataclass(frozen=True)
class PartyAccountBalance:
    """One third party's totals as of a date."""

    decimals: int
    code: str
    name: str
    account: str
    debit: int
    credit: int


async def party_balance(
    session: AsyncSession,
    ledger_code: str,
    code: str,
    as_of: date | None,
    *,
    include_drafts: bool = False,
) -> PartyAccountBalance:
    """Return the totals of one third party's lines as of `as_of` (inclusive; None: of every
    entry), counted like an account's balance (report/window.py).

    Two round trips: the ledger with its years, the third party with its totals.
    """
    books = await find_books(session, ledger_code)
    found = await repo.party_totals(
        session,
        books.ledger.id,
        code,
        as_of_window(books.years, as_of),
        include_drafts=include_drafts,
    )
    if found is None:
        raise ThirdPartyNotFound(f"no third party {code!r} in ledger {books.ledger.code!r}")
    return PartyAccountBalance(
        books.ledger.decimals, found.code, found.name, found.account, found.debit, found.credit
    )
