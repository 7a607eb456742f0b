"""Schemathesis against the app's own OpenAPI schema, in-process, as an admin, on both backends.

Every operation gets a bounded number of generated requests (positive and negative); none may
answer 5xx, and every answer must be one the schema documents: status code, content type and
body. Schemathesis calls ASGI apps from its own event-loop thread, so each backend gets an app
of its own, started there (its lifespan runs in that loop) and torn down at the end of the
module; its admin key comes from `grandlivre keys create`, as an operator would get one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from grandlivre.app import create_app
from tests.conftest import PostgresDatabases, bearer, database_url_for, make_settings
from tests.ops.support import create_key_with_cli

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Generated requests per operation, and the time one request may take.
MAX_EXAMPLES = 20
DEADLINE = timedelta(seconds=5)
# What the seed guarantees to exist: the ledger and one of its accounts.
SEEDED = {"ledger": "main", "number": "512000"}
# The whole module, both backends, must finish within this budget.
BUDGET_SECONDS = 180.0


def _schema_of_a_fresh_app() -> dict[str, object]:
    """The OpenAPI document of the app, built without starting it (no database is touched)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        return create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi()
    finally:
        root.handlers, root.level = handlers, level


schema = schemathesis.openapi.from_dict(_schema_of_a_fresh_app())


@schema.hook
def flatmap_path_parameters(
    context: schemathesis.HookContext, path_parameters: dict[str, Any]
) -> st.SearchStrategy[dict[str, Any]]:
    """Aim about half the requests at the seeded ledger and a real account, past the 404s."""
    if not path_parameters:
        return st.just(path_parameters)
    real = dict(path_parameters)
    real.update({k: v for k, v in SEEDED.items() if k in real})
    return st.sampled_from([path_parameters, real])


@pytest.fixture(scope="module")
def budget() -> Iterator[None]:
    """Fail the module when it overruns its time budget."""
    started = time.monotonic()
    yield
    elapsed = time.monotonic() - started
    assert elapsed < BUDGET_SECONDS, f"schemathesis took {elapsed:.0f} s (budget {BUDGET_SECONDS})"


@pytest.fixture(scope="module")
async def fuzz_database_url(backend: str, tmp_root: Path, pg_databases: PostgresDatabases) -> str:
    """A fresh database of the backend for the fuzzed app."""
    return await database_url_for(backend, tmp_root, pg_databases)


@pytest.fixture(scope="module")
def fuzzed(fuzz_database_url: str, tmp_root: Path, budget: None) -> Iterator[tuple[FastAPI, str]]:
    """An app on its own database, and an admin key for it made with the CLI."""
    key = create_key_with_cli(fuzz_database_url, tmp_root, role="admin", name="schemathesis")
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    app = create_app(make_settings(fuzz_database_url))
    try:
        yield app, key
    finally:
        # Schemathesis started the app's lifespan in its own loop; end it there.
        asgi.shutdown_lifespans()
        root.handlers, root.level = handlers, level


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=DEADLINE,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(
    case: schemathesis.Case, fuzzed: tuple[FastAPI, str]
) -> None:
    app, key = fuzzed
    case.call_and_validate(app=app, headers=bearer(key), checks=CHECKS)
