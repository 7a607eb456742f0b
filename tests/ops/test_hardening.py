"""Hardening: body size limit, strict JSON on writes, security headers, CORS, no 500 by content."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem, make_settings
from tests.ops.support import client_for, running_app, sqlite_url

MAX_BODY = 1_048_576  # the default MAX_BODY_BYTES of the session app
ENTRY: dict[str, Any] = {
    "journal": "OD",
    "date": "2026-01-15",
    "label": "Écriture",
    "lines": [{"account": "512000", "debit": "10.00"}, {"account": "101000", "credit": "10.00"}],
}
ENTRIES = "/api/v1/ledgers/{ledger}/entries"


def with_first_line(**changes: Any) -> dict[str, Any]:
    """The entry with its first line's fields replaced."""
    return {**ENTRY, "lines": [{**ENTRY["lines"][0], **changes}, ENTRY["lines"][1]]}


async def count_entries(client: httpx.AsyncClient, ledger: str) -> int:
    response = await client.get(f"/api/v1/ledgers/{ledger}/entries", params={"limit": 500})
    return len(response.json()["items"])


async def test_a_declared_body_over_the_limit_is_413(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = {**ENTRY, "label": "x" * (MAX_BODY + 10)}
    response = await client.post(f"/api/v1/ledgers/{ledger}/entries", json=entry)
    assert_problem(response, 413, "payload-too-large")
    assert await count_entries(client, ledger) == 0


async def test_a_streamed_body_over_the_limit_is_413(
    client: httpx.AsyncClient, ledger: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"journal": "OD", "date": "2026-01-15", "label": "'
        for _ in range(12):
            yield b"x" * 100_000
        yield b'", "lines": []}'

    response = await client.post(
        f"/api/v1/ledgers/{ledger}/entries",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "payload-too-large")
    assert await count_entries(client, ledger) == 0


async def test_a_body_just_under_the_limit_is_read(client: httpx.AsyncClient, ledger: str) -> None:
    body = {**ENTRY, "label": "x" * (MAX_BODY - 1000)}
    response = await client.post(f"/api/v1/ledgers/{ledger}/entries", json=body)
    assert response.status_code != 413
    assert response.status_code < 500


async def test_the_body_limit_is_configurable(tmp_path: Path) -> None:
    settings = make_settings(sqlite_url(tmp_path), max_body_bytes=2048)
    async with running_app(settings) as app, client_for(app) as http:
        small = await http.post("/api/v1/ledgers", json={"code": "a", "name": "x" * 1500})
        large = await http.post("/api/v1/ledgers", json={"code": "a", "name": "x" * 2100})
    assert small.status_code == 401  # read, then refused for want of a key
    assert_problem(large, 413, "payload-too-large")


WRITES = [
    ("POST", "/api/v1/ledgers", {"code": "strict", "name": "Strict", "owner": "me"}),
    ("PATCH", "/api/v1/ledgers/{ledger}", {"name": "Renamed", "currency": "USD"}),
    ("POST", "/api/v1/ledgers/{ledger}/accounts", {"number": "411555", "name": "C", "x": 1}),
    ("PATCH", "/api/v1/ledgers/{ledger}/accounts/512000", {"active": False, "balance": "0"}),
    ("POST", "/api/v1/ledgers/{ledger}/journals", {"code": "ZX", "name": "Z", "kind": "sales"}),
    ("POST", "/api/v1/ledgers/{ledger}/entries", {**ENTRY, "posted": True}),
    (
        "POST",
        "/api/v1/ledgers/{ledger}/entries",
        {**ENTRY, "lines": [{**ENTRY["lines"][0], "vat": "20"}, ENTRY["lines"][1]]},
    ),
    ("POST", "/api/v1/keys", {"name": "k", "role": "viewer", "expires": "never"}),
]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    WRITES,
    ids=[
        "ledger",
        "ledger-patch",
        "account",
        "account-patch",
        "journal",
        "entry",
        "entry-line",
        "key",
    ],
)
async def test_unknown_fields_on_a_write_are_refused(
    client: httpx.AsyncClient, ledger: str, method: str, path: str, body: dict[str, Any]
) -> None:
    response = await client.request(method, path.format(ledger=ledger), json=body)
    problem = assert_problem(response, 422, "validation-error")
    assert any(error["type"] == "extra_forbidden" for error in problem["errors"]), problem
    assert (await client.get(f"/api/v1/ledgers/{ledger}")).json()["name"] != "Renamed"
    assert await count_entries(client, ledger) == 0


async def test_unknown_fields_on_a_reversal_are_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await client.post(f"/api/v1/ledgers/{ledger}/entries", json=ENTRY)
    assert posted.status_code == 201, posted.text
    response = await client.post(
        f"/api/v1/ledgers/{ledger}/entries/{posted.json()['id']}/reverse",
        json={"label": "Extourne", "amount": "5.00"},
    )
    assert_problem(response, 422, "validation-error")
    assert await count_entries(client, ledger) == 1


SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


@pytest.mark.parametrize(
    ("path", "authenticated"),
    [
        ("/api/v1/ledgers", True),
        ("/api/v1/ledgers/absent", True),
        ("/api/v1/ledgers", False),
        ("/api/v1/healthz", False),
        ("/readyz", False),
        ("/metrics", False),
        ("/no/such/route", False),
    ],
)
async def test_responses_carry_security_headers(
    client: httpx.AsyncClient, anon_client: httpx.AsyncClient, path: str, authenticated: bool
) -> None:
    response = await (client if authenticated else anon_client).get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.headers)
    assert "default-src 'none'" in response.headers["content-security-policy"]


