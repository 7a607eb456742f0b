"""A Jepsen-style set test: nothing acknowledged is lost, nothing is written twice.

Concurrent clients post entries with unique references while a nemesis kills PostgreSQL
(`pg_ctl stop -m immediate`) and restarts it, and cuts every connection through a loopback
proxy at random moments, including in the middle of COMMITs. The clients never stop writing
while the service falls back and comes back, nor after the faults stop: the service must return
to primary while they write (the hand-over closes the fallback's gate for the journal's last
rows), and no write may fail after healing. When the journal has drained, PostgreSQL must hold
every acknowledged entry exactly once, no entry whose outcome the client never learned more
than once, nothing nobody asked for, and account balances equal to the sum of what it holds
(which, with every outcome known, is what was acknowledged).

Bounded in time and count; prints detection time, time to the first write on the fallback,
time back to primary and the replay rate.
"""

from __future__ import annotations

import asyncio
import io
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise

import httpx
import pytest

from grandlivre.app import create_app
from grandlivre.store import Mode
from tests.conftest import bearer, issue_key, make_settings
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster, can_run_private_cluster

pytestmark = pytest.mark.slow

RUN_SECONDS = 14.0
CLIENTS = 6
ACCOUNTS = ["411000", "401000", "512000", "530000", "706000", "607000"]


@dataclass
class History:
    """What the clients asked for and what they were told."""

    attempted: dict[str, dict[str, int]] = field(default_factory=dict)
    acknowledged: set[str] = field(default_factory=set)
    refused: set[str] = field(default_factory=set)
    unknown: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    # From the moment PostgreSQL is healed: what clients writing through the failback got.
    healed_at: float | None = None
    after_heal: Counter[str] = field(default_factory=Counter)


@dataclass
class Timeline:
    """When the store changed mode, as seen by a monitor polling it."""

    events: list[tuple[float, str]] = field(default_factory=list)
    first_fallback_write: float | None = None


def _entry(reference: str, rng: random.Random) -> tuple[dict[str, object], dict[str, int]]:
    debit_account, credit_account = rng.sample(ACCOUNTS, 2)
    cents = rng.randint(1, 500_000)
    amount = f"{cents // 100}.{cents % 100:02d}"
    body = {
        "journal": "OD",
        "date": "2026-11-23",
        "label": f"Jepsen {reference}",
        "reference": reference,
        "lines": [
            {"account": debit_account, "debit": amount},
            {"account": credit_account, "credit": amount},
        ],
    }
    return body, {debit_account: cents, credit_account: -cents}


async def _client(
    number: int,
    http: httpx.AsyncClient,
    history: History,
    timeline: Timeline,
    stop: asyncio.Event,
) -> None:
    rng = random.Random(number)
    sequence = 0
    while not stop.is_set():
        sequence += 1
        reference = f"J{number:02d}-{sequence:05d}"
        body, effect = _entry(reference, rng)
        history.attempted[reference] = effect
        try:
            response = await http.post("/api/v1/ledgers/main/entries", json=body, timeout=20)
        except Exception:  # the client never learned the outcome
            history.unknown.add(reference)
            if history.healed_at is not None:
                history.after_heal["unknown"] += 1
            continue
        history.statuses[response.status_code] += 1
        if history.healed_at is not None:
            history.after_heal[str(response.status_code)] += 1
        if response.status_code == 201:
            history.acknowledged.add(reference)
            if response.json()["origin"] == "fallback" and timeline.first_fallback_write is None:
                timeline.first_fallback_write = time.monotonic()
        else:
            history.refused.add(reference)
        await asyncio.sleep(rng.uniform(0, 0.01))


