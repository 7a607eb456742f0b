"""The query string and the Accept header are read strictly, or refused.

A client that sends `entries?reference=F-2026-101` believes it filtered; one that sends
`limit=1&limit=2` cannot know which was read; `limit=+5` or `limit=1_0` are numbers only to a
lenient parser. Each is refused with a problem naming the parameter. An `Accept` the route cannot
serve is 406 (issue 7, finding 4).
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import DESIGN_ENTRY, snapshot, url

# (path, anonymous): every list and probe, each with the parameters it does take.
LISTS = [
    ("/api/v1/ledgers/{ledger}/entries", False),
    ("/api/v1/ledgers/{ledger}/trial-balance", False),
    ("/api/v1/ledgers/{ledger}/accounts", False),
    ("/api/v1/ledgers/{ledger}/journals", False),
    ("/api/v1/ledgers/{ledger}/accounts/411000/ledger", False),
    ("/api/v1/ledgers/{ledger}/accounts/411000/balance", False),
    ("/api/v1/ledgers", False),
    ("/api/v1/keys", False),
    ("/api/v1/healthz", True),
    ("/readyz", True),
]


def http_for(
    anonymous: bool, client: httpx.AsyncClient, anon_client: httpx.AsyncClient
) -> httpx.AsyncClient:
    return anon_client if anonymous else client


@pytest.mark.parametrize(("path", "anonymous"), LISTS, ids=[p for p, _ in LISTS])
async def test_an_unknown_query_parameter_is_refused_and_named(
    client: httpx.AsyncClient,
    anon_client: httpx.AsyncClient,
    ledger: str,
    path: str,
    anonymous: bool,
) -> None:
    http = http_for(anonymous, client, anon_client)
    response = await http.get(path.format(ledger=ledger), params={"reference": "F-2026-101"})
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["query", "reference"]
    assert "reference" in problem["detail"]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("entries", [("limit", "1"), ("limit", "2")]),
        ("entries", [("journal", "VE"), ("journal", "AC")]),
        ("accounts", [("active", "true"), ("active", "false")]),
    ],
    ids=["limit", "journal", "active"],
)
async def test_a_query_parameter_given_twice_is_refused(
    client: httpx.AsyncClient, ledger: str, path: str, params: list[tuple[str, str]]
) -> None:
    response = await client.get(url(ledger, path), params=params)
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["query", params[0][0]]


@pytest.mark.parametrize(
    "limit", ["+5", " 5", "5 ", "1_0", "10.0", "0x10", "1e1", "٥", "５", "-1"], ids=repr
)
async def test_a_limit_that_is_not_plain_digits_is_refused(
    client: httpx.AsyncClient, ledger: str, limit: str
) -> None:
    response = await client.get(url(ledger, "accounts"), params={"limit": limit})
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("limit", ["0", "501", "99999999999999999999999"])
async def test_a_limit_out_of_bounds_is_refused(
    client: httpx.AsyncClient, ledger: str, limit: str
) -> None:
    response = await client.get(url(ledger, "accounts"), params={"limit": limit})
    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize("limit", ["1", "5", "500"])
async def test_a_limit_of_plain_digits_sizes_the_page(
    client: httpx.AsyncClient, ledger: str, limit: str
) -> None:
    response = await client.get(url(ledger, "accounts"), params={"limit": limit})
    assert response.status_code == 200, response.text
    assert len(response.json()["items"]) == int(limit)


@pytest.mark.parametrize(
    "accept", ["text/csv", "application/xml", "application/json;q=0", "image/*"]
)
async def test_an_accept_the_route_cannot_serve_is_406(
    client: httpx.AsyncClient, ledger: str, accept: str
) -> None:
    response = await client.get(url(ledger, "entries"), headers={"Accept": accept})
    assert_problem(response, 406, "not-acceptable")


async def test_a_post_with_an_accept_it_cannot_serve_books_nothing(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = await snapshot(client, ledger)
    response = await client.post(
        url(ledger, "entries"), json=DESIGN_ENTRY, headers={"Accept": "text/csv"}
    )
    assert_problem(response, 406, "not-acceptable")
    assert await snapshot(client, ledger) == before


@pytest.mark.parametrize(
    "accept",
    [
        "*/*",
        "application/json",
        "application/*",
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "text/csv, application/json;q=0.5",
    ],
)
async def test_an_accept_admitting_json_is_served(
    client: httpx.AsyncClient, ledger: str, accept: str
) -> None:
    response = await client.get(url(ledger, "entries"), headers={"Accept": accept})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {"items": [], "next_cursor": None}
