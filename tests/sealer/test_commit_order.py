"""On PostgreSQL nothing is sealed past a running transaction: it may still commit older rows.

A writer outside the API opens a transaction, writes an entry (taking its transaction id) and
commits only after an entry posted through the API has committed. The API's entry must wait:
sealing it first would have to give the late one a seq below it, or leave a gap.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from grandlivre.app import create_app
from tests.conftest import PostgresDatabases, bearer, database_url_for, issue_key, make_settings
from tests.entry.helpers import credit, debit, post_entry, url
from tests.sealer.support import assert_sealed_books, entries_by_seq, seal, verify


@pytest.fixture
async def pg_app(tmp_root: Path, pg_databases: PostgresDatabases) -> AsyncIterator[FastAPI]:
    """An app on a PostgreSQL database of its own (this test has no SQLite counterpart)."""
    database_url = await database_url_for("postgres", tmp_root, pg_databases)
    application = create_app(make_settings(database_url))
    async with application.router.lifespan_context(application):
        yield application


async def connect(app: FastAPI) -> asyncpg.Connection:
    dsn = make_url(app.state.settings.database_url).set(drivername="postgresql")
    return await asyncpg.connect(dsn.render_as_string(hide_password=False), timeout=5)


async def insert_entry(conn: asyncpg.Connection, ledger: str, reference: str) -> None:
    """Write a balanced entry the way the service would, in the caller's transaction."""
    entry_id = uuid.uuid4()
    ledger_id = await conn.fetchval("SELECT id FROM ledgers WHERE code = $1", ledger)
    journal_id = await conn.fetchval(
        "SELECT id FROM journals WHERE ledger_id = $1 AND code = 'OD'", ledger_id
    )
    await conn.execute(
        "INSERT INTO entries (id, ledger_id, journal_id, entry_date, document_date, label,"
        " reference, status, origin, created_at) VALUES ($1, $2, $3, '2026-04-01', '2026-04-01',"
        " 'Écriture lente', $4,"
        " 'posted', 'primary', now())",
        entry_id,
        ledger_id,
        journal_id,
        reference,
    )
    for position, (number, amount) in enumerate([("512000", 700), ("706000", -700)]):
        await conn.execute(
            "INSERT INTO entry_lines (entry_id, position, account_id, amount) VALUES "
            "($1, $2, (SELECT id FROM accounts WHERE ledger_id = $3 AND number = $4), $5)",
            entry_id,
            position,
            ledger_id,
            number,
            amount,
        )


async def test_an_entry_waits_for_every_older_transaction_before_it_is_sealed(
    pg_app: FastAPI,
) -> None:
    app, ledger = pg_app, "main"
    key = await issue_key(app, "accountant")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers=bearer(key)
    ) as client:
        conn = await connect(app)
        try:
            slow = conn.transaction()
            await slow.start()
            await insert_entry(conn, ledger, "SLOW")
            fast = await post_entry(
                client,
                ledger,
                [debit("411000", "3.00"), credit("706000", "3.00")],
                reference="FAST",
            )

            await seal(app)

            read = await client.get(url(ledger, "entries", fast["id"]))
            assert read.json()["seq"] is None  # committed, but an older transaction runs on

            await slow.commit()
        finally:
            await conn.close()

        await seal(app)

        entries = await entries_by_seq(client, ledger)
        # The older transaction's entry comes first: seq follows transaction ids once all
        # of them have ended.
        assert [(e["reference"], e["seq"]) for e in entries] == [("SLOW", 1), ("FAST", 2)]
        assert_sealed_books(entries)
        assert (await verify(client, ledger))["ok"] is True
