"""Replay posts a run of journaled postings into one ledger as one posting, with each row's
rules, outcome and exactly-once guarantee kept as if it were replayed alone."""

from __future__ import annotations

import asyncio
import json

from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    fallback_file,
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
REPLAY = "/api/v1/ops/replay"


def _journal(app: object) -> list[dict[str, object]]:
    return sqlite_rows(
        fallback_file(app),  # type: ignore[arg-type]
        "SELECT id, op_id, operation, args, status, conflict_type FROM replay_journal ORDER BY id",
    )


async def test_account_creation_between_posts_naming_it_replays_in_order(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(30), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            assert (await http.post(ENTRIES, json=entry("GRP-1"))).status_code == 201
            opened = await http.post(ACCOUNTS, json={"number": "411200", "name": "Client Martin"})
            assert opened.status_code == 201, opened.text
            for n, headers in ((2, {"Idempotency-Key": "grp-2"}), (3, {})):
                posted = await http.post(
                    ENTRIES, json=entry(f"GRP-{n}", debit="411200"), headers=headers
                )
                assert posted.status_code == 201, posted.text
            batch = {"entries": [entry("GRP-4", debit="411200"), entry("GRP-5")]}
            posted = await http.post(
                f"{ENTRIES}/batch", json=batch, headers={"Idempotency-Key": "grp-batch"}
            )
            assert posted.status_code == 201, posted.text
            assert (await http.post(ENTRIES, json=entry("GRP-6", amount="5.00"))).status_code == 201

            proxy.restore()
            health = await wait_for_primary_drained(http, within=10)
            assert health["replay_conflicts"] == 0

            balance = await http.get(f"{ACCOUNTS}/411200/balance")
            assert balance.json()["balance"] == "360.00"

        assert [row["status"] for row in _journal(app)] == ["applied"] * 6
    found = await pg_entries(cluster, database)
    for n in range(1, 7):
        assert [(e["status"], e["origin"]) for e in found[f"GRP-{n}"]] == [("posted", "fallback")]
    keys = await cluster.fetch(
        database,
        "SELECT key, status_code FROM idempotency_keys WHERE key LIKE 'grp-%' ORDER BY key",
    )
    assert [(k["key"], k["status_code"]) for k in keys] == [("grp-2", 201), ("grp-batch", 201)]


async def test_a_post_that_breaks_a_rule_is_the_only_conflict_of_its_run(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(30), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            for n, debit in ((1, "411000"), (2, "512000"), (3, "411000")):
                posted = await http.post(ENTRIES, json=entry(f"RUN-{n}", debit=debit))
                assert posted.status_code == 201, posted.text
            # Meanwhile another replica deactivates 512000 on PostgreSQL.
            await cluster.fetch(
                database, "UPDATE accounts SET active = false WHERE number = '512000'"
            )
            proxy.restore()

            async def back() -> bool:
                body = (await http.get("/api/v1/healthz")).json()
                return bool(body["mode"] == "primary" and body["replay_pending"] == 0)

            await wait_until(back, within=10, what="back on primary, journal drained")

        rows = _journal(app)
        assert [(r["status"], r["conflict_type"]) for r in rows] == [
            ("applied", None),
            ("conflict", "inactive-account"),
            ("applied", None),
        ]
    found = await pg_entries(cluster, database)
    assert len(found["RUN-1"]) == len(found["RUN-3"]) == 1
    assert "RUN-2" not in found


async def test_an_entry_already_on_postgresql_and_an_op_already_replayed_are_not_doubled(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(30), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            ids = {}
            for n in range(1, 5):
                posted = await http.post(ENTRIES, json=entry(f"ONCE-{n}"))
                assert posted.status_code == 201, posted.text
                ids[n] = posted.json()["id"]
            rows = {json.loads(str(r["args"]))["entry_id"]: r for r in _journal(app)[-4:]}
            # ONCE-2: committed on PostgreSQL, but its client never heard back. ONCE-3:
            # replayed by another replica (its entry and its claim are there).
            for n in (2, 3):
                await cluster.fetch(
                    database,
                    "INSERT INTO entries (id, ledger_id, journal_id, entry_date, document_date,"
                    " label, reference, status, origin, created_at)"
                    " SELECT $1::uuid, l.id, j.id, DATE '2026-11-23', DATE '2026-11-23', 'copy',"
                    " $2, 'posted',"
                    " 'fallback', now() FROM ledgers l JOIN journals j ON j.ledger_id = l.id"
                    " WHERE l.code = 'main' AND j.code = 'VE'",
                    ids[n],
                    f"ONCE-{n}",
                )
            await cluster.fetch(
                database,
                "INSERT INTO replayed_ops (op_id, applied_at) VALUES ($1::uuid, now())",
                str(rows[ids[3]]["op_id"]),
            )
            proxy.restore()
            health = await wait_for_primary_drained(http, within=10)
            assert health["replay_conflicts"] == 0

        statuses = {json.loads(str(r["args"]))["entry_id"]: r["status"] for r in _journal(app)[-4:]}
        assert [statuses[ids[n]] for n in range(1, 5)] == [
            "applied",
            "duplicate",
            "duplicate",
            "applied",
        ]
    found = await pg_entries(cluster, database)
    for n in range(1, 5):
        assert len(found[f"ONCE-{n}"]) == 1, found[f"ONCE-{n}"]
    claimed = await cluster.fetch(
        database,
        "SELECT count(*) AS n FROM replayed_ops WHERE op_id = $1::uuid",
        str(rows[ids[3]]["op_id"]),
    )
    assert claimed[0]["n"] == 1
