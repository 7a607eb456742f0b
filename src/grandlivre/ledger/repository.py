"""Queries on ledgers, accounts and journals."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import exists, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, EntryLine, Journal, Ledger, ThirdParty


async def get_ledger_by_code(session: AsyncSession, code: str) -> Ledger | None:
    """Return the ledger with that code, if any."""
    result = await session.execute(select(Ledger).where(Ledger.code == code))
    return result.scalar_one_or_none()


async def get_ledger_by_id(session: AsyncSession, ledger_id: uuid.UUID) -> Ledger | None:
    """Return the ledger with that id, if any."""
    return await session.get(Ledger, ledger_id)


async def get_account_by_id(session: AsyncSession, account_id: uuid.UUID) -> Account | None:
    """Return the account with that id, if any."""
    return await session.get(Account, account_id)


async def get_journal_by_id(session: AsyncSession, journal_id: uuid.UUID) -> Journal | None:
    """Return the journal with that id, if any."""
    return await session.get(Journal, journal_id)


async def list_ledgers(session: AsyncSession, *, after: str | None, limit: int) -> Sequence[Ledger]:
    """Return up to `limit` ledgers ordered by code, after the given code."""
    query = select(Ledger).order_by(Ledger.code).limit(limit)
    if after is not None:
        query = query.where(Ledger.code > after)
    return (await session.execute(query)).scalars().all()


async def add(session: AsyncSession, row: Ledger | Account | Journal) -> None:
    """Insert one row and flush it, so that unique violations surface here."""
    session.add(row)
    await session.flush()


async def insert_accounts(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Insert many accounts in one statement."""
    batch = list(rows)
    if batch:
        await session.execute(insert(Account), batch)


async def insert_journals(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Insert many journals in one statement."""
    batch = list(rows)
    if batch:
        await session.execute(insert(Journal), batch)


async def get_account(session: AsyncSession, ledger_id: uuid.UUID, number: str) -> Account | None:
    """Return the account with that number in the ledger, if any."""
    result = await session.execute(
        select(Account).where(Account.ledger_id == ledger_id, Account.number == number)
    )
    return result.scalar_one_or_none()


async def list_accounts(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    *,
    after: str | None,
    limit: int,
    prefix: str | None = None,
    active: bool | None = None,
) -> Sequence[Account]:
    """Return up to `limit` accounts ordered by number, optionally filtered."""
    query = (
        select(Account).where(Account.ledger_id == ledger_id).order_by(Account.number).limit(limit)
    )
    if after is not None:
        query = query.where(Account.number > after)
    if prefix:
        query = query.where(Account.number.startswith(prefix, autoescape=True))
    if active is not None:
        query = query.where(Account.active.is_(active))
    return (await session.execute(query)).scalars().all()


async def count_accounts(session: AsyncSession, ledger_id: uuid.UUID) -> int:
    """Return how many accounts the ledger's chart has."""
    query = select(func.count()).select_from(Account).where(Account.ledger_id == ledger_id)
    return int((await session.execute(query)).scalar_one())


async def account_has_lines(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """Tell whether any entry line uses the account."""
    query = select(exists().where(EntryLine.account_id == account_id))
    return bool((await session.execute(query)).scalar())


async def account_has_third_parties(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """Tell whether any third party is an auxiliary account of the account."""
    query = select(exists().where(ThirdParty.account_id == account_id))
    return bool((await session.execute(query)).scalar())


async def delete(session: AsyncSession, row: Account) -> None:
    """Delete a row."""
    await session.delete(row)
    await session.flush()


async def get_journal(session: AsyncSession, ledger_id: uuid.UUID, code: str) -> Journal | None:
    """Return the journal with that code in the ledger, if any."""
    result = await session.execute(
        select(Journal).where(Journal.ledger_id == ledger_id, Journal.code == code)
    )
    return result.scalar_one_or_none()


async def list_journals(
    session: AsyncSession, ledger_id: uuid.UUID, *, after: str | None, limit: int
) -> Sequence[Journal]:
    """Return up to `limit` journals ordered by code."""
    query = (
        select(Journal).where(Journal.ledger_id == ledger_id).order_by(Journal.code).limit(limit)
    )
    if after is not None:
        query = query.where(Journal.code > after)
    return (await session.execute(query)).scalars().all()
