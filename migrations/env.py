"""Alembic environment: runs on PostgreSQL and SQLite (batch mode for SQLite's ALTER)."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from grandlivre.config import get_settings
from grandlivre.db.tables import Base
from grandlivre.store.engine import create_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_async() -> None:
    settings = get_settings()
    url = context.config.get_main_option("sqlalchemy.url") or settings.database_url
    engine = create_engine(url, settings)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `grandlivre migrate`")

shared = context.config.attributes.get("connection")
if shared is not None:
    _run(shared)
else:
    asyncio.run(_run_async())
