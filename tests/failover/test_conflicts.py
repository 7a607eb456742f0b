"""Replay conflicts: a fallback write PostgreSQL no longer accepts is shown, never dropped.

Two replicas share one PostgreSQL database, each with its own fallback file. Replica A loses
PostgreSQL (its proxy is cut) and accepts an entry on account 411000; meanwhile replica B, still
connected, deactivates 411000. When A's connection comes back its replay of that entry is a
conflict: visible in the API, healthz, metrics and logs, not blocking the return to primary,
and resolved only by an admin — discarded, or retried once the account is active again.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import assert_problem
from tests.failover.conftest import AppFactory
from tests.failover.support import (
    ENTRIES,
    client,
    entry,
    fallback_file,
    healthz,
    issue_key,
    log_events,
    pg_entries,
    sqlite_rows,
    wait_for_mirror,
    wait_until,
)
from tests.faults import LoopbackProxy
from tests.ops.support import metric, scrape
from tests.pgcluster import PrivateCluster

REPLAY = "/api/v1/ops/replay"
ACCOUNT = "/api/v1/ledgers/main/accounts/411000"


@dataclass
class Replica:
    """A running app and its clients: an admin's and an accountant's."""

    app: FastAPI
    admin: httpx.AsyncClient
    accountant: httpx.AsyncClient


@asynccontextmanager
async def replica(app_factory: AppFactory, url: str) -> AsyncIterator[Replica]:
    async with app_factory(url) as app:
        admin_key = await issue_key(app, "admin", "replay-admin")
        accountant_key = await issue_key(app, "accountant", "cabinet")
        async with client(app, admin_key) as admin, client(app, accountant_key) as accountant:
            yield Replica(app, admin, accountant)


async def _deactivate_411000(b: Replica) -> None:
    deactivated = await b.admin.patch(ACCOUNT, json={"active": False})
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["active"] is False


async def _conflict_on_a(
    a: Replica,
    b_url: str,
    app_factory: AppFactory,
    proxy: LoopbackProxy,
    reference: str,
    meanwhile: Callable[[Replica], Awaitable[None]] = _deactivate_411000,
) -> str:
    """Make A accept `reference` on 411000 while cut off, and B deactivate 411000 meanwhile
    (or do `meanwhile`).

    Returns the entry's id. B is closed again before A reconnects, so that the process-wide
    metrics the test reads are A's alone.
    """
    await wait_for_mirror(a.app)  # A's keys are in its fallback file
    proxy.cut()
    accepted = await a.accountant.post(ENTRIES, json=entry(reference))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["status"] == "pending_replay"
    async with replica(app_factory, b_url) as b:
        await meanwhile(b)
    proxy.restore()
    return str(accepted.json()["id"])


async def _wait_for_conflict(a: Replica) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        body = await healthz(a.admin)
        back = body["mode"] == "primary" and body["replay_pending"] == 0
        return body if back and body["replay_conflicts"] == 1 else None

    result: dict[str, Any] = await wait_until(
        check, within=10, what="A back on primary with one conflict"
    )
    return result


async def _wait_for_retry(a: Replica) -> dict[str, Any]:
    """Wait until a retried row is applied and nothing is pending; return the journal."""

    async def applied() -> dict[str, Any] | None:
        state: dict[str, Any] = (await a.admin.get(REPLAY)).json()
        return state if state["applied"] >= 1 and state["pending"] == 0 else None

    result: dict[str, Any] = await wait_until(applied, within=5, what="the retried write applied")
    return result


async def test_conflict_is_listed_and_discarding_it_removes_the_fallback_entry(
    cluster: PrivateCluster,
    database: str,
    proxy: LoopbackProxy,
    app_factory: AppFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with (
        asyncio.timeout(25),
        replica(app_factory, cluster.url(database, port=proxy.port)) as a,
    ):
        before = await scrape(a.admin)
        entry_id = await _conflict_on_a(a, cluster.url(database), app_factory, proxy, "CONF-1")

        # Conflicts do not block the return to primary.
        health = await _wait_for_conflict(a)
        assert (health["fallback"], health["database"]) == (False, "postgresql")

        state = await a.admin.get(REPLAY)
        assert state.status_code == 200, state.text
        body = state.json()
        assert (body["conflicts"], body["pending"], body["mode"]) == (1, 0, "primary")
        [row] = body["items"]
        assert row["status"] == "conflict"
        assert row["operation"] == "entry.post"
        assert row["conflict_type"] == "inactive-account"
        assert "411000" in row["reason"]

        assert_problem(await a.accountant.get(REPLAY), 403, "forbidden")
        assert_problem(
            await a.accountant.post(f"{REPLAY}/{row['id']}/discard", json={"reason": "no"}),
            403,
            "forbidden",
        )

        async def conflict_gauge() -> float | None:
            value = metric(await scrape(a.admin), "grandlivre_replay_conflicts")
            return value if value == 1 else None

        await wait_until(conflict_gauge, within=3, what="grandlivre_replay_conflicts 1")
        after = await scrape(a.admin)
        outcome = "grandlivre_replayed_operations_total"
        assert (
            metric(after, outcome, outcome="conflict") - metric(before, outcome, outcome="conflict")
            == 1
        )

        logged = log_events(capsys.readouterr().out, "replay_conflict")
        assert [(r["conflict_type"], r["journal_id"]) for r in logged] == [
            ("inactive-account", row["id"])
        ]
        assert "411000" in logged[0]["reason"]

        # The entry is still on A's fallback, waiting for a decision.
        path = fallback_file(a.app)
        assert [
            r["status"]
            for r in sqlite_rows(path, "SELECT status FROM entries WHERE reference = 'CONF-1'")
        ] == ["pending_replay"]

        discarded = await a.admin.post(
            f"{REPLAY}/{row['id']}/discard", json={"reason": "client cancelled the invoice"}
        )
        assert discarded.status_code == 200, discarded.text
        assert discarded.json()["status"] == "discarded"
        assert "client cancelled the invoice" in discarded.json()["resolution"]
        assert sqlite_rows(path, "SELECT id FROM entries WHERE reference = 'CONF-1'") == []
        assert sqlite_rows(
            path,
            "SELECT count(*) AS n FROM entry_lines l "
            "LEFT JOIN entries e ON e.id = l.entry_id WHERE e.id IS NULL",
        ) == [{"n": 0}]

        again = await a.admin.post(f"{REPLAY}/{row['id']}/discard", json={"reason": "twice"})
        assert_problem(again, 409, "replay-row-not-in-conflict")

        state = (await a.admin.get(REPLAY)).json()
        assert (state["conflicts"], state["discarded"], state["items"]) == (0, 1, [])
        assert (await healthz(a.admin))["replay_conflicts"] == 0
        assert (await a.accountant.get(f"{ENTRIES}/{entry_id}")).status_code == 404

        security = log_events(capsys.readouterr().out, "replay_conflict_discarded")
        assert len(security) == 1
        assert security[0]["journal_id"] == row["id"]
        assert security[0]["reason"] == "client cancelled the invoice"

    assert "CONF-1" not in await pg_entries(cluster, database)


async def test_conflict_retried_after_the_account_is_reactivated_is_applied_once(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(25),
        replica(app_factory, cluster.url(database, port=proxy.port)) as a,
    ):
        entry_id = await _conflict_on_a(a, cluster.url(database), app_factory, proxy, "CONF-2")
        await _wait_for_conflict(a)
        [row] = (await a.admin.get(REPLAY)).json()["items"]
        assert row["conflict_type"] == "inactive-account"

        async with replica(app_factory, cluster.url(database)) as b:
            reactivated = await b.admin.patch(ACCOUNT, json={"active": True})
            assert reactivated.status_code == 200, reactivated.text

        retried = await a.admin.post(
            f"{REPLAY}/{row['id']}/retry", json={"reason": "411000 reactivated"}
        )
        assert retried.status_code == 200, retried.text
        assert retried.json()["status"] in {"pending", "applied"}

        state = await _wait_for_retry(a)
        assert (state["conflicts"], state["items"]) == (0, [])
        health = await healthz(a.admin)
        assert (health["mode"], health["replay_conflicts"], health["replay_pending"]) == (
            "primary",
            0,
            0,
        )
        read = await a.accountant.get(f"{ENTRIES}/{entry_id}")
        assert read.status_code == 200, read.text
        assert (read.json()["status"], read.json()["origin"]) == ("posted", "fallback")

    copies = await pg_entries(cluster, database)
    assert [(c["status"], c["origin"]) for c in copies["CONF-2"]] == [("posted", "fallback")]
    assert str(copies["CONF-2"][0]["id"]) == entry_id


async def test_an_entry_replayed_into_a_period_locked_meanwhile_is_a_conflict(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async def lock_november(b: Replica) -> None:
        locked = await b.admin.post("/api/v1/ledgers/main/periods/2026-11/lock")
        assert locked.status_code == 200, locked.text

    async with (
        asyncio.timeout(25),
        replica(app_factory, cluster.url(database, port=proxy.port)) as a,
    ):
        entry_id = await _conflict_on_a(
            a, cluster.url(database), app_factory, proxy, "CONF-LOCK", meanwhile=lock_november
        )
        await _wait_for_conflict(a)
        [row] = (await a.admin.get(REPLAY)).json()["items"]
        assert (row["operation"], row["conflict_type"]) == ("entry.post", "period-locked")
        assert "2026-11" in row["reason"]
        # Back on primary, A refuses that month to new posts as well.
        refused = await a.accountant.post(ENTRIES, json=entry("CONF-LOCK-2"))
        assert_problem(refused, 409, "period-locked")

        unlocked = await a.admin.post("/api/v1/ledgers/main/periods/2026-11/unlock")
        assert unlocked.status_code == 200, unlocked.text
        retried = await a.admin.post(
            f"{REPLAY}/{row['id']}/retry", json={"reason": "2026-11 unlocked"}
        )
        assert retried.status_code == 200, retried.text

        await _wait_for_retry(a)
        read = (await a.accountant.get(f"{ENTRIES}/{entry_id}")).json()
        assert (read["status"], read["fiscal_year"]) == ("posted", 2026)

    copies = await pg_entries(cluster, database)
    assert [str(c["id"]) for c in copies["CONF-LOCK"]] == [entry_id]
    assert "CONF-LOCK-2" not in copies


async def test_a_validation_replayed_into_a_period_locked_meanwhile_is_a_conflict(
    cluster: PrivateCluster, database: str, proxy: LoopbackProxy, app_factory: AppFactory
) -> None:
    async with (
        asyncio.timeout(25),
        replica(app_factory, cluster.url(database, port=proxy.port)) as a,
    ):
        made = await a.accountant.post(ENTRIES, json=dict(entry("CONF-DRAFT"), status="draft"))
        assert made.status_code == 201, made.text
        entry_id = made.json()["id"]
        await wait_for_mirror(a.app)
        proxy.cut()
        validated = await a.accountant.post(f"{ENTRIES}/{entry_id}/validate")
        assert validated.status_code == 200, validated.text
        assert validated.json()["status"] == "pending_replay"
        async with replica(app_factory, cluster.url(database)) as b:
            locked = await b.admin.post("/api/v1/ledgers/main/periods/2026-11/lock")
            assert locked.status_code == 200, locked.text
        proxy.restore()

        await _wait_for_conflict(a)
        [row] = (await a.admin.get(REPLAY)).json()["items"]
        assert (row["operation"], row["conflict_type"]) == ("entry.validate", "period-locked")
        [copy] = await cluster.fetch(
            database, "SELECT status, number FROM entries WHERE id = $1", uuid.UUID(entry_id)
        )
        assert (copy["status"], copy["number"]) == ("draft", None)

        unlocked = await a.admin.post("/api/v1/ledgers/main/periods/2026-11/unlock")
        assert unlocked.status_code == 200, unlocked.text
        retried = await a.admin.post(
            f"{REPLAY}/{row['id']}/retry", json={"reason": "2026-11 unlocked"}
        )
        assert retried.status_code == 200, retried.text

        await _wait_for_retry(a)
    [copy] = await cluster.fetch(
        database, "SELECT status, validated_at FROM entries WHERE id = $1", uuid.UUID(entry_id)
    )
    assert copy["status"] == "posted"
    assert (
        copy["validated_at"].isoformat().replace("+00:00", "Z") == validated.json()["validated_at"]
    )
