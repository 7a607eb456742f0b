"""Migration 0004 on both dialects: books posted before it are sealed after it, and it undoes."""

from __future__ import annotations

from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from grandlivre.app import create_app
from grandlivre.db.migrate import alembic_config
from grandlivre.store.engine import create_engine
from tests.conftest import PostgresDatabases, bearer, database_url_for, issue_key, make_settings
from tests.entry.helpers import credit, debit, post_entry
from tests.sealer.support import assert_sealed_books, entries_by_seq, seal, verify

SEAL_COLUMNS = {"seq", "fiscal_year", "number", "hash", "sealed_at"}


async def migrate_to(database_url: str, revision: str) -> set[str]:
    """Upgrade or downgrade to `revision`; return the columns `entries` has then."""

    def run(connection: Connection) -> set[str]:
        config = alembic_config()
        config.attributes["connection"] = connection
        if revision == "head":
            command.upgrade(config, revision)
        else:
            command.downgrade(config, revision)
        connection.commit()
        return {column["name"] for column in inspect(connection).get_columns("entries")}

    engine = create_engine(database_url, make_settings(database_url))
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(run)
    finally:
        await engine.dispose()


async def test_entries_posted_before_the_sealer_existed_are_sealed_after_the_upgrade(
    backend: str, tmp_root: Path, pg_databases: PostgresDatabases
) -> None:
    database_url = await database_url_for(backend, tmp_root, pg_databases)
    # One background pass at start-up and no other: the seal_now below does the sealing.
    settings = make_settings(database_url, probe_interval=3600)
    posted = []
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        key = await issue_key(app, "accountant")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=bearer(key)
        ) as http:
            for journal in ["VE", "AC", "VE"]:
                lines = [debit("411000", "8.00"), credit("706000", "8.00")]
                posted.append((await post_entry(http, "main", lines, journal=journal))["id"])

    assert not SEAL_COLUMNS & await migrate_to(database_url, "0003")
    assert await migrate_to(database_url, "head") >= SEAL_COLUMNS

    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t", headers=bearer(key)
        ) as http,
    ):
        await seal(app)  # if the first background pass has not done it already

        entries = await entries_by_seq(http, "main")
        assert [e["id"] for e in entries] == posted
        assert [e["number"] for e in entries] == [1, 1, 2]
        assert_sealed_books(entries)
        assert (await verify(http, "main"))["ok"] is True
