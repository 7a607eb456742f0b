"""POST /entries/batch: up to 1,000 entries, each checked as a single post, all or none."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.conftest import assert_problem
from tests.entry.helpers import (
    balances,
    credit,
    debit,
    design_entry,
    snapshot,
    unsealed,
    url,
)


def sale(n: int, amount: str = "10.00") -> dict[str, Any]:
    return design_entry(
        reference=f"B-{n}",
        label=f"Vente {n}",
        lines=[debit("411000", amount), credit("706000", amount)],
    )


async def test_a_batch_posts_every_entry_in_order(client: httpx.AsyncClient, ledger: str) -> None:
    body = {"entries": [sale(1, "10.00"), sale(2, "20.00"), sale(3, "30.00")]}
    response = await client.post(url(ledger, "entries", "batch"), json=body)
    assert response.status_code == 201, response.text
    items = response.json()["items"]
    assert [item["reference"] for item in items] == ["B-1", "B-2", "B-3"]
    assert len({item["id"] for item in items}) == 3
    for item in items:
        read = await client.get(url(ledger, "entries", item["id"]))
        assert unsealed(read.json()) == unsealed(item)
    assert (await balances(client, ledger))["706000"] == "-60.00"


async def test_one_refused_entry_refuses_the_batch_and_names_it(
    client: httpx.AsyncClient, ledger: str
) -> None:
    before = await snapshot(client, ledger)
    unbalanced = design_entry(lines=[debit("411000", "10.00"), credit("706000", "9.00")])
    unknown = design_entry(lines=[debit("411999", "10.00"), credit("706000", "10.00")])
    body = {"entries": [sale(1), unbalanced, sale(3), unknown]}
    response = await client.post(url(ledger, "entries", "batch"), json=body)
    problem = assert_problem(response, 422, "entries-refused")
    refused = {item["index"]: item for item in problem["entries"]}
    assert set(refused) == {1, 3}
    assert refused[1]["type"] == "unbalanced-entry"
    assert refused[3]["type"] == "unknown-account"
    assert refused[3]["accounts"] == ["411999"]
    assert await snapshot(client, ledger) == before


async def test_a_batch_with_an_idempotency_key_replays_its_first_answer(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": f"batch-{uuid.uuid4()}"}
    body = {"entries": [sale(1), sale(2)]}
    first = await client.post(url(ledger, "entries", "batch"), json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = await client.post(url(ledger, "entries", "batch"), json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    other = await client.post(
        url(ledger, "entries", "batch"), json={"entries": [sale(9)]}, headers=headers
    )
    assert_problem(other, 422, "idempotency-key-reused")
    assert (await balances(client, ledger))["706000"] == "-20.00"


async def test_a_batch_of_a_thousand_is_taken_and_one_more_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    entries = [sale(n, "1.00") for n in range(1000)]
    response = await client.post(url(ledger, "entries", "batch"), json={"entries": entries})
    assert response.status_code == 201, response.text
    assert len(response.json()["items"]) == 1000
    assert (await balances(client, ledger))["706000"] == "-1000.00"
    too_many = await client.post(
        url(ledger, "entries", "batch"), json={"entries": [*entries, sale(1000)]}
    )
    assert_problem(too_many, 422, "validation-error")
    empty = await client.post(url(ledger, "entries", "batch"), json={"entries": []})
    assert_problem(empty, 422, "validation-error")
    assert (await balances(client, ledger))["706000"] == "-1000.00"


async def test_a_malformed_entry_in_a_batch_is_located(
    client: httpx.AsyncClient, ledger: str
) -> None:
    body = {"entries": [sale(1), design_entry(date="2026-13-01")]}
    problem = assert_problem(
        await client.post(url(ledger, "entries", "batch"), json=body), 422, "invalid-date"
    )
    assert problem["errors"][0]["loc"] == ["body", "entries", "1", "date"]
