"""On PostgreSQL the database itself keeps entries out of locked periods and closed years.

A trigger checks every entry inserted, whoever inserts it, and orders it against locks: a lock
waits for the postings under way (they commit before it) and every posting after it sees it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from grandlivre.app import create_app
from grandlivre.entry import sealer
from tests.conftest import (
    PostgresDatabases,
    assert_problem,
    bearer,
    database_url_for,
    issue_key,
    make_settings,
)
from tests.entry.helpers import design_entry, url


@pytest.fixture(scope="module")
async def pg_app(tmp_root: Path, pg_databases: PostgresDatabases) -> AsyncIterator[FastAPI]:
    url_ = await database_url_for("postgres", tmp_root, pg_databases)
    application = create_app(make_settings(url_))
    async with application.router.lifespan_context(application):
        application.state.test_admin_key = await issue_key(application, "admin")
        yield application


@pytest.fixture
async def http(pg_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=pg_app),
        base_url="http://testserver",
        headers=bearer(pg_app.state.test_admin_key),
    ) as client:
        yield client


INSERT = (
    "INSERT INTO entries (id, ledger_id, journal_id, entry_date, document_date, fiscal_year, "
    "label, status, origin, created_at) SELECT :id, l.id, j.id, :day, :day, :year, "
    "'Par derrière', 'posted', 'primary', :now "
    "FROM ledgers l JOIN journals j ON j.ledger_id = l.id AND j.code = 'OD' "
    "WHERE l.code = 'main'"
)


def row(day: date, year: int | None = None) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "day": day, "year": year, "now": datetime.now(UTC)}


async def test_the_database_refuses_an_entry_in_a_locked_period_or_outside_open_years(
    pg_app: FastAPI, http: httpx.AsyncClient
) -> None:
    locked = await http.post(url("main", "periods", "2026-05", "lock"))
    assert locked.status_code == 200, locked.text
    engine = pg_app.state.store.engine
    for values in (row(date(2026, 5, 10)), row(date(2027, 1, 1)), row(date(2026, 6, 1), 2027)):
        with pytest.raises(IntegrityError, match="outside an open and unlocked period"):
            async with engine.begin() as conn:
                await conn.execute(text(INSERT), values)
    # Inserted right, the trigger names the fiscal year itself.
    fine = row(date(2026, 6, 1))
    async with engine.begin() as conn:
        await conn.execute(text(INSERT), fine)
        stored = await conn.execute(
            text("SELECT fiscal_year FROM entries WHERE id = :id"), {"id": fine["id"]}
        )
        assert stored.scalar_one() == 2026
        await conn.execute(text("DELETE FROM entries WHERE id = :id"), {"id": fine["id"]})


async def test_a_lock_waits_for_the_posting_under_way_and_refuses_the_next(
    pg_app: FastAPI, http: httpx.AsyncClient
) -> None:
    engine = pg_app.state.store.engine
    under_way = row(date(2026, 7, 10))
    async with engine.connect() as conn:
        transaction = await conn.begin()
        await conn.execute(text(INSERT), under_way)

        lock = asyncio.create_task(http.post(url("main", "periods", "2026-07", "lock")))
        await asyncio.sleep(0.5)
        assert not lock.done(), "the lock did not wait for the posting under way"
        await transaction.commit()
        locked = await asyncio.wait_for(lock, 10)
    assert locked.status_code == 200, locked.text

    async with engine.connect() as conn:
        found = await conn.execute(
            text("SELECT count(*) FROM entries WHERE id = :id"), {"id": under_way["id"]}
        )
        assert found.scalar_one() == 1
    # Every posting after the lock sees it, in one statement or in a transaction alike.
    for _ in range(3):
        refused = await http.post(url("main", "entries"), json=design_entry(date="2026-07-11"))
        assert_problem(refused, 409, "period-locked")
    assert (
        await http.post(url("main", "entries"), json=design_entry(date="2026-08-01"))
    ).status_code == 201


async def test_the_database_refuses_to_validate_or_move_a_draft_into_a_locked_period(
    pg_app: FastAPI, http: httpx.AsyncClient
) -> None:
    drafted = await http.post(
        url("main", "entries"), json=design_entry(date="2026-09-10", status="draft")
    )
    assert drafted.status_code == 201, drafted.text
    entry_id = uuid.UUID(drafted.json()["id"])
    locked = await http.post(url("main", "periods", "2026-09", "lock"))
    assert locked.status_code == 200, locked.text
    engine = pg_app.state.store.engine
    behind_the_back = (
        "UPDATE entries SET status = 'posted', validated_at = now() WHERE id = :id",
        "UPDATE entries SET entry_date = '2026-09-11' WHERE id = :id",
    )
    for statement in behind_the_back:
        with pytest.raises(IntegrityError, match="outside an open and unlocked period"):
            async with engine.begin() as conn:
                await conn.execute(text(statement), {"id": entry_id})
    # Moved out of the locked month, it validates.
    async with engine.begin() as conn:
        await conn.execute(
            text("UPDATE entries SET entry_date = '2026-10-01' WHERE id = :id"), {"id": entry_id}
        )
        await conn.execute(
            text("UPDATE entries SET status = 'posted', validated_at = now() WHERE id = :id"),
            {"id": entry_id},
        )
    # A lock stops new entries, not the sealing of entries validated before it.
    assert (await http.post(url("main", "periods", "2026-10", "lock"))).status_code == 200
    await sealer.seal_now(pg_app.state.store)
    sealed = (await http.get(url("main", "entries", str(entry_id)))).json()
    assert sealed["status"] == "posted"
    assert sealed["seq"] is not None
    for month in ("2026-09", "2026-10"):
        assert (await http.post(url("main", "periods", month, "unlock"))).status_code == 200
