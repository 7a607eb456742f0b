"""Aggregate queries over entry lines."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVarTuple

from sqlalchemy import Select, case, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, Entry, EntryLine, Journal

Ts = TypeVarTuple("Ts")

_DEBIT = func.coalesce(func.sum(case((EntryLine.amount > 0, EntryLine.amount), else_=0)), 0)
_CREDIT = func.coalesce(func.sum(case((EntryLine.amount < 0, -EntryLine.amount), else_=0)), 0)


@dataclass(frozen=True)
class AccountTotals:
    """Debit and credit totals of one account, in minor units (both positive)."""

    number: str
    name: str
    debit: int
    credit: int


@dataclass(frozen=True)
class Movement:
    """One line of an account's general ledger."""

    entry_id: uuid.UUID
    position: int
    date: date
    journal: str
    entry_label: str
    reference: str | None
    line_label: str | None
    amount: int


def _in_range(query: Select[*Ts], date_from: date | None, date_to: date | None) -> Select[*Ts]:
    if date_from is not None:
        query = query.where(Entry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(Entry.entry_date <= date_to)
    return query


async def totals_by_account(
    session: AsyncSession, ledger_id: uuid.UUID, date_from: date | None, date_to: date | None
) -> list[AccountTotals]:
    """Return debit and credit totals of every account moved in the range, by number."""
    query = (
        select(Account.number, Account.name, _DEBIT.label("debit"), _CREDIT.label("credit"))
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Account, Account.id == EntryLine.account_id)
        .where(Entry.ledger_id == ledger_id)
        .group_by(Account.number, Account.name)
        .order_by(Account.number)
    )
    result = await session.execute(_in_range(query, date_from, date_to))
    return [AccountTotals(r.number, r.name, int(r.debit), int(r.credit)) for r in result]


async def account_totals(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    through: tuple[date, uuid.UUID, int] | None = None,
) -> tuple[int, int]:
    """Return (debit, credit) of one account over a range, up to a ledger key inclusive."""
    query = (
        select(_DEBIT, _CREDIT)
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .where(EntryLine.account_id == account_id)
    )
    query = _in_range(query, date_from, date_to)
    if through is not None:
        query = query.where(
            tuple_(Entry.entry_date, Entry.id, EntryLine.position) <= tuple_(*through)
        )
    row = (await session.execute(query)).one()
    return int(row[0]), int(row[1])


async def movements(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    date_from: date | None,
    date_to: date | None,
    after: tuple[date, uuid.UUID, int] | None,
    limit: int,
) -> Sequence[Movement]:
    """Return the lines of one account in (date, entry, position) order."""
    query = (
        select(
            EntryLine.entry_id,
            EntryLine.position,
            Entry.entry_date,
            Journal.code,
            Entry.label.label("entry_label"),
            Entry.reference,
            EntryLine.label.label("line_label"),
            EntryLine.amount,
        )
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Journal, Journal.id == Entry.journal_id)
        .where(EntryLine.account_id == account_id)
        .order_by(Entry.entry_date, Entry.id, EntryLine.position)
        .limit(limit)
    )
    query = _in_range(query, date_from, date_to)
    if after is not None:
        query = query.where(tuple_(Entry.entry_date, Entry.id, EntryLine.position) > tuple_(*after))
    result = await session.execute(query)
    return [
        Movement(
            r.entry_id,
            r.position,
            r.entry_date,
            r.code,
            r.entry_label,
            r.reference,
            r.line_label,
            r.amount,
        )
        for r in result
    ]
