"""Rate limits: per key, else per client address; 429 problems with the IETF headers; events."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import assert_problem, issue_key, make_settings
from tests.ops.support import (
    app_records,
    client_for,
    events,
    metric,
    running_app,
    scrape,
    sqlite_url,
)

LIMITS = {"rate_limit": "5/minute", "rate_limit_anonymous": "3/minute"}
RATELIMIT = re.compile(r'^"(?P<policy>\w+)";r=(?P<remaining>\d+);t=(?P<reset>\d+)$')


@pytest.fixture
async def limited_app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An app allowing 5 requests a minute per key and 3 per address without one."""
    async with running_app(make_settings(sqlite_url(tmp_path), **LIMITS)) as app:
        yield app


async def exhaust(http: httpx.AsyncClient, allowed: int, path: str = "/api/v1/ledgers") -> None:
    """Spend the allowance; every request within it must not be a 429."""
    for _ in range(allowed):
        response = await http.get(path)
        assert response.status_code != 429, response.text


async def test_the_request_over_a_key_limit_gets_a_429_problem(limited_app: FastAPI) -> None:
    key = await issue_key(limited_app, "viewer", "busy")
    async with client_for(limited_app, key) as http:
        await exhaust(http, 5)
        response = await http.get("/api/v1/ledgers", headers={"X-Request-ID": "too-many"})

    body = assert_problem(response, 429, "rate-limited")
    assert "5" in body["detail"]
    assert body["request_id"] == "too-many"
    retry = body["retry_after_seconds"]
    assert isinstance(retry, int)
    assert 0 < retry <= 60
    assert response.headers["retry-after"] == str(retry)
    assert response.headers["ratelimit-policy"] == '"key";q=5;w=60'
    match = RATELIMIT.match(response.headers["ratelimit"])
    assert match, response.headers["ratelimit"]
    assert match["policy"] == "key"
    assert match["remaining"] == "0"
    assert 0 < int(match["reset"]) <= 60


async def test_successful_responses_carry_ratelimit_headers(limited_app: FastAPI) -> None:
    key = await issue_key(limited_app, "viewer")
    remaining = []
    async with client_for(limited_app, key) as http:
        for _ in range(5):
            response = await http.get("/api/v1/ledgers")
            assert response.status_code == 200
            assert response.headers["ratelimit-policy"] == '"key";q=5;w=60'
            match = RATELIMIT.match(response.headers["ratelimit"])
            assert match, response.headers["ratelimit"]
            remaining.append(int(match["remaining"]))
    assert remaining == [4, 3, 2, 1, 0]


async def test_a_refused_request_changes_nothing(limited_app: FastAPI) -> None:
    key = await issue_key(limited_app, "admin")
    async with client_for(limited_app, key) as http:
        await exhaust(http, 5)
        refused = await http.post("/api/v1/ledgers", json={"code": "late", "name": "Late"})
    assert refused.status_code == 429
    async with client_for(limited_app, await issue_key(limited_app, "admin")) as other:
        assert (await other.get("/api/v1/ledgers/late")).status_code == 404


async def test_limits_are_counted_per_key(limited_app: FastAPI) -> None:
    first = await issue_key(limited_app, "viewer", "first")
    second = await issue_key(limited_app, "viewer", "second")
    async with client_for(limited_app, first) as one, client_for(limited_app, second) as two:
        await exhaust(one, 5)
        assert (await one.get("/api/v1/ledgers")).status_code == 429

        assert (await two.get("/api/v1/ledgers")).status_code == 200
        assert (await one.get("/api/v1/ledgers")).status_code == 429


async def test_anonymous_requests_are_limited_per_client_address(limited_app: FastAPI) -> None:
    async with (
        client_for(limited_app, peer=("192.0.2.1", 1000)) as first,
        client_for(limited_app, peer=("192.0.2.2", 1000)) as second,
    ):
        for _ in range(3):
            assert (await first.get("/api/v1/ledgers")).status_code == 401
        refused = await first.get("/api/v1/ledgers")
        other = await second.get("/api/v1/ledgers")

    assert_problem(refused, 429, "rate-limited")
    assert refused.headers["ratelimit-policy"] == '"ip";q=3;w=60'
    assert other.status_code == 401


async def test_a_valid_key_is_not_held_to_its_address_limit(limited_app: FastAPI) -> None:
    key = await issue_key(limited_app, "viewer")
    peer = ("192.0.2.50", 1)
    async with (
        client_for(limited_app, peer=peer) as anon,
        client_for(limited_app, key, peer=peer) as keyed,
    ):
        await exhaust(anon, 3)
        assert (await anon.get("/api/v1/ledgers")).status_code == 429
        assert (await keyed.get("/api/v1/ledgers")).status_code == 200


