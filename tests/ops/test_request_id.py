"""X-Request-ID: the client's when well-formed, else a new one, on every response and problem."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.conftest import assert_problem
from tests.ops.support import REQUEST_ID_PATTERN

VALID = ["abc", "A", "req-2026.11.23_0001", "0" * 128, "a.b-c_D"]
INVALID = {
    "too-long": "a" * 129,
    "space": "two words",
    "slash": "a/b",
    "semicolon": "id;drop",
    "quote": 'say"hi',
    "latin1": "café",
    "empty": "",
    "tab": "a\tb",
}


@pytest.mark.parametrize("request_id", VALID)
async def test_a_well_formed_client_request_id_is_echoed(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get("/api/v1/ledgers", headers={"X-Request-ID": request_id})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize("request_id", INVALID.values(), ids=INVALID.keys())
async def test_a_malformed_client_request_id_is_replaced_by_a_new_one(
    client: httpx.AsyncClient, request_id: str
) -> None:
    response = await client.get(
        "/api/v1/ledgers", headers=[("X-Request-ID", request_id.encode("latin-1"))]
    )
    assert response.status_code == 200
    given = response.headers["x-request-id"]
    assert given != request_id
    assert re.match(REQUEST_ID_PATTERN, given)


async def test_each_request_without_an_id_gets_a_different_one(client: httpx.AsyncClient) -> None:
    ids = {(await client.get("/api/v1/healthz")).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5
    assert all(re.match(REQUEST_ID_PATTERN, i) for i in ids)


async def test_only_one_request_id_header_is_returned(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/ledgers", headers={"X-Request-ID": "once"})
    assert response.headers.get_list("x-request-id") == ["once"]


@pytest.mark.parametrize("path", ["/api/v1/healthz", "/readyz", "/metrics", "/openapi.json"])
async def test_probes_and_documents_carry_a_request_id(
    anon_client: httpx.AsyncClient, path: str
) -> None:
    response = await anon_client.get(path, headers={"X-Request-ID": "probe-1"})
    assert response.status_code == 200
    assert response.headers["x-request-id"] == "probe-1"


async def test_a_404_problem_carries_the_request_id_in_header_and_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/ledgers/nope-nope", headers={"X-Request-ID": "r404"})
    body = assert_problem(response, 404, "ledger-not-found")
    assert body["request_id"] == "r404"


async def test_a_route_that_does_not_exist_gets_a_problem_with_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/nothing/here", headers={"X-Request-ID": "nowhere"})
    body = assert_problem(response, 404, "not-found")
    assert body["request_id"] == "nowhere"


async def test_a_401_carries_the_request_id(anon_client: httpx.AsyncClient) -> None:
    response = await anon_client.get("/api/v1/ledgers", headers={"X-Request-ID": "r401"})
    body = assert_problem(response, 401, "unauthorized")
    assert body["request_id"] == "r401"


async def test_a_422_carries_a_generated_request_id_when_the_client_sent_none(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/v1/ledgers", json={"code": "BAD CODE", "name": "x"})
    body = assert_problem(response, 422, "validation-error")
    assert re.match(REQUEST_ID_PATTERN, body["request_id"])


async def test_a_malformed_json_body_problem_carries_the_request_id(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/api/v1/ledgers",
        content=b"{not json",
        headers={"Content-Type": "application/json", "X-Request-ID": "r400"},
    )
    body = assert_problem(response, 400, "malformed-request")
    assert body["request_id"] == "r400"


async def test_a_413_carries_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/ledgers",
        content=b"x" * (2 * 1024 * 1024),
        headers={"Content-Type": "application/json", "X-Request-ID": "r413"},
    )
    body = assert_problem(response, 413, "payload-too-large")
    assert body["request_id"] == "r413"
