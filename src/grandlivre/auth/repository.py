"""Queries on API keys."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import ApiKey


async def get_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """Return the key with that hash, if any."""
    result = await session.execute(select(ApiKey).where(ApiKey.key_hash == key_hash))
    return result.scalar_one_or_none()


async def get(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    """Return the key with that id, if any."""
    return await session.get(ApiKey, key_id)


async def list_keys(
    session: AsyncSession, *, after: uuid.UUID | None, limit: int | None
) -> Sequence[ApiKey]:
    """Return keys in id order (UUIDv7: creation order), after the given id."""
    query = select(ApiKey).order_by(ApiKey.id)
    if after is not None:
        query = query.where(ApiKey.id > after)
    if limit is not None:
        query = query.limit(limit)
    return (await session.execute(query)).scalars().all()


async def add(session: AsyncSession, row: ApiKey) -> None:
    """Insert a key."""
    session.add(row)
    await session.flush()
