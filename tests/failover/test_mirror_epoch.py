"""The mirror copies a PostgreSQL whose transaction ids are past 2**32, as an old cluster's are.

A trigger stamps each row with its transaction's 64-bit id (epoch and xid), and the mirror
resumes a pass after the last (txid, id) it copied: that key, its ranges and the watermark
must hold ids beyond 32 bits, which a fresh test cluster never reaches (its ids start near
700). `pg_resetwal -e` gives a private cluster the epoch a long-lived one has.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from grandlivre.store import mirror
from tests.failover.conftest import AppFactory
from tests.failover.support import sqlite_rows
from tests.failover.test_mirror_progress import COPIED, _book, _engines
from tests.pgcluster import PrivateCluster, can_run_private_cluster

EPOCH = 3


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A private cluster whose transaction ids start in epoch EPOCH."""
    problem = can_run_private_cluster()
    if problem:
        pytest.skip(problem)
    private = PrivateCluster()
    private.set_xid_epoch(EPOCH)
    private.start()
    yield private
    private.destroy()


async def test_a_copy_in_chunks_resumes_past_transaction_ids_beyond_32_bits(
    cluster: PrivateCluster, database: str, app_factory: AppFactory, tmp_path: Path
) -> None:
    async with asyncio.timeout(60):
        async with app_factory(cluster.url(database)) as app:
            await _book(app, 300, "EPOCH")
        ((low,),) = [
            tuple(r) for r in await cluster.fetch(database, "SELECT min(txid) FROM entries")
        ]
        assert low > EPOCH << 32

        fallback = tmp_path / "replica.db"
        now = datetime(2026, 12, 4, tzinfo=UTC)
        async with _engines(cluster.url(database), fallback) as (primary, local):
            rounds = 0
            result = await mirror.sync_once(primary, local, now, chunk_rows=100)
            while not result.done:
                result = await mirror.sync_once(primary, local, now, chunk_rows=100)
                rounds += 1
                assert rounds < 100, "the copy does not end"
            assert result.first_copy_completed

        expected = dict((await cluster.fetch(database, COPIED))[0])
        assert dict(sqlite_rows(fallback, COPIED)[0]) == expected
        assert expected["entries"] == 300