async def _nemesis(
    cluster: PrivateCluster, proxy: LoopbackProxy, stop: asyncio.Event, log: list[str]
) -> None:
    rng = random.Random(42)
    # The first fault is always a kill, so that every run measures a real outage.
    faults = ["kill", *(rng.choice(["kill", "cut", "cut-burst"]) for _ in range(20))]
    await asyncio.sleep(1.5)
    for fault in faults:
        if stop.is_set():
            return
        started = time.monotonic()
        if fault == "kill":
            await asyncio.to_thread(cluster.kill)
            await asyncio.sleep(rng.uniform(1.0, 2.5))
            await asyncio.to_thread(cluster.start)
        elif fault == "cut":
            proxy.cut()
            await asyncio.sleep(rng.uniform(0.3, 1.5))
            proxy.restore()
        else:  # connections cut again and again, landing in the middle of statements
            for _ in range(rng.randint(3, 8)):
                proxy.cut()
                await asyncio.sleep(rng.uniform(0.01, 0.05))
                proxy.restore()
                await asyncio.sleep(rng.uniform(0.02, 0.15))
        log.append(f"{fault} {time.monotonic() - started:.2f}s")
        await asyncio.sleep(rng.uniform(1.0, 2.5))


async def _monitor(store: object, timeline: Timeline, stop: asyncio.Event) -> None:
    last = None
    while not stop.is_set():
        mode = store.mode  # type: ignore[attr-defined]
        if mode != last:
            timeline.events.append((time.monotonic(), str(mode)))
            last = mode
        await asyncio.sleep(0.01)


async def _wait_drained(store: object) -> None:
    """Wait (bounded) for what was journaled in the last instants to be replayed."""
    deadline = time.monotonic() + 30
    while True:
        status = await store.replay_status()  # type: ignore[attr-defined]
        if store.mode == Mode.primary and status.pending == 0:  # type: ignore[attr-defined]
            return
        assert time.monotonic() < deadline, f"journal not drained: {status}"
        await asyncio.sleep(0.1)


def _task_stacks() -> str:
    """Where every task of the loop is waiting, for a failure message."""
    out = io.StringIO()
    for task in asyncio.all_tasks():
        out.write(f"--- {task.get_name()}\n")
        task.print_stack(limit=12, file=out)
    return out.getvalue()


