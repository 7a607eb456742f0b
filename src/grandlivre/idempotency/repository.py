"""Queries on stored idempotent responses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import IdempotencyKey


async def get(session: AsyncSession, scope: str, key: str) -> IdempotencyKey | None:
    """Return the stored response for a key, if any."""
    result = await session.execute(
        select(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )
    return result.scalar_one_or_none()


async def remove(session: AsyncSession, scope: str, key: str) -> None:
    """Forget a stored response."""
    await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
    )


async def add(session: AsyncSession, row: IdempotencyKey) -> None:
    """Store a response; a concurrent twin makes this raise IntegrityError."""
    session.add(row)
    await session.flush()


async def add_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store responses in one statement; a key stored before makes this raise IntegrityError."""
    if rows:
        conn = await session.connection()
        await conn.execute(insert(IdempotencyKey).values(list(rows)))
