"""Real processes: a server killed in the middle of its replay, replayers racing, the CLI.

`grandlivre serve` and `grandlivre replay` run as real processes on a private cluster reached
through a loopback proxy, each in its own process group, which the test kills by its id.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    HEALTHZ,
    cli_env,
    client,
    entry,
    fallback_file,
    healthz,
    issue_key,
    kill_group,
    log_events,
    run_cli,
    sqlite_rows,
    start_cli,
    start_server,
    wait_for_mirror,
    wait_served,
    wait_until,
)
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster, free_port

pytestmark = pytest.mark.slow

CRASH_ENTRIES = 200


@asynccontextmanager
async def served(
    env: dict[str, str], cwd: Path, log: Path
) -> AsyncIterator[tuple[subprocess.Popen[bytes], httpx.AsyncClient]]:
    """Run `grandlivre serve` on a free port; SIGKILL its process group on the way out."""
    port = free_port()
    process = start_server(env, port, cwd, log)
    try:
        base_url = f"http://127.0.0.1:{port}"
        await wait_served(base_url, process, log)
        async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
            yield process, http
    finally:
        kill_group(process)


async def _count(conn: asyncpg.Connection, prefix: str) -> tuple[int, int, int]:
    """Entries whose reference starts with `prefix`: rows, distinct ids, distinct references."""
    row = await conn.fetchrow(
        "SELECT count(*) AS n, count(DISTINCT id) AS ids, count(DISTINCT reference) AS refs "
        "FROM entries WHERE reference LIKE $1",
        prefix + "%",
    )
    assert row is not None
    return int(row["n"]), int(row["ids"]), int(row["refs"])


async def _connect(cluster: PrivateCluster, database: str) -> asyncpg.Connection:
    return await asyncpg.connect(
        host="127.0.0.1", port=cluster.port, user="postgres", database=database, timeout=10
    )


async def _post_many(http: httpx.AsyncClient, key: str, prefix: str, count: int) -> None:
    gate = asyncio.Semaphore(8)

    async def one(n: int) -> None:
        async with gate:
            response = await http.post(
                ENTRIES,
                json=entry(f"{prefix}{n:04d}", f"{n + 1}.00"),
                headers={"Authorization": f"Bearer {key}"},
            )
        assert response.status_code == 201, response.text
        assert response.json()["status"] == "pending_replay", response.text

    await asyncio.gather(*(one(n) for n in range(count)))


async def test_server_killed_mid_replay_resumes_without_duplicates_after_restart(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, tmp_path: Path
) -> None:
    env = cli_env(
        cluster.url(database, port=proxy.port),
        f"sqlite+aiosqlite:///{tmp_path / 'fallback.db'}",
        REPLAY_BATCH="5",
    )
    created = await asyncio.to_thread(
        run_cli, "keys", "create", "--name", "t", "--role", "admin", env=env, cwd=tmp_path
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.splitlines()[-1]
    conn = await _connect(cluster, database)
    try:
        async with asyncio.timeout(28):
            async with served(env, tmp_path, tmp_path / "first.log") as (first, http):
                # The key reaches the fallback file before PostgreSQL goes away.
                async def key_mirrored() -> bool:
                    rows = sqlite_rows(tmp_path / "fallback.db", "SELECT name FROM api_keys")
                    return [r["name"] for r in rows] == ["t"]

                await wait_until(key_mirrored, within=5, what="the admin key in the mirror")
                proxy.cut()
                await _post_many(http, key, "CRASH-", CRASH_ENTRIES)
                assert (await healthz(http))["replay_pending"] == CRASH_ENTRIES

                # PostgreSQL comes back; kill the server once part of the journal is replayed.
                proxy.restore()

                async def replaying() -> int:
                    n = (await _count(conn, "CRASH-"))[0]
                    return n if 0 < n < CRASH_ENTRIES else 0

                replayed_at_kill = await wait_until(
                    replaying, within=10, what="a partial replay", every=0.005
                )
                kill_group(first, signal.SIGKILL)
            assert first.returncode == -signal.SIGKILL
            changes = log_events((tmp_path / "first.log").read_text(), "storage_mode_changed")
            assert [(e["from_mode"], e["to_mode"]) for e in changes] == [
                ("primary", "fallback"),
                ("fallback", "recovering"),
            ]

            async with served(env, tmp_path, tmp_path / "second.log") as (_, http):

                async def drained() -> bool:
                    body = (await http.get(HEALTHZ)).json()
                    return body["mode"] == "primary" and body["replay_pending"] == 0

                await wait_until(drained, within=10, what="the second server drained")
                listed = await http.get(
                    f"{ENTRIES}?limit=500", headers={"Authorization": f"Bearer {key}"}
                )
                assert listed.status_code == 200, listed.text
                assert len(listed.json()["items"]) == CRASH_ENTRIES
                assert {e["status"] for e in listed.json()["items"]} == {"posted"}

        rows, ids, references = await _count(conn, "CRASH-")
        assert (rows, ids, references) == (CRASH_ENTRIES, CRASH_ENTRIES, CRASH_ENTRIES), (
            f"killed after {replayed_at_kill} rows"
        )
        total = await conn.fetchval(
            "SELECT sum(l.amount) FROM entry_lines l JOIN entries e ON e.id = l.entry_id "
            "WHERE e.reference LIKE 'CRASH-%' AND l.amount > 0"
        )
        assert total == sum((n + 1) * 100 for n in range(CRASH_ENTRIES))
    finally:
        await conn.close()

    status = await asyncio.to_thread(run_cli, "replay", "--status", env=env, cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert "pending 0," in status.stdout, status.stdout
    assert "conflicts 0," in status.stdout, status.stdout


async def test_concurrent_replayers_apply_each_write_exactly_once(
    cluster: PrivateCluster,
    database: str,
    proxy: LoopbackProxy,
    app_factory: AppFactory,
    tmp_path: Path,
) -> None:
    url = cluster.url(database, port=proxy.port)
    count = 150
    async with asyncio.timeout(28):
        # An app takes writes on its fallback while PostgreSQL is cut off, then stops.
        async with app_factory(url, replay_batch=5) as app:
            key = await issue_key(app, "accountant")
            fallback_url = app.state.settings.fallback_database_url
            await wait_for_mirror(app)
            proxy.cut()
            async with client(app, key) as http:
                await _post_many(http, key, "RACE-", count)
                assert (await healthz(http))["replay_pending"] == count
        path = fallback_file(fallback_url)

        # PostgreSQL back, slowed a little so that the replayers overlap.
        proxy.restore()
        proxy.set_delay(0.002)
        env = cli_env(url, fallback_url, REPLAY_BATCH="5", LOG_LEVEL="WARNING")
        replayers = [start_cli("replay", env=env, cwd=tmp_path) for _ in range(2)]
        conn = await _connect(cluster, database)
        try:

            async def replay_started() -> bool:
                return (await _count(conn, "RACE-"))[0] > 0

            await wait_until(replay_started, within=15, what="the replayers at work", every=0.01)
            # ... and the app again, whose background replays the same journal meanwhile.
            async with (
                app_factory(url, fallback_database_url=fallback_url, replay_batch=5) as app,
                client(app) as http,
            ):

                async def journal_drained() -> bool:
                    body = await healthz(http)
                    return body["mode"] == "primary" and body["replay_pending"] == 0

                await wait_until(journal_drained, within=15, what="the journal drained")
            outputs = [await asyncio.to_thread(p.communicate, timeout=20) for p in replayers]
            assert await _count(conn, "RACE-") == (count, count, count)
        finally:
            await conn.close()
            for process in replayers:
                if process.poll() is None:
                    kill_group(process)
        for process, (out, err) in zip(replayers, outputs, strict=True):
            assert process.returncode == 0, err
            assert out.startswith("replayed:"), out

    statuses = {
        row["status"]: row["n"]
        for row in sqlite_rows(
            path,
            "SELECT status, count(*) AS n FROM replay_journal WHERE operation = 'entry.post' "
            "GROUP BY status",
        )
    }
    assert set(statuses) <= {"applied", "duplicate"}, statuses
    assert sum(statuses.values()) == count


async def _fallback_with_two_writes(url: str, app_factory: AppFactory, proxy: LoopbackProxy) -> str:
    """Let an app take CLI-1 and CLI-2 on its fallback, PostgreSQL cut off; return its file."""
    async with app_factory(url) as app:
        key = await issue_key(app, "accountant")
        fallback_url: str = app.state.settings.fallback_database_url
        await wait_for_mirror(app)
        proxy.cut()
        async with client(app, key) as http:
            for reference in ("CLI-1", "CLI-2"):
                assert (await http.post(ENTRIES, json=entry(reference))).status_code == 201
    return fallback_url


async def test_cli_status_and_replay_show_mode_lag_pending_and_conflicts(
    cluster: PrivateCluster,
    database: str,
    proxy: LoopbackProxy,
    app_factory: AppFactory,
    tmp_path: Path,
) -> None:
    url = cluster.url(database, port=proxy.port)
    async with asyncio.timeout(28):
        fallback_url = await _fallback_with_two_writes(url, app_factory, proxy)

        # While PostgreSQL is unreachable: fallback, two writes pending, a replay refused.
        env = cli_env(url, fallback_url, LOG_LEVEL="WARNING")
        status = await asyncio.to_thread(run_cli, "status", "--json", env=env, cwd=tmp_path)
        assert status.returncode == 0, status.stderr
        body = json.loads(status.stdout.splitlines()[-1])
        assert (body["mode"], body["fallback"], body["replay_pending"]) == ("fallback", True, 2)
        assert body["replay_conflicts"] == 0
        assert isinstance(body["mirror_lag_seconds"], int | float)
        refused = await asyncio.to_thread(run_cli, "replay", env=env, cwd=tmp_path)
        assert refused.returncode == 1
        assert "unreachable" in refused.stderr + refused.stdout

        # Meanwhile 411000 is deactivated on PostgreSQL: both writes will conflict.
        await cluster.fetch(database, "UPDATE accounts SET active = false WHERE number = '411000'")
        proxy.restore()
        drained = await asyncio.to_thread(run_cli, "replay", env=env, cwd=tmp_path)
        assert drained.returncode == 0, drained.stderr
        assert "conflict 2" in drained.stdout, drained.stdout

        listed = await asyncio.to_thread(run_cli, "replay", "--status", env=env, cwd=tmp_path)
        assert listed.returncode == 0, listed.stderr
        assert "pending 0, conflicts 2" in listed.stdout, listed.stdout
        assert listed.stdout.count("inactive-account") == 2, listed.stdout
        assert "411000" in listed.stdout

        status = await asyncio.to_thread(run_cli, "status", "--json", env=env, cwd=tmp_path)
        body = json.loads(status.stdout.splitlines()[-1])
        assert (body["mode"], body["fallback"]) == ("primary", False)
        assert (body["replay_pending"], body["replay_conflicts"]) == (0, 2)


async def test_cli_discards_one_conflict_and_retries_another(
    cluster: PrivateCluster,
    database: str,
    proxy: LoopbackProxy,
    app_factory: AppFactory,
    tmp_path: Path,
) -> None:
    url = cluster.url(database, port=proxy.port)
    async with asyncio.timeout(28):
        fallback_url = await _fallback_with_two_writes(url, app_factory, proxy)
        await cluster.fetch(database, "UPDATE accounts SET active = false WHERE number = '411000'")
        proxy.restore()
        async with app_factory(url, fallback_database_url=fallback_url) as app, client(app) as http:

            async def two_conflicts() -> bool:
                body = await healthz(http)
                return body["mode"] == "primary" and body["replay_conflicts"] == 2

            await wait_until(two_conflicts, within=10, what="two conflicts replayed")
        rows = sqlite_rows(
            fallback_file(fallback_url),
            "SELECT id FROM replay_journal WHERE status = 'conflict' ORDER BY id",
        )
        first, second = (str(row["id"]) for row in rows)

        env = cli_env(url, fallback_url, LOG_LEVEL="WARNING")
        discarded = await asyncio.to_thread(
            run_cli,
            "replay",
            "discard",
            first,
            "--reason",
            "duplicate invoice",
            env=env,
            cwd=tmp_path,
        )
        assert discarded.returncode == 0, discarded.stderr
        assert f"journal row {first}: discarded" in discarded.stdout
        [event] = log_events(discarded.stderr, "replay_conflict_discarded")
        assert event["reason"] == "duplicate invoice"

        await cluster.fetch(database, "UPDATE accounts SET active = true WHERE number = '411000'")
        retried = await asyncio.to_thread(
            run_cli, "replay", "retry", second, "--reason", "reactivated", env=env, cwd=tmp_path
        )
        assert retried.returncode == 0, retried.stderr
        drained = await asyncio.to_thread(run_cli, "replay", env=env, cwd=tmp_path)
        assert "applied 1" in drained.stdout, drained.stdout

        listed = await asyncio.to_thread(run_cli, "replay", "--status", env=env, cwd=tmp_path)
        assert "pending 0, conflicts 0, applied 1, duplicates 0, discarded 1" in listed.stdout

    references = [
        row["reference"] for row in await cluster.fetch(database, "SELECT reference FROM entries")
    ]
    assert references == ["CLI-2"]
    remaining = sqlite_rows(fallback_file(fallback_url), "SELECT reference FROM entries")
    assert [row["reference"] for row in remaining] == ["CLI-2"]
