"""The mirror: what PostgreSQL commits reaches the SQLite fallback within a few probe intervals.

Checked two ways: by reading the fallback file itself, and by killing PostgreSQL and reading
through the API — a client must find its books, its own API key and the state of the chart of
accounts as they were on PostgreSQL up to the last sync.
"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from grandlivre.entry import sealer
from tests.conftest import assert_problem
from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    fallback_file,
    healthz,
    issue_key,
    sqlite_rows,
    wait_for_mirror,
    wait_for_primary_drained,
    wait_until,
)
from tests.ops.support import metric, scrape
from tests.pgcluster import PrivateCluster

ACCOUNTS = "/api/v1/ledgers/main/accounts"
MIRROR_WAIT = 2.0  # seconds: ten probe intervals


def _accounts_in_file(app: Any, numbers: list[str]) -> dict[str, tuple[str, bool]]:
    marks = ",".join("?" * len(numbers))
    rows = sqlite_rows(
        fallback_file(app),
        "SELECT a.number, a.name, a.active FROM accounts a JOIN ledgers l ON l.id = a.ledger_id "
        f"WHERE l.code = 'main' AND a.number IN ({marks})",
        *numbers,
    )
    return {row["number"]: (row["name"], bool(row["active"])) for row in rows}


async def test_entries_accounts_and_keys_committed_on_postgres_reach_the_fallback_file(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database)) as app:
        admin = await issue_key(app, "admin")
        async with client(app, admin) as http:
            posted = await http.post(ENTRIES, json=entry("MIR-1"))
            assert posted.status_code == 201, posted.text
            created = await http.post(ACCOUNTS, json={"number": "411100", "name": "Client Dupont"})
            assert created.status_code == 201, created.text
            renamed = await http.patch(f"{ACCOUNTS}/411000", json={"name": "Clients - ventes"})
            assert renamed.status_code == 200, renamed.text
            deactivated = await http.patch(f"{ACCOUNTS}/401000", json={"active": False})
            assert deactivated.status_code == 200, deactivated.text
            temporary = await http.post(ACCOUNTS, json={"number": "471100", "name": "Attente"})
            assert temporary.status_code == 201, temporary.text
            deleted = await http.delete(f"{ACCOUNTS}/471100")
            assert deleted.status_code == 204, deleted.text
            issued = await http.post("/api/v1/keys", json={"name": "compta", "role": "viewer"})
            assert issued.status_code == 201, issued.text
            revoked_key = await http.post("/api/v1/keys", json={"name": "old", "role": "viewer"})
            revoked = await http.delete(f"/api/v1/keys/{revoked_key.json()['id']}")
            assert revoked.status_code == 200, revoked.text

            expected_accounts = {
                "411000": ("Clients - ventes", True),
                "411100": ("Client Dupont", True),
                "401000": (deactivated.json()["name"], False),
            }

            def mirrored() -> bool:
                path = fallback_file(app)
                entries = sqlite_rows(path, "SELECT reference, status, origin FROM entries")
                keys = {
                    row["name"]: row["revoked_at"]
                    for row in sqlite_rows(path, "SELECT name, revoked_at FROM api_keys")
                }
                return (
                    {(e["reference"], e["status"], e["origin"]) for e in entries}
                    == {("MIR-1", "posted", "primary")}
                    and _accounts_in_file(app, ["411000", "411100", "401000", "471100"])
                    == expected_accounts
                    and "compta" in keys
                    and keys["compta"] is None
                    and keys.get("old") is not None
                )

            async def check() -> bool:
                return mirrored()

            await wait_until(check, within=MIRROR_WAIT, what="PostgreSQL's changes in the mirror")

            health = await healthz(http)
            lag = health["mirror_lag_seconds"]
            assert isinstance(lag, int | float), health
            assert 0 <= lag < MIRROR_WAIT, health
            exposition = await scrape(http)
            assert "grandlivre_mirror_lag_seconds" in exposition
            assert 0 <= metric(exposition, "grandlivre_mirror_lag_seconds") < MIRROR_WAIT


async def test_client_keeps_its_key_and_sees_the_chart_as_it_was_through_an_outage(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database)) as app:
        admin = await issue_key(app, "admin")
        async with client(app, admin) as http:
            issued = await http.post("/api/v1/keys", json={"name": "cabinet", "role": "accountant"})
            assert issued.status_code == 201, issued.text
            gone = await http.post("/api/v1/keys", json={"name": "ex", "role": "accountant"})
            assert (await http.delete(f"/api/v1/keys/{gone.json()['id']}")).status_code == 200
            assert (await http.patch(f"{ACCOUNTS}/401000", json={"active": False})).is_success
            assert (await http.post(ENTRIES, json=entry("KEEP-1"))).status_code == 201
            await wait_for_mirror(app)

        await asyncio.to_thread(cluster.kill)
        async with client(app, issued.json()["key"]) as http:
            listed = await http.get(ENTRIES)
            assert listed.status_code == 200, listed.text
            assert [e["reference"] for e in listed.json()["items"]] == ["KEEP-1"]
            assert (await healthz(http))["mode"] == "fallback"

            written = await http.post(ENTRIES, json=entry("KEEP-2"))
            assert written.status_code == 201, written.text
            assert written.json()["origin"] == "fallback"

            inactive = await http.post(ENTRIES, json=entry("KEEP-3", debit="401000"))
            assert_problem(inactive, 422, "inactive-account")

        async with client(app, gone.json()["key"]) as http:
            assert_problem(await http.get(ENTRIES), 401, "unauthorized")

        await asyncio.to_thread(cluster.start)
        async with client(app, issued.json()["key"]) as http:
            await wait_for_primary_drained(http, within=10)
            listed = await http.get(ENTRIES)
            assert [e["reference"] for e in listed.json()["items"]] == ["KEEP-1", "KEEP-2"]


async def test_change_committed_late_by_an_older_transaction_still_reaches_the_mirror(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database)) as app:
        admin = await issue_key(app, "admin")
        other = await asyncpg.connect(
            host="127.0.0.1", port=cluster.port, user="postgres", database=database, timeout=10
        )
        try:
            # Another writer's transaction takes its id first and commits last.
            slow = other.transaction()
            await slow.start()
            await other.execute(
                "UPDATE accounts SET name = 'Renommé tard' WHERE number = '445710' "
                "AND ledger_id = (SELECT id FROM ledgers WHERE code = 'main')"
            )
            async with client(app, admin) as http:
                posted = await http.post(ENTRIES, json=entry("LATE-1"))
                assert posted.status_code == 201, posted.text
                await wait_for_mirror(app)
                await wait_for_mirror(app)
            await slow.commit()
        finally:
            await other.close()

        async def both_mirrored() -> bool:
            entries = sqlite_rows(fallback_file(app), "SELECT reference FROM entries")
            return [e["reference"] for e in entries] == ["LATE-1"] and _accounts_in_file(
                app, ["445710"]
            ) == {"445710": ("Renommé tard", True)}

        await wait_until(both_mirrored, within=MIRROR_WAIT, what="the late rename in the mirror")


async def test_the_mirror_follows_a_new_database_whose_sealed_entries_clash_with_old_ones(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    """A fallback file kept across a change of DATABASE_URL (a restored backup, a new server).

    Both databases seal their first entries as seq 1, 2, ... and number them 1, 2, ... in VE
    2026: the rows copied from the first database stand in the way of the second's, and the
    mirror must make way for them rather than fail every round.
    """
    other = await cluster.create_database(f"{database}_b")
    async with asyncio.timeout(25):
        async with app_factory(cluster.url(database)) as first:
            fallback_url = first.state.settings.fallback_database_url
            key = await issue_key(first, "accountant")
            async with client(first, key) as http:
                for n in range(3):
                    response = await http.post(ENTRIES, json=entry(f"OLD-{n}"))
                    assert response.status_code == 201, response.text
            await sealer.seal_now(first.state.store)
            await wait_for_mirror(first)
        async with app_factory(cluster.url(other), fallback_database_url=fallback_url) as second:
            key = await issue_key(second, "accountant")
            async with client(second, key) as http:
                for n in range(2):
                    response = await http.post(ENTRIES, json=entry(f"NEW-{n}"))
                    assert response.status_code == 201, response.text
            await sealer.seal_now(second.state.store)
            await wait_for_mirror(second)
            await wait_for_mirror(second)
            path = fallback_file(second)
            copied = sqlite_rows(
                path, "SELECT reference, seq, number FROM entries WHERE seq IS NOT NULL"
            )
    by_reference = {row["reference"]: (row["seq"], row["number"]) for row in copied}
    assert by_reference["NEW-0"] == (1, 1)
    assert by_reference["NEW-1"] == (2, 2)
    # The first database's entries 1 and 2 gave way; its third, unchallenged, remains.
    assert "OLD-0" not in by_reference
    assert "OLD-1" not in by_reference
