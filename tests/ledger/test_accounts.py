"""Accounts of a ledger's chart: open, rename, deactivate, reactivate, delete, list."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, post_entry, url, walk
from tests.ledger.test_seed import shipped_chart


async def test_an_account_is_opened(client: httpx.AsyncClient, ledger: str) -> None:
    response = await client.post(
        url(ledger, "accounts"), json={"number": "411100", "name": "Client Dupont"}
    )
    assert response.status_code == 201, response.text
    created = {
        "number": "411100",
        "name": "Client Dupont",
        "class": 4,
        "active": True,
        "collective": True,
    }
    assert response.json() == created
    assert response.headers["location"] == url(ledger, "accounts", "411100")
    assert (await client.get(url(ledger, "accounts", "411100"))).json() == created


@pytest.mark.parametrize(
    ("number", "class_"),
    [
        ("101900", 1),
        ("2159", 2),
        ("3799", 3),
        ("401900", 4),
        ("512900", 5),
        ("6019", 6),
        ("7069", 7),
        ("8019", 8),
    ],
)
async def test_an_account_class_is_its_first_digit(
    client: httpx.AsyncClient, ledger: str, number: str, class_: int
) -> None:
    response = await client.post(url(ledger, "accounts"), json={"number": number, "name": "x"})
    assert response.status_code == 201, response.text
    assert response.json()["class"] == class_


async def test_opening_an_existing_account_is_a_conflict(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.post(url(ledger, "accounts"), json={"number": "411000", "name": "x"})
    assert_problem(response, 409, "account-exists")
    assert (await client.get(url(ledger, "accounts", "411000"))).json()["name"] == "Clients"


@pytest.mark.parametrize(
    "number", ["", "4", "0411", "911000", "41a000", "411 000", "-41100", "4" * 21, 411000]
)
async def test_an_invalid_account_number_is_refused(
    client: httpx.AsyncClient, ledger: str, number: object
) -> None:
    response = await client.post(url(ledger, "accounts"), json={"number": number, "name": "x"})
    assert_problem(response, 422, "validation-error")


async def test_an_account_without_a_name_is_refused(client: httpx.AsyncClient, ledger: str) -> None:
    for body, problem in (
        ({"number": "411100"}, "validation-error"),
        ({"number": "411100", "name": ""}, "validation-error"),
        ({"number": "411100", "name": "  "}, "invalid-text"),
    ):
        assert_problem(await client.post(url(ledger, "accounts"), json=body), 422, problem)
    assert_problem(await client.get(url(ledger, "accounts", "411100")), 404, "account-not-found")


async def test_an_account_is_renamed(client: httpx.AsyncClient, ledger: str) -> None:
    response = await client.patch(url(ledger, "accounts", "512000"), json={"name": "Banque BNP"})
    assert response.status_code == 200, response.text
    assert response.json() == {
        "number": "512000",
        "name": "Banque BNP",
        "class": 5,
        "active": True,
        "collective": False,
    }
    assert (await client.get(url(ledger, "accounts", "512000"))).json()["name"] == "Banque BNP"


async def test_an_account_number_cannot_be_changed(client: httpx.AsyncClient, ledger: str) -> None:
    response = await client.patch(url(ledger, "accounts", "512000"), json={"number": "512100"})
    assert_problem(response, 422, "validation-error")


async def test_a_deactivated_account_refuses_postings_until_reactivated(
    client: httpx.AsyncClient, ledger: str
) -> None:
    lines = [debit("512000", "10.00"), credit("706000", "10.00")]
    await post_entry(client, ledger, lines)

    off = await client.patch(url(ledger, "accounts", "706000"), json={"active": False})
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False
    assert (await client.get(url(ledger, "accounts", "706000"))).json()["active"] is False

    body = {"journal": "OD", "date": "2026-01-16", "label": "x", "lines": lines}
    refused = await client.post(url(ledger, "entries"), json=body)
    problem = assert_problem(refused, 422, "inactive-account")
    assert problem["accounts"] == ["706000"]

    on = await client.patch(url(ledger, "accounts", "706000"), json={"active": True})
    assert on.json()["active"] is True
    assert (await client.post(url(ledger, "entries"), json=body)).status_code == 201


async def test_a_deactivated_account_keeps_its_history(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await post_entry(client, ledger, [debit("512000", "10.00"), credit("706000", "10.00")])
    await client.patch(url(ledger, "accounts", "706000"), json={"active": False})
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert {i["account"]: i["balance"] for i in tb["items"]} == {
        "512000": "10.00",
        "706000": "-10.00",
    }
    balance = (await client.get(url(ledger, "accounts", "706000", "balance"))).json()
    assert balance["balance"] == "-10.00"


async def test_an_unused_account_is_deleted(client: httpx.AsyncClient, ledger: str) -> None:
    await client.post(url(ledger, "accounts"), json={"number": "411100", "name": "Dupont"})
    response = await client.delete(url(ledger, "accounts", "411100"))
    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(url(ledger, "accounts", "411100")), 404, "account-not-found")
    again = await client.delete(url(ledger, "accounts", "411100"))
    assert_problem(again, 404, "account-not-found")


async def test_a_used_account_cannot_be_deleted(client: httpx.AsyncClient, ledger: str) -> None:
    await post_entry(client, ledger, [debit("512000", "10.00"), credit("706000", "10.00")])
    response = await client.delete(url(ledger, "accounts", "706000"))
    assert_problem(response, 409, "account-in-use")
    assert (await client.get(url(ledger, "accounts", "706000"))).status_code == 200


async def test_an_unknown_account_is_not_found(client: httpx.AsyncClient, ledger: str) -> None:
    path = url(ledger, "accounts", "499999")
    assert_problem(await client.get(path), 404, "account-not-found")
    assert_problem(await client.patch(path, json={"name": "x"}), 404, "account-not-found")


async def test_accounts_are_filtered_by_prefix(client: httpx.AsyncClient, ledger: str) -> None:
    expected = sorted(n for n in shipped_chart() if n.startswith("41"))
    response = await client.get(url(ledger, "accounts"), params={"prefix": "41", "limit": 500})
    assert [a["number"] for a in response.json()["items"]] == expected
    assert all(a["class"] == 4 for a in response.json()["items"])


async def test_accounts_with_a_prefix_are_walked_page_by_page(
    client: httpx.AsyncClient, ledger: str
) -> None:
    expected = sorted(n for n in shipped_chart() if n.startswith("41"))
    walked, pages = await walk(client, url(ledger, "accounts"), prefix="41", limit=5)
    assert [a["number"] for a in walked] == expected
    assert pages == len(expected) // 5 + 1


async def test_the_whole_chart_is_walked_without_duplicates(
    client: httpx.AsyncClient, ledger: str
) -> None:
    walked, pages = await walk(client, url(ledger, "accounts"), limit=100)
    numbers = [a["number"] for a in walked]
    assert numbers == sorted(shipped_chart())
    assert len(set(numbers)) == len(numbers)
    assert pages > 1


async def test_accounts_are_filtered_by_activity(client: httpx.AsyncClient, ledger: str) -> None:
    await client.patch(url(ledger, "accounts", "411000"), json={"active": False})
    inactive = (await client.get(url(ledger, "accounts"), params={"active": "false"})).json()
    assert [a["number"] for a in inactive["items"]] == ["411000"]
    active, _ = await walk(client, url(ledger, "accounts"), active="true", prefix="411")
    assert "411000" not in {a["number"] for a in active}


async def test_a_bad_account_list_query_is_refused(client: httpx.AsyncClient, ledger: str) -> None:
    path = url(ledger, "accounts")
    assert_problem(await client.get(path, params={"prefix": "4%"}), 422, "validation-error")
    assert_problem(await client.get(path, params={"limit": 0}), 422, "validation-error")
    assert_problem(await client.get(path, params={"cursor": "xyz"}), 422, "invalid-cursor")
    journals_cursor = (await client.get(url(ledger, "journals"), params={"limit": 1})).json()
    wrong_list = await client.get(path, params={"cursor": journals_cursor["next_cursor"]})
    assert_problem(wrong_list, 422, "invalid-cursor")


async def test_concurrent_openings_of_one_account_make_exactly_one(
    client: httpx.AsyncClient, ledger: str
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(url(ledger, "accounts"), json={"number": "411900", "name": f"n{i}"})
            for i in range(8)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "account-exists")
    listed = (await client.get(url(ledger, "accounts"), params={"prefix": "4119"})).json()
    assert [a["number"] for a in listed["items"]] == ["411900"]


async def test_a_deleted_account_number_can_be_opened_again(
    client: httpx.AsyncClient, ledger: str
) -> None:
    assert (await client.delete(url(ledger, "accounts", "530000"))).status_code == 204
    response = await client.post(
        url(ledger, "accounts"), json={"number": "530000", "name": "Caisse siège"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Caisse siège"
