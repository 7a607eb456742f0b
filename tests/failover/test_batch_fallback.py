"""A batch taken on the fallback is journaled as one write and replayed exactly once."""

from __future__ import annotations

import asyncio

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
from tests.pgcluster import PrivateCluster


async def test_a_batch_on_the_fallback_replays_once_whole(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(30),
        app_factory(cluster.url(database, port=proxy.port)) as app,
    ):
        key = await issue_key(app, "accountant")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            body = {"entries": [entry(f"BATCH-{n}") for n in range(5)]}
            headers = {"Idempotency-Key": "batch-on-fallback"}
            posted = await http.post(f"{ENTRIES}/batch", json=body, headers=headers)
            assert posted.status_code == 201, posted.text
            items = posted.json()["items"]
            assert {item["status"] for item in items} == {"pending_replay"}
            again = await http.post(f"{ENTRIES}/batch", json=body, headers=headers)
            assert again.json() == posted.json()
            assert (await healthz(http))["replay_pending"] == 1

            proxy.restore()
            health = await wait_for_primary_drained(http, within=15)
            assert health["replay_conflicts"] == 0
            for item in items:
                read = await http.get(f"{ENTRIES}/{item['id']}")
                assert read.json()["status"] == "posted"

    copies = await pg_entries(cluster, database)
    assert {ref: len(rows) for ref, rows in copies.items() if ref.startswith("BATCH-")} == {
        f"BATCH-{n}": 1 for n in range(5)
    }
    assert {str(rows[0]["id"]) for ref, rows in copies.items() if ref.startswith("BATCH-")} == {
        item["id"] for item in items
    }
