"""Which database a session runs on, for the few statements written per dialect."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


def is_postgresql(session: AsyncSession) -> bool:
    """Tell whether the session runs on PostgreSQL (where the fixed-text statements apply)."""
    return session.get_bind().dialect.name == "postgresql"
