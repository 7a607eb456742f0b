"""Fixtures of the failover tests: a PostgreSQL cluster to kill, a proxy to cut, fast apps.

Each module gets its own private cluster (initdb + pg_ctl on a free loopback port), so a test
may kill it without touching the machine's shared server; each test gets its own database on
it, and its own loopback proxy in front of it. Apps probe every 0.2 s, give up on PostgreSQL
after two failed probes and come back after two good ones.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import pytest
from fastapi import FastAPI

from grandlivre.app import create_app
from tests.conftest import make_settings
from tests.faults import LoopbackProxy
from tests.pgcluster import PrivateCluster, can_run_private_cluster

# Fast timings: detection and recovery within about a second.
FAST: dict[str, Any] = {
    "probe_interval": 0.2,
    "probe_timeout": 0.5,
    "probe_failures": 2,
    "probe_successes": 2,
    "db_connect_timeout": 1.0,
    "db_command_timeout": 2.0,
}

AppFactory = Callable[..., AbstractAsyncContextManager[FastAPI]]


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    """A private PostgreSQL cluster this module's tests may kill and start again."""
    problem = can_run_private_cluster()
    if problem:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem} (CI=true: failover tests may not skip)")
        pytest.skip(problem)
    private = PrivateCluster()
    private.start()
    yield private
    private.destroy()


@pytest.fixture
async def database(cluster: PrivateCluster) -> AsyncIterator[str]:
    """A fresh database on the cluster; the cluster is left running whatever the test did."""
    if not cluster.is_running():
        cluster.start()
    name = f"books_{uuid.uuid4().hex[:10]}"
    await cluster.create_database(name)
    yield name
    if not cluster.is_running():
        cluster.start()


@pytest.fixture
def proxy(cluster: PrivateCluster) -> Iterator[LoopbackProxy]:
    """A loopback proxy in front of the cluster, passing traffic until told otherwise."""
    forwarder = LoopbackProxy("127.0.0.1", cluster.port).start()
    yield forwarder
    forwarder.stop()


@pytest.fixture
def app_factory() -> AppFactory:
    """Build and run apps with fast failover timings: `async with app_factory(url) as app`."""

    @asynccontextmanager
    async def running(database_url: str, **overrides: Any) -> AsyncIterator[FastAPI]:
        app = create_app(make_settings(database_url, **{**FAST, **overrides}))
        async with app.router.lifespan_context(app):
            yield app

    return running
