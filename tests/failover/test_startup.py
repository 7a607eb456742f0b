"""PostgreSQL unreachable at start-up: the service starts on its fallback and comes back.

Whatever makes PostgreSQL unreachable — nothing listening on the port, a connection reset, a
role or database that does not exist, a connect that hangs — the service starts within
seconds on the SQLite fallback, journals writes (reads wait: the file never copied the books,
see docs/operations.md), and switches to PostgreSQL once it answers, with every write taken
meanwhile replayed, no restart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import pytest

from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    fallback_file,
    healthz,
    issue_key,
    pg_entries,
    sqlite_rows,
    wait_for_primary_drained,
    wait_until,
)
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster

START_LIMIT = 6.0  # seconds: a few connect timeouts at most, never the drivers' 60 s


@dataclass
class Outage:
    """A PostgreSQL the app cannot use yet: its URL, how to heal it, where to look after."""

    url: str
    heal: Callable[[], Awaitable[None]]
    cluster: PrivateCluster
    database: str


async def _closed_port(cluster: PrivateCluster, proxy: LoopbackProxy, database: str) -> Outage:
    # A cluster of its own, initialised but not started: nothing listens on its port.
    down = await asyncio.to_thread(PrivateCluster)

    async def heal() -> None:
        await asyncio.to_thread(down.start)

    return Outage(down.url("postgres"), heal, down, "postgres")


async def _reset_connection(cluster: PrivateCluster, proxy: LoopbackProxy, database: str) -> Outage:
    proxy.cut()  # accepts, then resets every connection

    async def heal() -> None:
        proxy.restore()

    return Outage(cluster.url(database, port=proxy.port), heal, cluster, database)


async def _unknown_role_and_database(
    cluster: PrivateCluster, proxy: LoopbackProxy, database: str
) -> Outage:
    url = f"postgresql+asyncpg://bad:bad@127.0.0.1:{cluster.port}/none"

    async def heal() -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=cluster.port, user="postgres", database="postgres", timeout=10
        )
        try:
            await conn.execute("CREATE ROLE bad LOGIN PASSWORD 'bad'")
            await conn.execute("CREATE DATABASE none OWNER bad")
        finally:
            await conn.close()

    return Outage(url, heal, cluster, "none")


async def _hanging_connect(cluster: PrivateCluster, proxy: LoopbackProxy, database: str) -> Outage:
    proxy.blackhole()  # accepts, then forwards nothing: the connect hangs

    async def heal() -> None:
        proxy.restore()

    return Outage(cluster.url(database, port=proxy.port), heal, cluster, database)


OUTAGES = {
    "closed-port": _closed_port,
    "connection-reset": _reset_connection,
    "unknown-role-and-database": _unknown_role_and_database,
    "hanging-connect": _hanging_connect,
}


@pytest.mark.parametrize("outage", list(OUTAGES))
async def test_service_starts_on_fallback_and_replays_when_postgres_becomes_reachable(
    outage: str,
    cluster: PrivateCluster,
    proxy: LoopbackProxy,
    database: str,
    app_factory: AppFactory,
) -> None:
    made = await OUTAGES[outage](cluster, proxy, database)
    try:
        async with asyncio.timeout(25):
            began = time.monotonic()
            async with app_factory(made.url) as app:
                started_in = time.monotonic() - began
                assert started_in < START_LIMIT, f"start-up took {started_in:.1f} s"
                key = await issue_key(app, "accountant")
                async with client(app, key) as http:
                    health = await healthz(http)
                    assert health["ok"] is True
                    assert health["fallback"] is True
                    assert health["mode"] == "fallback"
                    assert health["database"] == "sqlite"
                    assert health["fallback_since"] is not None
                    ready = await http.get("/readyz")
                    assert ready.status_code == 200, ready.text
                    assert ready.json()["seed"] is True
                    assert health["mirror_complete"] is False

                    # A file that never copied PostgreSQL is not its books: reads are refused
                    # rather than answered from the seed alone...
                    account = await http.get("/api/v1/ledgers/main/accounts/411000")
                    assert account.status_code == 503, account.text
                    assert account.json()["type"] == "mirror-incomplete"
                    assert int(account.headers["retry-after"]) >= 1

                    # ...but writes are taken, journaled and replayed: PostgreSQL decides.

                    posted = await http.post(ENTRIES, json=entry("START-1"))
                    assert posted.status_code == 201, posted.text
                    assert posted.json()["status"] == "pending_replay"
                    assert posted.json()["origin"] == "fallback"
                    entry_id = posted.json()["id"]
                    assert (await healthz(http))["replay_pending"] >= 1

                    await made.heal()
                    health = await wait_for_primary_drained(http, within=10)
                    assert health["fallback"] is False
                    assert health["database"] == "postgresql"
                    assert health["fallback_since"] is None
                    assert health["replay_conflicts"] == 0

                    # The client's key and entry made it to PostgreSQL.
                    read = await http.get(f"{ENTRIES}/{entry_id}")
                    assert read.status_code == 200, read.text
                    assert read.json()["status"] == "posted"
                    assert read.json()["origin"] == "fallback"

                    # From now on the fallback file mirrors PostgreSQL again.
                    later = await http.post(ENTRIES, json=entry("START-2"))
                    assert later.status_code == 201, later.text
                    assert later.json()["origin"] == "primary"

                    async def mirrored() -> list[tuple[str, str]] | None:
                        rows = sqlite_rows(
                            fallback_file(app),
                            "SELECT reference, status FROM entries ORDER BY reference",
                        )
                        found = [(row["reference"], row["status"]) for row in rows]
                        expected = [("START-1", "posted"), ("START-2", "posted")]
                        return found if found == expected else None

                    await wait_until(mirrored, within=3, what="PostgreSQL's entries in the mirror")

            copies = await pg_entries(made.cluster, made.database)
            assert [(c["status"], c["origin"]) for c in copies["START-1"]] == [
                ("posted", "fallback")
            ]
            assert str(copies["START-1"][0]["id"]) == entry_id
    finally:
        if made.cluster is not cluster:
            await asyncio.to_thread(made.cluster.destroy)
