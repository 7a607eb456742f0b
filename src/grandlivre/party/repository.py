"""Queries on third parties."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, ThirdParty


async def get_party(session: AsyncSession, ledger_id: uuid.UUID, code: str) -> ThirdParty | None:
    """Return the ledger's third party with that code, if any."""
    result = await session.execute(
        select(ThirdParty).where(ThirdParty.ledger_id == ledger_id, ThirdParty.code == code)
    )
    return result.scalar_one_or_none()


async def list_parties(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    *,
    kind: str | None,
    after: str | None,
    limit: int,
) -> Sequence[ThirdParty]:
    """Return a page of the ledger's third parties in code order."""
    query = (
        select(ThirdParty)
        .where(ThirdParty.ledger_id == ledger_id)
        .order_by(ThirdParty.code)
        .limit(limit)
    )
    if kind is not None:
        query = query.where(ThirdParty.kind == kind)
    if after is not None:
        query = query.where(ThirdParty.code > after)
    return (await session.execute(query)).scalars().all()


async def account_numbers(
    session: AsyncSession, account_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Return account numbers by id."""
    if not account_ids:
        return {}
    result = await session.execute(
        select(Account.id, Account.number).where(Account.id.in_(set(account_ids)))
    )
    return {row.id: row.number for row in result}


async def add(session: AsyncSession, party: ThirdParty) -> None:
    """Insert a third party."""
    session.add(party)
    await session.flush()
