"""PostgreSQL prepares one statement per query, not one per length of a list of ids.

asyncpg prepares every statement and keeps it per connection, by its text. An IN list renders
one placeholder per value, so sealing a batch of 7 entries and one of 8 were two statements:
over a soak each pooled connection filled its cache with a statement per batch size, and the
workers' resident memory grew for it (docs/performance.md). With the lists bound as one
array, sealing and reading back batches of every size prepares the same few statements.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.app import create_app
from grandlivre.entry import sealer, service
from grandlivre.store.engine import create_engine
from tests.conftest import PostgresDatabases, bearer, database_url_for, issue_key, make_settings
from tests.entry.helpers import credit, debit, post_entry


@pytest.fixture
async def pg_app(tmp_root: Path, pg_databases: PostgresDatabases) -> AsyncIterator[FastAPI]:
    """An app on a PostgreSQL database of its own (prepared statements are PostgreSQL's)."""
    database_url = await database_url_for("postgres", tmp_root, pg_databases)
    # Its background sealer (run every probe interval) stays out of the way: this test seals
    # on a connection of its own.
    application = create_app(make_settings(database_url, probe_interval=3600))
    async with application.router.lifespan_context(application):
        yield application


async def test_sealing_and_reading_batches_of_any_size_prepare_the_same_statements(
    pg_app: FastAPI,
) -> None:
    settings = pg_app.state.settings
    engine = create_engine(settings.database_url, settings)
    key = await issue_key(pg_app, "accountant")
    transport = httpx.ASGITransport(app=pg_app)
    prepared: list[set[str]] = []
    try:
        async with (
            httpx.AsyncClient(
                transport=transport, base_url="http://test", headers=bearer(key)
            ) as client,
            engine.connect() as conn,
        ):
            session = AsyncSession(bind=conn)
            for size in range(1, 10):
                for n in range(size):
                    await post_entry(
                        client,
                        "main",
                        [debit("512000", f"{size}.{n:02d}"), credit("706000", f"{size}.{n:02d}")],
                        journal="VE" if n % 2 else "AC",
                    )
                # The sealer's batch is every entry posted since: `size` of them.
                assert await sealer.seal_pending(session, now=pg_app.state.clock.now()) == size
                page = await service.list_entries(
                    session, "main", service.EntryFilter(), after=None, limit=size
                )
                assert len(page) == size
                await session.commit()
                rows = await conn.exec_driver_sql("SELECT statement FROM pg_prepared_statements")
                prepared.append({" ".join(statement.split()) for (statement,) in rows})
                await conn.commit()
    finally:
        await engine.dispose()
    # After the first two sizes, every later size reuses what is prepared.
    grown = [sorted(later - prepared[1]) for later in prepared[2:]]
    assert grown == [[]] * len(grown), grown