async def test_rotating_bad_keys_does_not_escape_the_address_limit(limited_app: FastAPI) -> None:
    statuses = []
    async with client_for(limited_app, peer=("192.0.2.9", 1)) as http:
        for attempt in range(5):
            response = await http.get(
                "/api/v1/ledgers", headers={"Authorization": f"Bearer gl_guess{attempt}"}
            )
            statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429, 429]


async def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(limited_app: FastAPI) -> None:
    statuses = []
    async with client_for(limited_app, peer=("1.2.3.4", 123)) as http:
        for n in range(4):
            response = await http.get("/api/v1/ledgers", headers={"X-Forwarded-For": f"10.9.8.{n}"})
            statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429]


async def test_x_forwarded_for_is_believed_from_a_trusted_proxy(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), trusted_proxies="127.0.0.1", **LIMITS)
    async with running_app(settings) as app, client_for(app, peer=("127.0.0.1", 9)) as proxy:

        async def via_proxy(forwarded_for: str) -> int:
            response = await proxy.get(
                "/api/v1/ledgers", headers={"X-Forwarded-For": forwarded_for}
            )
            return response.status_code

        first = [await via_proxy("10.0.0.1") for _ in range(4)]
        second = [await via_proxy("10.0.0.2") for _ in range(4)]

    assert first == [401, 401, 401, 429]
    assert second == [401, 401, 401, 429]


async def test_a_client_cannot_spoof_its_address_through_a_trusted_proxy(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), trusted_proxies="127.0.0.1", **LIMITS)
    async with running_app(settings) as app, client_for(app, peer=("127.0.0.1", 9)) as proxy:
        statuses = []
        # The proxy appends the real client (10.0.0.3); whatever the client wrote before is its own.
        for spoof in ("6.6.6.1", "6.6.6.2", "6.6.6.3", "6.6.6.4"):
            response = await proxy.get(
                "/api/v1/ledgers", headers={"X-Forwarded-For": f"{spoof}, 10.0.0.3"}
            )
            statuses.append(response.status_code)
    assert statuses == [401, 401, 401, 429]


async def test_every_429_is_a_security_event_and_a_burst_is_raised_once_per_key(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        sqlite_url(tmp_path), log_level="INFO", rate_limit_burst_threshold=3, **LIMITS
    )
    async with running_app(settings) as app:
        first = await issue_key(app, "viewer", "flooder-one")
        second = await issue_key(app, "viewer", "flooder-two")
        async with client_for(app, peer=("192.0.2.77", 1)) as metrics_client:
            before = await scrape(metrics_client)
        refusals = 0
        for key, extra in ((first, 7), (second, 4)):
            async with client_for(app, key, peer=("192.0.2.77", 1)) as http:
                await exhaust(http, 5)
                for n in range(extra):
                    response = await http.get("/api/v1/ledgers", headers={"X-Request-ID": f"r{n}"})
                    assert response.status_code == 429
                    refusals += 1
        async with client_for(app, peer=("192.0.2.78", 1)) as metrics_client:
            after = await scrape(metrics_client)

    records = app_records(app_stdout.readouterr().out)
    exceeded = events(records, "rate_limit_exceeded")
    bursts = events(records, "rate_limit_burst")
    assert len(exceeded) == refusals == 11
    assert sorted(b["principal"] for b in bursts) == ["flooder-one", "flooder-two"]
    for event in exceeded + bursts:
        assert event["ip"] == "192.0.2.77"
        assert re.match(r"^r\d$", event["request_id"])
        assert event["security_event"] == event["event"]

    def delta(name: str, **labels: str) -> float:
        return metric(after, name, **labels) - metric(before, name, **labels)

    assert delta("grandlivre_rate_limited_requests_total", scope="key") == 11
    assert delta("grandlivre_security_events_total", event="rate_limit_exceeded") == 11
    assert delta("grandlivre_security_events_total", event="rate_limit_burst") == 2
    assert delta("grandlivre_http_requests_total", route="/api/v1/ledgers", status="4xx") == 11


async def test_a_burst_is_raised_again_in_the_next_window(
    tmp_path: Path, app_stdout: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(
        sqlite_url(tmp_path),
        log_level="WARNING",
        # Five-second windows: eight requests fit in one even on a loaded machine, which a
        # one-second window did not (a slow run spread them over two and saw no burst).
        rate_limit="3/5 seconds",
        rate_limit_burst_threshold=2,
    )
    async with running_app(settings) as app:
        key = await issue_key(app, "viewer", "steady-flooder")
        async with client_for(app, key) as http:
            for window in range(2):
                if window:
                    # A sliding window still weighs the previous one: two are over.
                    await asyncio.sleep(10.2)
                statuses = [(await http.get("/api/v1/ledgers")).status_code for _ in range(8)]
                assert statuses.count(429) >= 4, statuses

    bursts = events(app_records(app_stdout.readouterr().out), "rate_limit_burst")
    assert len(bursts) == 2
    assert {b["principal"] for b in bursts} == {"steady-flooder"}
