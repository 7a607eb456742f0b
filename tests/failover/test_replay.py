"""Replay semantics: in order, idempotent, and the fallback copy kept right afterwards."""

from __future__ import annotations

import asyncio

from grandlivre.entry import sealer
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


async def test_drafts_edited_deleted_and_validated_on_the_fallback_replay_once(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    def drafted(reference: str) -> dict[str, object]:
        return dict(entry(reference), status="draft")

    async with (
        asyncio.timeout(30),
        app_factory(cluster.url(database, port=proxy.port)) as app,
    ):
        key = await issue_key(app, "admin")
        async with client(app, key) as http:
            ids = {}
            for reference in ("DR-EDIT", "DR-GONE", "DR-VALID", "DR-KEEP"):
                made = await http.post(ENTRIES, json=drafted(reference))
                assert made.status_code == 201, made.text
                ids[reference] = made.json()["id"]
            await wait_for_mirror(app)
            proxy.cut()

            lines = [
                {"account": "411000", "debit": "30.00"},
                {"account": "706000", "credit": "25.00"},
                {"account": "445710", "credit": "5.00"},
            ]
            edit = {"label": "Corrigée hors ligne", "lines": lines}
            patched = await http.patch(f"{ENTRIES}/{ids['DR-EDIT']}", json=edit)
            assert patched.status_code == 200, patched.text
            assert (await http.delete(f"{ENTRIES}/{ids['DR-GONE']}")).status_code == 204
            validated = await http.post(f"{ENTRIES}/{ids['DR-VALID']}/validate")
            assert validated.status_code == 200, validated.text
            assert validated.json()["status"] == "pending_replay"
            new = await http.post(ENTRIES, json=drafted("DR-NEW"))
            assert new.status_code == 201, new.text
            ids["DR-NEW"] = new.json()["id"]
            again = await http.patch(f"{ENTRIES}/{ids['DR-NEW']}", json={"reference": "DR-NEW-2"})
            assert again.status_code == 200, again.text
            both = await http.post(f"{ENTRIES}/validate", json={"date_to": "2026-11-30"})
            assert both.status_code == 200, both.text
            assert set(both.json()["validated"]) == {ids["DR-EDIT"], ids["DR-NEW"], ids["DR-KEEP"]}
            # Then one draft is made again: it stays a draft through the replay.
            kept = await http.post(ENTRIES, json=drafted("DR-LATE"))
            assert kept.status_code == 201, kept.text

            proxy.restore()
            health = await wait_for_primary_drained(http, within=10)
            assert health["replay_conflicts"] == 0
            await sealer.seal_now(app.state.store)
            verdict = (await http.get("/api/v1/ledgers/main/verify")).json()
            assert verdict == {"ok": True, "checked": 4, "first_broken_seq": None}
            await wait_for_mirror(app)

    rows = await cluster.fetch(
        database,
        "SELECT e.reference, e.label, e.status, e.validated_at, e.number, "
        "(SELECT count(*) FROM entry_lines l WHERE l.entry_id = e.id) AS lines "
        "FROM entries e WHERE e.reference LIKE 'DR-%' ORDER BY e.reference",
    )
    found = {r["reference"]: r for r in rows}
    assert set(found) == {"DR-EDIT", "DR-VALID", "DR-KEEP", "DR-NEW-2", "DR-LATE"}
    assert (found["DR-EDIT"]["label"], found["DR-EDIT"]["lines"]) == ("Corrigée hors ligne", 3)
    assert {r["reference"]: r["status"] for r in rows} == {
        "DR-EDIT": "posted",
        "DR-VALID": "posted",
        "DR-KEEP": "posted",
        "DR-NEW-2": "posted",
        "DR-LATE": "draft",
    }
    assert sorted(r["number"] for r in rows if r["status"] == "posted") == [1, 2, 3, 4]
    assert found["DR-LATE"]["number"] is None
    acknowledged = validated.json()["validated_at"]
    assert found["DR-VALID"]["validated_at"].isoformat().replace("+00:00", "Z") == acknowledged
    # The mirror follows: the deleted draft is gone from the fallback, the edit's lines are its.
    local = sqlite_rows(
        fallback_file(app),
        "SELECT e.reference, count(l.position) AS lines FROM entries e "
        "LEFT JOIN entry_lines l ON l.entry_id = e.id WHERE e.reference LIKE 'DR-%' "
        "GROUP BY e.reference ORDER BY e.reference",
    )
    assert {r["reference"]: r["lines"] for r in local} == {
        "DR-EDIT": 3,
        "DR-KEEP": 2,
        "DR-LATE": 2,
        "DR-NEW-2": 2,
        "DR-VALID": 2,
    }


async def test_the_mirror_follows_drafts_edited_and_deleted_on_postgresql(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(20), app_factory(cluster.url(database)) as app:
        key = await issue_key(app, "admin")
        async with client(app, key) as http:
            made = [
                (await http.post(ENTRIES, json=dict(entry(ref), status="draft"))).json()["id"]
                for ref in ("MD-1", "MD-2")
            ]
            await wait_for_mirror(app)
            shorter = [
                {"account": "411000", "debit": "9.00"},
                {"account": "706000", "credit": "9.00"},
            ]
            three = [*shorter[:1], {"account": "706000", "credit": "7.00"}]
            three.append({"account": "445710", "credit": "2.00"})
            assert (await http.patch(f"{ENTRIES}/{made[0]}", json={"lines": three})).is_success
            await wait_for_mirror(app)
            assert (await http.patch(f"{ENTRIES}/{made[0]}", json={"lines": shorter})).is_success
            assert (await http.delete(f"{ENTRIES}/{made[1]}")).status_code == 204
            await wait_for_mirror(app)
        local = sqlite_rows(
            fallback_file(app),
            "SELECT e.reference, l.amount FROM entries e JOIN entry_lines l "
            "ON l.entry_id = e.id WHERE e.reference LIKE 'MD-%' ORDER BY l.position",
        )
    assert [(r["reference"], r["amount"]) for r in local] == [("MD-1", 900), ("MD-1", -900)]


async def test_a_closing_waits_for_postgresql_and_is_not_journaled(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(25),
        app_factory(cluster.url(database, port=proxy.port)) as app,
    ):
        key = await issue_key(app, "admin")
        async with client(app, key) as http:
            await wait_for_mirror(app)
            proxy.cut()
            for action in ("close", "reopen"):
                refused = await http.post(f"/api/v1/ledgers/main/fiscal-years/2026/{action}")
                assert refused.status_code == 503, refused.text
                assert refused.json()["type"] == "primary-required"
            status = (await http.get("/api/v1/ops/replay")).json()
            assert status["pending"] == 0
            proxy.restore()
            await wait_for_primary_drained(http, within=10)
            plan = await http.post(
                "/api/v1/ledgers/main/fiscal-years/2026/close", params={"dry_run": "true"}
            )
            assert plan.status_code == 200, plan.text
