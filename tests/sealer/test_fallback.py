"""Entries taken on the SQLite fallback stay unsealed until replayed, then seal on PostgreSQL.

The outage is real: the service reaches PostgreSQL through a loopback proxy that cuts every
connection and refuses new ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from grandlivre.app import create_app
from grandlivre.store import Mode
from tests.conftest import PostgresDatabases, bearer, database_url_for, issue_key, make_settings
from tests.entry.helpers import credit, debit, post_entry, url
from tests.faults import LoopbackProxy
from tests.sealer.support import assert_sealed_books, entries_by_seq, seal, verify

FAST = {
    "probe_interval": 0.1,
    "probe_timeout": 0.5,
    "probe_failures": 2,
    "probe_successes": 2,
    "db_connect_timeout": 1.0,
    "db_command_timeout": 2.0,
}


@pytest.fixture
async def proxied_app(
    tmp_root: Path, pg_databases: PostgresDatabases
) -> AsyncIterator[tuple[FastAPI, LoopbackProxy]]:
    """An app on PostgreSQL reached through a loopback proxy the test may cut."""
    direct = make_url(await database_url_for("postgres", tmp_root, pg_databases))
    proxy = LoopbackProxy(direct.host or "127.0.0.1", direct.port or 5432).start()
    try:
        proxied = direct.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        application = create_app(make_settings(proxied, **FAST))
        async with application.router.lifespan_context(application):
            yield application, proxy
    finally:
        proxy.restore()
        proxy.stop()


async def wait_until(check: Callable[[], Awaitable[Any]], what: str, within: float = 15) -> Any:
    deadline = time.monotonic() + within
    while not (result := await check()):
        assert time.monotonic() < deadline, f"not within {within} s: {what}"
        await asyncio.sleep(0.05)
    return result


async def test_fallback_entries_seal_only_once_replayed_to_postgres(
    proxied_app: tuple[FastAPI, LoopbackProxy],
) -> None:
    app, proxy = proxied_app
    store = app.state.store
    key = await issue_key(app, "accountant")
    lines = [debit("411000", "10.00"), credit("706000", "10.00")]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=bearer(key)
    ) as http:
        before = await post_entry(http, "main", lines, journal="VE", reference="BEFORE")
        await seal(app)
        since = app.state.clock.now()

        async def mirrored() -> bool:
            synced = await store.mirror_synced_at()
            return synced is not None and synced > since

        await wait_until(mirrored, "a mirror round after the seal (the key, the entry)")

        proxy.cut()
        during = await post_entry(http, "main", lines, journal="VE", reference="DURING")
        assert (during["origin"], during["status"]) == ("fallback", "pending_replay")
        assert store.in_fallback

        await asyncio.sleep(0.5)  # several background passes, none of which may seal on SQLite
        assert await seal(app) == 0
        read = (await http.get(url("main", "entries", during["id"]))).json()
        assert (read["seq"], read["number"], read["hash"]) == (None, None, None)

        proxy.restore()

        async def back_to_primary() -> bool:
            status = await store.replay_status()
            return bool(store.mode == Mode.primary and status.pending == 0)

        await wait_until(back_to_primary, "back on primary with the journal drained")
        await seal(app)

        entries = await entries_by_seq(http, "main")
        assert [(e["reference"], e["seq"], e["number"]) for e in entries] == [
            ("BEFORE", 1, 1),
            ("DURING", 2, 2),
        ]
        assert entries[0]["id"] == before["id"]
        assert entries[1]["origin"] == "fallback"
        assert_sealed_books(entries)
        assert (await verify(http, "main"))["ok"] is True

        # The mirror copies the seals too: a later outage reads them from the fallback.
        await wait_until(mirrored_seals(app), "the seals in the mirror")
        proxy.cut()

        async def in_fallback() -> bool:
            return bool(store.in_fallback)

        await wait_until(in_fallback, "fallback again")
        assert await entries_by_seq(http, "main") == entries


def mirrored_seals(app: FastAPI) -> Callable[[], Awaitable[bool]]:
    """Check that every entry in the fallback file carries its seal."""

    async def check() -> bool:
        async with app.state.store.fallback.connect() as conn:
            rows = (await conn.exec_driver_sql("SELECT seq FROM entries")).all()
        return len(rows) == 2 and all(row[0] is not None for row in rows)

    return check
