"""The mirror's first copy: chunked, resumable, reported, and never mistaken for the books.

A large PostgreSQL is copied into a new fallback file in chunks of MIRROR_CHUNK_ROWS rows, each
in its own SQLite transaction with its position, so a process that stops half-way goes on where
it stood. Until a first copy completes, the file is not the books: served from it, reads and
unknown keys meet 503 mirror-incomplete (never a 401, never numbers known to be short), writes
are journaled and replayed (docs/operations.md, "A mirror that never completed").
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine

from grandlivre.app import preparer
from grandlivre.clock import SystemClock
from grandlivre.store import mirror
from grandlivre.store.engine import create_engine
from tests.conftest import assert_problem, make_settings
from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    fallback_file,
    healthz,
    issue_key,
    sqlite_rows,
    wait_for_primary_drained,
    wait_until,
)
from tests.faults import LoopbackProxy
from tests.ops.support import metric, scrape
from tests.pgcluster import PrivateCluster

ENTRY_COUNT = 1200  # 3,600 rows of entries and lines: dozens of chunks of 100
COPIED = (
    "SELECT (SELECT count(*) FROM entries) AS entries, "
    "(SELECT count(*) FROM entry_lines) AS lines, "
    "(SELECT count(*) FROM api_keys) AS keys"
)


async def _book(app: Any, count: int, prefix: str) -> None:
    """Post `count` three-line entries through the batch endpoint."""
    key = await issue_key(app, "accountant", name="loader")
    async with client(app, key) as http:
        for start in range(0, count, 500):
            body = {
                "entries": [
                    {
                        **entry(f"{prefix}-{n}"),
                        "lines": [
                            {"account": "411000", "debit": "120.00"},
                            {"account": "445710", "credit": "20.00"},
                            {"account": "706000", "credit": "100.00"},
                        ],
                    }
                    for n in range(start, min(count, start + 500))
                ]
            }
            posted = await http.post(f"{ENTRIES}/batch", json=body)
            assert posted.status_code == 201, posted.text


@asynccontextmanager
async def _engines(pg_url: str, fallback: Path) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    """A PostgreSQL engine and a migrated, seeded fallback engine, as a process opens them."""
    fallback_url = f"sqlite+aiosqlite:///{fallback}"
    settings = make_settings(pg_url, fallback_database_url=fallback_url)
    primary = create_engine(pg_url, settings)
    local = create_engine(fallback_url, settings)
    await preparer(settings, SystemClock())(local)
    try:
        yield primary, local
    finally:
        await primary.dispose()
        await local.dispose()


async def _progress(local: AsyncEngine) -> mirror.Progress:
    async with local.connect() as conn:
        return mirror.progress_of(await mirror.read_state(conn))


async def test_a_first_copy_goes_in_bounded_chunks_and_resumes_after_a_restart(
    cluster: PrivateCluster, database: str, app_factory: AppFactory, tmp_path: Path
) -> None:
    async with asyncio.timeout(60):
        async with app_factory(cluster.url(database)) as app:
            await _book(app, ENTRY_COUNT, "BIG")
        expected = dict((await cluster.fetch(database, COPIED))[0])
        assert expected["entries"] == ENTRY_COUNT

        fallback = tmp_path / "new-replica.db"
        now = datetime(2026, 12, 3, tzinfo=UTC)
        seen: list[mirror.Progress] = []
        # A first process copies a few chunks of 100 rows, then stops.
        async with _engines(cluster.url(database), fallback) as (primary, local):
            for _ in range(5):
                result = await mirror.sync_once(primary, local, now, chunk_rows=100)
                assert not result.done
                assert result.rows <= 100 + 3  # an entry travels with its lines: one may overrun
                seen.append(await _progress(local))
        assert [p.complete for p in seen] == [False] * 5
        copied = [p.rows_copied for p in seen]
        assert copied == sorted(copied), copied
        assert copied[0] > 0, copied
        assert seen[-1].rows_estimate is not None
        assert seen[-1].rows_estimate > copied[-1]

        # A second process (new engines, same file) goes on from where the first stopped.
        rounds = 0
        async with _engines(cluster.url(database), fallback) as (primary, local):
            first = await mirror.sync_once(primary, local, now, chunk_rows=100)
            assert (await _progress(local)).rows_copied > copied[-1]
            result = first
            while not result.done:
                result = await mirror.sync_once(primary, local, now, chunk_rows=100)
                rounds += 1
                assert rounds < 200, "the copy does not end"
            assert result.first_copy_completed
            done = await _progress(local)
            assert done.complete
            assert done.complete_at == now
            # A pass that resumed copies each row once: the count is what PostgreSQL holds.
            assert done.rows_copied >= expected["entries"] + expected["lines"]
            assert done.rows_copied < 1.1 * (expected["entries"] + expected["lines"] + 1000)

        found = sqlite_rows(fallback, COPIED)[0]
        assert dict(found) == expected
        pg_refs = {
            r["reference"] for r in await cluster.fetch(database, "SELECT reference FROM entries")
        }
        file_refs = {r["reference"] for r in sqlite_rows(fallback, "SELECT reference FROM entries")}
        assert file_refs == pg_refs


async def test_healthz_and_metrics_follow_a_served_first_copy(
    cluster: PrivateCluster, database: str, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(60):
        async with app_factory(cluster.url(database)) as app:
            await _book(app, ENTRY_COUNT, "SRV")
        # A replica with a new fallback file, copying 50 rows per chunk.
        async with app_factory(cluster.url(database), mirror_chunk_rows=50) as app:
            async with client(app) as http:
                states: list[tuple[bool, int]] = []

                async def completed() -> dict[str, Any] | None:
                    health = await healthz(http)
                    states.append(
                        (health["mirror_complete"], health["mirror_progress"]["rows_copied"])
                    )
                    return health if health["mirror_complete"] else None

                health = await wait_until(completed, within=40, what="the first copy")
                assert health["mode"] == "primary"
                progress = health["mirror_progress"]
                assert progress["rows_copied"] >= ENTRY_COUNT * 4  # entries and their 3 lines
                assert progress["complete_at"] is not None
                # healthz showed the copy under way, its count growing, before it completed.
                under_way = [rows for complete, rows in states if not complete]
                assert under_way, states
                assert under_way == sorted(under_way), states
                assert any(0 < rows < progress["rows_copied"] for rows in under_way), states
                # Nobody was demoted by the copy: the service stayed primary throughout.
                assert app.state.store.mode.value == "primary"
                await wait_until(
                    lambda: _metric_is(http, "grandlivre_mirror_complete", 1.0),
                    within=5,
                    what="grandlivre_mirror_complete 1",
                )
                text = await scrape(http)
                assert metric(text, "grandlivre_mirror_first_copy_rows") >= ENTRY_COUNT * 4
                assert metric(text, "grandlivre_mirror_first_copy_rows_estimate") > 0
            rows = sqlite_rows(fallback_file(app), "SELECT count(*) AS n FROM entries")
            assert rows[0]["n"] == ENTRY_COUNT


async def _metric_is(http: Any, name: str, value: float) -> bool:
    return metric(await scrape(http), name) == value


async def test_a_fallback_that_never_completed_a_copy_refuses_what_it_cannot_answer(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with asyncio.timeout(60):
        # PostgreSQL holds books, an account and a key this replica never saw.
        async with app_factory(cluster.url(database)) as app:
            await _book(app, 10, "OLD")
            pg_key = await issue_key(app, "accountant", name="known-on-postgres")
            admin = await issue_key(app, "admin")
            async with client(app, admin) as http:
                made = await http.post(
                    "/api/v1/ledgers/main/accounts", json={"number": "411777", "name": "Client X"}
                )
                assert made.status_code == 201, made.text

        proxy.cut()  # the new replica starts while PostgreSQL cannot be reached
        async with app_factory(cluster.url(database, port=proxy.port)) as app:
            local_key = await issue_key(app, "accountant", name="made-on-the-fallback")
            async with client(app, pg_key) as http:
                health = await healthz(http)
                assert (health["mode"], health["mirror_complete"]) == ("fallback", False)
                assert metric(await scrape(http), "grandlivre_mirror_complete") == 0.0

                # A valid key the file does not hold: 503, never 401.
                refused = await http.get("/api/v1/ledgers/main/accounts")
                assert_problem(refused, 503, "mirror-incomplete")
                assert int(refused.headers["retry-after"]) >= 1

            async with client(app, local_key) as http:
                # Reads are refused, reports included: the numbers would be short.
                for path in (
                    "/api/v1/ledgers/main/accounts/411000",
                    "/api/v1/ledgers/main/trial-balance",
                    ENTRIES,
                ):
                    assert_problem(await http.get(path), 503, "mirror-incomplete")
                # A write naming what only PostgreSQL may hold: 503, not 422 unknown-account.
                unknown = await http.post(ENTRIES, json=entry("NEW-0", debit="411777"))
                assert_problem(unknown, 503, "mirror-incomplete")
                # A write the file can check is taken and journaled.
                posted = await http.post(ENTRIES, json=entry("NEW-1"))
                assert posted.status_code == 201, posted.text
                assert posted.json()["status"] == "pending_replay"

                proxy.restore()
                await wait_for_primary_drained(http, within=15)
                health = await wait_until(
                    lambda: _complete(http), within=10, what="the mirror's first copy"
                )
                assert health["mirror_progress"]["complete_at"] is not None

            # Back on PostgreSQL, everything answers; the key PostgreSQL knew works.
            async with client(app, pg_key) as http:
                accounts = await http.get("/api/v1/ledgers/main/accounts/411777")
                assert accounts.status_code == 200, accounts.text
                listed = await http.get(f"{ENTRIES}?limit=100")
                references = {e["reference"] for e in listed.json()["items"]}
                assert {"OLD-0", "OLD-9", "NEW-1"} <= references
                assert "NEW-0" not in references
            # And the file now is a faithful copy: what it holds equals PostgreSQL.
            rows = sqlite_rows(fallback_file(app), "SELECT count(*) AS n FROM entries")
            pg = await cluster.fetch(database, "SELECT count(*) AS n FROM entries")
            assert rows[0]["n"] == pg[0]["n"] == 11


async def _complete(http: Any) -> dict[str, Any] | None:
    health = await healthz(http)
    return health if health["mirror_complete"] else None
