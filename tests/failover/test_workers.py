"""Several worker processes of one replica through an outage (`grandlivre serve --workers 2`).

The workers share one fallback file: each accepts writes on it while PostgreSQL is away, one
of them (the lease holder) replays the shared journal, and every worker returns to primary.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from tests.failover.support import (
    ENTRIES,
    HEALTHZ,
    cli_env,
    entry,
    kill_group,
    pg_entries,
    run_cli,
    start_server,
    wait_served,
    wait_until,
)
from tests.pgcluster import PrivateCluster, free_port


async def test_two_workers_fall_back_replay_once_and_return_to_primary(
    cluster: PrivateCluster, database: str, tmp_path: Path
) -> None:
    env = cli_env(cluster.url(database), f"sqlite+aiosqlite:///{tmp_path / 'fallback.db'}")
    created = await asyncio.to_thread(
        run_cli,
        "keys",
        "create",
        "--name",
        "workers",
        "--role",
        "accountant",
        env=env,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env["WORKERS"] = "2"
    server = start_server(env, port, tmp_path, log)
    acknowledged: set[str] = set()

    async def post(reference: str) -> str:
        # A new connection each time, so that both workers take requests.
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=15
        ) as http:
            response = await http.post(ENTRIES, json=entry(reference))
        assert response.status_code == 201, response.text
        acknowledged.add(reference)
        return str(response.json()["origin"])

    async def modes() -> set[str]:
        seen = set()
        for _ in range(12):
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                seen.add((await http.get(HEALTHZ)).json()["mode"])
        return seen

    try:
        async with asyncio.timeout(28):
            await wait_served(base, server, log)
            assert {await post(f"W-A{n}") for n in range(4)} == {"primary"}
            await asyncio.to_thread(cluster.kill)
            assert {await post(f"W-B{n}") for n in range(10)} == {"fallback"}
            await asyncio.to_thread(cluster.start)

            async def all_primary() -> bool:
                return await modes() == {"primary"}

            await wait_until(all_primary, within=15, what="both workers back on primary")
    finally:
        kill_group(server, signal.SIGTERM)

    copies = await pg_entries(cluster, database)
    assert set(copies) == acknowledged
    assert all(len(rows) == 1 for rows in copies.values())


async def test_two_workers_return_to_primary_while_clients_keep_writing(
    cluster: PrivateCluster, database: str, tmp_path: Path
) -> None:
    # Each worker has its own mode; the hand-over gate is the replica's (fallback_gate), so
    # the one that drains can hold the other's writes too, and both switch under writes.
    env = cli_env(cluster.url(database), f"sqlite+aiosqlite:///{tmp_path / 'fallback.db'}")
    created = await asyncio.to_thread(
        run_cli,
        "keys",
        "create",
        "--name",
        "writers",
        "--role",
        "accountant",
        env=env,
        cwd=tmp_path,
    )
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip().splitlines()[-1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env["WORKERS"] = "2"
    # The default probe interval: the journal grows for a second between ticks.
    env["PROBE_INTERVAL"] = "1.0"
    server = start_server(env, port, tmp_path, log)
    acknowledged: list[str] = []
    failed: list[str] = []
    writing = asyncio.Event()
    writing.set()

    async def writer(name: str) -> None:
        # A connection per writer, kept alive: writers as fast as the workers take them,
        # spread over both workers by the kernel.
        count = 0
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=20
        ) as http:
            while writing.is_set():
                count += 1
                reference = f"{name}-{count}"
                try:
                    response = await http.post(ENTRIES, json=entry(reference))
                except httpx.HTTPError as exc:
                    failed.append(f"{reference}: {type(exc).__name__} {exc}")
                    continue
                if response.status_code == 201:
                    acknowledged.append(reference)
                else:
                    failed.append(f"{reference}: {response.status_code} {response.text[:200]}")

    async def modes() -> set[str]:
        seen = set()
        for _ in range(12):
            async with httpx.AsyncClient(base_url=base, timeout=5) as http:
                seen.add((await http.get(HEALTHZ)).json()["mode"])
        return seen

    try:
        async with asyncio.timeout(60):
            await wait_served(base, server, log)
            writers = [asyncio.create_task(writer(f"L{n}")) for n in range(16)]
            await asyncio.sleep(1)
            await asyncio.to_thread(cluster.kill)
            await asyncio.sleep(2)
            await asyncio.to_thread(cluster.start)

            async def all_primary() -> bool:
                return await modes() == {"primary"}

            await wait_until(all_primary, within=20, what="both workers back on primary")
            await asyncio.sleep(1)  # still writing once back
            writing.clear()
            await asyncio.gather(*writers)
    finally:
        writing.clear()
        kill_group(server, signal.SIGTERM)

    assert failed == []
    copies = await pg_entries(cluster, database)
    assert set(copies) == set(acknowledged)
    assert all(len(rows) == 1 for rows in copies.values())
