"""Migrations at start-up: several in one process at once each bring their own database to head.

Alembic keeps the migration it runs in module globals (`alembic.context`, `alembic.op`); two
upgrades interleaved on one event loop (a store starting while another recovers, as the test
suite's apps do) would run each other's operations, or fail removing each other's globals.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from grandlivre.db.migrate import upgrade_to_head
from grandlivre.store.engine import create_engine
from tests.conftest import PostgresDatabases, database_url_for, make_settings


async def test_upgrades_run_together_in_one_process_each_reach_head(
    backend: str, tmp_root: Path, pg_databases: PostgresDatabases
) -> None:
    urls = [await database_url_for(backend, tmp_root, pg_databases) for _ in range(3)]
    engines = [create_engine(url, make_settings(url)) for url in urls]
    try:
        await asyncio.gather(*(upgrade_to_head(engine) for engine in engines))
        heads = []
        for engine in engines:
            async with engine.connect() as conn:
                heads.append(
                    (
                        await conn.execute(text("SELECT version_num FROM alembic_version"))
                    ).scalar_one()
                )
                tables = await conn.run_sync(lambda sync: sync.dialect.get_table_names(sync))
                assert {"ledgers", "entries", "entry_lines", "alembic_version"} <= set(tables)
        assert len(set(heads)) == 1, heads
    finally:
        for engine in engines:
            await engine.dispose()