async def test_api_responses_are_not_cached(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/ledgers")
    assert response.headers["cache-control"] == "no-store"


async def test_there_are_no_cors_headers_by_default(client: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://evil.example"}
    simple = await client.get("/api/v1/ledgers", headers=origin)
    preflight = await client.options(
        "/api/v1/ledgers",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    for response in (simple, preflight):
        assert not any(name.startswith("access-control-") for name in response.headers), (
            response.headers
        )


@pytest.fixture
async def cors_app_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = make_settings(sqlite_url(tmp_path), cors_origins="https://books.example")
    async with running_app(settings) as app, client_for(app) as http:
        yield http


async def test_cors_allows_the_configured_origin(cors_app_client: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://books.example"}
    simple = await cors_app_client.get("/api/v1/healthz", headers=origin)
    preflight = await cors_app_client.options(
        "/api/v1/ledgers",
        headers={
            **origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Content-Type",
        },
    )

    assert simple.headers["access-control-allow-origin"] == "https://books.example"
    assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://books.example"
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()


async def test_cors_ignores_other_origins(cors_app_client: httpx.AsyncClient) -> None:
    origin = {"Origin": "https://evil.example"}
    simple = await cors_app_client.get("/api/v1/healthz", headers=origin)
    preflight = await cors_app_client.options(
        "/api/v1/ledgers", headers={**origin, "Access-Control-Request-Method": "POST"}
    )
    assert "access-control-allow-origin" not in simple.headers
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 400


JSON = {"Content-Type": "application/json"}
RANDOM_ID = str(uuid.uuid4())


def case(id: str, method: str, path: str, **kwargs: Any) -> Any:
    """One hostile request: its id, method, path (may name {ledger}) and httpx arguments."""
    return pytest.param(method, path, kwargs, id=id)


NASTY = [
    case("json-truncated", "POST", "/api/v1/ledgers", content=b"{", headers=JSON),
    case("json-not-utf8", "POST", "/api/v1/ledgers", content=b"\xff\xfe\x00", headers=JSON),
    case("json-array", "POST", "/api/v1/ledgers", content=b"[1, 2]", headers=JSON),
    case("json-null", "POST", "/api/v1/ledgers", content=b"null", headers=JSON),
    case(
        "form-body",
        "POST",
        "/api/v1/ledgers",
        content=b"code=a&name=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ),
    case(
        "xml-body",
        "POST",
        "/api/v1/ledgers",
        content=b"<xml/>",
        headers={"Content-Type": "application/xml"},
    ),
    case(
        "text-plain-body",
        "POST",
        "/api/v1/ledgers",
        content=b'{"code": "a", "name": "b"}',
        headers={"Content-Type": "text/plain"},
    ),
    case(
        "json-deeply-nested",
        "POST",
        "/api/v1/ledgers",
        content=b"[" * 5000 + b"]" * 5000,
        headers=JSON,
    ),
    case("ledger-code-huge", "POST", "/api/v1/ledgers", json={"code": "a" * 10_000, "name": "x"}),
    case(
        "ledger-unknown-currency",
        "POST",
        "/api/v1/ledgers",
        json={"code": "ok", "name": "x", "currency": "ZZZ"},
    ),
    case("entry-impossible-date", "POST", ENTRIES, json={**ENTRY, "date": "9999-99-99"}),
    case("entry-date-as-number", "POST", ENTRIES, json={**ENTRY, "date": 20260115}),
    case("entry-amount-400-digits", "POST", ENTRIES, json=with_first_line(debit="1" * 400)),
    case("entry-amount-float", "POST", ENTRIES, json=with_first_line(debit=1e308)),
    case("entry-account-huge", "POST", ENTRIES, json=with_first_line(account="4" * 5000)),
    case("entry-lines-not-a-list", "POST", ENTRIES, json={**ENTRY, "lines": "not a list"}),
    case("entry-journal-unicode", "POST", ENTRIES, json={**ENTRY, "journal": "\ud7ff" * 3}),
    case(
        "idempotency-key-non-ascii",
        "POST",
        ENTRIES,
        json=ENTRY,
        headers={"Idempotency-Key": "é".encode("latin-1")},
    ),
    case(
        "idempotency-key-huge",
        "POST",
        ENTRIES,
        json=ENTRY,
        headers={"Idempotency-Key": "k" * 10_000},
    ),
    case("entry-id-not-uuid", "GET", ENTRIES + "/not-a-uuid"),
    case("entry-id-unknown", "GET", ENTRIES + "/" + RANDOM_ID),
    case("reverse-unknown-entry", "POST", ENTRIES + f"/{RANDOM_ID}/reverse", json={}),
    case("cursor-percent", "GET", ENTRIES + "?cursor=%25%25"),
    case("cursor-huge", "GET", ENTRIES + "?cursor=" + "A" * 5000),
    case("from-impossible-date", "GET", ENTRIES + "?from=2026-02-30"),
    case("limit-negative", "GET", ENTRIES + "?limit=-1"),
    case("limit-enormous", "GET", ENTRIES + "?limit=99999999999999999999999"),
    case("accounts-prefix-nul", "GET", "/api/v1/ledgers/{ledger}/accounts?prefix=%00"),
    case("account-number-nul", "GET", "/api/v1/ledgers/{ledger}/accounts/%00"),
    case("ledger-code-nul", "GET", "/api/v1/ledgers/%00"),
    case("entries-journal-nul", "GET", ENTRIES + "?journal=%00"),
    case("entries-account-nul", "GET", ENTRIES + "?account=%00"),
    case("ledger-name-nul", "POST", "/api/v1/ledgers", json={"code": "nul", "name": "a\u0000b"}),
    case(
        "account-name-nul",
        "POST",
        "/api/v1/ledgers/{ledger}/accounts",
        json={"number": "411999", "name": "a\u0000"},
    ),
    case("entry-label-nul", "POST", ENTRIES, json={**ENTRY, "label": "nul\u0000"}),
    case("key-name-nul", "POST", "/api/v1/keys", json={"name": "nul\u0000"}),
    case(
        "journal-name-150-chars",
        "POST",
        "/api/v1/ledgers/{ledger}/journals",
        json={"code": "LONG", "name": "n" * 150},
    ),
    case("key-name-150-chars", "POST", "/api/v1/keys", json={"name": "n" * 150}),
    case(
        "idempotent-post-to-a-300-char-ledger",
        "POST",
        "/api/v1/ledgers/" + "x" * 300 + "/entries",
        json=ENTRY,
        headers={"Idempotency-Key": "k-300"},
    ),
    case("ledger-code-5000-chars", "GET", "/api/v1/ledgers/" + "x" * 5000),
    case("ledger-code-emoji", "GET", "/api/v1/ledgers/%F0%9F%92%A9"),
    case("ledger-code-traversal", "GET", "/api/v1/ledgers/..%2F..%2Fetc%2Fpasswd"),
    case("revoke-key-not-uuid", "DELETE", "/api/v1/keys/not-a-uuid"),
    case("delete-entry", "DELETE", ENTRIES + "/" + RANDOM_ID),
    case("put-ledgers", "PUT", "/api/v1/ledgers", json={}),
    case("trace-method", "TRACE", "/api/v1/ledgers"),
    case(
        "authorization-control-chars",
        "GET",
        "/api/v1/ledgers",
        headers={"Authorization": b"Bearer \x00\x01"},
    ),
    case(
        "authorization-not-latin1-text",
        "GET",
        "/api/v1/ledgers",
        headers={"Authorization": b"Bearer \xff\xfe"},
    ),
    case(
        "x-forwarded-for-garbage",
        "GET",
        "/api/v1/ledgers",
        headers={"X-Forwarded-For": "not-an-ip, ::::, 999.1.1.1"},
    ),
    case(
        "metrics-mixed-accept",
        "GET",
        "/metrics",
        headers={"Accept": "application/json, text/plain"},
    ),
    case("readyz-verbose-bad-byte", "GET", "/readyz?verbose=%ff"),
]


@pytest.mark.parametrize(("method", "path", "kwargs"), NASTY)
async def test_nothing_a_client_sends_produces_a_500(
    client: httpx.AsyncClient, ledger: str, method: str, path: str, kwargs: dict[str, Any]
) -> None:
    response = await client.request(method, path.format(ledger=ledger), **kwargs)

    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["request_id"] == response.headers["x-request-id"]
