"""Posted entries are immutable; corrections are reversals that point at what they reverse."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import DESIGN_ENTRY, balances, snapshot, unsealed, url, walk


async def _post_design_entry(client: httpx.AsyncClient, ledger: str) -> dict[str, Any]:
    response = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY)
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def test_a_reversal_mirrors_the_lines_and_links_both_entries(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await _post_design_entry(client, ledger)
    response = await client.post(url(ledger, "entries", original["id"], "reverse"))
    assert response.status_code == 201, response.text
    reversal = response.json()
    assert response.headers["location"] == url(ledger, "entries", reversal["id"])
    assert uuid.UUID(reversal["id"]).version == 7
    assert reversal["id"] != original["id"]
    assert reversal["reverses"] == original["id"]
    assert reversal["reversed_by"] is None
    assert reversal["journal"] == "VE"
    assert reversal["date"] == "2026-11-23"
    assert reversal["label"] == "Extourne de Facture F-2026-001"
    assert reversal["reference"] == "F-2026-001"
    assert reversal["status"] == "posted"
    assert reversal["lines"] == [
        {
            "account": "411000",
            "debit": None,
            "credit": "120.00",
            "label": "Client Dupont",
            "third_party": None,
        },
        {
            "account": "706000",
            "debit": "100.00",
            "credit": None,
            "label": None,
            "third_party": None,
        },
        {"account": "445710", "debit": "20.00", "credit": None, "label": None, "third_party": None},
    ]

    reread = (await client.get(url(ledger, "entries", original["id"]))).json()
    assert unsealed(reread) == unsealed({**original, "reversed_by": reversal["id"]})
    reread = (await client.get(url(ledger, "entries", reversal["id"]))).json()
    assert unsealed(reread) == unsealed(reversal)


async def test_a_reversed_entry_nets_to_nothing(client: httpx.AsyncClient, ledger: str) -> None:
    original = await _post_design_entry(client, ledger)
    await client.post(url(ledger, "entries", original["id"], "reverse"))
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert {i["account"]: (i["debit"], i["credit"], i["balance"]) for i in tb["items"]} == {
        "411000": ("120.00", "120.00", "0.00"),
        "445710": ("20.00", "20.00", "0.00"),
        "706000": ("100.00", "100.00", "0.00"),
    }
    assert tb["totals"] == {"debit": "240.00", "credit": "240.00", "balance": "0.00"}


async def test_a_reversal_may_have_its_own_date_and_label(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await _post_design_entry(client, ledger)
    response = await client.post(
        url(ledger, "entries", original["id"], "reverse"),
        json={"date": "2026-12-01", "label": "Avoir A-2026-001"},
    )
    assert response.status_code == 201, response.text
    reversal = response.json()
    assert reversal["date"] == "2026-12-01"
    assert reversal["label"] == "Avoir A-2026-001"
    assert await balances(client, ledger, to="2026-11-30") == {
        "411000": "120.00",
        "445710": "-20.00",
        "706000": "-100.00",
    }
    assert await balances(client, ledger, **{"from": "2026-12-01"}) == {
        "411000": "-120.00",
        "445710": "20.00",
        "706000": "100.00",
    }


async def test_a_reversal_with_an_empty_body_uses_the_defaults(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await _post_design_entry(client, ledger)
    response = await client.post(url(ledger, "entries", original["id"], "reverse"), json={})
    assert response.status_code == 201, response.text
    assert response.json()["date"] == original["date"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"date": "tomorrow"}, "invalid-date"),
        ({"label": ""}, "validation-error"),
        ({"label": "  "}, "invalid-text"),
        ({"date": None}, "validation-error"),
        ({"reason": "typo"}, "validation-error"),
        ({"lines": []}, "validation-error"),
    ],
    ids=["bad-date", "empty-label", "blank-label", "null-date", "unknown-field", "lines"],
)
async def test_an_invalid_reversal_body_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, ledger: str, body: dict[str, Any], problem: str
) -> None:
    original = await _post_design_entry(client, ledger)
    before = await snapshot(client, ledger)
    response = await client.post(url(ledger, "entries", original["id"], "reverse"), json=body)
    assert_problem(response, 422, problem)
    assert await snapshot(client, ledger) == before


async def test_an_entry_is_reversed_at_most_once(client: httpx.AsyncClient, ledger: str) -> None:
    original = await _post_design_entry(client, ledger)
    first = await client.post(url(ledger, "entries", original["id"], "reverse"))
    assert first.status_code == 201
    before = await snapshot(client, ledger)
    again = await client.post(url(ledger, "entries", original["id"], "reverse"))
    problem = assert_problem(again, 409, "already-reversed")
    assert problem["reversed_by"] == first.json()["id"]
    assert await snapshot(client, ledger) == before


async def test_reversal_of_reversal_is_refused(client: httpx.AsyncClient, ledger: str) -> None:
    original = await _post_design_entry(client, ledger)
    reversal = (await client.post(url(ledger, "entries", original["id"], "reverse"))).json()
    before = await snapshot(client, ledger)
    response = await client.post(url(ledger, "entries", reversal["id"], "reverse"))
    assert_problem(response, 409, "reversal-of-reversal")
    assert await snapshot(client, ledger) == before


async def test_concurrent_reversals_post_exactly_one(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await _post_design_entry(client, ledger)
    responses = await asyncio.gather(
        *(client.post(url(ledger, "entries", original["id"], "reverse")) for _ in range(4))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409, 409, 409], [r.text for r in responses]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "already-reversed")
    entries, _ = await walk(client, url(ledger, "entries"))
    assert len(entries) == 2


async def test_reversing_an_unknown_entry_is_not_found(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.post(url(ledger, "entries", str(uuid.uuid4()), "reverse"))
    assert_problem(response, 404, "entry-not-found")


async def test_an_entry_cannot_be_reversed_through_another_ledger(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await _post_design_entry(client, ledger)
    response = await client.post(url("main", "entries", original["id"], "reverse"))
    assert_problem(response, 404, "entry-not-found")
    reread = (await client.get(url(ledger, "entries", original["id"]))).json()
    assert unsealed(reread) == unsealed(original)


async def test_an_entry_on_a_since_deactivated_account_can_still_be_reversed(
    client: httpx.AsyncClient, ledger: str
) -> None:
    # Deactivating an account stops new postings on it, not the correction of old ones.
    original = await _post_design_entry(client, ledger)
    await client.patch(url(ledger, "accounts", "706000"), json={"active": False})
    response = await client.post(url(ledger, "entries", original["id"], "reverse"))
    assert response.status_code == 201, response.text
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert all(item["balance"] == "0.00" for item in tb["items"])
    fresh = await client.post(
        url(ledger, "entries"),
        json={
            "journal": "VE",
            "date": "2026-11-24",
            "label": "Nouvelle vente",
            "lines": [
                {"account": "411000", "debit": "10.00"},
                {"account": "706000", "credit": "10.00"},
            ],
        },
    )
    assert_problem(fresh, 422, "inactive-account")


async def test_a_reversal_dated_before_its_entry_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await _post_design_entry(client, ledger)
    before = await snapshot(client, ledger)
    response = await client.post(
        url(ledger, "entries", original["id"], "reverse"), json={"date": "2026-01-01"}
    )
    assert_problem(response, 422, "invalid-reversal-date")
    assert await snapshot(client, ledger) == before


async def test_a_reversal_retried_with_its_key_is_posted_once(
    client: httpx.AsyncClient, ledger: str
) -> None:
    original = await _post_design_entry(client, ledger)
    headers = {"Idempotency-Key": f"rev-{uuid.uuid4()}"}
    path = url(ledger, "entries", original["id"], "reverse")
    first = await client.post(path, headers=headers)
    again = await client.post(path, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_a_posted_entry_cannot_be_changed_or_deleted(
    client: httpx.AsyncClient, ledger: str, method: str
) -> None:
    original = await _post_design_entry(client, ledger)
    before = await snapshot(client, ledger)
    response = await client.request(
        method, url(ledger, "entries", original["id"]), json={"label": "changed"}
    )
    problem = assert_problem(response, 405, "entry-immutable")
    assert "reverse" in problem["detail"]
    allowed = {m.strip() for m in response.headers["allow"].split(",")}
    assert "GET" in allowed
    assert not allowed & {"PUT", "PATCH", "DELETE"}
    assert await snapshot(client, ledger) == before
    reread = (await client.get(url(ledger, "entries", original["id"]))).json()
    assert unsealed(reread) == unsealed(original)
