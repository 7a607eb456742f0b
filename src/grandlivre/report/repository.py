"""Aggregate queries over entry lines and the day totals of sealed entries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVarTuple, cast

from sqlalchemy import Select, and_, case, func, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, AccountDayTotal, Entry, EntryLine, Journal, ThirdParty
from grandlivre.store import EntryStatus

Ts = TypeVarTuple("Ts")

_LINE_DEBIT = case((EntryLine.amount > 0, EntryLine.amount), else_=0).label("debit")
_LINE_CREDIT = case((EntryLine.amount < 0, -EntryLine.amount), else_=0).label("credit")


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


def _days_in_range(query: Select[*Ts], date_from: date | None, date_to: date | None) -> Select[*Ts]:
    if date_from is not None:
        query = query.where(AccountDayTotal.day >= date_from)
    if date_to is not None:
        query = query.where(AccountDayTotal.day <= date_to)
    return query


def _in_range(query: Select[*Ts], date_from: date | None, date_to: date | None) -> Select[*Ts]:
    if date_from is not None:
        query = query.where(Entry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(Entry.entry_date <= date_to)
    return query


def _unsealed(include_drafts: bool) -> Any:
    """Entries not in the day totals: those not sealed yet, drafts only when asked for."""
    if include_drafts:
        return Entry.seq.is_(None)
    return and_(Entry.seq.is_(None), Entry.status != EntryStatus.draft)


async def totals_by_account(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    date_from: date | None,
    date_to: date | None,
    *,
    include_drafts: bool = False,
) -> list[AccountTotals]:
    """Return debit and credit totals of every account moved in the range, by number.

    Sealed entries are read from the day totals, unsealed ones from their lines, in one
    statement (one snapshot), so that an entry sealed meanwhile is counted once (db/rollup.py).
    """
    sealed = _days_in_range(
        select(
            AccountDayTotal.account_id.label("account_id"),
            AccountDayTotal.debit.label("debit"),
            AccountDayTotal.credit.label("credit"),
        )
        .join(Account, Account.id == AccountDayTotal.account_id)
        .where(Account.ledger_id == ledger_id),
        date_from,
        date_to,
    )
    unsealed = _in_range(
        select(EntryLine.account_id, _LINE_DEBIT, _LINE_CREDIT)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .where(Entry.ledger_id == ledger_id, _unsealed(include_drafts)),
        date_from,
        date_to,
    )
    parts = union_all(sealed, unsealed).subquery()
    query = (
        select(
            Account.number,
            Account.name,
            func.sum(parts.c.debit).label("debit"),
            func.sum(parts.c.credit).label("credit"),
        )
        .join(Account, Account.id == parts.c.account_id)
        .group_by(Account.number, Account.name)
        .order_by(Account.number)
    )
    result = await session.execute(query)
    return [AccountTotals(r.number, r.name, int(r.debit), int(r.credit)) for r in result]


async def account_totals(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    through: tuple[date, uuid.UUID, int] | None = None,
    include_drafts: bool = False,
) -> tuple[int, int]:
    """Return (debit, credit) of one account over a range, up to a ledger key inclusive.

    Whole days of sealed entries come from the day totals; the day of `through` is summed
    from its lines up to that key, and unsealed entries from theirs: one statement.
    """
    sealed_days = _days_in_range(
        select(AccountDayTotal.debit.label("debit"), AccountDayTotal.credit.label("credit")).where(
            AccountDayTotal.account_id == account_id
        ),
        date_from,
        date_to,
    )
    unsealed = _in_range(
        select(_LINE_DEBIT, _LINE_CREDIT)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .where(
            Entry.ledger_id == ledger_id,
            _unsealed(include_drafts),
            EntryLine.account_id == account_id,
        ),
        date_from,
        date_to,
    )
    parts = [sealed_days]
    if through is not None:
        day, entry_id, position = through
        parts[0] = sealed_days.where(AccountDayTotal.day < day)
        unsealed = unsealed.where(
            tuple_(Entry.entry_date, Entry.id, EntryLine.position) <= tuple_(*through)
        )
        parts.append(
            _in_range(
                select(_LINE_DEBIT, _LINE_CREDIT)
                .join(Entry, Entry.id == EntryLine.entry_id)
                .where(
                    Entry.ledger_id == ledger_id,
                    Entry.entry_date == day,
                    # A range on the (ledger, date, id) index: only the day's entries up to the
                    # cursor are read, not the whole day's (the tuple below spans two tables).
                    Entry.id <= entry_id,
                    Entry.seq.is_not(None),
                    EntryLine.account_id == account_id,
                    tuple_(Entry.id, EntryLine.position) <= tuple_(entry_id, position),
                ),
                date_from,
                date_to,
            )
        )
    every = union_all(*parts, unsealed).subquery()
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(every.c.debit), 0),
                func.coalesce(func.sum(every.c.credit), 0),
            )
        )
    ).one()
    return int(row[0]), int(row[1])


async def party_line_totals(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    account_id: uuid.UUID,
    third_party_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    through: tuple[date, uuid.UUID, int] | None = None,
    include_drafts: bool = False,
) -> tuple[int, int]:
    """Return (debit, credit) of one third party's lines on one account, up to a ledger key
    inclusive: from the lines themselves (the day totals hold accounts, not parties)."""
    query = _in_range(
        select(func.coalesce(func.sum(_LINE_DEBIT), 0), func.coalesce(func.sum(_LINE_CREDIT), 0))
        .join(Entry, Entry.id == EntryLine.entry_id)
        .where(
            Entry.ledger_id == ledger_id,
            EntryLine.account_id == account_id,
            EntryLine.third_party_id == third_party_id,
        ),
        date_from,
        date_to,
    )
    if not include_drafts:
        query = query.where(Entry.status != EntryStatus.draft)
    if through is not None:
        query = query.where(
            tuple_(Entry.entry_date, Entry.id, EntryLine.position) <= tuple_(*through)
        )
    row = (await session.execute(query)).one()
    return int(row[0]), int(row[1])


# One round trip from the ledger's code and the account's number to its totals, as fixed text:
# asyncpg prepares it once per connection and SQLAlchemy compiles nothing per request. Building
# the same query with Core (three statements: the ledger, the account, the totals) cost a served
# worker more CPU than PostgreSQL spent answering it (docs/performance.md). The parts are those
# of `account_totals`: sealed days from the day totals, unsealed entries from their lines, in
# one snapshot so that an entry sealed meanwhile is counted once.
_ACCOUNT_BALANCE_POSTGRESQL = """
WITH target AS (
    SELECT l.id AS ledger_id, l.decimals, a.id AS account_id, a.number, a.name
    FROM ledgers l JOIN accounts a ON a.ledger_id = l.id
    WHERE l.code = $1 AND a.number = $2
), parts AS (
    SELECT d.debit, d.credit
    FROM target t JOIN account_day_totals d ON d.account_id = t.account_id
    WHERE d.day <= $3
    UNION ALL
    SELECT CASE WHEN el.amount > 0 THEN el.amount ELSE 0 END,
           CASE WHEN el.amount < 0 THEN -el.amount ELSE 0 END
    FROM target t
    JOIN entries e ON e.ledger_id = t.ledger_id AND e.seq IS NULL
    JOIN entry_lines el ON el.entry_id = e.id AND el.account_id = t.account_id
    WHERE e.entry_date <= $3 AND (e.status <> 'draft' OR $4::boolean)
)
SELECT t.decimals, t.number, t.name, p.debit, p.credit
FROM target t
CROSS JOIN (SELECT COALESCE(sum(debit), 0) AS debit, COALESCE(sum(credit), 0) AS credit
            FROM parts) p
