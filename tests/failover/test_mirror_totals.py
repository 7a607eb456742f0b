"""The fallback keeps its own day totals: those of the sealed entries the mirror copied.

Reports on the fallback read them as reports on PostgreSQL read PostgreSQL's, so they must hold
exactly the entries sealed there, each once: as the mirror copies them, and as it drops a local
entry that gives way to PostgreSQL's.
"""

from __future__ import annotations

import asyncio
from typing import Any

from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    fallback_file,
    issue_key,
    sqlite_rows,
    wait_for_mirror,
)
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster

DAY_TOTALS = (
    "SELECT a.number, t.day, t.debit, t.credit, t.lines FROM account_day_totals t "
    "JOIN accounts a ON a.id = t.account_id JOIN ledgers l ON l.id = a.ledger_id "
    "WHERE l.code = 'main' ORDER BY a.number, t.day"
)


def _file_totals(app: Any) -> list[tuple[Any, ...]]:
    rows = sqlite_rows(fallback_file(app), DAY_TOTALS)
    return [(r["number"], str(r["day"]), r["debit"], r["credit"], r["lines"]) for r in rows]


async def _pg_totals(cluster: PrivateCluster, database: str) -> list[tuple[Any, ...]]:
    rows = await cluster.fetch(database, DAY_TOTALS)
    return [(r[0], str(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows]


async def test_the_mirror_folds_sealed_entries_into_the_fallback_totals_once(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(40), app_factory(cluster.url(database, port=proxy.port)) as app:
        key = await issue_key(app, "accountant")
        async with client(app, key) as http:
            for n, amount in enumerate(("100.00", "20.00", "3.00")):
                posted = await http.post(ENTRIES, json=entry(f"TOT-{n}", amount))
                assert posted.status_code == 201, posted.text

            async def sealed_and_mirrored() -> bool:
                expected = [
                    ("411000", "2026-11-23", 12300, 0, 3),
                    ("706000", "2026-11-23", 0, 12300, 3),
                ]
                return (
                    await _pg_totals(cluster, database) == expected
                    and _file_totals(app) == expected
                )

            deadline = asyncio.get_running_loop().time() + 20
            while not await sealed_and_mirrored():
                assert asyncio.get_running_loop().time() < deadline, (
                    await _pg_totals(cluster, database),
                    _file_totals(app),
                )
                await asyncio.sleep(0.1)

            # More rounds copy nothing new and fold nothing twice.
            await wait_for_mirror(app)
            await wait_for_mirror(app)
            assert _file_totals(app) == await _pg_totals(cluster, database)

            # On the fallback, the trial balance reads those totals plus the unsealed entries
            # written there, each counted once.
            proxy.cut()
            posted = await http.post(ENTRIES, json=entry("TOT-FALLBACK", "0.50"))
            assert posted.status_code == 201, posted.text
            assert posted.json()["status"] == "pending_replay"
            tb = await http.get("/api/v1/ledgers/main/trial-balance")
            assert tb.status_code == 200, tb.text
            by_account = {i["account"]: i for i in tb.json()["items"]}
            assert by_account["411000"]["debit"] == "123.50"
            assert by_account["706000"]["credit"] == "123.50"
            proxy.restore()
