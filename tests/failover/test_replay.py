"""Replay semantics: in order, idempotent, and the fallback copy kept right afterwards."""

from __future__ import annotations

import asyncio

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
    wait_for_mirror,
    wait_for_primary_drained,
    wait_until,
)
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster

ACCOUNTS = "/api/v1/ledgers/main/accounts"


async def test_writes_that_depend_on_each_other_replay_in_order(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(25),
        app_factory(cluster.url(database, port=proxy.port), replay_batch=2) as app,
    ):
        key = await issue_key(app, "accountant")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            opened = await http.post(ACCOUNTS, json={"number": "411200", "name": "Client Martin"})
            assert opened.status_code == 201, opened.text
            posted = await http.post(ENTRIES, json=entry("ORD-1", debit="411200"))
            assert posted.status_code == 201, posted.text
            reversed_ = await http.post(f"{ENTRIES}/{posted.json()['id']}/reverse", json={})
            assert reversed_.status_code == 201, reversed_.text
            assert reversed_.json()["status"] == "pending_replay"
            closed = await http.patch(f"{ACCOUNTS}/411200", json={"active": False})
            assert closed.status_code == 200, closed.text
            assert (await healthz(http))["replay_pending"] == 4

            proxy.restore()
            health = await wait_for_primary_drained(http, within=10)
            assert health["replay_conflicts"] == 0

            account = await http.get(f"{ACCOUNTS}/411200")
            assert (account.status_code, account.json()["active"]) == (200, False)
            original = (await http.get(f"{ENTRIES}/{posted.json()['id']}")).json()
            assert original["reversed_by"] == reversed_.json()["id"]
            assert original["status"] == "posted"
            balance = await http.get(f"{ACCOUNTS}/411200/balance")
            assert balance.json()["balance"] == "0.00"

    rows = await cluster.fetch(
        database, "SELECT id, reverses_id, origin FROM entries ORDER BY created_at, id"
    )
    assert [(str(r["id"]), r["origin"]) for r in rows] == [
        (posted.json()["id"], "fallback"),
        (reversed_.json()["id"], "fallback"),
    ]
    assert str(rows[1]["reverses_id"]) == posted.json()["id"]


