"""PostgreSQL lost while the service runs: requests go on from the fallback, then come back.

The faults are real: the cluster is killed (`pg_ctl stop -m immediate`), or the TCP connections
between the service and PostgreSQL are cut by a loopback proxy while a request is using them.
"""

from __future__ import annotations

import asyncio
import time

import pytest

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
    wait_until,
)
from tests.faults import LoopbackProxy
from tests.ops.support import metric, scrape
from tests.pgcluster import PrivateCluster

TRIAL_BALANCE = "/api/v1/ledgers/main/trial-balance"


def _balances(trial_balance: dict[str, object]) -> dict[str, str]:
    items = trial_balance["items"]
    assert isinstance(items, list)
    return {item["account"]: item["balance"] for item in items}


async def test_write_after_postgres_is_killed_lands_on_fallback_and_is_replayed_once(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            before = await http.post(ENTRIES, json=entry("RUN-A", "100.00"))
            assert before.status_code == 201, before.text
            assert (before.json()["status"], before.json()["origin"]) == ("posted", "primary")
            await wait_for_mirror(app)

            await asyncio.to_thread(cluster.kill)
            killed_at = time.monotonic()
            during = await http.post(ENTRIES, json=entry("RUN-B", "50.00", debit="512000"))
            took = time.monotonic() - killed_at
            assert during.status_code == 201, during.text
            assert (during.json()["status"], during.json()["origin"]) == (
                "pending_replay",
                "fallback",
            )
            assert took < 3, f"the first write after the kill took {took:.1f} s"

            # Balances read during the outage: what PostgreSQL had, plus the fallback's writes.
            trial = await http.get(TRIAL_BALANCE)
            assert trial.status_code == 200, trial.text
            assert trial.json()["totals"] == {
                "debit": "150.00",
                "credit": "150.00",
                "balance": "0.00",
            }
            assert _balances(trial.json()) == {
                "411000": "100.00",
                "512000": "50.00",
                "706000": "-150.00",
            }
            listed = await http.get(ENTRIES)
            assert sorted(e["reference"] for e in listed.json()["items"]) == ["RUN-A", "RUN-B"]

            health = await healthz(http)
            assert health["ok"] is True
            assert (health["mode"], health["fallback"], health["database"]) == (
                "fallback",
                True,
                "sqlite",
            )
            assert health["fallback_since"] is not None
            assert health["replay_pending"] == 1
            assert health["mirror_lag_seconds"] is not None

            third = await http.post(ENTRIES, json=entry("RUN-C", "25.00"))
            assert third.status_code == 201, third.text
            assert (await healthz(http))["replay_pending"] == 2

            await asyncio.to_thread(cluster.start)
            health = await wait_for_primary_drained(http, within=10)
            assert health["fallback_since"] is None

            trial = await http.get(TRIAL_BALANCE)
            assert trial.json()["totals"]["debit"] == "175.00"
            replayed = await http.get(f"{ENTRIES}/{during.json()['id']}")
            assert replayed.json()["status"] == "posted"

    copies = await pg_entries(cluster, database)
    assert {ref: [(c["status"], c["origin"]) for c in rows] for ref, rows in copies.items()} == {
        "RUN-A": [("posted", "primary")],
        "RUN-B": [("posted", "fallback")],
        "RUN-C": [("posted", "fallback")],
    }
    assert str(copies["RUN-B"][0]["id"]) == during.json()["id"]


async def test_request_whose_connection_is_cut_midway_is_retried_on_fallback(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            warm = await http.post(ENTRIES, json=entry("CUT-0"))
            assert warm.status_code == 201, warm.text
            await wait_for_mirror(app)

            # Slow every round trip so that the cut lands inside the request's transaction.
            proxy.set_delay(0.03)
            request = asyncio.create_task(http.post(ENTRIES, json=entry("CUT-1")))
            await asyncio.sleep(0.25)
            assert not request.done(), "the request finished before the cut: it proves nothing"
            proxy.cut()
            response = await request
            assert response.status_code == 201, response.text
            assert response.json()["origin"] == "fallback"
            assert response.json()["status"] == "pending_replay"
            assert (await healthz(http))["mode"] == "fallback"

            proxy.restore()
            await wait_for_primary_drained(http, within=10)

    copies = await pg_entries(cluster, database)
    assert [(c["status"], c["origin"]) for c in copies["CUT-1"]] == [("posted", "fallback")]
    assert len(copies["CUT-0"]) == 1


async def test_every_request_in_flight_when_connections_are_cut_is_retried_on_fallback(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            warm = await http.post(ENTRIES, json=entry("MANY-0"))
            assert warm.status_code == 201, warm.text
            await wait_for_mirror(app)

            proxy.set_delay(0.03)
            references = [f"MANY-{n}" for n in range(1, 7)]
            writes = [asyncio.create_task(http.post(ENTRIES, json=entry(r))) for r in references]
            reads = [asyncio.create_task(http.get(TRIAL_BALANCE)) for _ in range(3)]
            await asyncio.sleep(0.25)
            proxy.cut()
            written = await asyncio.gather(*writes)
            read = await asyncio.gather(*reads)
            assert [r.status_code for r in written] == [201] * len(references), [
                r.text for r in written if r.status_code != 201
            ]
            assert [r.status_code for r in read] == [200] * len(reads), [
                r.text for r in read if r.status_code != 200
            ]

            proxy.restore()
            await wait_for_primary_drained(http, within=10)

    copies = await pg_entries(cluster, database)
    assert {ref: len(copies.get(ref, [])) for ref in references} == dict.fromkeys(references, 1)


async def test_restart_with_unreplayed_writes_keeps_serving_them_until_replayed(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    url = cluster.url(database, port=proxy.port)
    count = 30
    async with asyncio.timeout(25):
        async with app_factory(url) as app:
            key = await issue_key(app, "accountant")
            fallback_url = app.state.settings.fallback_database_url
            await wait_for_mirror(app)
            proxy.cut()
            async with client(app, key) as http:
                accepted = []
                for n in range(count):
                    response = await http.post(ENTRIES, json=entry(f"RESTART-{n:02d}"))
                    assert response.status_code == 201, response.text
                    accepted.append(response.json()["id"])
        # The service stops before PostgreSQL returns, and starts again once it has: its
        # journal still holds every write. PostgreSQL is slow, so the replay takes a while.
        proxy.restore()
        proxy.set_delay(0.02)
        async with (
            app_factory(url, fallback_database_url=fallback_url, replay_batch=1) as app,
            client(app, key) as http,
        ):
            health = await healthz(http)
            last = await http.get(f"{ENTRIES}/{accepted[-1]}")
            listed = await http.get(f"{ENTRIES}?limit=100")
            # Every acknowledged write stays readable across the restart ...
            assert last.status_code == 200, (last.text, health)
            assert len(listed.json()["items"]) == count, health
            # ... because the service is never on primary with writes not yet replayed
            # (reads would miss them, and new writes would overtake them).
            if health["replay_pending"]:
                assert (health["mode"], health["fallback"]) != ("primary", False), health
            proxy.set_delay(0)
            await wait_for_primary_drained(http, within=15)

    copies = await pg_entries(cluster, database)
    assert sorted(copies) == [f"RESTART-{n:02d}" for n in range(count)]
    assert {len(rows) for rows in copies.values()} == {1}


async def test_write_when_postgres_stops_answering_is_taken_by_fallback_within_seconds(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            assert (await http.post(ENTRIES, json=entry("HANG-0"))).status_code == 201
            await wait_for_mirror(app)

            proxy.blackhole()  # connections stay open; nothing comes back
            began = time.monotonic()
            response = await http.post(ENTRIES, json=entry("HANG-1"))
            took = time.monotonic() - began
            assert response.status_code == 201, response.text
            assert response.json()["origin"] == "fallback"
            # Bounded by the short connect and command timeouts (1 s and 2 s here) and a
            # reconnect, not by the drivers' 60 s defaults.
            assert took < 8, f"the write waited {took:.1f} s for a silent PostgreSQL"
            health = await healthz(http)
            assert (health["mode"], health["replay_pending"]) == ("fallback", 1)

            proxy.restore()
            await wait_for_primary_drained(http, within=10)

    copies = await pg_entries(cluster, database)
    assert [(c["status"], c["origin"]) for c in copies["HANG-1"]] == [("posted", "fallback")]


@pytest.mark.parametrize("fault", ["kill", "blackhole"])
async def test_probes_switch_an_idle_service_to_fallback_within_seconds(
    fault: str,
    cluster: PrivateCluster,
    database: str,
    proxy: LoopbackProxy,
    app_factory: AppFactory,
) -> None:
    async with (
        asyncio.timeout(25),
        app_factory(cluster.url(database, port=proxy.port)) as app,
        client(app) as http,
    ):
        assert (await healthz(http))["mode"] == "primary"
        began = time.monotonic()
        if fault == "kill":
            await asyncio.to_thread(cluster.kill)
        else:
            proxy.blackhole()

        # No request meets the fault: the background probes alone must notice it. An
        # operator sees it in the metrics (which never wait on the database).
        async def fallen_back() -> bool:
            return metric(await scrape(http), "grandlivre_fallback_active") == 1

        await wait_until(fallen_back, within=15, what="fallback without any traffic")
        detected = time.monotonic() - began
        health = await healthz(http)
        assert (health["ok"], health["fallback"], health["mode"]) == (True, True, "fallback")
        # Two failed probes, 0.2 s apart, each given 0.5 s: well within 3 s.
        assert detected < 3, f"detected after {detected:.1f} s"

        if fault == "kill":
            await asyncio.to_thread(cluster.start)
        else:
            proxy.restore()
        await wait_for_primary_drained(http, within=10)
