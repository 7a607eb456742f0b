"""Pooled PostgreSQL connections that the server dropped while they sat idle are replaced.

The pool pings a connection at checkout only when it was idle for a while (store/engine.py):
a PostgreSQL restart too quick for the probes to notice must not fail the next request over
to the fallback because the pool handed it a dead connection.
"""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from grandlivre.store import engine as store_engine
from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    healthz,
    issue_key,
    pg_entries,
    wait_until,
)
from tests.pgcluster import PrivateCluster


async def mirror_complete(app: FastAPI) -> bool:
    """Tell whether the app's mirror completed its first copy of PostgreSQL."""
    progress = await app.state.store.mirror_progress()
    return progress is not None and progress.complete


async def test_quick_restart_while_idle_does_not_fail_over(
    cluster: PrivateCluster,
    database: str,
    app_factory: AppFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(store_engine, "IDLE_PING_SECONDS", 0.3)
    # Probes far apart, so that none of them sees the restart: only the pool can.
    async with app_factory(cluster.url(database), probe_interval=60, probe_failures=5) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            first = await http.post(ENTRIES, json=entry("F-POOL-1"))
            assert first.status_code == 201, first.text
            await wait_until(
                lambda: mirror_complete(app), within=10, what="the mirror's first copy"
            )
            await asyncio.sleep(0.3)  # the maintenance tick ends; the next is a minute away
            cluster.stop()
            cluster.start()
            await asyncio.sleep(0.5)  # idle for longer than IDLE_PING_SECONDS

            second = await http.post(ENTRIES, json=entry("F-POOL-2"))

            assert second.status_code == 201, second.text
            assert second.json()["origin"] == "primary"
            assert (await healthz(http))["mode"] == "primary"
    stored = await pg_entries(cluster, database)
    assert len(stored["F-POOL-1"]) == len(stored["F-POOL-2"]) == 1
