"""Idempotency-Key on entry posts: a retry replays the first answer and posts nothing new."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.conftest import FIRST_DAY, assert_problem
from tests.entry.helpers import DESIGN_ENTRY, credit, debit, design_entry, snapshot, url, walk


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


async def test_a_retry_with_the_same_key_replays_the_first_response(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    first = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers

    again = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]

    entries, _ = await walk(client, url(ledger, "entries"))
    assert [e["id"] for e in entries] == [first.json()["id"]]
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert tb["totals"]["debit"] == "120.00"


async def test_a_key_is_not_confused_by_the_order_of_json_fields(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    first = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    reordered = dict(reversed(list(DESIGN_ENTRY.items())))
    again = await client.post(url(ledger, "entries"), json=reordered, headers=headers)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert len((await walk(client, url(ledger, "entries")))[0]) == 1


async def test_reusing_a_key_for_a_different_entry_is_refused(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    first = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    assert first.status_code == 201
    before = await snapshot(client, ledger)
    other = design_entry(label="Facture F-2026-002")
    response = await client.post(url(ledger, "entries"), json=other, headers=headers)
    assert_problem(response, 422, "idempotency-key-reused")
    assert await snapshot(client, ledger) == before


async def test_a_key_is_scoped_to_its_ledger(client: httpx.AsyncClient, ledger: str) -> None:
    other_ledger = f"t{uuid.uuid4().hex[:12]}"
    created = await client.post(
        "/api/v1/ledgers",
        json={"code": other_ledger, "name": "Other", "fiscal_year_start": FIRST_DAY},
    )
    assert created.status_code == 201
    headers = {"Idempotency-Key": new_key()}
    here = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    there = await client.post(url(other_ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    assert here.status_code == there.status_code == 201
    assert "idempotent-replayed" not in there.headers
    assert here.json()["id"] != there.json()["id"]


async def test_concurrent_posts_with_one_key_create_exactly_one_entry(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    responses = await asyncio.gather(
        *(client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers) for _ in range(5))
    )
    assert [r.status_code for r in responses] == [201] * 5, [r.text for r in responses]
    bodies = [r.json() for r in responses]
    assert all(body == bodies[0] for body in bodies)
    assert sum("idempotent-replayed" not in r.headers for r in responses) == 1
    entries, _ = await walk(client, url(ledger, "entries"))
    assert [e["id"] for e in entries] == [bodies[0]["id"]]
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert tb["totals"] == {"debit": "120.00", "credit": "120.00", "balance": "0.00"}


async def test_concurrent_posts_with_different_keys_all_post(
    client: httpx.AsyncClient, ledger: str
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                url(ledger, "entries"), json=DESIGN_ENTRY, headers={"Idempotency-Key": new_key()}
            )
            for _ in range(5)
        )
    )
    assert [r.status_code for r in responses] == [201] * 5
    assert len({r.json()["id"] for r in responses}) == 5
    assert len((await walk(client, url(ledger, "entries")))[0]) == 5


async def test_a_refused_request_does_not_burn_its_key(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    unbalanced = design_entry(lines=[debit("411000", "120.00"), credit("706000", "100.00")])
    refused = await client.post(url(ledger, "entries"), json=unbalanced, headers=headers)
    assert_problem(refused, 422, "unbalanced-entry")
    refused_again = await client.post(url(ledger, "entries"), json=unbalanced, headers=headers)
    assert_problem(refused_again, 422, "unbalanced-entry")

    accepted = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert "idempotent-replayed" not in accepted.headers
    replayed = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    assert replayed.headers["idempotent-replayed"] == "true"
    assert replayed.json() == accepted.json()


async def test_a_key_refused_for_an_inactive_account_is_free_once_reactivated(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    await client.post(url(ledger, "accounts"), json={"number": "411100", "name": "Dupont"})
    await client.patch(url(ledger, "accounts", "411100"), json={"active": False})
    body = design_entry(
        lines=[debit("411100", "120.00"), credit("706000", "100.00"), credit("445710", "20.00")]
    )
    refused = await client.post(url(ledger, "entries"), json=body, headers=headers)
    assert_problem(refused, 422, "inactive-account")
    await client.patch(url(ledger, "accounts", "411100"), json={"active": True})
    accepted = await client.post(url(ledger, "entries"), json=body, headers=headers)
    assert accepted.status_code == 201, accepted.text
    assert "idempotent-replayed" not in accepted.headers


async def test_posts_without_a_key_are_not_deduplicated(
    client: httpx.AsyncClient, ledger: str
) -> None:
    first = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY)
    second = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


async def test_a_malformed_key_is_refused(client: httpx.AsyncClient, ledger: str) -> None:
    for key in ("", "has space", "x" * 256, "clé".encode()):
        response = await client.post(
            url(ledger, "entries"), json=DESIGN_ENTRY, headers={"Idempotency-Key": key}
        )
        assert_problem(response, 422, "validation-error")
    assert (await walk(client, url(ledger, "entries")))[0] == []


async def test_a_key_used_for_a_post_cannot_be_reused_for_a_reversal(
    client: httpx.AsyncClient, ledger: str
) -> None:
    headers = {"Idempotency-Key": new_key()}
    posted = await client.post(url(ledger, "entries"), json=DESIGN_ENTRY, headers=headers)
    assert posted.status_code == 201
    before = await snapshot(client, ledger)
    reverse = await client.post(
        url(ledger, "entries", posted.json()["id"], "reverse"), headers=headers
    )
    assert_problem(reverse, 422, "idempotency-key-reused")
    assert await snapshot(client, ledger) == before
