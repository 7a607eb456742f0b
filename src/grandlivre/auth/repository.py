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


async def list_keys(session: AsyncSession) -> Sequence[ApiKey]:
    """Return every key, oldest first."""
    result = await session.execute(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))
    return result.scalars().all()


async def add(session: AsyncSession, row: ApiKey) -> None:
    """Insert a key."""
    session.add(row)
    await session.flush()
