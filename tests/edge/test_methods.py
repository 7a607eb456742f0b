"""Methods: probes answer HEAD, a 405 says in `Allow` what the resource takes, entries stay put.

Load balancers and orchestrators probe with HEAD; a client told 405 learns from `Allow` the
methods it may use instead, exactly those the OpenAPI document gives the path (issue 7,
finding 7 and the schemathesis run).
"""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import DESIGN_ENTRY, design_entry, post_entry, unsealed, url


def methods(allow: str) -> set[str]:
    """The methods an `Allow` header lists."""
    return {method.strip() for method in allow.split(",") if method.strip()}


@pytest.mark.parametrize("path", ["/api/v1/healthz", "/readyz", "/metrics"])
async def test_head_on_a_probe_is_200_with_an_empty_body(
    anon_client: httpx.AsyncClient, path: str
) -> None:
    response = await anon_client.head(path)
    assert response.status_code == 200, response.headers
    assert response.content == b""
    assert response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("path", "allow"),
    [
        ("/api/v1/healthz", "GET, HEAD"),
        ("/readyz", "GET, HEAD"),
        ("/metrics", "GET, HEAD"),
        ("/api/v1/ledgers/{ledger}/entries", "GET, POST"),
        ("/api/v1/ledgers/{ledger}/accounts/411000", "DELETE, GET, PATCH"),
    ],
)
async def test_options_is_405_with_an_allow_of_the_documented_methods(
    client: httpx.AsyncClient, ledger: str, path: str, allow: str
) -> None:
    response = await client.options(path.format(ledger=ledger))
    assert_problem(response, 405, "method-not-allowed")
    assert methods(response.headers["allow"]) == methods(allow)


async def test_put_on_a_posted_entry_is_still_405_entry_immutable(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entry = await post_entry(client, ledger, DESIGN_ENTRY["lines"])
    response = await client.put(
        url(ledger, "entries", entry["id"]), json=design_entry(label="Changed")
    )
    assert_problem(response, 405, "entry-immutable")
    assert response.headers["allow"] == "GET"
    read = await client.get(url(ledger, "entries", entry["id"]))
    assert unsealed(read.json()) == unsealed(entry)
