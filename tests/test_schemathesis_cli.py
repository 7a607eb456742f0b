"""`schemathesis run --checks all` against a really served Grand Livre, on both backends.

The OpenAPI document is the contract clients are generated from: every check schemathesis has
(server errors, status codes, content types, headers, response schemas, schema-valid requests
accepted, schema-invalid ones refused, Allow on 405, missing headers, auth) must pass on every
operation, through every phase (examples, coverage, fuzzing, stateful). What JSON Schema
cannot state (the rules of the books) is allowed by schemathesis.toml and held to its problem
types by tests/schemathesis_hooks.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PostgresDatabases, database_url_for
from tests.ops.support import cli_env, create_key_with_cli, serving

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Generated requests per operation and phase, and the time the whole run may take.
MAX_EXAMPLES = 25
BUDGET_SECONDS = 240


@pytest.fixture
async def database_url(backend: str, tmp_path: Path, pg_databases: PostgresDatabases) -> str:
    """A fresh database of the backend for the served process."""
    return await database_url_for(backend, tmp_path, pg_databases)


@pytest.fixture
def served(database_url: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`grandlivre serve` on a free port (PostgreSQL with its SQLite fallback, or SQLite)."""
    key = create_key_with_cli(database_url, tmp_path, role="admin", name="schemathesis")
    log = tmp_path / "server.log"
    env = cli_env(
        database_url,
        FALLBACK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'fallback.db'}",
        RATE_LIMIT="1000000/minute",
        RATE_LIMIT_ANONYMOUS="1000000/minute",
        LOG_LEVEL="WARNING",
    )
    with serving(env, tmp_path, log) as (base_url, _):
        yield base_url, key


def test_every_operation_passes_every_schemathesis_check(
    served: tuple[str, str], tmp_path: Path
) -> None:
    base_url, key = served
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.schemathesis_hooks",
        "NO_COLOR": "1",
    }
    started = time.monotonic()
    result = subprocess.run(
        [
            str(SCHEMATHESIS),
            "--config-file",
            str(ROOT / "schemathesis.toml"),
            "run",
            f"{base_url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(MAX_EXAMPLES),
            "--header",
            f"Authorization: Bearer {key}",
            "--no-color",
            # To replay a run that failed elsewhere: the seed its report printed.
            *(
                ["--seed", os.environ["GL_SCHEMATHESIS_SEED"]]
                if "GL_SCHEMATHESIS_SEED" in os.environ
                else []
            ),
        ],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=BUDGET_SECONDS,
    )
    elapsed = time.monotonic() - started
    # From the first failure on (a failing body can be megabytes: the tail may hold none of it).
    failures = result.stdout.find("FAILURES")
    report = result.stdout[max(failures, 0) :][:20000] + result.stderr[-5000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout, report
    assert "failure" not in result.stdout.lower(), report
    assert elapsed < BUDGET_SECONDS, f"schemathesis took {elapsed:.0f} s"
