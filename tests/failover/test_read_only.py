"""FALLBACK_WRITES=reject: during an outage the service is read-only, and says so properly."""

from __future__ import annotations

import asyncio

from tests.conftest import assert_problem
from tests.conftest import issue_key as issue_unjournaled_key
from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    healthz,
    issue_key,
    pg_entries,
    wait_for_mirror,
    wait_for_primary_drained,
)
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster, free_port


async def test_writes_get_503_fallback_read_only_while_reads_go_on(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    url = cluster.url(database, port=proxy.port)
    async with asyncio.timeout(25), app_factory(url, fallback_writes="reject") as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            kept = await http.post(ENTRIES, json=entry("RO-1"))
            assert kept.status_code == 201, kept.text
            await wait_for_mirror(app)

            proxy.cut()
            refused = await http.post(ENTRIES, json=entry("RO-2"))
            problem = assert_problem(refused, 503, "fallback-read-only")
            assert problem["instance"] == ENTRIES
            retry_after = refused.headers.get("retry-after")
            assert retry_after is not None, refused.headers
            assert retry_after.isdigit(), retry_after
            assert int(retry_after) >= 1

            # A second write, now that the service knows it is on the fallback: same answer.
            again = await http.post(ENTRIES, json=entry("RO-3"))
            assert_problem(again, 503, "fallback-read-only")
            assert "retry-after" in again.headers

            health = await healthz(http)
            assert (health["ok"], health["fallback"], health["mode"]) == (True, True, "fallback")
            assert health["replay_pending"] == 0  # nothing refused was journaled

            for path in (
                ENTRIES,
                f"{ENTRIES}/{kept.json()['id']}",
                "/api/v1/ledgers/main/trial-balance",
                "/api/v1/ledgers/main/accounts/411000",
            ):
                read = await http.get(path)
                assert read.status_code == 200, (path, read.text)
            listed = await http.get(ENTRIES)
            assert [e["reference"] for e in listed.json()["items"]] == ["RO-1"]

            proxy.restore()
            await wait_for_primary_drained(http, within=10)
            after = await http.post(ENTRIES, json=entry("RO-4"))
            assert after.status_code == 201, after.text
            assert after.json()["origin"] == "primary"

    copies = await pg_entries(cluster, database)
    assert sorted(copies) == ["RO-1", "RO-4"]


async def test_read_only_fallback_at_start_up_never_mirrored_refuses_reads_and_writes(
    app_factory: AppFactory,
) -> None:
    # A fallback file that never completed a copy of PostgreSQL holds the seed only: it is not
    # the books, so reads are refused (mirror-incomplete); this one is read-only besides.
    closed = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/books"
    async with (
        asyncio.timeout(25),
        app_factory(closed, fallback_writes="reject") as app,
    ):
        # Keys cannot be created through the API now; one is put in the fallback directly.
        key = await issue_unjournaled_key(app, "accountant")
        async with client(app, key) as http:
            health = await healthz(http)
            assert (health["ok"], health["fallback"], health["mode"]) == (True, True, "fallback")
            assert health["mirror_complete"] is False
            accounts = await http.get("/api/v1/ledgers/main/accounts?prefix=41")
            assert_problem(accounts, 503, "mirror-incomplete")
            refused = await http.post(ENTRIES, json=entry("RO-START"))
            assert_problem(refused, 503, "fallback-read-only")
            assert int(refused.headers["retry-after"]) >= 1
            assert (await healthz(http))["replay_pending"] == 0
