"""Shared fixtures: an app per backend (SQLite file, real PostgreSQL), a client, a fresh ledger.

Every test that takes `client` runs twice, once on SQLite and once on PostgreSQL
(TEST_DATABASE_URL, default postgresql+asyncpg://postgres@127.0.0.1:5432/test). Each session
gets its own throwaway PostgreSQL database; each test gets its own ledger, so tests do not see
each other's entries. Without a reachable PostgreSQL the PostgreSQL runs are skipped with one
line, except under CI=true where they fail.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from grandlivre.app import create_app
from grandlivre.auth import service as auth_service
from grandlivre.auth.service import Role
from grandlivre.config import Settings

DEFAULT_TEST_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
# The first day of the books of every test ledger (the seeded one too): a calendar fiscal year
# 2026, whatever the day the tests run on; tests that post elsewhere open the years they need.
FIRST_DAY = "2026-01-01"
BACKENDS = ["sqlite", "postgres"]


def test_database_url() -> str:
    """Return the PostgreSQL URL tests may create databases next to."""
    return os.environ.get("TEST_DATABASE_URL", DEFAULT_TEST_DATABASE_URL)


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


_pg_problem: list[str] = []


async def _postgres_reachable() -> str | None:
    """Return why PostgreSQL cannot be used, or None when it can (checked once)."""
    if _pg_problem:
        return _pg_problem[0] or None
    try:
        conn = await asyncpg.connect(_asyncpg_dsn(test_database_url()), timeout=3)
        await conn.close()
        _pg_problem.append("")
    except (OSError, asyncpg.PostgresError) as exc:
        _pg_problem.append(f"PostgreSQL at TEST_DATABASE_URL is unreachable: {exc}")
    return _pg_problem[0] or None


async def require_postgres() -> None:
    """Skip (or fail under CI=true) when PostgreSQL is not reachable."""
    problem = await _postgres_reachable()
    if problem is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(problem + " (CI=true: PostgreSQL tests may not skip)")
    pytest.skip(problem)


class PostgresDatabases:
    """Creates throwaway databases on the test server and drops them at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    async def create(self) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        name = f"gl_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(_asyncpg_dsn(test_database_url()), timeout=5)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self.created.append(name)
        return make_url(test_database_url()).set(database=name).render_as_string(False)

    async def drop_all(self) -> None:
        """Drop every database this object created."""
        if not self.created:
            return
        conn = await asyncpg.connect(_asyncpg_dsn(test_database_url()), timeout=5)
        try:
            for name in self.created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture(scope="session")
async def pg_databases() -> AsyncIterator[PostgresDatabases]:
    """Throwaway PostgreSQL databases for this test session."""
    databases = PostgresDatabases()
    yield databases
    await databases.drop_all()


@pytest.fixture(scope="session")
def tmp_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory for this session's SQLite files."""
    return tmp_path_factory.mktemp("grandlivre")


async def database_url_for(backend: str, tmp_root: Path, pg_databases: PostgresDatabases) -> str:
    """Return a fresh, empty database of the given backend."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_root / f'{uuid.uuid4().hex[:8]}.db'}"
    await require_postgres()
    return await pg_databases.create()


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a test app: quiet logs, the given database, limits out of the way.

    A PostgreSQL app gets its own SQLite fallback file next to nothing else's.
    """
    directory = tempfile.mkdtemp(prefix="gl-fallback-")
    # Gone when the test session ends, with every app that used it closed.
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    fallback = Path(directory) / "fallback.db"
    values: dict[str, Any] = {
        "database_url": database_url,
        "fallback_database_url": f"sqlite+aiosqlite:///{fallback}",
        "log_level": "WARNING",
        "rate_limit": "1000000/minute",
        "rate_limit_anonymous": "1000000/minute",
        "seed_fiscal_year_start": FIRST_DAY,
    }
    values.update(overrides)
    return Settings(**values)


async def issue_key(app: FastAPI, role: str, name: str = "test") -> str:
    """Create an API key of `role` in the app's database and return it."""
    store = app.state.store
    row_and_key = await store.write(
        lambda s: auth_service.issue_key(
            s, name, Role(role), ids=app.state.ids, clock=app.state.clock
        )
    )
    return str(row_and_key[1])


PROBLEM_JSON = "application/problem+json"


def assert_problem(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem of that status and type, as a client would read it.

    Status line and body agree, the content type is problem+json, title and detail are said,
    and the body's `request_id` is the response's `X-Request-ID`. Returns the body.
    """
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers
    body: dict[str, Any] = response.json()
    assert body["type"] == type_, body
    assert body["status"] == status, body
    assert body["title"], body
    assert body["detail"], body
    assert body["request_id"] == response.headers["x-request-id"], body
    return body


def bearer(key: str) -> dict[str, str]:
    """The Authorization header for a key."""
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend under test: `sqlite` or `postgres`."""
    return str(request.param)


@pytest.fixture(scope="session")
async def app(
    backend: str, tmp_root: Path, pg_databases: PostgresDatabases
) -> AsyncIterator[FastAPI]:
    """A migrated, seeded application on the backend, shared by the session's tests."""
    url = await database_url_for(backend, tmp_root, pg_databases)
    application = create_app(make_settings(url))
    async with application.router.lifespan_context(application):
        application.state.test_admin_key = await issue_key(application, "admin", "test-admin")
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, authenticated as an admin."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers=bearer(app.state.test_admin_key),
    ) as http:
        yield http


@pytest.fixture
async def anon_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the app in-process, without an API key."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def ledger(client: httpx.AsyncClient) -> str:
    """A fresh ledger with the PCG chart and default journals; returns its code."""
    code = f"t{uuid.uuid4().hex[:12]}"
    response = await client.post(
        "/api/v1/ledgers",
        json={"code": code, "name": f"Test {code}", "chart": "pcg", "fiscal_year_start": FIRST_DAY},
    )
    assert response.status_code == 201, response.text
    return code


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _saved_root() -> tuple[list[logging.Handler], int]:
    root = logging.getLogger()
    return list(root.handlers), root.level


def _restore_root(saved: tuple[list[logging.Handler], int]) -> None:
    root = logging.getLogger()
    root.handlers, level = saved
    root.setLevel(level)


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Put the root logger back after a test that built its own app (create_app replaces it).

    The app's handler writes to the stdout of the moment it was built, a capture stream that
    closes with the test; a late line from a driver thread must not land there.
    """
    saved = _saved_root()
    yield
    _restore_root(saved)


@pytest.fixture
def app_stdout(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    """Capture what an app built inside the test logs to stdout (see `restore_logging`)."""
    saved = _saved_root()
    yield capsys
    _restore_root(saved)


def pytest_report_header(config: pytest.Config) -> Iterator[str] | list[str]:
    return [f"TEST_DATABASE_URL: {make_url(test_database_url()).render_as_string(True)}"]
