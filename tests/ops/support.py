"""Helpers for the operating-surface tests: dedicated apps, clients, logs, metrics, the CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from grandlivre.app import create_app
from grandlivre.config import Settings
from tests.conftest import bearer

PROBLEM_JSON = "application/problem+json"
GRANDLIVRE = Path(sys.executable).with_name("grandlivre")
REQUEST_ID_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"


def sqlite_url(directory: Path) -> str:
    """Return the URL of a fresh SQLite file in `directory`."""
    return f"sqlite+aiosqlite:///{directory / f'{uuid.uuid4().hex[:8]}.db'}"


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[FastAPI]:
    """Build an app and run its lifespan (migrations, seed, limiter) around the block."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


def client_for(
    app: FastAPI,
    key: str | None = None,
    *,
    peer: tuple[str, int] = ("127.0.0.1", 40000),
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    """An in-process client whose TCP peer is `peer`, authenticated with `key` if given."""
    transport = httpx.ASGITransport(app=app, client=peer)
    return httpx.AsyncClient(
        transport=transport,
        base_url="http://testserver",
        headers={**(bearer(key) if key else {}), **(headers or {})},
    )


def log_records(output: str) -> list[dict[str, Any]]:
    """Parse captured stdout as JSON lines, failing on any line that is not a JSON object."""
    records = []
    for line in output.splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            pytest.fail(f"a log line is not JSON: {line!r}")
        assert isinstance(record, dict), line
        records.append(record)
    return records


def app_records(output: str) -> list[dict[str, Any]]:
    """The log records written by Grand Livre itself (not by the test's HTTP client)."""
    return [r for r in log_records(output) if str(r.get("logger", "")).startswith("grandlivre")]


def access_lines(records: list[dict[str, Any]], request_id: str) -> list[dict[str, Any]]:
    """The access-log lines of one request."""
    return [
        r
        for r in records
        if r.get("logger") == "grandlivre.access" and r.get("request_id") == request_id
    ]


def events(records: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The records whose event is `name`."""
    return [r for r in records if r.get("event") == name]


def metric(exposition: str, name: str, **labels: str) -> float:
    """Sum the samples called `name` whose labels include `labels` (0 when there is none)."""
    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


async def scrape(http: httpx.AsyncClient) -> str:
    """Fetch the Prometheus exposition."""
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    return response.text


def promtool_path() -> str | None:
    """Locate promtool; skip when it is missing, except under CI=true where that fails."""
    path = shutil.which("promtool")
    if path is not None:
        return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("promtool is not installed (CI=true: install Debian's `prometheus` package)")
    pytest.skip("promtool is not installed (install Debian's `prometheus` package)")


def assert_promtool_accepts(exposition: bytes) -> None:
    """Run `promtool check metrics` on an exposition and require no complaint at all."""
    promtool = promtool_path()
    assert promtool is not None
    result = subprocess.run(
        [promtool, "check", "metrics"], input=exposition, capture_output=True, timeout=30
    )
    complaints = (result.stdout + result.stderr).decode()
    assert result.returncode == 0, complaints
    assert complaints.strip() == "", complaints


def cli_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment for a `grandlivre` subprocess on `database_url`, free of inherited settings."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "PROMETHEUS_MULTIPROC_DIR",
            "REDIS_URL",
            "RATE_LIMIT",
            "RATE_LIMIT_ANONYMOUS",
            "TRUSTED_PROXIES",
            "CORS_ORIGINS",
            "MIGRATE_ON_START",
            "WORKERS",
            "PORT",
            "HOST",
        }
    }
    env.update({"DATABASE_URL": database_url, "COLUMNS": "250", "NO_COLOR": "1"})
    env.update(extra)
    return env


def run_cli(
    *args: str, database_url: str, cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run `grandlivre <args>` as a real process (in `cwd`, so no stray .env is read)."""
    return subprocess.run(
        [str(GRANDLIVRE), *args],
        env=cli_env(database_url),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def create_key_with_cli(
    database_url: str, cwd: Path, role: str = "admin", name: str = "ops"
) -> str:
    """Create a key with `grandlivre keys create` and return the last line of its stdout."""
    result = run_cli(
        "keys", "create", "--name", name, "--role", role, database_url=database_url, cwd=cwd
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()[-1]


def wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Wait until a served process answers /readyz with 200; fail with its log if it dies."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    pytest.fail(f"the server was not ready within 60 s:\n{log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    """End the server and its workers: its whole process group, by the group's id."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@contextmanager
def serving(
    env: dict[str, str], cwd: Path, log: Path, *args: str, port: int | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """Run `grandlivre serve [args]` on a free port until the block ends; yield its base URL.

    Its stdout and stderr go to `log`; it runs in its own process group, which is ended (by
    the group's id) when the block ends, workers included.
    """
    port = port or free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(GRANDLIVRE), "serve", "--port", str(port), *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        base_url = f"http://127.0.0.1:{port}"
        wait_until_ready(base_url, process, log)
        yield base_url, process
    finally:
        stop(process)


def free_port() -> int:
    """Return a TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
