"""A real `grandlivre serve --workers 2`: metrics summed over workers, keys kept out of logs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.mmap_dict import MmapedDict

from tests.conftest import bearer
from tests.ops.support import (
    assert_promtool_accepts,
    cli_env,
    create_key_with_cli,
    log_records,
    metric,
    serving,
    sqlite_url,
)

pytestmark = pytest.mark.slow

MIN_REQUESTS = 40
ROUTE = "/api/v1/ledgers"


@dataclass
class Server:
    """A served Grand Livre: its base URL, the key of an admin, its log file and temp dir."""

    base_url: str
    key: str
    log: Path
    tmp: Path

    def metrics_files(self) -> list[Path]:
        """The per-worker counter files of the metrics directory `serve` made for itself."""
        return sorted(self.tmp.glob("grandlivre-metrics-*/counter_*.db"))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    url = sqlite_url(tmp_path)
    key = create_key_with_cli(url, tmp_path, role="admin", name="served-admin")
    log = tmp_path / "server.log"
    # PROMETHEUS_MULTIPROC_DIR is unset (cli_env drops it), so `serve` makes its own directory;
    # TMPDIR puts it where the test can look at the workers' files.
    env = cli_env(url, TMPDIR=str(tmp_path), LOG_LEVEL="INFO")
    with serving(env, tmp_path, log, "--workers", "2") as (base_url, _):
        yield Server(base_url=base_url, key=key, log=log, tmp=tmp_path)


def requests_per_worker(server: Server) -> dict[str, float]:
    """How many requests to ROUTE each worker answered, read from its own metrics file."""
    counts: dict[str, float] = {}
    for path in server.metrics_files():
        total = 0.0
        for key, value, _timestamp, _pos in MmapedDict.read_all_values_from_file(str(path)):
            _family, name, labels, _help = json.loads(key)
            if name == "grandlivre_http_requests_total" and labels.get("route") == ROUTE:
                total += value
        counts[path.name] = total
    return counts


def get_on_a_fresh_connection(server: Server) -> int:
    with httpx.Client(base_url=server.base_url, headers=bearer(server.key), timeout=10) as http:
        return http.get(ROUTE).status_code


def test_metrics_are_the_sum_over_every_worker(served: Server) -> None:
    sent = 0
    with ThreadPoolExecutor(max_workers=8) as pool:
        # Keep sending until both workers have answered some (the kernel picks who accepts).
        while (
            sent < MIN_REQUESTS or len([n for n in requests_per_worker(served).values() if n]) < 2
        ):
            assert sent < 20 * MIN_REQUESTS, (
                f"one worker answered everything: {requests_per_worker(served)}"
            )
            statuses = list(
                pool.map(lambda _: get_on_a_fresh_connection(served), range(MIN_REQUESTS))
            )
            assert statuses == [200] * MIN_REQUESTS
            sent += MIN_REQUESTS

    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        summary = http.get("/metrics", headers={"Accept": "application/json"}).json()
        exposition = http.get("/metrics")

    per_worker = requests_per_worker(served)
    assert len(per_worker) == 2, per_worker
    assert all(per_worker.values()), per_worker
    assert summary["requests_total"] >= sent
    assert (
        metric(exposition.text, "grandlivre_http_requests_total", route=ROUTE, status="2xx") == sent
    )
    count = metric(exposition.text, "grandlivre_http_request_duration_seconds_count", route=ROUTE)
    assert count == sent
    assert_promtool_accepts(exposition.content)


def test_a_served_process_never_logs_a_key(served: Server) -> None:
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        created = http.post("/api/v1/keys", json={"name": "in-logs?"}, headers=bearer(served.key))
        assert created.status_code == 201
        key = created.json()["key"]
        assert http.get(ROUTE, headers=bearer(key)).status_code == 200
        assert http.get(ROUTE, headers=bearer(key + "x")).status_code == 401
        http.delete(f"/api/v1/keys/{created.json()['id']}", headers=bearer(served.key))
        assert http.get(ROUTE, headers=bearer(key)).status_code == 401
    time.sleep(0.3)  # let the workers flush their last lines

    logs = served.log.read_text()
    assert '"event": "request"' in logs
    for secret in (key, served.key):
        assert secret not in logs


def test_a_served_process_writes_json_lines_only(served: Server) -> None:
    with httpx.Client(base_url=served.base_url, timeout=10) as http:
        http.get(ROUTE, headers=bearer(served.key))
        http.get(ROUTE)
    time.sleep(0.3)

    records = log_records(served.log.read_text())  # fails on the first line that is not JSON
    access = [r for r in records if r.get("logger") == "grandlivre.access"]
    assert {r["status"] for r in access} >= {200, 401}
