"""Pydantic models of the reports as JSON. Amounts are decimal strings; every balance is
signed, debit − credit (`"-20.00"` is a credit balance)."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field


class Totals(BaseModel):
    """Grand totals; their balance is always zero."""

    debit: str
    credit: str
    balance: str


class TrialBalanceLine(BaseModel):
    """One account: its balance before the range (`opening`), its movements over it
    (`debit`, `credit`, and `balance` = debit − credit) and its balance at the end
    (`closing` = opening + balance)."""

    account: str
    name: str
    opening: str
    debit: str
    credit: str
    balance: str
    closing: str


class ClassLine(BaseModel):
    """The subtotal of one PCG class (the first digit of the account numbers): the sums of
    its accounts' columns."""

    class_: int = Field(alias="class", serialization_alias="class")
    name: str
    opening: str
    debit: str
    credit: str
    balance: str
    closing: str


class TrialBalanceRead(BaseModel):
    """The trial balance (balance générale) over a range of dates or a fiscal year."""

    date_from: date | None = None
    date_to: date | None = None
    items: list[TrialBalanceLine]
    classes: list[ClassLine] = Field(
        description="A subtotal per PCG class that has an account in `items`, by class."
    )
    totals: Totals = Field(
        description="The movements' grand totals. Those of `opening` and `closing` are zero."
    )


class PartyBalanceLine(BaseModel):
    """One third party on one collective account (`third_party` null: the account's lines
    that name none), with the columns of the trial balance."""

    account: str
    account_name: str
    third_party: str | None
    name: str | None
    opening: str
    debit: str
    credit: str
    balance: str
    closing: str


class PartyBalanceRead(BaseModel):
    """The balance auxiliaire: collective accounts broken down by third party. The rows of
    an account sum to its line of the trial balance over the same range."""

    date_from: date | None = None
    date_to: date | None = None
    items: list[PartyBalanceLine]
    totals: Totals


class MovementRead(BaseModel):
    """One line of an account's general ledger and the balance after it."""

    entry_id: uuid.UUID
    date: date
    journal: str
    label: str
    reference: str | None
    debit: str | None
    credit: str | None
    balance: str


class AccountLedgerRead(BaseModel):
    """The general ledger (grand livre) of one account over a range, cursor-paginated."""

    account: str
    name: str
    opening_balance: str
    closing_balance: str
    items: list[MovementRead]
    next_cursor: str | None


class AccountBalanceRead(BaseModel):
    """Totals of one account as of `as_of` (report/window.py says which entries count)."""

    account: str
    name: str
    as_of: date | None
    debit: str
    credit: str
    balance: str


class GeneralLedgerAccount(BaseModel):
    """One account of a general ledger page: its opening and closing balances and its
    movements' totals over the whole range, and its movements on this page."""

    account: str
    name: str
    opening: str
    debit: str
    credit: str
    closing: str
    movements: list[MovementRead]


class GeneralLedgerRead(BaseModel):
    """A page of the general ledger (grand livre): accounts in number order, each with its
    movements in date, entry and line order. An account whose movements continue on the
    next page shows again there, with its movements from where this page stopped."""

    date_from: date | None = None
    date_to: date | None = None
    items: list[GeneralLedgerAccount]
    next_cursor: str | None


class JournalLineRead(BaseModel):
    """A line of an entry of a journal report."""

    account: str
    name: str = Field(description="The account's name.")
    third_party: str | None
    label: str | None
    debit: str | None
    credit: str | None


class JournalEntryRead(BaseModel):
    """An entry of a journal report with its lines."""

    id: uuid.UUID
    date: date
    number: int | None = Field(description="Its number in the journal and fiscal year; null "
                               "until the entry is sealed (and for a draft).")  # fmt: skip
    status: str
    label: str
    reference: str | None
    lines: list[JournalLineRead]


class JournalReportRead(BaseModel):
    """A page of one journal's entries over a range, and its totals over the whole range."""

    journal: str
    name: str
    date_from: date | None = None
    date_to: date | None = None
    items: list[JournalEntryRead]
    totals: Totals | None = Field(
        description="The journal's debit and credit over the whole range, on the first page "
        "(the one asked without a cursor); null on the next ones, which need not sum the "
        "range again."
    )
    next_cursor: str | None