async def test_idempotency_key_answers_the_same_across_an_outage(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            first = await http.post(
                ENTRIES, json=entry("IDEM-1"), headers={"Idempotency-Key": "k-before"}
            )
            assert first.status_code == 201, first.text
            await wait_for_mirror(app)

            await asyncio.to_thread(cluster.kill)
            # A client retrying a write PostgreSQL answered gets that answer from the fallback.
            retried = await http.post(
                ENTRIES, json=entry("IDEM-1"), headers={"Idempotency-Key": "k-before"}
            )
            assert retried.status_code == 201, retried.text
            assert retried.headers.get("idempotent-replayed") == "true"
            assert retried.json()["id"] == first.json()["id"]

            during = await http.post(
                ENTRIES, json=entry("IDEM-2"), headers={"Idempotency-Key": "k-during"}
            )
            assert during.status_code == 201, during.text
            assert during.json()["status"] == "pending_replay"
            again = await http.post(
                ENTRIES, json=entry("IDEM-2"), headers={"Idempotency-Key": "k-during"}
            )
            assert again.json()["id"] == during.json()["id"]
            assert again.headers.get("idempotent-replayed") == "true"
            # Only the one new write waits for replay: answers replayed from a key wrote nothing.
            assert (await healthz(http))["replay_pending"] == 1

            await asyncio.to_thread(cluster.start)
            health = await wait_for_primary_drained(http, within=10)
            assert health["replay_conflicts"] == 0
            # And the answer given on the fallback is the one PostgreSQL gives afterwards.
            later = await http.post(
                ENTRIES, json=entry("IDEM-2"), headers={"Idempotency-Key": "k-during"}
            )
            assert later.status_code == 201, later.text
            assert later.headers.get("idempotent-replayed") == "true"
            assert later.json()["id"] == during.json()["id"]

    copies = await pg_entries(cluster, database)
    assert {ref: len(rows) for ref, rows in copies.items()} == {"IDEM-1": 1, "IDEM-2": 1}


async def test_fallback_copy_of_replayed_writes_becomes_posted(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            assert (await http.post(ENTRIES, json=entry("COPY-1"))).status_code == 201
            proxy.restore()
            await wait_for_primary_drained(http, within=10)
            assert (await http.post(ENTRIES, json=entry("COPY-2"))).status_code == 201

        async def copied() -> list[tuple[str, str, str]] | None:
            rows = sqlite_rows(
                fallback_file(app),
                "SELECT reference, status, origin FROM entries ORDER BY reference",
            )
            found = [(r["reference"], r["status"], r["origin"]) for r in rows]
            return (
                found
                if found
                == [
                    ("COPY-1", "posted", "fallback"),
                    ("COPY-2", "posted", "primary"),
                ]
                else None
            )

        await wait_until(copied, within=3, what="the fallback copy as PostgreSQL has it")


async def test_mirror_keeps_syncing_after_an_account_was_opened_on_both_sides(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(25), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "admin")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            # A opens 411300 on its fallback and posts on it ...
            opened = await http.post(ACCOUNTS, json={"number": "411300", "name": "Client A"})
            assert opened.status_code == 201, opened.text
            assert (await http.post(ENTRIES, json=entry("BOTH-1", debit="411300"))).is_success
            # ... while another replica opens the same number on PostgreSQL, and closes it.
            async with app_factory(cluster.url(database)) as other:
                other_key = await issue_key(other, "admin")
                async with client(other, other_key) as b:
                    made = await b.post(ACCOUNTS, json={"number": "411300", "name": "Client B"})
                    assert made.status_code == 201, made.text
                    shut = await b.patch(f"{ACCOUNTS}/411300", json={"active": False})
                    assert shut.status_code == 200, shut.text

            proxy.restore()

            async def back() -> dict[str, object] | None:
                body = await healthz(http)
                return body if body["mode"] == "primary" and body["replay_pending"] == 0 else None

            health = await wait_until(back, within=10, what="back on primary")
            assert health["replay_conflicts"] == 2  # the account exists; the entry's is inactive

            # The mirror goes on copying what PostgreSQL commits.
            assert (await http.post(ENTRIES, json=entry("BOTH-2"))).status_code == 201

            async def mirrored() -> bool:
                rows = sqlite_rows(
                    fallback_file(app), "SELECT reference FROM entries WHERE reference = 'BOTH-2'"
                )
                return len(rows) == 1

            await wait_until(mirrored, within=3, what="an entry posted after the conflicts")
            lag = (await healthz(http))["mirror_lag_seconds"]
            assert lag is not None
            assert lag < 2, lag


async def test_one_conflict_in_a_batch_does_not_hold_back_the_others(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    references = [f"MIX-{n}" for n in range(1, 6)]
    async with (
        asyncio.timeout(25),
        app_factory(cluster.url(database, port=proxy.port), replay_batch=5) as app,
    ):
        key = await issue_key(app, "accountant")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            for reference in references:
                debit = "401000" if reference == "MIX-3" else "411000"
                written = await http.post(ENTRIES, json=entry(reference, debit=debit))
                assert written.status_code == 201, written.text
            # PostgreSQL closes 401000 meanwhile: MIX-3, in the middle of one batch, conflicts.
            await cluster.fetch(
                database, "UPDATE accounts SET active = false WHERE number = '401000'"
            )
            proxy.restore()

            async def settled() -> dict[str, object] | None:
                body = await healthz(http)
                done = body["mode"] == "primary" and body["replay_pending"] == 0
                return body if done else None

            health = await wait_until(settled, within=10, what="back on primary")
            assert health["replay_conflicts"] == 1

    copies = await pg_entries(cluster, database)
    assert sorted(copies) == ["MIX-1", "MIX-2", "MIX-4", "MIX-5"]
    assert {len(rows) for rows in copies.values()} == {1}
    journal = sqlite_rows(
        fallback_file(app),
        "SELECT status, conflict_type FROM replay_journal WHERE operation = 'entry.post' "
        "ORDER BY id",
    )
    assert [(row["status"], row["conflict_type"]) for row in journal] == [
        ("applied", None),
        ("applied", None),
        ("conflict", "inactive-account"),
        ("applied", None),
        ("applied", None),
    ]


async def test_years_opened_and_periods_locked_on_the_fallback_hold_there_and_replay(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(25),
        app_factory(cluster.url(database, port=proxy.port)) as app,
    ):
        key = await issue_key(app, "admin")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            opened = await http.post("/api/v1/ledgers/main/fiscal-years", json={"year": 2027})
            assert opened.status_code == 201, opened.text
            locked = await http.post("/api/v1/ledgers/main/periods/2026-11/lock")
            assert locked.status_code == 200, locked.text
            # The fallback itself holds to what it took: the month is shut, 2027 open.
            refused = await http.post(ENTRIES, json=entry("LOCKED-1"))
            assert refused.status_code == 409, refused.text
            assert refused.json()["type"] == "period-locked"
            later = dict(entry("Y2027-1"), date="2027-01-04")
            posted = await http.post(ENTRIES, json=later)
            assert posted.status_code == 201, posted.text
            assert (posted.json()["status"], posted.json()["fiscal_year"]) == (
                "pending_replay",
                2027,
            )

            proxy.restore()
            health = await wait_for_primary_drained(http, within=10)
            assert health["replay_conflicts"] == 0
            years = (await http.get("/api/v1/ledgers/main/fiscal-years")).json()["items"]
            assert [y["year"] for y in years] == [2026, 2027]
            november = [p for p in years[0]["periods"] if p["period"] == "2026-11"]
            assert [p["locked"] for p in november] == [True]

    rows = await cluster.fetch(
        database,
        "SELECT e.fiscal_year, e.status FROM entries e WHERE e.reference = 'Y2027-1'",
    )
    assert [(r["fiscal_year"], r["status"]) for r in rows] == [(2027, "posted")]
    assert "LOCKED-1" not in await pg_entries(cluster, database)
