"""Grand Livre benchmarks: throughput of posting, reporting, replaying and mirroring.

Every figure is printed next to a baseline measured in the same run on the same machine, so
the ratios mean something wherever they are run:

- posting entries, against the framework floor (GET /api/v1/healthz on the same app);
- the trial balance over N entries, against listing one page of entries;
- replaying N writes taken on the fallback, against posting them to PostgreSQL directly;
- mirroring N entries into SQLite, against the same N posted on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (a throwaway database is created and dropped).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy.engine import make_url
from tests.conftest import bearer, issue_key
from tests.faults import LoopbackProxy

from grandlivre.app import create_app
from grandlivre.config import Settings
from grandlivre.store import Mode
from grandlivre.store.mirror import sync_once

N = int(os.environ.get("BENCH_N", "400"))
PG = os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


def entry(i: int) -> dict[str, Any]:
    cents = 1000 + i
    amount = f"{cents // 100}.{cents % 100:02d}"
    return {
        "journal": "VE",
        "date": "2026-11-23",
        "label": f"Bench {i}",
        "reference": f"B-{i}",
        "lines": [
            {"account": "411000", "debit": amount},
            {"account": "706000", "credit": amount},
        ],
    }


async def rate(count: int, fn: Callable[[int], Awaitable[Any]]) -> float:
    """Run fn(0..count-1) sequentially; return operations per second."""
    started = time.perf_counter()
    for i in range(count):
        await fn(i)
    return count / (time.perf_counter() - started)


def settings(url: str, tmp: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "fallback_database_url": f"sqlite+aiosqlite:///{tmp / f'fb-{uuid.uuid4().hex[:6]}.db'}",
        "log_level": "ERROR",
        "rate_limit": "10000000/minute",
        "rate_limit_anonymous": "10000000/minute",
        "probe_interval": 0.2,
        "probe_timeout": 0.5,
        "probe_failures": 1,
        "probe_successes": 1,
    }
    values.update(extra)
    return Settings(**values)


async def posting(url: str, tmp: Path, label: str) -> dict[str, float]:
    app = create_app(settings(url, tmp))
    async with app.router.lifespan_context(app):
        key = await issue_key(app, "admin")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers=bearer(key)
        ) as http:
            base = "/api/v1/ledgers/main"

            async def health(_: int) -> None:
                (await http.get("/api/v1/healthz")).raise_for_status()

            async def post(i: int) -> None:
                (await http.post(f"{base}/entries", json=entry(i))).raise_for_status()

            async def trial_balance(_: int) -> None:
                (await http.get(f"{base}/trial-balance")).raise_for_status()

            async def page(_: int) -> None:
                (await http.get(f"{base}/entries", params={"limit": 50})).raise_for_status()

            floor = await rate(N, health)
            posts = await rate(N, post)
            pages = await rate(50, page)
            reports = await rate(50, trial_balance)
    print(
        f"{label:10} healthz {floor:8.0f}/s | post entry {posts:7.0f}/s "
        f"(x{posts / floor:.2f} of healthz) | trial balance over {N} entries {reports:6.0f}/s "
        f"(x{reports / pages:.2f} of one entry page)"
    )
    return {"post": posts}


async def replay_and_mirror(url: str, tmp: Path, primary_posts: float) -> None:
    parsed = make_url(url)
    proxy = LoopbackProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    try:
        via_proxy = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        app = create_app(settings(via_proxy, tmp))
        async with app.router.lifespan_context(app):
            store = app.state.store
            key = await issue_key(app, "admin")
            await asyncio.sleep(0.5)  # the key reaches the mirror
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://bench", headers=bearer(key)
            ) as http:
                proxy.cut()
                while store.mode == Mode.primary:
                    await asyncio.sleep(0.05)

                async def post(i: int) -> None:
                    response = await http.post("/api/v1/ledgers/main/entries", json=entry(i))
                    response.raise_for_status()

                fallback_posts = await rate(N, post)
                proxy.restore()
                while store.mode == Mode.fallback:
                    await asyncio.sleep(0.01)
                started = time.perf_counter()
                while store.mode != Mode.primary:
                    await asyncio.sleep(0.01)
                replay = N / (time.perf_counter() - started)
                await asyncio.sleep(0.5)
            started = time.perf_counter()
            result = await sync_once(store.engine, store.fallback, store.clock.now())
            idle_sync = time.perf_counter() - started
        print(
            f"fallback   post entry on the fallback {fallback_posts:7.0f}/s "
            f"(x{fallback_posts / primary_posts:.2f} of PostgreSQL) | replay {replay:7.0f} rows/s "
            f"(x{replay / primary_posts:.2f} of posting them to PostgreSQL)"
        )
        print(
            f"mirror     a caught-up round took {idle_sync * 1000:.1f} ms "
            f"({result.rows} rows to copy)"
        )
    finally:
        proxy.stop()

    # A fresh fallback file: one timed first copy of everything posted so far.
    fresh = create_app(settings(url, tmp))
    async with fresh.router.lifespan_context(fresh):
        store = fresh.state.store
        started = time.perf_counter()
        result = await sync_once(store.engine, store.fallback, store.clock.now())
        full = time.perf_counter() - started
    print(
        f"mirror     first copy of {result.rows} rows in {full:.2f} s = "
        f"{result.rows / full:.0f} rows/s (x{(result.rows / full) / primary_posts:.1f} of posting)"
    )


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gl-bench-"))
    dsn = make_url(PG).set(drivername="postgresql")
    name = f"gl_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn.render_as_string(False), timeout=5)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pg_url = make_url(PG).set(database=name).render_as_string(False)
    print(f"grandlivre bench: N={N}, PostgreSQL {make_url(PG).host}:{make_url(PG).port}")
    try:
        await posting(f"sqlite+aiosqlite:///{tmp / 'embedded.db'}", tmp, "embedded")
        primary = await posting(pg_url, tmp, "postgresql")
        await replay_and_mirror(pg_url, tmp, primary["post"])
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
