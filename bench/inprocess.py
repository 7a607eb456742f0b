"""`python -m bench inprocess`: posting, reporting, replaying and mirroring, measured in-process.

The app runs in this process behind httpx's ASGI transport (no sockets, no workers), so these
figures isolate Grand Livre's own code. Each is printed next to a baseline of the same run:

- posting entries, against the framework floor (GET /api/v1/healthz on the same app);
- the trial balance over N entries, against listing one page of entries;
- replaying N writes taken on the fallback, against posting them to PostgreSQL directly;
- mirroring N entries into SQLite, against the same N posted on PostgreSQL.

PostgreSQL is a private cluster (tests/pgcluster.py) unless TEST_DATABASE_URL names one, in
which a throwaway database is created and dropped. BENCH_N (400) sets N; BENCH_REPLAY_ROWS
(2,000) sets how many writes are taken on the fallback and replayed: a replay of a few hundred
rows is over in well under a second, which the probes' timings would blur.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from tests.conftest import bearer, issue_key
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster

from grandlivre.app import create_app
from grandlivre.config import Settings
from grandlivre.store import Mode
from grandlivre.store.mirror import sync_once

N = int(os.environ.get("BENCH_N", "400"))
REPLAY_ROWS = int(os.environ.get("BENCH_REPLAY_ROWS", "2000"))


@dataclass
class Figures:
    """Rows of the in-process table: what, the figure, and its comparison to a baseline."""

    rows: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, backend: str, what: str, figure: str, comparison: str = "") -> None:
        """Add one row."""
        self.rows.append((backend, what, figure, comparison))


def entry(i: int) -> dict[str, Any]:
    """A two-line entry whose amount differs with `i`."""
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
    """Settings for an in-process app on `url`, with limits that never throttle."""
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
        "seed_fiscal_year_start": "2026-01-01",  # the entry posted is dated 2026-11-23
    }
    values.update(extra)
    return Settings(**values)


async def posting(url: str, tmp: Path, label: str, figures: Figures) -> float:
    """Measure posting and reports on one backend; return the posting rate."""
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
    figures.add(label, "healthz", f"{floor:,.0f}/s")
    figures.add(label, "post entry", f"{posts:,.0f}/s", f"×{posts / floor:.2f} of healthz")
    figures.add(
        label,
        f"trial balance over {N} entries",
        f"{reports:,.0f}/s",
        f"×{reports / pages:.2f} of one entry page",
    )
    return posts


async def mirrored_since(store: Any, instant: datetime) -> None:
    """Wait (30 s at most) until the mirror has caught up with PostgreSQL after `instant`."""
    async with asyncio.timeout(30):
        while True:
            synced = await store.mirror_synced_at()
            if synced is not None and synced > instant:
                return
            await asyncio.sleep(0.05)


async def replay_and_mirror(url: str, tmp: Path, primary_posts: float, figures: Figures) -> None:
    """Measure posting on the fallback, replaying it, and the mirror's rounds."""
    parsed = make_url(url)
    proxy = LoopbackProxy(parsed.host or "127.0.0.1", parsed.port or 5432).start()
    try:
        via_proxy = parsed.set(host="127.0.0.1", port=proxy.port).render_as_string(False)
        app = create_app(settings(via_proxy, tmp))
        async with app.router.lifespan_context(app):
            store = app.state.store
            key = await issue_key(app, "admin")
            await mirrored_since(store, store.clock.now())  # the key, on the fallback too
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

                fallback_posts = await rate(REPLAY_ROWS, post)
                proxy.restore()
                while store.mode == Mode.fallback:
                    await asyncio.sleep(0.01)
                started = time.perf_counter()
                while store.mode != Mode.primary:
                    await asyncio.sleep(0.01)
                replay = REPLAY_ROWS / (time.perf_counter() - started)
                await asyncio.sleep(0.5)
            started = time.perf_counter()
            result = await sync_once(store.engine, store.fallback, store.clock.now())
            idle_sync = time.perf_counter() - started
        figures.add(
            "fallback",
            "post entry on the fallback",
            f"{fallback_posts:,.0f}/s",
            f"×{fallback_posts / primary_posts:.2f} of PostgreSQL",
        )
        figures.add(
            "fallback",
            f"replay of {REPLAY_ROWS} writes",
            f"{replay:,.0f} rows/s",
            f"×{replay / primary_posts:.2f} of posting to PostgreSQL, "
            f"×{replay / fallback_posts:.1f} of posting on the fallback",
        )
        figures.add(
            "mirror",
            "a caught-up round",
            f"{idle_sync * 1000:.1f} ms",
            f"{result.rows} rows to copy",
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
    figures.add(
        "mirror",
        f"first copy of {result.rows} rows",
        f"{result.rows / full:,.0f} rows/s ({full:.2f} s)",
        f"×{(result.rows / full) / primary_posts:.1f} of posting",
    )


async def measure(pg: str, tmp: Path) -> Figures:
    """Run every in-process figure against PostgreSQL `pg` (a throwaway database in it)."""
    figures = Figures()
    dsn = make_url(pg).set(drivername="postgresql")
    name = f"gl_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn.render_as_string(False), timeout=5)
    await admin.execute(f'CREATE DATABASE "{name}"')
    pg_url = make_url(pg).set(database=name).render_as_string(False)
    try:
        await posting(f"sqlite+aiosqlite:///{tmp / 'embedded.db'}", tmp, "embedded", figures)
        primary = await posting(pg_url, tmp, "postgresql", figures)
        await replay_and_mirror(pg_url, tmp, primary, figures)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    return figures


def render(figures: Figures, console: Console) -> None:
    """Print the in-process table."""
    table = Table(
        title=f"In-process figures (ASGI transport, one client, N={N})", title_justify="left"
    )
    for column in ("backend", "what", "figure", "against the baseline of the same run"):
        table.add_column(column, justify="right" if column == "figure" else "left")
    for row in figures.rows:
        table.add_row(*row)
    console.print(table)


def main(console: Console | None = None) -> None:
    """Measure on a private cluster (or TEST_DATABASE_URL) and print."""
    console = console or Console()
    with tempfile.TemporaryDirectory(prefix="gl-bench-inprocess-") as tmp_name:
        tmp = Path(tmp_name)
        given = os.environ.get("TEST_DATABASE_URL")
        if given:
            figures = asyncio.run(measure(given, tmp))
        else:
            cluster = PrivateCluster()
            try:
                cluster.start()
                figures = asyncio.run(measure(cluster.url(), tmp))
            finally:
                cluster.destroy()
    render(figures, console)


if __name__ == "__main__":
    main()
