"""Journals of a ledger: the seeded ones, and opening more."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, post_entry, url, walk
from tests.ledger.test_seed import DEFAULT_JOURNALS


async def test_a_new_ledger_has_the_default_journals(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.get(url(ledger, "journals"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["items"] == [
        {"code": code, "name": DEFAULT_JOURNALS[code]} for code in sorted(DEFAULT_JOURNALS)
    ]
    assert body["next_cursor"] is None


async def test_journals_are_walked_page_by_page(client: httpx.AsyncClient, ledger: str) -> None:
    walked, pages = await walk(client, url(ledger, "journals"), limit=4)
    assert [j["code"] for j in walked] == sorted(DEFAULT_JOURNALS)
    assert pages == 2


async def test_a_journal_is_opened_and_used(client: httpx.AsyncClient, ledger: str) -> None:
    response = await client.post(
        url(ledger, "journals"), json={"code": "VE2", "name": "Ventes export"}
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"code": "VE2", "name": "Ventes export"}
    codes = [j["code"] for j in (await client.get(url(ledger, "journals"))).json()["items"]]
    assert "VE2" in codes
    entry = await post_entry(
        client, ledger, [debit("411000", "1.00"), credit("706000", "1.00")], journal="VE2"
    )
    assert entry["journal"] == "VE2"


async def test_opening_an_existing_journal_is_a_conflict(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.post(url(ledger, "journals"), json={"code": "VE", "name": "Autre"})
    assert_problem(response, 409, "journal-exists")
    journals = (await client.get(url(ledger, "journals"))).json()["items"]
    assert {"code": "VE", "name": "Ventes"} in journals


@pytest.mark.parametrize("code", ["", "ve", "TOOLONG12", "V E", "VÉ"])
async def test_an_invalid_journal_code_is_refused(
    client: httpx.AsyncClient, ledger: str, code: str
) -> None:
    response = await client.post(url(ledger, "journals"), json={"code": code, "name": "x"})
    assert_problem(response, 422, "validation-error")


async def test_a_journal_belongs_to_its_ledger(client: httpx.AsyncClient, ledger: str) -> None:
    await client.post(url(ledger, "journals"), json={"code": "ZZ", "name": "Local"})
    main_codes = [j["code"] for j in (await client.get(url("main", "journals"))).json()["items"]]
    assert "ZZ" not in main_codes


async def test_concurrent_openings_of_one_journal_make_exactly_one(
    client: httpx.AsyncClient, ledger: str
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(url(ledger, "journals"), json={"code": "EX", "name": f"n{i}"})
            for i in range(8)
        )
    )
    assert sorted(r.status_code for r in responses) == [201] + [409] * 7
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "journal-exists")
    codes = [j["code"] for j in (await client.get(url(ledger, "journals"))).json()["items"]]
    assert codes.count("EX") == 1
