"""/metrics: valid Prometheus exposition, route templates only, counters that move, JSON summary."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from grandlivre.ops import metrics
from tests.conftest import PostgresDatabases, database_url_for, issue_key, make_settings
from tests.ops.support import (
    assert_promtool_accepts,
    client_for,
    metric,
    running_app,
    scrape,
)

ENTRY: dict[str, Any] = {
    "journal": "OD",
    "date": "2026-01-15",
    "label": "Écriture de métriques",
    "lines": [{"account": "512000", "debit": "10.00"}, {"account": "101000", "credit": "10.00"}],
}
REQUESTS = "grandlivre_http_requests_total"


async def test_the_exposition_passes_promtool_check_metrics(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/ledgers")
    await client.get("/api/v1/ledgers/absent")
    await client.get("/api/v1/healthz")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert_promtool_accepts(response.content)


async def test_labels_are_route_templates_never_ids(client: httpx.AsyncClient, ledger: str) -> None:
    posted = await client.post(f"/api/v1/ledgers/{ledger}/entries", json=ENTRY)
    assert posted.status_code == 201, posted.text
    entry_id = posted.json()["id"]
    read = await client.get(f"/api/v1/ledgers/{ledger}/entries/{entry_id}")
    assert read.status_code == 200
    await client.get(f"/api/v1/ledgers/{ledger}/accounts/512000")

    exposition = await scrape(client)

    assert entry_id not in exposition
    assert ledger not in exposition
    label_values = {
        value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        for value in sample.labels.values()
    }
    assert not any("512000" in value for value in label_values)
    route = "/api/v1/ledgers/{ledger}/entries/{entry_id}"
    assert metric(exposition, REQUESTS, route=route, method="GET", status="2xx") >= 1
    assert (
        metric(exposition, REQUESTS, route="/api/v1/ledgers/{ledger}/entries", method="POST") >= 1
    )


async def test_status_labels_are_classes_not_codes(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/ledgers/absent-ledger")
    exposition = await scrape(client)
    statuses = {
        sample.labels["status"]
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
        if sample.name == REQUESTS
    }
    assert statuses
    assert statuses <= {"1xx", "2xx", "3xx", "4xx", "5xx"}
    assert "4xx" in statuses


async def test_request_duration_is_a_histogram_in_seconds(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/ledgers")
    exposition = await scrape(client)

    (family,) = [
        f
        for f in text_string_to_metric_families(exposition)
        if f.name == "grandlivre_http_request_duration_seconds"
    ]
    assert family.type == "histogram"
    buckets = [s for s in family.samples if s.name.endswith("_bucket")]
    assert {s.labels["le"] for s in buckets} >= {"0.005", "0.1", "1.0", "+Inf"}
    labels = {"route": "/api/v1/ledgers", "method": "GET"}
    count = metric(exposition, "grandlivre_http_request_duration_seconds_count", **labels)
    seconds = metric(exposition, "grandlivre_http_request_duration_seconds_sum", **labels)
    assert count >= 1
    assert 0 < seconds / count < 10  # seconds, not milliseconds


async def test_auth_failures_and_security_events_are_counted(
    app: FastAPI, client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> None:
    viewer = await issue_key(app, "viewer", "counted-viewer")
    before = await scrape(client)

    await anon_client.get("/api/v1/ledgers")
    await anon_client.get("/api/v1/ledgers", headers={"Authorization": "Bearer gl_unknown"})
    await anon_client.get("/api/v1/ledgers", headers={"Authorization": "Bearer gl_unknown"})
    await anon_client.post(
        "/api/v1/ledgers",
        json={"code": "nope", "name": "Nope"},
        headers={"Authorization": f"Bearer {viewer}"},
    )
    after = await scrape(client)

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("grandlivre_auth_failures_total", reason="missing") == 1
    assert delta("grandlivre_auth_failures_total", reason="invalid") == 2
    assert delta("grandlivre_auth_failures_total") == 4
    assert delta("grandlivre_security_events_total", event="authn_fail") == 3
    assert delta("grandlivre_security_events_total", event="authz_fail") == 1


async def test_key_lifecycle_is_counted_as_security_events(client: httpx.AsyncClient) -> None:
    before = await scrape(client)
    key_id = (await client.post("/api/v1/keys", json={"name": "counted"})).json()["id"]
    await client.delete(f"/api/v1/keys/{key_id}")
    after = await scrape(client)

    for event in ("authn_token_created", "authn_token_revoked"):
        name = "grandlivre_security_events_total"
        assert metric(after, name, event=event) - metric(before, name, event=event) == 1


async def test_the_database_mode_is_a_gauge(
    backend: str, tmp_root: Path, pg_databases: PostgresDatabases
) -> None:
    url = await database_url_for(backend, tmp_root, pg_databases)
    expected = "embedded" if backend == "sqlite" else "primary"
    async with running_app(make_settings(url)) as app, client_for(app) as http:
        exposition = await scrape(http)
        health = (await http.get("/api/v1/healthz")).json()

    assert health["mode"] == expected
    assert metric(exposition, "grandlivre_database_mode", mode=expected) == 1
    others = {"embedded", "primary", "fallback", "recovering"} - {expected}
    for mode in others:
        assert metric(exposition, "grandlivre_database_mode", mode=mode) == 0
    assert "# TYPE grandlivre_database_mode gauge" in exposition


async def test_json_summary_gives_the_guide_counters(client: httpx.AsyncClient) -> None:
    first = await client.get("/metrics", headers={"Accept": "application/json"})
    for _ in range(3):
        await client.get("/api/v1/ledgers")
    await client.get("/api/v1/ledgers/absent-ledger")
    second = await client.get("/metrics", headers={"Accept": "application/json"})

    assert first.status_code == second.status_code == 200
    assert second.headers["content-type"].startswith("application/json")
    before, after = first.json(), second.json()
    for field in ("requests_total", "requests_errors"):
        assert isinstance(after[field], int)
    assert isinstance(after["avg_latency_ms"], int | float)
    assert after["avg_latency_ms"] > 0
    # The three reads, the 404, and the first /metrics call itself.
    assert after["requests_total"] - before["requests_total"] >= 5
    assert after["requests_errors"] >= 0


async def test_server_errors_are_what_requests_errors_counts(client: httpx.AsyncClient) -> None:
    before = (await client.get("/metrics", headers={"Accept": "application/json"})).json()
    await client.get("/api/v1/ledgers/absent-ledger")
    await client.post("/api/v1/ledgers", json={"bad": True})
    after = (await client.get("/metrics", headers={"Accept": "application/json"})).json()
    # 4xx answers are the client's doing; requests_errors counts the service's failures.
    assert after["requests_errors"] == before["requests_errors"]


async def test_text_is_served_to_prometheus_accept_headers(client: httpx.AsyncClient) -> None:
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
    response = await client.get("/metrics", headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "grandlivre_http_requests_total{" in response.text


async def test_json_summary_carries_the_counters_of_the_last_minutes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    # The service samples its counters every 10 s; two samples taken here, at instants no
    # background sample has, frame three requests.
    history = app.state.traffic_history
    history.sample(datetime(2001, 1, 1, 12, 0, 0, tzinfo=UTC))
    for _ in range(3):
        await client.get("/api/v1/ledgers")
    history.sample(datetime(2001, 1, 1, 12, 0, 10, tzinfo=UTC))
    body = (await client.get("/metrics", headers={"Accept": "application/json"})).json()
    framed = [s for s in body["history"] if s["at"].startswith("2001-01-01T12:00:")]
    assert [s["at"] for s in framed] == ["2001-01-01T12:00:00Z", "2001-01-01T12:00:10Z"]
    assert framed[1]["requests_total"] - framed[0]["requests_total"] == 3
    assert framed[1]["requests_errors"] == framed[0]["requests_errors"]
    assert set(framed[0]) == {"at", "requests_total", "requests_errors", "requests_client_errors"}
    assert len(body["history"]) <= metrics.HISTORY_SAMPLES


async def test_the_history_is_sampled_on_a_period_and_keeps_ten_minutes() -> None:
    history = metrics.TrafficHistory(every=0.001)
    sampling = asyncio.create_task(history.run(lambda: datetime.now(UTC)))
    await asyncio.sleep(0.5)
    sampling.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampling
    samples = history.as_json()
    assert len(samples) == metrics.HISTORY_SAMPLES == 60
    assert [s["at"] for s in samples] == sorted(s["at"] for s in samples)
