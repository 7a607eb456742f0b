"""The trial balance (balance générale): totals per account, netting to zero, over a range."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
import pytest

from tests.conftest import FIRST_DAY, assert_problem
from tests.entry.helpers import credit, debit, post_entry, url


async def _post_quarter(client: httpx.AsyncClient, ledger: str) -> None:
    await post_entry(
        client,
        ledger,
        [debit("411000", "120.00"), credit("706000", "100.00"), credit("445710", "20.00")],
        journal="VE",
        date="2026-01-15",
    )
    await post_entry(
        client, ledger, [debit("512000", "120.00"), credit("411000", "120.00")], date="2026-02-10"
    )
    await post_entry(
        client,
        ledger,
        [debit("607000", "50.00"), debit("445660", "10.00"), credit("401000", "60.00")],
        journal="AC",
        date="2026-03-01",
    )
    await post_entry(
        client, ledger, [debit("401000", "60.00"), credit("512000", "60.00")], date="2026-03-31"
    )


async def test_the_trial_balance_totals_every_account(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    response = await client.get(url(ledger, "trial-balance"))
    assert response.status_code == 200, response.text
    tb = response.json()
    assert tb["date_from"] is None
    assert tb["date_to"] is None
    assert tb["items"] == [
        {"account": "401000", "name": "Fournisseurs", "opening": "0.00", "debit": "60.00",
         "credit": "60.00", "balance": "0.00", "closing": "0.00"},
        {"account": "411000", "name": "Clients", "opening": "0.00", "debit": "120.00",
         "credit": "120.00", "balance": "0.00", "closing": "0.00"},
        {"account": "445660", "name": "TVA déductible sur autres biens et services",
         "opening": "0.00", "debit": "10.00", "credit": "0.00", "balance": "10.00",
         "closing": "10.00"},
        {"account": "445710", "name": "TVA collectée", "opening": "0.00", "debit": "0.00",
         "credit": "20.00", "balance": "-20.00", "closing": "-20.00"},
        {"account": "512000", "name": "Banque", "opening": "0.00", "debit": "120.00",
         "credit": "60.00", "balance": "60.00", "closing": "60.00"},
        {"account": "607000", "name": "Achats de marchandises", "opening": "0.00",
         "debit": "50.00", "credit": "0.00", "balance": "50.00", "closing": "50.00"},
        {"account": "706000", "name": "Prestations de services", "opening": "0.00",
         "debit": "0.00", "credit": "100.00", "balance": "-100.00", "closing": "-100.00"},
    ]  # fmt: skip
    assert tb["totals"] == {"debit": "360.00", "credit": "360.00", "balance": "0.00"}


async def test_an_empty_ledger_has_an_empty_balanced_trial_balance(
    client: httpx.AsyncClient, ledger: str
) -> None:
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert tb["items"] == []
    assert tb["totals"] == {"debit": "0.00", "credit": "0.00", "balance": "0.00"}


async def test_the_trial_balance_is_limited_to_a_date_range(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    response = await client.get(
        url(ledger, "trial-balance"), params={"from": "2026-02-10", "to": "2026-03-01"}
    )
    tb = response.json()
    assert tb["date_from"] == "2026-02-10"
    assert tb["date_to"] == "2026-03-01"
    assert {i["account"]: i["balance"] for i in tb["items"]} == {
        "401000": "-60.00",
        "411000": "-120.00",
        "445660": "10.00",
        # Unmoved in the range, they carry the January invoice's balance through it.
        "445710": "0.00",
        "512000": "120.00",
        "607000": "50.00",
        "706000": "0.00",
    }
    assert tb["totals"] == {"debit": "180.00", "credit": "180.00", "balance": "0.00"}


async def test_open_ended_ranges_include_their_bound(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    up_to = (await client.get(url(ledger, "trial-balance"), params={"to": "2026-01-15"})).json()
    assert up_to["totals"]["debit"] == "120.00"
    since = (await client.get(url(ledger, "trial-balance"), params={"from": "2026-03-31"})).json()
    assert {i["account"]: i["balance"] for i in since["items"]} == {
        "401000": "60.00",
        "445660": "0.00",
        "445710": "0.00",
        "512000": "-60.00",
        "607000": "0.00",
        "706000": "0.00",
    }


async def test_a_range_without_entries_lists_the_balances_it_carries(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    tb = (await client.get(url(ledger, "trial-balance"), params={"from": "2027-01-01"})).json()
    assert [
        (i["account"], i["opening"], i["debit"], i["credit"], i["closing"]) for i in tb["items"]
    ] == [
        ("445660", "10.00", "0.00", "0.00", "10.00"),
        ("445710", "-20.00", "0.00", "0.00", "-20.00"),
        ("512000", "60.00", "0.00", "0.00", "60.00"),
        ("607000", "50.00", "0.00", "0.00", "50.00"),
        ("706000", "-100.00", "0.00", "0.00", "-100.00"),
    ]
    assert tb["totals"] == {"debit": "0.00", "credit": "0.00", "balance": "0.00"}


async def test_the_trial_balance_refuses_a_reversed_range(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.get(
        url(ledger, "trial-balance"), params={"from": "2026-12-31", "to": "2026-01-01"}
    )
    assert_problem(response, 422, "invalid-date-range")


async def test_the_trial_balance_shows_renamed_account_names(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    await client.patch(url(ledger, "accounts", "512000"), json={"name": "Banque Populaire"})
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert {i["account"]: i["name"] for i in tb["items"]}["512000"] == "Banque Populaire"


async def test_large_totals_are_exact(client: httpx.AsyncClient, ledger: str) -> None:
    for _ in range(3):
        await post_entry(
            client,
            ledger,
            [debit("512000", "99999999999.99"), credit("101000", "99999999999.99")],
        )
    await post_entry(client, ledger, [debit("512000", "0.01"), credit("101000", "0.01")])
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert tb["totals"] == {
        "debit": "299999999999.98",
        "credit": "299999999999.98",
        "balance": "0.00",
    }


async def test_ledgers_do_not_see_each_others_entries(
    client: httpx.AsyncClient, ledger: str
) -> None:
    other = f"t{uuid.uuid4().hex[:12]}"
    created = await client.post(
        "/api/v1/ledgers", json={"code": other, "name": "Other", "fiscal_year_start": FIRST_DAY}
    )
    assert created.status_code == 201
    await _post_quarter(client, other)
    tb = (await client.get(url(ledger, "trial-balance"))).json()
    assert tb["items"] == []
    balance = (await client.get(url(ledger, "accounts", "512000", "balance"))).json()
    assert balance["balance"] == "0.00"
    movements = (await client.get(url(ledger, "accounts", "512000", "ledger"))).json()
    assert movements["items"] == []
    assert (await client.get(url(ledger, "entries"))).json()["items"] == []


# -- opening, movements, closing; classes; fiscal years ----------------------------------------


async def test_the_trial_balance_has_opening_movements_and_closing_by_account_and_class(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    tb = (
        await client.get(
            url(ledger, "trial-balance"), params={"from": "2026-02-01", "to": "2026-03-31"}
        )
    ).json()
    assert [
        (i["account"], i["opening"], i["debit"], i["credit"], i["balance"], i["closing"])
        for i in tb["items"]
    ] == [
        ("401000", "0.00", "60.00", "60.00", "0.00", "0.00"),
        ("411000", "120.00", "0.00", "120.00", "-120.00", "0.00"),
        ("445660", "0.00", "10.00", "0.00", "10.00", "10.00"),
        ("445710", "-20.00", "0.00", "0.00", "0.00", "-20.00"),
        ("512000", "0.00", "120.00", "60.00", "60.00", "60.00"),
        ("607000", "0.00", "50.00", "0.00", "50.00", "50.00"),
        ("706000", "-100.00", "0.00", "0.00", "0.00", "-100.00"),
    ]
    assert tb["classes"] == [
        {"class": 4, "name": "Comptes de tiers", "opening": "100.00", "debit": "70.00",
         "credit": "180.00", "balance": "-110.00", "closing": "-10.00"},
        {"class": 5, "name": "Comptes financiers", "opening": "0.00", "debit": "120.00",
         "credit": "60.00", "balance": "60.00", "closing": "60.00"},
        {"class": 6, "name": "Comptes de charges", "opening": "0.00", "debit": "50.00",
         "credit": "0.00", "balance": "50.00", "closing": "50.00"},
        {"class": 7, "name": "Comptes de produits", "opening": "-100.00", "debit": "0.00",
         "credit": "0.00", "balance": "0.00", "closing": "-100.00"},
    ]  # fmt: skip
    assert tb["totals"] == {"debit": "240.00", "credit": "240.00", "balance": "0.00"}
    # The columns net to zero: the accounts that carry a balance unmoved are listed.
    assert sum(Decimal(c["opening"]) for c in tb["classes"]) == 0
    assert sum(Decimal(c["closing"]) for c in tb["classes"]) == 0


async def test_a_fiscal_year_is_the_range_of_its_days(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    by_year = await client.get(url(ledger, "trial-balance"), params={"fiscal_year": "2026"})
    assert by_year.status_code == 200, by_year.text
    by_dates = await client.get(
        url(ledger, "trial-balance"), params={"from": "2026-01-01", "to": "2026-12-31"}
    )
    assert by_year.json() == by_dates.json()
    assert (by_year.json()["date_from"], by_year.json()["date_to"]) == ("2026-01-01", "2026-12-31")


@pytest.mark.parametrize(
    ("params", "status", "type_"),
    [
        ({"fiscal_year": "2026", "from": "2026-01-01"}, 422, "invalid-date-range"),
        ({"fiscal_year": "2026", "to": "2026-06-30"}, 422, "invalid-date-range"),
        ({"fiscal_year": "2031"}, 404, "fiscal-year-not-found"),
        ({"fiscal_year": "26"}, 422, "validation-error"),
        ({"fiscal_year": "+2026"}, 422, "validation-error"),
        ({"fiscal_year": "2026", "include_drafts": "yes"}, 422, "validation-error"),
    ],
    ids=["year-and-from", "year-and-to", "unknown-year", "short-year", "signed-year", "drafts"],
)
async def test_a_bad_fiscal_year_is_refused(
    client: httpx.AsyncClient, ledger: str, params: dict[str, str], status: int, type_: str
) -> None:
    problem = assert_problem(
        await client.get(url(ledger, "trial-balance"), params=params), status, type_
    )
    if type_ == "invalid-date-range":
        assert "not both" in problem["detail"]


async def test_drafts_count_only_when_asked_for(client: httpx.AsyncClient, ledger: str) -> None:
    await _post_quarter(client, ledger)
    draft = {
        "journal": "OD",
        "date": "2026-01-20",
        "label": "Brouillon",
        "status": "draft",
        "lines": [debit("512000", "7.00"), credit("706000", "7.00")],
    }
    assert (await client.post(url(ledger, "entries"), json=draft)).status_code == 201
    params = {"from": "2026-02-01"}
    without = (await client.get(url(ledger, "trial-balance"), params=params)).json()
    bank = {i["account"]: i for i in without["items"]}["512000"]
    assert (bank["opening"], bank["closing"]) == ("0.00", "60.00")
    with_drafts = (
        await client.get(url(ledger, "trial-balance"), params={**params, "include_drafts": "true"})
    ).json()
    bank = {i["account"]: i for i in with_drafts["items"]}["512000"]
    assert (bank["opening"], bank["closing"]) == ("7.00", "67.00")
