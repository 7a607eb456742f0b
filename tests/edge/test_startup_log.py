"""`grandlivre serve` started while PostgreSQL is unreachable says so once, not twice.

The mode change is an alert signal: an operator counting `storage_mode_changed` lines must see
one change for one outage (issue 7, finding 7). A real served process, on a PostgreSQL port
nothing listens on.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from tests.ops.support import cli_env, events, free_port, log_records, serving

pytestmark = pytest.mark.slow

PROBE_INTERVAL = 0.2  # seconds: several probes run while the test watches


def test_serving_on_the_fallback_from_start_up_logs_one_mode_change(tmp_path: Path) -> None:
    nowhere = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/grandlivre"
    env = cli_env(
        nowhere,
        FALLBACK_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'fallback.db'}",
        LOG_LEVEL="INFO",
        PROBE_INTERVAL=str(PROBE_INTERVAL),
    )
    log = tmp_path / "server.log"
    with serving(env, tmp_path, log) as (base_url, _):
        health = httpx.get(f"{base_url}/api/v1/healthz", timeout=5).json()
        assert (health["mode"], health["fallback"]) == ("fallback", True), health
        time.sleep(10 * PROBE_INTERVAL)  # probes keep failing: that is no new change
        assert httpx.get(f"{base_url}/api/v1/healthz", timeout=5).json()["mode"] == "fallback"

    changes = events(log_records(log.read_text()), "storage_mode_changed")
    assert [(c["from_mode"], c["to_mode"]) for c in changes] == [("primary", "fallback")], changes
