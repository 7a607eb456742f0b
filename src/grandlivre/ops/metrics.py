"""Prometheus metrics, correct with several worker processes.

`grandlivre serve` points PROMETHEUS_MULTIPROC_DIR at a fresh directory before its workers
start; each worker then writes its samples there and `/metrics` sums them, so the figures are
those of the whole server, not of the worker that happened to answer.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import structlog
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

import grandlivre

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
log = structlog.get_logger("grandlivre.metrics")

HTTP_REQUESTS = Counter(
    "grandlivre_http_requests",
    "HTTP requests answered, by route template, method and status class.",
    ["route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "grandlivre_http_request_duration_seconds",
    "Time from request received to response sent, by route template and method.",
    ["route", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RATE_LIMITED = Counter(
    "grandlivre_rate_limited_requests",
    "Requests refused with 429, by what they were counted against (key or ip).",
    ["scope"],
)
AUTH_FAILURES = Counter(
    "grandlivre_auth_failures",
    "Requests refused for authentication (401) or authorization (403), by reason.",
    ["reason"],
)
SECURITY_EVENTS = Counter(
    "grandlivre_security_events",
    "Security events logged, by OWASP vocabulary name.",
    ["event"],
)
DATABASE_MODE = Gauge(
    "grandlivre_database_mode",
    "1 for the storage mode the service is in (embedded, primary, fallback, recovering).",
    ["mode"],
    multiprocess_mode="livemax",
)
RATE_LIMIT_SHARED = Gauge(
    "grandlivre_rate_limit_shared",
    "1 when rate limits are shared through Redis, 0 when counted per process.",
    multiprocess_mode="livemin",
)
FALLBACK_ACTIVE = Gauge(
    "grandlivre_fallback_active",
    "1 while writes go to the SQLite fallback (modes fallback and recovering).",
    multiprocess_mode="livemax",
)
MODE_TRANSITIONS = Counter(
    "grandlivre_storage_transitions",
    "Storage mode changes, by the mode left and the mode entered.",
    ["from_mode", "to_mode"],
)
REPLAY_PENDING = Gauge(
    "grandlivre_replay_pending",
    "Writes taken on the fallback and not yet replayed to PostgreSQL.",
    multiprocess_mode="livemax",
)
REPLAY_CONFLICTS = Gauge(
    "grandlivre_replay_conflicts",
    "Fallback writes that could not be replayed and wait for an admin.",
    multiprocess_mode="livemax",
)
REPLAY_OLDEST_AGE = Gauge(
    "grandlivre_replay_oldest_pending_age_seconds",
    "Age of the oldest write waiting to be replayed (0 when none is).",
    multiprocess_mode="livemax",
)
REPLAYED = Counter(
    "grandlivre_replayed_operations",
    "Journal rows replayed to PostgreSQL, by outcome (applied, duplicate, conflict).",
    ["outcome"],
)
MIRROR_LAG = Gauge(
    "grandlivre_mirror_lag_seconds",
    "Seconds since the SQLite mirror last caught up with PostgreSQL.",
    multiprocess_mode="livemin",
)
MIRROR_COMPLETE = Gauge(
    "grandlivre_mirror_complete",
    "1 once the SQLite mirror completed a full copy of the PostgreSQL it follows, else 0.",
    multiprocess_mode="livemax",
)
MIRROR_FIRST_COPY_ROWS = Gauge(
    "grandlivre_mirror_first_copy_rows",
    "Rows the mirror's first copy of PostgreSQL has copied so far (stays at its total once done).",
    multiprocess_mode="livemax",
)
MIRROR_FIRST_COPY_ESTIMATE = Gauge(
    "grandlivre_mirror_first_copy_rows_estimate",
    "PostgreSQL's estimate of the rows the mirror's first copy has to copy (0: not known yet).",
    multiprocess_mode="livemax",
)
MIRROR_ROWS = Counter(
    "grandlivre_mirror_rows_copied",
    "Rows the mirror copied from PostgreSQL into the SQLite fallback.",
)
BUILD_INFO = Gauge(
    "grandlivre_build_info",
    "Always 1; the version of Grand Livre serving.",
    ["version"],
    multiprocess_mode="livemax",
)
BUILD_INFO.labels(getattr(grandlivre, "__version__", "0.1.0")).set(1)

STATUS_CLASSES = ("1xx", "2xx", "3xx", "4xx", "5xx")


def status_class(status: int) -> str:
    """Return the status class label of an HTTP status: 2xx, 4xx, ..."""
    return f"{status // 100}xx"


def set_database_mode(mode: str) -> None:
    """Record the storage mode the service is in now."""
    for known in ("embedded", "primary", "fallback", "recovering"):
        DATABASE_MODE.labels(known).set(1 if known == mode else 0)


def registry() -> CollectorRegistry:
    """Return the registry to expose: every worker's samples when multi-process."""
    if os.environ.get(MULTIPROC_ENV):
        collected = CollectorRegistry()
        MultiProcessCollector(collected)  # type: ignore[no-untyped-call]
        return collected
    return REGISTRY


def exposition() -> tuple[bytes, str]:
    """Render the Prometheus text exposition and its content type."""
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def summary() -> dict[str, Any]:
    """Summarise the HTTP metrics as the operator's guide's JSON counters."""
    total = errors = client_errors = 0.0
    duration_sum = duration_count = 0.0
    rate_limited = 0.0
    for family in registry().collect():
        for sample in family.samples:
            if sample.name == "grandlivre_http_requests_total":
                total += sample.value
                if sample.labels.get("status") == "5xx":
                    errors += sample.value
                elif sample.labels.get("status") == "4xx":
                    client_errors += sample.value
            elif sample.name == "grandlivre_http_request_duration_seconds_sum":
                duration_sum += sample.value
            elif sample.name == "grandlivre_http_request_duration_seconds_count":
                duration_count += sample.value
            elif sample.name == "grandlivre_rate_limited_requests_total":
                rate_limited += sample.value
    return {
        "requests_total": int(total),
        "requests_errors": int(errors),
        "requests_client_errors": int(client_errors),
        "requests_rate_limited": int(rate_limited),
        "avg_latency_ms": round(duration_sum / duration_count * 1000, 3) if duration_count else 0.0,
    }


HISTORY_EVERY_SECONDS = 10.0
HISTORY_SAMPLES = 60  # ten minutes


class TrafficHistory:
    """The request counters of the last minutes, sampled every HISTORY_EVERY_SECONDS: what a
    status page draws as soon as it opens, where /metrics alone gives only the totals now.

    Each worker samples the counters of the whole server (summed over workers), so whichever
    answers gives the same history."""

    def __init__(self, every: float = HISTORY_EVERY_SECONDS) -> None:
        self.every = every
        self.samples: deque[dict[str, Any]] = deque(maxlen=HISTORY_SAMPLES)

    def sample(self, at: datetime) -> None:
        """Record the counters as they stand at `at`."""
        counters = summary()
        self.samples.append(
            {
                "at": at.isoformat().replace("+00:00", "Z"),
                "requests_total": counters["requests_total"],
                "requests_errors": counters["requests_errors"],
                "requests_client_errors": counters["requests_client_errors"],
            }
        )

    async def run(self, now: Callable[[], datetime]) -> None:
        """Sample now, then every `every` seconds until cancelled."""
        while True:
            try:
                self.sample(now())
            except Exception:  # a missed sample is a gap in a chart, not a reason to stop
                log.warning("traffic_history_sample_failed", exc_info=True)
            await asyncio.sleep(self.every)

    def as_json(self) -> list[dict[str, Any]]:
        """The samples, oldest first."""
        return list(self.samples)
