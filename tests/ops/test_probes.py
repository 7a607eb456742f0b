"""Probes: healthz (liveness) and readyz (readiness), with and without what they check."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from grandlivre.db.migrate import upgrade_to_head
from grandlivre.store.engine import create_engine
from tests.conftest import make_settings
from tests.ops.support import client_for, running_app, sqlite_url


async def test_healthz_says_ok_mode_and_database(
    backend: str, anon_client: httpx.AsyncClient
) -> None:
    response = await anon_client.get("/api/v1/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["fallback"] is False
    assert body["mode"] == ("embedded" if backend == "sqlite" else "primary")
    assert body["database"] == ("sqlite" if backend == "sqlite" else "postgresql")


async def test_readyz_is_ready_with_the_seed(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["seed"] is True
    assert "checks" not in body


async def test_readyz_verbose_lists_each_check(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/readyz", params={"verbose": ""})

    assert response.status_code == 200
    checks = response.json()["checks"]
    assert {"database", "seed"} <= checks.keys()
    assert all(check["ok"] is True for check in checks.values())


async def test_readyz_is_not_ready_without_the_seed(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    settings = make_settings(url, migrate_on_start=False)
    engine = create_engine(url, settings)
    try:
        await upgrade_to_head(engine)  # the schema, but no seeded ledger
    finally:
        await engine.dispose()

    async with running_app(settings) as app, client_for(app) as http:
        ready = await http.get("/readyz")
        verbose = await http.get("/readyz?verbose")
        health = await http.get("/api/v1/healthz")

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["seed"] is False
    assert body["failed"] == ["seed"]
    assert verbose.status_code == 503
    assert verbose.json()["checks"]["seed"]["ok"] is False
    assert verbose.json()["checks"]["database"]["ok"] is True
    assert health.status_code == 200, "liveness does not depend on the seed"


async def test_readyz_is_not_ready_when_the_database_does_not_answer(tmp_path: Path) -> None:
    # An embedded database in a directory that does not exist: SQLite cannot even open it.
    url = f"sqlite+aiosqlite:///{tmp_path / 'missing-dir' / 'books.db'}"
    async with (
        running_app(make_settings(url, migrate_on_start=False)) as app,
        client_for(app) as http,
    ):
        ready = await http.get("/readyz?verbose")
        health = await http.get("/api/v1/healthz")

    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["database"] is False
    assert "database" in body["failed"]
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["database"]["error"]
    assert health.status_code == 200, health.text
    assert health.json()["ok"] is False
    assert health.json()["database_reachable"] is False


@pytest.mark.parametrize("path", ["/api/v1/healthz", "/readyz"])
async def test_probes_are_not_rate_limited(tmp_path: Path, path: str) -> None:
    settings = make_settings(sqlite_url(tmp_path), rate_limit_anonymous="2/minute")
    async with running_app(settings) as app, client_for(app) as http:
        statuses = {(await http.get(path)).status_code for _ in range(6)}
    assert statuses == {200}
