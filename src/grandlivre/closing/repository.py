"""Queries of a fiscal year's closing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from grandlivre.db.dialect import is_postgresql
from grandlivre.db.tables import Account, Entry, EntryLine, ThirdParty
from grandlivre.store import EntryStatus


@dataclass(frozen=True)
class Balance:
    """The balance of one account (and third party) over a range, in signed minor units."""

    account: str
    third_party: str | None
    amount: int


async def balances(
    session: AsyncSession, ledger_id: uuid.UUID, start: date, end: date
) -> list[Balance]:
    """Return every non-zero balance of validated entries dated in [start, end], per account
    and third party, by account number then third-party code (none first)."""
    total = func.sum(EntryLine.amount)
    query = (
        select(Account.number, ThirdParty.code, total.label("amount"))
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Account, Account.id == EntryLine.account_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .where(
            Entry.ledger_id == ledger_id,
            Entry.entry_date >= start,
            Entry.entry_date <= end,
            Entry.status != EntryStatus.draft,
        )
        .group_by(Account.number, ThirdParty.code)
        .having(total != 0)
        .order_by(Account.number, ThirdParty.code.nulls_first())
    )
    return [Balance(r.number, r.code, int(r.amount)) for r in await session.execute(query)]


async def count_entries(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    start: date,
    end: date,
    *,
    drafts: bool,
    without_role: bool = False,
) -> int:
    """Count the ledger's entries dated in [start, end]: its drafts, or its validated ones
    (those a closing did not write, with `without_role`)."""
    query = select(func.count()).where(
        Entry.ledger_id == ledger_id, Entry.entry_date >= start, Entry.entry_date <= end
    )
    if drafts:
        query = query.where(Entry.status == EntryStatus.draft)
    else:
        query = query.where(Entry.status != EntryStatus.draft)
    if without_role:
        query = query.where(Entry.role.is_(None))
    return int((await session.execute(query)).scalar_one())


async def unreversed_with_role(
    session: AsyncSession, ledger_id: uuid.UUID, role: str, start: date, end: date
) -> Sequence[uuid.UUID]:
    """Return the ids of the entries of that role dated in [start, end] that are neither
    reversed nor reversals, in (date, id) order."""
    reversal = aliased(Entry)
    query = (
        select(Entry.id)
        .where(
            Entry.ledger_id == ledger_id,
            Entry.role == role,
            Entry.entry_date >= start,
            Entry.entry_date <= end,
            Entry.reverses_id.is_(None),
            ~exists().where(reversal.reverses_id == Entry.id),
        )
        .order_by(Entry.entry_date, Entry.id)
    )
    return (await session.execute(query)).scalars().all()


async def allow_locked_periods(session: AsyncSession, ledger_id: uuid.UUID) -> None:
    """Tell the period trigger (PostgreSQL) that this transaction is the ledger's closing: its
    entries may go into locked months (migration 0013). Transaction-local."""
    if is_postgresql(session):
        await session.execute(
            text("SELECT set_config('grandlivre.closing', :ledger, true)"),
            {"ledger": str(ledger_id)},
        )
