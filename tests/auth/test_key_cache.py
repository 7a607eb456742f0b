"""API keys cached in-process: a revocation on any process reaches every other one.

Two apps on one PostgreSQL database stand for two worker processes (or replicas): each has its
own store, cache and listening connection. What one revokes, the other refuses within the
time PostgreSQL takes to deliver a notification, without a restart and without a poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from grandlivre.app import create_app
from grandlivre.auth.service import hash_key
from tests.conftest import PostgresDatabases, assert_problem, bearer, issue_key, make_settings

LEDGER = "/api/v1/ledgers/main"


@asynccontextmanager
async def running(url: str) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(url, probe_interval=0.2))
    async with app.router.lifespan_context(app):
        yield app


def client(app: FastAPI, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t", headers=bearer(key)
    )


async def listening(app: FastAPI) -> None:
    deadline = time.monotonic() + 10
    while not app.state.store.signals.listening:
        assert time.monotonic() < deadline, "the change listener never connected"
        await asyncio.sleep(0.05)


async def test_a_key_revoked_on_one_process_is_refused_on_another(
    pg_databases: PostgresDatabases, tmp_path: Path
) -> None:
    url = await pg_databases.create()
    async with running(url) as first, running(url) as second:
        await listening(first)
        await listening(second)
        admin = await issue_key(first, "admin")
        viewer = await issue_key(first, "viewer")
        async with client(first, viewer) as reader, client(second, admin) as revoker:
            assert (await reader.get(LEDGER)).status_code == 200
            assert first.state.guard.keys.get(hash_key(viewer)) is not None  # cached there
            keys = (await revoker.get("/api/v1/keys")).json()["items"]
            (row,) = [k for k in keys if k["prefix"] == viewer[:10]]
            assert (await revoker.delete(f"/api/v1/keys/{row['id']}")).status_code == 200

            deadline = time.monotonic() + 2
            while (answer := await reader.get(LEDGER)).status_code == 200:
                assert time.monotonic() < deadline, "the revocation never reached the cache"
                await asyncio.sleep(0.01)
            assert_problem(answer, 401, "unauthorized")


async def test_a_key_revoked_here_is_refused_at_once(
    pg_databases: PostgresDatabases, tmp_path: Path
) -> None:
    url = await pg_databases.create()
    async with running(url) as app:
        await listening(app)
        admin = await issue_key(app, "admin")
        async with client(app, admin) as http:
            created = await http.post("/api/v1/keys", json={"name": "soon-revoked"})
            key, key_id = created.json()["key"], created.json()["id"]
            async with client(app, key) as holder:
                assert (await holder.get(LEDGER)).status_code == 200
                assert (await http.delete(f"/api/v1/keys/{key_id}")).status_code == 200
                assert_problem(await holder.get(LEDGER), 401, "unauthorized")


async def test_nothing_is_cached_while_the_listener_is_down(
    pg_databases: PostgresDatabases, tmp_path: Path
) -> None:
    url = await pg_databases.create()
    async with running(url) as app:
        await listening(app)
        key = await issue_key(app, "viewer")
        async with client(app, key) as http:
            assert (await http.get(LEDGER)).status_code == 200
            app.state.store.signals.lost()
            assert not app.state.store.signals.listening
            assert (
                app.state.guard.keys.get(__import__("hashlib").sha256(key.encode()).hexdigest())
                is None
            )