async def test_acknowledged_entries_survive_kills_and_cuts_exactly_once() -> None:
    problem = can_run_private_cluster()
    if problem:
        pytest.skip(problem)
    cluster = PrivateCluster()
    proxy = LoopbackProxy("127.0.0.1", cluster.port).start()
    try:
        cluster.start()
        await cluster.create_database("books")
        settings = make_settings(
            cluster.url("books", port=proxy.port),
            probe_interval=0.2,
            probe_timeout=0.5,
            probe_failures=2,
            probe_successes=2,
            db_connect_timeout=1.0,
            db_command_timeout=2.0,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            store = app.state.store
            key = await issue_key(app, "accountant")
            history, timeline, faults = History(), Timeline(), []
            stop, faults_stop, monitor_stop = asyncio.Event(), asyncio.Event(), asyncio.Event()
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(
                transport=transport, base_url="http://jepsen", headers=bearer(key)
            ) as http:
                monitor = asyncio.create_task(_monitor(store, timeline, monitor_stop))
                clients = [
                    asyncio.create_task(_client(n, http, history, timeline, stop))
                    for n in range(CLIENTS)
                ]
                nemesis = asyncio.create_task(_nemesis(cluster, proxy, faults_stop, faults))
                kill_at = time.monotonic() + 1.5
                await asyncio.sleep(RUN_SECONDS)
                faults_stop.set()
                await nemesis
                # Heal: PostgreSQL up, proxy passing; wait for the journal to drain while the
                # clients go on writing: the failback must converge under load (issue 8).
                proxy.restore()
                if not cluster.is_running():
                    cluster.start()
                healed_at = time.monotonic()
                history.healed_at = healed_at
                deadline = healed_at + 60
                while True:
                    status = await store.replay_status()
                    if store.mode == Mode.primary and status.pending == 0:
                        break
                    if time.monotonic() > deadline:
                        stop.set()  # let the clients end, so that the app can stop
                        raise AssertionError(
                            f"not back to primary 60 s after healing: mode {store.mode}, "
                            f"{status}\n{_task_stacks()}"
                        )
                    await asyncio.sleep(0.1)
                back_at = time.monotonic()
                await asyncio.sleep(1.0)  # and a while on primary, still writing
                stop.set()
                await asyncio.gather(*clients)
                await _wait_drained(store)
                monitor_stop.set()
                await monitor
                journal = await store.replay_status()

        rows = await cluster.fetch(
            "books",
            "SELECT e.reference, a.number, l.amount FROM entries e "
            "JOIN entry_lines l ON l.entry_id = e.id JOIN accounts a ON a.id = l.account_id "
            "WHERE e.reference LIKE 'J%'",
        )
        ids = await cluster.fetch(
            "books", "SELECT reference, count(*) AS n FROM entries GROUP BY reference"
        )
    finally:
        proxy.stop()
        cluster.destroy()

    copies = {row["reference"]: row["n"] for row in ids if row["reference"]}
    present = {ref for ref in copies if ref.startswith("J")}
    balances: Counter[str] = Counter()
    for row in rows:
        balances[row["number"]] += row["amount"]
    expected: Counter[str] = Counter()
    for reference in present:
        for account, cents in history.attempted[reference].items():
            expected[account] += cents

    fallback_entries = [t for t, mode in timeline.events if mode == "fallback"]
    detection = fallback_entries[0] - kill_at if fallback_entries else float("nan")
    first_write = (
        timeline.first_fallback_write - kill_at if timeline.first_fallback_write else float("nan")
    )
    replayed = (journal.applied + journal.duplicates) if journal else 0
    print(
        f"\njepsen: {len(history.attempted)} attempted, {len(history.acknowledged)} acknowledged,"
        f" {len(history.refused)} refused, {len(history.unknown)} unknown;"
        f" statuses {dict(history.statuses)}; faults {faults}"
        f"\njepsen: modes {[(round(t - kill_at, 2), m) for t, m in timeline.events]}"
        f"\njepsen: detection {detection:.2f}s after the first kill, first fallback write"
        f" {first_write:.2f}s after it, back to primary {back_at - healed_at:.2f}s after healing;"
        f" journal applied {journal.applied if journal else 0}, duplicates"
        f" {journal.duplicates if journal else 0}, conflicts {journal.conflicts if journal else 0};"
        f" replay rate {replayed / max(back_at - healed_at, 0.001):.0f} rows/s (whole drain)"
    )

    assert history.acknowledged, "no write was acknowledged: the test proved nothing"
    # Through the failback, with clients writing the whole time, no write failed.
    assert history.after_heal["201"] > 0, "nobody wrote through the failback: it proved nothing"
    assert set(history.after_heal) == {"201"}, (
        f"writes failed during failback: {history.after_heal}"
    )
    assert fallback_entries, "the store never fell back: the nemesis proved nothing"
    assert timeline.events[-1][1] == "primary", "the store did not come back to primary"
    # It came back from recovering to primary at least once while the clients were writing.
    assert ("recovering", "primary") in pairwise(mode for _, mode in timeline.events), (
        timeline.events
    )
    # Every acknowledged entry is in PostgreSQL exactly once.
    missing = sorted(history.acknowledged - present)
    assert not missing, f"acknowledged but lost: {missing[:10]}"
    doubled = sorted(ref for ref, n in copies.items() if ref.startswith("J") and n > 1)
    assert not doubled, f"written more than once: {doubled[:10]}"
    # Nothing refused was written, nothing unknown more than once, nothing invented.
    assert not (history.refused & present), sorted(history.refused & present)[:10]
    assert present <= history.acknowledged | history.unknown
    # Balances in PostgreSQL are the sum of what it holds; with no unknown outcome, that is
    # exactly what was acknowledged.
    assert {k: v for k, v in balances.items() if v} == {k: v for k, v in expected.items() if v}
    if not history.unknown:
        assert present == history.acknowledged
    assert journal is not None
    assert journal.pending == 0
    assert journal.conflicts == 0
