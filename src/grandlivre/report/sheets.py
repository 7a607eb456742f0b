"""The reports as spreadsheet rows: the columns a French accountant expects, typed cells.

Amounts are Decimals of the currency (tabular.py writes them with comma decimals in CSV and
as numbers in XLSX). Where a French report shows a balance on the side it falls (a balance
générale's opening and closing columns), a positive balance is written under debit, a
negative one under credit, and a zero balance on neither. Subtotal and total rows sum their
columns. Docs: docs/reports.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal

from grandlivre.money import format_amount
from grandlivre.report.general_ledger import LedgerPart
from grandlivre.report.journal import JournalEntry, JournalReport
from grandlivre.report.repository import AccountFigures, PartyFigures
from grandlivre.report.service import (
    AccountBalance,
    PartyAccountBalance,
    PartyBalance,
    TrialBalance,
)
from grandlivre.tabular import Cell, Column, Sheet

Row = list[Cell]


def amount(minor: int, decimals: int) -> Decimal:
    """Minor units as a Decimal of the currency (`12000` cents: `Decimal("120.00")`)."""
    return Decimal(format_amount(minor, decimals))


def sides(minor: int, decimals: int) -> tuple[Decimal | None, Decimal | None]:
    """A signed balance on its side: (debit, None) when positive, (None, credit) when
    negative, neither when zero."""
    if minor > 0:
        return amount(minor, decimals), None
    if minor < 0:
        return None, amount(-minor, decimals)
    return None, None


def span(date_from: date | None, date_to: date | None) -> str:
    """The range in a file name: `2026-01-01-2026-12-31`, `debut` and `fin` when open."""
    return f"{date_from or 'debut'}-{date_to or 'fin'}"


# -- balances ---------------------------------------------------------------------------------

BALANCE_AMOUNTS = (
    Column("Solde début débit", "amount"),
    Column("Solde début crédit", "amount"),
    Column("Mouvements débit", "amount"),
    Column("Mouvements crédit", "amount"),
    Column("Solde fin débit", "amount"),
    Column("Solde fin crédit", "amount"),
)
TRIAL_BALANCE_COLUMNS = (Column("Compte"), Column("Intitulé"), *BALANCE_AMOUNTS)
PARTY_BALANCE_COLUMNS = (
    Column("Compte"),
    Column("Intitulé du compte"),
    Column("Tiers"),
    Column("Nom du tiers"),
    *BALANCE_AMOUNTS,
)


def _balance_minors(figures: AccountFigures | PartyFigures) -> list[int]:
    opening, closing = figures.opening, figures.closing
    return [
        max(opening, 0),
        max(-opening, 0),
        figures.debit,
        figures.credit,
        max(closing, 0),
        max(-closing, 0),
    ]


def _balance_cells(figures: AccountFigures | PartyFigures, decimals: int) -> Row:
    cells: Row = [*sides(figures.opening, decimals)]
    cells += [amount(figures.debit, decimals), amount(figures.credit, decimals)]
    cells += [*sides(figures.closing, decimals)]
    return cells


def _sum_cells(rows: Sequence[Sequence[int]], decimals: int) -> Row:
    return [amount(sum(column), decimals) for column in zip(*rows, strict=True)] or [
        amount(0, decimals)
    ] * len(BALANCE_AMOUNTS)


def trial_balance_sheet(tb: TrialBalance) -> Sheet:
    """The balance générale: a row per account, a subtotal row after each class, a grand
    total row."""
    rows: list[Sequence[Cell]] = []
    for totals in tb.classes:
        members = [i for i in tb.items if int(i.number[0]) == totals.number]
        rows += [[i.number, i.name, *_balance_cells(i, tb.decimals)] for i in members]
        rows.append(
            [
                None,
                f"Total classe {totals.number} – {totals.name}",
                *_sum_cells([_balance_minors(i) for i in members], tb.decimals),
            ]
        )
    every = [_balance_minors(i) for i in tb.items]
    rows.append([None, "Total général", *_sum_cells(every, tb.decimals)])
    return Sheet("Balance générale", TRIAL_BALANCE_COLUMNS, rows)


def party_balance_sheet(balance: PartyBalance) -> Sheet:
    """The balance auxiliaire: a row per collective account and third party, a total row."""
    rows: list[Sequence[Cell]] = [
        [
            item.account,
            item.account_name,
            item.third_party,
            item.third_party_name,
            *_balance_cells(item, balance.decimals),
        ]
        for item in balance.items
    ]
    minors = [_balance_minors(item) for item in balance.items]
    rows.append([None, "Total général", None, None, *_sum_cells(minors, balance.decimals)])
    return Sheet("Balance auxiliaire", PARTY_BALANCE_COLUMNS, rows)


def account_balance_sheet(result: AccountBalance, as_of: date | None) -> Sheet:
    """One account's totals as of a date: one row."""
    d = result.decimals
    return Sheet(
        "Solde du compte",
        (
            Column("Compte"),
            Column("Intitulé"),
            Column("Au", "date"),
            Column("Débit", "amount"),
            Column("Crédit", "amount"),
            Column("Solde", "amount"),
        ),
        [
            [
                result.number,
                result.name,
                as_of,
                amount(result.debit, d),
                amount(result.credit, d),
                amount(result.debit - result.credit, d),
            ]
        ],
    )