"""


@dataclass(frozen=True)
class AccountBalanceRow:
    """An account of a ledger with its totals up to a date, in minor units (both positive)."""

    decimals: int
    number: str
    name: str
    debit: int
    credit: int


async def account_balance_by_number(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    date_to: date | None,
    *,
    include_drafts: bool = False,
) -> AccountBalanceRow | None:
    """Return an account's totals up to `date_to` in one round trip (PostgreSQL only).

    None when the ledger or the account does not exist: the caller asks which, to say so.
    """
    conn = await session.connection()
    result = await conn.exec_driver_sql(
        _ACCOUNT_BALANCE_POSTGRESQL, (ledger_code, number, date_to or date.max, include_drafts)
    )
    row = result.first()
    if row is None:
        return None
    decimals, found, name, debit, credit = cast(tuple[Any, ...], row)
    return AccountBalanceRow(decimals, found, name, int(debit), int(credit))


async def movements(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    date_from: date | None,
    date_to: date | None,
    after: tuple[date, uuid.UUID, int] | None,
    limit: int,
    include_drafts: bool = False,
    third_party_id: uuid.UUID | None = None,
) -> Sequence[Movement]:
    """Return the lines of one account in (date, entry, position) order.

    The ledger's condition lets PostgreSQL walk the entries' (ledger, date, id) index in
    order and stop at `limit` lines, instead of sorting every line of a busy account (the
    difference between under a millisecond and a second at 1,000,000 entries); for a rare
    account it still reads the account's few lines and sorts them.
    """
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
        .where(Entry.ledger_id == ledger_id, EntryLine.account_id == account_id)
        .order_by(Entry.entry_date, Entry.id, EntryLine.position)
        .limit(limit)
    )
    query = _in_range(query, date_from, date_to)
    if not include_drafts:
        query = query.where(Entry.status != EntryStatus.draft)
    if third_party_id is not None:
        query = query.where(EntryLine.third_party_id == third_party_id)
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


@dataclass(frozen=True)
class PartyTotals:
    """Debit and credit of one third party (None: lines naming none) on one collective
    account, in minor units (both positive)."""

    account: str
    account_name: str
    third_party: str | None
    third_party_name: str | None
    debit: int
    credit: int


async def totals_by_third_party(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    account_id: uuid.UUID | None = None,
    third_party_id: uuid.UUID | None = None,
    include_drafts: bool = False,
) -> list[PartyTotals]:
    """Return totals per collective account and third party (the balance auxiliaire).

    Read from the lines themselves, through the (third party, entry) index for one party:
    the day totals hold accounts, not parties.
    """
    query = (
        select(
            Account.number,
            Account.name,
            ThirdParty.code,
            ThirdParty.name.label("party_name"),
            func.sum(_LINE_DEBIT).label("debit"),
            func.sum(_LINE_CREDIT).label("credit"),
        )
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Account, Account.id == EntryLine.account_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .where(Entry.ledger_id == ledger_id, Account.collective.is_(True))
        .group_by(Account.number, Account.name, ThirdParty.code, ThirdParty.name)
        .order_by(Account.number, ThirdParty.code.nulls_first())
    )
    query = _in_range(query, date_from, date_to)
    if not include_drafts:
        query = query.where(Entry.status != EntryStatus.draft)
    if account_id is not None:
        query = query.where(EntryLine.account_id == account_id)
    if third_party_id is not None:
        query = query.where(EntryLine.third_party_id == third_party_id)
    result = await session.execute(query)
    return [
        PartyTotals(r.number, r.name, r.code, r.party_name, int(r.debit), int(r.credit))
        for r in result
    ]
