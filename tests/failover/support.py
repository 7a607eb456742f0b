"""Helpers of the failover tests: clients, entries, waiting, PostgreSQL and SQLite look-ups."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy.engine import make_url

from grandlivre.auth.operations import IssueKey
from grandlivre.auth.service import Role, new_key
from tests.conftest import bearer
from tests.pgcluster import PrivateCluster

PROBLEM_JSON = "application/problem+json"
GRANDLIVRE = Path(sys.executable).with_name("grandlivre")
ENTRIES = "/api/v1/ledgers/main/entries"
HEALTHZ = "/api/v1/healthz"


def entry(
    reference: str, amount: str = "120.00", debit: str = "411000", credit: str = "706000"
) -> dict[str, Any]:
    """A balanced two-line sales entry of the seeded ledger."""
    return {
        "journal": "VE",
        "date": "2026-11-23",
        "label": f"Facture {reference}",
        "reference": reference,
        "lines": [
            {"account": debit, "debit": amount},
            {"account": credit, "credit": amount},
        ],
    }


async def issue_key(app: FastAPI, role: str, name: str = "failover") -> str:
    """Create an API key the way `grandlivre keys create` does, and return it.

    Through `store.execute`, so that a key created while the app is on its fallback is
    journaled and replayed to PostgreSQL like any other write.
    """
    key = new_key()
    await app.state.store.execute(
        IssueKey.of(name, Role(role), key, app.state.ids, app.state.clock)
    )
    return key


def client(app: FastAPI, key: str | None = None) -> httpx.AsyncClient:
    """An in-process HTTP client of `app`, authenticated with `key` if given."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://testserver",
        headers=bearer(key) if key else {},
        timeout=20,
    )


async def healthz(http: httpx.AsyncClient) -> dict[str, Any]:
    """GET the liveness probe, which must answer 200 whatever the database does."""
    response = await http.get(HEALTHZ)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def wait_until(
    check: Callable[[], Awaitable[Any]], *, within: float, what: str, every: float = 0.05
) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` after `within` s."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"not within {within} s: {what} (last seen: {last!r})")


async def wait_for_primary_drained(
    http: httpx.AsyncClient, *, within: float = 10
) -> dict[str, Any]:
    """Wait until healthz reports primary, not in fallback, nothing pending; return it."""

    async def check() -> dict[str, Any] | None:
        body = await healthz(http)
        done = body["mode"] == "primary" and not body["fallback"] and body["replay_pending"] == 0
        return body if done else None

    result: dict[str, Any] = await wait_until(
        check, within=within, what="back on primary with the journal drained"
    )
    return result


async def wait_for_mirror(app: FastAPI, *, within: float = 5) -> None:
    """Wait until the mirror has completed a round that started after now."""
    store = app.state.store
    since = app.state.clock.now().timestamp()

    async def check() -> bool:
        synced = await store.mirror_synced_at()
        return synced is not None and synced.timestamp() > since

    await wait_until(check, within=within, what="a mirror round")


async def pg_entries(cluster: PrivateCluster, database: str) -> dict[str, list[dict[str, Any]]]:
    """Every entry PostgreSQL holds, by reference: a list of its copies (id, status, origin)."""
    rows = await cluster.fetch(
        database, "SELECT id, reference, status, origin FROM entries ORDER BY reference, id"
    )
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["reference"], []).append(dict(row))
    return found


def fallback_file(app_or_url: FastAPI | str) -> Path:
    """The SQLite fallback file of an app (or of a FALLBACK_DATABASE_URL)."""
    url = (
        app_or_url
        if isinstance(app_or_url, str)
        else app_or_url.state.settings.fallback_database_url
    )
    database = make_url(url).database
    assert database, url
    return Path(database)


def sqlite_rows(path: Path, query: str, *args: Any) -> list[dict[str, Any]]:
    """Run a read-only query on a SQLite file (the fallback) and return its rows."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(row) for row in conn.execute(query, args)]


def log_events(output: str, name: str) -> list[dict[str, Any]]:
    """The JSON log records of event `name` in captured stdout (other lines are skipped)."""
    found = []
    for line in output.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and record.get("event") == name:
            found.append(record)
    return found


# -- real processes ---------------------------------------------------------------------------


def cli_env(database_url: str, fallback_url: str, **extra: str) -> dict[str, str]:
    """Environment of a `grandlivre` process: these databases, fast probes, nothing inherited."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV", "PYTHONPATH"}
    }
    env = {
        **inherited,
        "DATABASE_URL": database_url,
        "FALLBACK_DATABASE_URL": fallback_url,
        "PROBE_INTERVAL": "0.2",
        "PROBE_TIMEOUT": "0.5",
        "PROBE_FAILURES": "2",
        "PROBE_SUCCESSES": "2",
        "DB_CONNECT_TIMEOUT": "1",
        "DB_COMMAND_TIMEOUT": "2",
        "RATE_LIMIT": "1000000/minute",
        "RATE_LIMIT_ANONYMOUS": "1000000/minute",
        "LOG_LEVEL": "INFO",
        "COLUMNS": "250",
        "NO_COLOR": "1",
    }
    env.update(extra)
    return env


def run_cli(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 20
) -> subprocess.CompletedProcess[str]:
    """Run `grandlivre <args>` as a real process, in `cwd` so that no stray .env is read."""
    return subprocess.run(
        [str(GRANDLIVRE), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """Start `grandlivre <args>` in its own process group, without waiting for it."""
    return subprocess.Popen(
        [str(GRANDLIVRE), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def start_server(env: dict[str, str], port: int, cwd: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start `grandlivre serve` in its own process group, its stdout and stderr in `log`."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [str(GRANDLIVRE), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


async def wait_served(
    base_url: str, process: subprocess.Popen[bytes], log: Path, *, within: float = 20
) -> None:
    """Wait until a served process answers its liveness probe."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base_url, timeout=1) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                output = await asyncio.to_thread(log.read_text)
                raise AssertionError(f"the server exited with {process.returncode}:\n{output}")
            try:
                if (await http.get(HEALTHZ)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    output = await asyncio.to_thread(log.read_text)
    raise AssertionError(f"the server did not answer within {within} s:\n{output}")


def kill_group(process: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    """Send `sig` to the process group this test started, then reap its leader."""
    if process.poll() is not None:
        return  # already reaped: its id may belong to someone else by now
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
