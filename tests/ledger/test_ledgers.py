"""Ledgers: creation with or without the PCG, currencies, renaming, listing."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.conftest import assert_problem
from tests.entry.helpers import API, new_ledger, url, walk


def fresh_code() -> str:
    return f"l{uuid.uuid4().hex[:12]}"


async def test_a_ledger_is_created_with_the_pcg_chart_and_default_journals(
    client: httpx.AsyncClient,
) -> None:
    code = fresh_code()
    response = await client.post(API, json={"code": code, "name": "ACME SAS"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["code"] == code
    assert body["name"] == "ACME SAS"
    assert body["currency"] == "EUR"
    assert body["decimals"] == 2
    assert body["created_at"]
    assert response.headers["location"] == f"{API}/{code}"
    assert (await client.get(url(code))).json() == body

    accounts = (await client.get(url(code, "accounts", "411000"))).json()
    assert accounts == {
        "number": "411000",
        "name": "Clients",
        "class": 4,
        "active": True,
        "collective": True,
    }
    journals = (await client.get(url(code, "journals"))).json()["items"]
    assert {j["code"] for j in journals} == {"AC", "VE", "BQ", "CA", "OD", "AN"}


async def test_an_empty_chart_ledger_has_journals_but_no_accounts(
    client: httpx.AsyncClient,
) -> None:
    code = fresh_code()
    await new_ledger(client, code, chart="empty")
    accounts = (await client.get(url(code, "accounts"))).json()
    assert accounts == {"items": [], "next_cursor": None}
    journals = (await client.get(url(code, "journals"))).json()["items"]
    assert {j["code"] for j in journals} == {"AC", "VE", "BQ", "CA", "OD", "AN"}
    refused = await client.post(
        url(code, "entries"),
        json={
            "journal": "OD",
            "date": "2026-01-01",
            "label": "x",
            "lines": [
                {"account": "512000", "debit": "1.00"},
                {"account": "411000", "credit": "1.00"},
            ],
        },
    )
    assert_problem(refused, 422, "unknown-account")


async def test_creating_a_ledger_twice_is_a_conflict(client: httpx.AsyncClient) -> None:
    code = fresh_code()
    first = await new_ledger(client, code)
    again = await client.post(API, json={"code": code, "name": "Other", "chart": "empty"})
    assert_problem(again, 409, "ledger-exists")
    assert (await client.get(url(code))).json() == first


async def test_the_seeded_ledger_code_cannot_be_taken(client: httpx.AsyncClient) -> None:
    assert_problem(await client.post(API, json={"code": "main", "name": "x"}), 409, "ledger-exists")


async def test_an_unknown_currency_is_refused(client: httpx.AsyncClient) -> None:
    code = fresh_code()
    response = await client.post(API, json={"code": code, "name": "x", "currency": "XXX"})
    body = assert_problem(response, 422, "unknown-currency")
    assert "EUR" in body["supported"]
    assert_problem(await client.get(url(code)), 404, "ledger-not-found")


async def test_a_malformed_currency_or_code_is_refused(client: httpx.AsyncClient) -> None:
    for payload in (
        {"code": fresh_code(), "name": "x", "currency": "eur"},
        {"code": "Upper", "name": "x"},
        {"code": "a" * 33, "name": "x"},
        {"code": "-dash", "name": "x"},
        {"code": fresh_code(), "name": ""},
        {"code": fresh_code(), "name": "x", "chart": "ifrs"},
        {"code": fresh_code(), "name": "x", "colour": "blue"},
    ):
        assert_problem(await client.post(API, json=payload), 422, "validation-error")


async def test_a_jpy_ledger_has_no_decimals(client: httpx.AsyncClient) -> None:
    code = fresh_code()
    created = await new_ledger(client, code, currency="JPY")
    assert created["currency"] == "JPY"
    assert created["decimals"] == 0
    lines = [{"account": "512000", "debit": "1500"}, {"account": "706000", "credit": "1500.0"}]
    body = {"journal": "VE", "date": "2026-03-01", "label": "Vente", "lines": lines}
    posted = await client.post(url(code, "entries"), json=body)
    assert posted.status_code == 201, posted.text
    assert [(line["debit"], line["credit"]) for line in posted.json()["lines"]] == [
        ("1500", None),
        (None, "1500"),
    ]
    tb = (await client.get(url(code, "trial-balance"))).json()
    assert tb["totals"] == {"debit": "1500", "credit": "1500", "balance": "0"}
    yen_fraction = {**body, "lines": [{**lines[0], "debit": "1.5"}, {**lines[1], "credit": "1.5"}]}
    assert_problem(
        await client.post(url(code, "entries"), json=yen_fraction), 422, "invalid-amount"
    )


async def test_a_kwd_ledger_has_three_decimals(client: httpx.AsyncClient) -> None:
    code = fresh_code()
    assert (await new_ledger(client, code, currency="KWD"))["decimals"] == 3
    body = {
        "journal": "OD",
        "date": "2026-03-01",
        "label": "x",
        "lines": [
            {"account": "512000", "debit": "1.005"},
            {"account": "706000", "credit": "1.005"},
        ],
    }
    posted = await client.post(url(code, "entries"), json=body)
    assert posted.status_code == 201, posted.text
    assert posted.json()["lines"][0]["debit"] == "1.005"


async def test_a_ledger_can_be_renamed(client: httpx.AsyncClient) -> None:
    code = fresh_code()
    created = await new_ledger(client, code)
    response = await client.patch(url(code), json={"name": "Nouveau nom"})
    assert response.status_code == 200, response.text
    assert response.json() == {**created, "name": "Nouveau nom"}
    assert (await client.get(url(code))).json()["name"] == "Nouveau nom"


async def test_renaming_refuses_other_fields(client: httpx.AsyncClient) -> None:
    code = fresh_code()
    created = await new_ledger(client, code)
    response = await client.patch(url(code), json={"name": "x", "currency": "USD"})
    assert_problem(response, 422, "validation-error")
    assert (await client.get(url(code))).json() == created


async def test_a_ledger_carries_its_siren_which_is_checked_and_can_be_cleared(
    client: httpx.AsyncClient,
) -> None:
    code = fresh_code()
    created = await new_ledger(client, code)
    assert created["siren"] is None
    response = await client.patch(url(code), json={"siren": "732829320"})
    assert response.status_code == 200, response.text
    assert response.json() == {**created, "siren": "732829320"}
    for wrong in ("732829321", "73282932", "73282932A", " 732829320"):
        refused = await client.patch(url(code), json={"siren": wrong})
        assert refused.status_code == 422, (wrong, refused.text)
        assert (await client.get(url(code))).json()["siren"] == "732829320"
    assert_problem(
        await client.patch(url(code), json={"siren": "732829321"}), 422, "invalid-identifier"
    )
    renamed = await client.patch(url(code), json={"name": "Renommé"})
    assert renamed.json()["siren"] == "732829320"
    cleared = await client.patch(url(code), json={"siren": None})
    assert cleared.json() == {**created, "name": "Renommé", "siren": None}


async def test_an_unknown_ledger_is_not_found(client: httpx.AsyncClient) -> None:
    missing = fresh_code()
    assert_problem(await client.get(url(missing)), 404, "ledger-not-found")
    assert_problem(await client.patch(url(missing), json={"name": "x"}), 404, "ledger-not-found")
    for path in ("accounts", "journals", "entries", "trial-balance"):
        assert_problem(await client.get(url(missing, path)), 404, "ledger-not-found")


async def test_ledgers_are_listed_page_by_page_without_duplicates(
    client: httpx.AsyncClient,
) -> None:
    mine = {fresh_code() for _ in range(3)}
    for code in mine:
        await new_ledger(client, code, chart="empty")
    # The session's app holds every test's ledgers: compare big pages with small ones.
    big, _ = await walk(client, API, limit=500)
    expected = [item["code"] for item in big]

    walked, pages = await walk(client, API, limit=7)
    codes = [item["code"] for item in walked]
    assert codes == expected
    assert len(set(codes)) == len(codes)
    assert mine <= set(codes)
    assert "main" in codes
    assert pages >= (len(codes) + 6) // 7


async def test_a_garbage_ledger_cursor_is_refused(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(API, params={"cursor": "garbage"}), 422, "invalid-cursor")


async def test_concurrent_creations_of_one_ledger_make_exactly_one(
    client: httpx.AsyncClient,
) -> None:
    code = fresh_code()
    responses = await asyncio.gather(
        *(client.post(API, json={"code": code, "name": f"n{i}"}) for i in range(4))
    )
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    for response in responses:
        if response.status_code == 409:
            assert_problem(response, 409, "ledger-exists")
    accounts, _ = await walk(client, url(code, "accounts"), limit=500)
    numbers = [a["number"] for a in accounts]
    assert len(numbers) == len(set(numbers))
    journals = (await client.get(url(code, "journals"))).json()["items"]
    assert len(journals) == 6