def party_account_balance_sheet(result: PartyAccountBalance, as_of: date | None) -> Sheet:
    """One third party's totals as of a date: one row."""
    d = result.decimals
    return Sheet(
        "Solde du tiers",
        (
            Column("Tiers"),
            Column("Nom"),
            Column("Compte"),
            Column("Au", "date"),
            Column("Débit", "amount"),
            Column("Crédit", "amount"),
            Column("Solde", "amount"),
        ),
        [
            [
                result.code,
                result.name,
                result.account,
                as_of,
                amount(result.debit, d),
                amount(result.credit, d),
                amount(result.debit - result.credit, d),
            ]
        ],
    )


# -- general ledger -----------------------------------------------------------------------------

LEDGER_COLUMNS = (
    Column("Compte"),
    Column("Intitulé"),
    Column("Date", "date"),
    Column("Journal"),
    Column("Pièce"),
    Column("Libellé"),
    Column("Débit", "amount"),
    Column("Crédit", "amount"),
    Column("Solde", "amount"),
)
OPENING_LABEL = "Solde d'ouverture"
CLOSING_LABEL = "Total du compte"


async def ledger_rows(
    parts: AsyncIterator[LedgerPart],
    decimals: int,
    date_from: date | None,
    date_to: date | None,
) -> AsyncIterator[list[Row]]:
    """Turn the parts of a general ledger into rows: per account, an opening row (its
    balance before the range), a row per movement with the running balance (signed), and a
    total row (the movements' debit and credit, the closing balance)."""
    current: AccountFigures | None = None
    debit = credit = balance = 0

    def total() -> Row:
        assert current is not None
        return [
            current.number,
            current.name,
            date_to,
            None,
            None,
            CLOSING_LABEL,
            amount(debit, decimals),
            amount(credit, decimals),
            amount(balance, decimals),
        ]

    async for part in parts:
        chunk: list[Row] = []
        if part.starts:
            if current is not None:
                chunk.append(total())
            current, debit, credit = part.account, 0, 0
            balance = current.opening
            chunk.append(
                [
                    current.number,
                    current.name,
                    date_from,
                    None,
                    None,
                    OPENING_LABEL,
                    None,
                    None,
                    amount(balance, decimals),
                ]
            )
        for movement, running in part.movements:
            line_debit, line_credit = sides(movement.amount, decimals)
            debit += max(movement.amount, 0)
            credit += max(-movement.amount, 0)
            balance = running
            chunk.append(
                [
                    part.account.number,
                    part.account.name,
                    movement.date,
                    movement.journal,
                    movement.reference,
                    movement.line_label or movement.entry_label,
                    line_debit,
                    line_credit,
                    amount(running, decimals),
                ]
            )
        yield chunk
    if current is not None:
        yield [total()]


# -- journal report ---------------------------------------------------------------------------

JOURNAL_COLUMNS = (
    Column("Date", "date"),
    Column("Numéro", "integer"),
    Column("Pièce"),
    Column("Libellé de l'écriture"),
    Column("Compte"),
    Column("Intitulé"),
    Column("Tiers"),
    Column("Libellé de la ligne"),
    Column("Débit", "amount"),
    Column("Crédit", "amount"),
)
JOURNAL_TOTAL_LABEL = "Total du journal"


async def journal_rows(
    chunks: AsyncIterator[list[JournalEntry]], header: JournalReport
) -> AsyncIterator[list[Row]]:
    """Turn a journal's entries into a row per line, then a total row."""
    debit = credit = 0
    d = header.decimals
    async for entries in chunks:
        rows: list[Row] = []
        for entry in entries:
            for line in entry.lines:
                debit += max(line.amount, 0)
                credit += max(-line.amount, 0)
                rows.append(
                    [
                        entry.date,
                        entry.number,
                        entry.reference,
                        entry.label,
                        line.account,
                        line.account_name,
                        line.third_party,
                        line.line_label,
                        *sides(line.amount, d),
                    ]
                )
        yield rows
    yield [
        [
            None,
            None,
            None,
            JOURNAL_TOTAL_LABEL,
            None,
            None,
            None,
            None,
            amount(debit, d),
            amount(credit, d),
        ]
    ]
