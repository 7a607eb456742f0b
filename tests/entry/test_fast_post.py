"""The hot path of POST .../entries (entry/fast_post.py) answers as FastAPI's route does.

A key's first request goes through FastAPI (the key is not in the process's cache yet, which
only PostgreSQL's change notifications make trustworthy); from the second on, the hot path
answers. Each test compares the two answers as a client sees them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from grandlivre.app import create_app
from grandlivre.auth import service as auth_service
from tests.conftest import (
    PostgresDatabases,
    assert_problem,
    bearer,
    database_url_for,
    issue_key,
    make_settings,
)

ENTRIES = "/api/v1/ledgers/main/entries"
# Headers that differ from one answer to the next by nature.
VARYING = {"x-request-id", "location", "content-length", "ratelimit", "date"}


def entry(reference: str, credit: str = "100.00") -> dict[str, Any]:
    """The DESIGN §6 entry (unbalanced when `credit` is not 100.00)."""
    return {
        "journal": "VE",
        "date": "2026-11-23",
        "label": f"Facture {reference}",
        "reference": reference,
        "lines": [
            {"account": "411000", "debit": "120.00", "label": "Client Dupont"},
            {"account": "706000", "credit": credit},
            {"account": "445710", "credit": "20.00"},
        ],
    }


@pytest.fixture
async def pg_app(tmp_root: Path, pg_databases: PostgresDatabases) -> AsyncIterator[FastAPI]:
    """A PostgreSQL app (the key cache is trusted only there), 5 requests a minute per key."""
    url = await database_url_for("postgres", tmp_root, pg_databases)
    application = create_app(make_settings(url, rate_limit="5/minute"))
    async with application.router.lifespan_context(application):
        yield application


async def _client(app: FastAPI) -> tuple[httpx.AsyncClient, str]:
    key = await issue_key(app, "accountant", f"fast-{uuid.uuid4().hex[:6]}")
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=bearer(key)
    )
    return http, key


def _cached(app: FastAPI, key: str) -> bool:
    return app.state.guard.keys.get(auth_service.hash_key(key)) is not None


async def _notifications_settled(app: FastAPI) -> None:
    """Wait until the change notifications of the keys just created have arrived.

    A key's creation is announced to every process; arriving after a request cached the key,
    the notification would empty the cache again and send the next request to FastAPI.
    """
    signals = app.state.store.signals
    for _ in range(25):
        before = signals.generation
        await asyncio.sleep(0.2)
        if signals.listening and signals.generation == before:
            return
    raise AssertionError("the change notifications never settled")


def _shape(response: httpx.Response) -> tuple[int, dict[str, str], set[str]]:
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    return response.status_code, headers, set(response.json())


async def test_a_posting_answered_by_the_hot_path_matches_fastapis(pg_app: FastAPI) -> None:
    http, key = await _client(pg_app)
    await _notifications_settled(pg_app)
    async with http:
        assert not _cached(pg_app, key)
        through_fastapi = await http.post(
            ENTRIES, json=entry("F-1"), headers={"Idempotency-Key": "fast-1"}
        )
        assert _cached(pg_app, key)  # from now on the hot path answers
        hot = await http.post(ENTRIES, json=entry("F-2"), headers={"Idempotency-Key": "fast-2"})
        replayed = await http.post(
            ENTRIES, json=entry("F-2"), headers={"Idempotency-Key": "fast-2"}
        )
        read_back = await http.get(f"{ENTRIES}/{hot.json()['id']}")

    assert through_fastapi.status_code == hot.status_code == 201
    assert _shape(hot) == _shape(through_fastapi)
    assert hot.headers["location"] == f"{ENTRIES}/{hot.json()['id']}"
    assert hot.headers["ratelimit"].startswith('"key";r=3;')  # its key's second of 5 a minute
    first, second = through_fastapi.json(), hot.json()
    assert {
        k: v
        for k, v in first.items()
        if k not in {"id", "label", "reference", "created_at", "validated_at"}
    } == {
        k: v
        for k, v in second.items()
        if k not in {"id", "label", "reference", "created_at", "validated_at"}
    }
    assert second["reference"] == "F-2"
    assert replayed.status_code == 201
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == second
    assert read_back.json()["lines"] == second["lines"]


async def test_a_refusal_of_the_hot_path_is_the_same_problem(pg_app: FastAPI) -> None:
    http, _ = await _client(pg_app)
    async with http:
        through_fastapi = await http.post(ENTRIES, json=entry("U-1", credit="99.99"))
        hot = await http.post(ENTRIES, json=entry("U-2", credit="99.99"))
        invalid = await http.post(ENTRIES, json={**entry("U-3"), "lines": []})

    first = assert_problem(through_fastapi, 422, "unbalanced-entry")
    second = assert_problem(hot, 422, "unbalanced-entry")
    assert {k: v for k, v in first.items() if k != "request_id"} == {
        k: v for k, v in second.items() if k != "request_id"
    }
    assert _shape(hot)[1] == _shape(through_fastapi)[1]
    # What the hot path does not answer, FastAPI does, with its validation problem.
    problem = assert_problem(invalid, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["body", "lines"]


async def test_the_hot_path_counts_against_the_rate_limit_and_refuses_over_it(
    pg_app: FastAPI,
) -> None:
    http, _ = await _client(pg_app)
    async with http:
        answers = [await http.post(ENTRIES, json=entry(f"R-{n}")) for n in range(6)]

    assert [a.status_code for a in answers] == [201] * 5 + [429]
    problem = assert_problem(answers[5], 429, "rate-limited")
    assert int(answers[5].headers["retry-after"]) == problem["retry_after_seconds"] > 0
    assert answers[5].headers["ratelimit"].startswith('"key";r=0;')
    assert answers[4].headers["ratelimit"].startswith('"key";r=0;')
    assert answers[1].headers["ratelimit"].startswith('"key";r=3;')


async def test_a_query_string_or_a_viewer_key_goes_to_fastapi(pg_app: FastAPI) -> None:
    viewer = await issue_key(pg_app, "viewer", "fast-viewer")
    http, _ = await _client(pg_app)
    async with (
        http,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=pg_app),
            base_url="http://testserver",
            headers=bearer(viewer),
        ) as as_viewer,
    ):
        await http.post(ENTRIES, json=entry("Q-0"))
        with_query = await http.post(f"{ENTRIES}?dry_run=true", json=entry("Q-1"))
        await as_viewer.get("/api/v1/ledgers/main/entries")  # the viewer's key is cached now
        refused = await as_viewer.post(ENTRIES, json=entry("Q-2"))

    problem = assert_problem(with_query, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["query", "dry_run"]
    assert_problem(refused, 403, "forbidden")
