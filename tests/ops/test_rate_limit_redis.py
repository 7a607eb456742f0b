"""Rate limits shared through the machine's real Redis, and what happens when it goes away."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis
from fastapi import FastAPI

from grandlivre.auth import service as auth_service
from grandlivre.ops import ratelimit
from tests.conftest import issue_key, make_settings
from tests.faults import LoopbackProxy
from tests.ops.support import (
    app_records,
    client_for,
    events,
    metric,
    running_app,
    scrape,
    sqlite_url,
)

REDIS_HOST, REDIS_PORT, REDIS_DB = "127.0.0.1", 6379, 15
REDIS_URL = f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}"


@pytest.fixture
def redis_db() -> Iterator[redis.Redis]:
    """The test Redis database; skipped when Redis is not running (failed under CI=true)."""
    client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Redis at {REDIS_URL} is unreachable (CI=true): {exc}")
        pytest.skip(f"Redis at {REDIS_URL} is unreachable: {exc}")
    yield client
    client.close()


def forget(client: redis.Redis, identity: str) -> None:
    """Delete the limiter's counters for one identity (a key id), leaving the rest alone."""
    for name in client.scan_iter(match=f"*{identity}*"):
        client.delete(name)


async def key_id_of(key: str, app: FastAPI) -> str:
    """The id of an API key: what the limiter counts it under."""
    row = await app.state.store.read(lambda s: auth_service.find_key(s, key))
    return str(row.id)


async def test_two_processes_share_one_limit_through_redis(
    tmp_path: Path, redis_db: redis.Redis
) -> None:
    url = sqlite_url(tmp_path)
    settings = make_settings(url, rate_limit="5/minute", redis_url=REDIS_URL)
    async with running_app(settings) as first, running_app(settings) as second:
        key = await issue_key(first, "viewer", "shared")
        key_id = await key_id_of(key, first)
        try:
            async with client_for(first, key) as one, client_for(second, key) as two:
                statuses = [
                    (await http.get("/api/v1/ledgers")).status_code
                    for http in (one, two, one, two, one, two, one)
                ]
                health = (await one.get("/api/v1/healthz")).json()
                exposition = await scrape(two)
        finally:
            forget(redis_db, key_id)

    assert statuses == [200] * 5 + [429] * 2
    assert health["rate_limit_backend"] == "redis"
    assert metric(exposition, "grandlivre_rate_limit_shared") == 1


@pytest.fixture
async def redis_proxy(redis_db: redis.Redis) -> AsyncIterator[LoopbackProxy]:
    proxy = LoopbackProxy(REDIS_HOST, REDIS_PORT).start()
    yield proxy
    proxy.stop()


async def test_losing_redis_falls_back_to_per_process_limits_and_comes_back(
    tmp_path: Path,
    redis_db: redis.Redis,
    redis_proxy: LoopbackProxy,
    monkeypatch: pytest.MonkeyPatch,
    app_stdout: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(ratelimit, "REDIS_RETRY_SECONDS", 0.5)
    settings = make_settings(
        sqlite_url(tmp_path),
        rate_limit="6/minute",
        redis_url=f"redis://127.0.0.1:{redis_proxy.port}/{REDIS_DB}",
        redis_timeout=0.5,
        log_level="WARNING",
    )
    async with running_app(settings) as app:
        key = await issue_key(app, "viewer", "through-proxy")
        key_id = await key_id_of(key, app)
        try:
            async with client_for(app, key) as http:
                before = [(await http.get("/api/v1/ledgers")).status_code for _ in range(2)]
                assert (await http.get("/api/v1/healthz")).json()["rate_limit_backend"] == "redis"

                redis_proxy.cut()
                during = [(await http.get("/api/v1/ledgers")).status_code for _ in range(7)]
                health_during = (await http.get("/api/v1/healthz")).json()
                exposition_during = await scrape(http)

                redis_proxy.restore()
                await asyncio.sleep(0.7)  # past the retry interval
                after = (await http.get("/api/v1/ledgers")).status_code
                health_after = (await http.get("/api/v1/healthz")).json()
                exposition_after = await scrape(http)
        finally:
            forget(redis_db, key_id)

    assert before == [200, 200]
    # Counting goes on in this process from zero: six allowed, the seventh refused; never a 5xx.
    assert during == [200] * 6 + [429]
    assert health_during["rate_limit_backend"] == "memory (redis unreachable)"
    assert health_during["ok"] is True
    assert metric(exposition_during, "grandlivre_rate_limit_shared") == 0
    # Back on Redis, where the two requests from before the cut were counted.
    assert after == 200
    assert health_after["rate_limit_backend"] == "redis"
    assert metric(exposition_after, "grandlivre_rate_limit_shared") == 1
    records = app_records(app_stdout.readouterr().out)
    lost = events(records, "rate_limit_shared_lost")
    assert len(lost) == 1, "the loss is logged once, not once per request"
    assert len(events(records, "rate_limit_shared_restored")) == 1


async def test_an_unreachable_redis_at_start_up_does_not_stop_the_service(
    tmp_path: Path, redis_proxy: LoopbackProxy, app_stdout: pytest.CaptureFixture[str]
) -> None:
    redis_proxy.cut()
    settings = make_settings(
        sqlite_url(tmp_path),
        redis_url=f"redis://127.0.0.1:{redis_proxy.port}/{REDIS_DB}",
        redis_timeout=0.3,
    )
    async with running_app(settings) as app:
        key = await issue_key(app, "viewer")
        async with client_for(app, key) as http:
            statuses = [(await http.get("/api/v1/ledgers")).status_code for _ in range(5)]
            health = (await http.get("/api/v1/healthz")).json()

    assert statuses == [200] * 5
    assert health["rate_limit_backend"] == "memory (redis unreachable)"
    assert len(events(app_records(app_stdout.readouterr().out), "rate_limit_shared_lost")) == 1


async def test_a_hung_redis_does_not_hang_requests(
    tmp_path: Path, redis_db: redis.Redis, redis_proxy: LoopbackProxy
) -> None:
    settings = make_settings(
        sqlite_url(tmp_path),
        redis_url=f"redis://127.0.0.1:{redis_proxy.port}/{REDIS_DB}",
        redis_timeout=0.3,
    )
    async with running_app(settings) as app:
        key = await issue_key(app, "viewer")
        key_id = await key_id_of(key, app)
        try:
            async with client_for(app, key) as http:
                assert (await http.get("/api/v1/ledgers")).status_code == 200
                redis_proxy.blackhole()
                loop = asyncio.get_running_loop()
                started = loop.time()
                statuses = [(await http.get("/api/v1/ledgers")).status_code for _ in range(3)]
                elapsed = loop.time() - started
                redis_proxy.restore()
        finally:
            forget(redis_db, key_id)

    assert statuses == [200, 200, 200]
    assert elapsed < 3, f"requests took {elapsed:.1f} s with Redis hung"
