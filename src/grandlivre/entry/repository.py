"""Queries on entries and their lines."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, exists, insert, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, Entry, EntryLine, Journal


@dataclass(frozen=True)
class LineRow:
    """A line as read back, with its account number."""

    entry_id: uuid.UUID
    position: int
    account: str
    amount: int
    label: str | None


async def insert_entry(
    session: AsyncSession, entry: Entry, lines: Iterable[dict[str, Any]]
) -> None:
    """Insert an entry and its lines."""
    session.add(entry)
    await session.flush()
    await session.execute(insert(EntryLine), list(lines))


async def get_entry(
    session: AsyncSession, ledger_id: uuid.UUID, entry_id: uuid.UUID
) -> Entry | None:
    """Return the entry of the ledger with that id, if any."""
    result = await session.execute(
        select(Entry).where(Entry.ledger_id == ledger_id, Entry.id == entry_id)
    )
    return result.scalar_one_or_none()


async def get_entry_by_id(session: AsyncSession, entry_id: uuid.UUID) -> Entry | None:
    """Return the entry with that id in any ledger, if any."""
    return await session.get(Entry, entry_id)


async def delete_entry(session: AsyncSession, entry_id: uuid.UUID) -> None:
    """Delete an entry and its lines."""
    await session.execute(delete(EntryLine).where(EntryLine.entry_id == entry_id))
    await session.execute(delete(Entry).where(Entry.id == entry_id))


async def journal_codes(
    session: AsyncSession, journal_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Return journal codes by id."""
    result = await session.execute(
        select(Journal.id, Journal.code).where(Journal.id.in_(set(journal_ids)))
    )
    return {row.id: row.code for row in result}


async def lines_of(session: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> list[LineRow]:
    """Return the lines of the entries, in entry and position order."""
    result = await session.execute(
        select(
            EntryLine.entry_id,
            EntryLine.position,
            Account.number,
            EntryLine.amount,
            EntryLine.label,
        )
        .join(Account, Account.id == EntryLine.account_id)
        .where(EntryLine.entry_id.in_(entry_ids))
        .order_by(EntryLine.entry_id, EntryLine.position)
    )
    return [LineRow(r.entry_id, r.position, r.number, r.amount, r.label) for r in result]


async def reversals_of(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Return, for each entry that has been reversed, the id of its reversal."""
    result = await session.execute(
        select(Entry.reverses_id, Entry.id).where(Entry.reverses_id.in_(entry_ids))
    )
    return {row.reverses_id: row.id for row in result}


async def list_entries(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    *,
    date_from: date | None,
    date_to: date | None,
    journal_id: uuid.UUID | None,
    account_id: uuid.UUID | None,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> Sequence[Entry]:
    """Return a page of entries in (date, id) order, filtered."""
    query = (
        select(Entry)
        .where(Entry.ledger_id == ledger_id)
        .order_by(Entry.entry_date, Entry.id)
        .limit(limit)
    )
    if date_from is not None:
        query = query.where(Entry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(Entry.entry_date <= date_to)
    if journal_id is not None:
        query = query.where(Entry.journal_id == journal_id)
    if account_id is not None:
        query = query.where(
            exists().where(EntryLine.entry_id == Entry.id, EntryLine.account_id == account_id)
        )
    if after is not None:
        query = query.where(tuple_(Entry.entry_date, Entry.id) > tuple_(*after))
    return (await session.execute(query)).scalars().all()
