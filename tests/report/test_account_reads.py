"""An account's general ledger (grand livre) with running balances, and its balance on a date."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, post_entry, url

BANK = "512000"


async def _post_bank_history(client: httpx.AsyncClient, ledger: str) -> list[dict[str, Any]]:
    """Six movements on the bank over four dates, one entry touching it twice."""
    posted = [
        await post_entry(
            client, ledger, [debit(BANK, "1000.00"), credit("101000", "1000.00")],
            date="2026-01-02", label="Apport",
        ),
        await post_entry(
            client, ledger, [debit(BANK, "120.00"), credit("411000", "120.00")],
            journal="BQ", date="2026-01-20", label="Règlement Dupont", reference="F-1",
        ),
        await post_entry(
            client, ledger,
            [credit(BANK, "30.00", label="Frais"), credit(BANK, "20.00", label="Agios"),
             debit("627000", "50.00")],
            journal="BQ", date="2026-02-05", label="Frais bancaires",
        ),
        await post_entry(
            client, ledger, [debit("401000", "200.00"), credit(BANK, "200.00")],
            journal="BQ", date="2026-02-05", label="Paiement fournisseur",
        ),
        await post_entry(
            client, ledger, [debit(BANK, "10.00"), credit("706000", "10.00")],
            date="2026-03-10", label="Vente",
        ),
    ]  # fmt: skip
    return posted


def _movements(page: dict[str, Any]) -> list[tuple[str, str | None, str | None, str]]:
    return [(m["date"], m["debit"], m["credit"], m["balance"]) for m in page["items"]]


async def test_the_account_ledger_shows_each_line_with_a_running_balance(
    client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await _post_bank_history(client, ledger)
    response = await client.get(url(ledger, "accounts", BANK, "ledger"))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["account"] == BANK
    assert page["name"] == "Banque"
    assert page["opening_balance"] == "0.00"
    assert page["closing_balance"] == "880.00"
    assert page["next_cursor"] is None
    # Same-day entries follow their (time-ordered) ids, lines of one entry their position.
    assert _movements(page) == [
        ("2026-01-02", "1000.00", None, "1000.00"),
        ("2026-01-20", "120.00", None, "1120.00"),
        ("2026-02-05", None, "30.00", "1090.00"),
        ("2026-02-05", None, "20.00", "1070.00"),
        ("2026-02-05", None, "200.00", "870.00"),
        ("2026-03-10", "10.00", None, "880.00"),
    ]
    assert [m["entry_id"] for m in page["items"]] == [
        posted[0]["id"],
        posted[1]["id"],
        posted[2]["id"],
        posted[2]["id"],
        posted[3]["id"],
        posted[4]["id"],
    ]
    assert page["items"][1] == {
        "entry_id": posted[1]["id"],
        "date": "2026-01-20",
        "journal": "BQ",
        "label": "Règlement Dupont",
        "reference": "F-1",
        "debit": "120.00",
        "credit": None,
        "balance": "1120.00",
    }
    # A line's own label wins over the entry's.
    assert [m["label"] for m in page["items"]][2:5] == ["Frais", "Agios", "Paiement fournisseur"]


async def test_running_balances_follow_date_then_entry_order(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_bank_history(client, ledger)
    page = (await client.get(url(ledger, "accounts", BANK, "ledger"))).json()
    running = Decimal(0)
    for movement in page["items"]:
        running += Decimal(movement["debit"] or 0) - Decimal(movement["credit"] or 0)
        assert movement["balance"] == f"{running:.2f}"
    keys = [(m["date"], m["entry_id"]) for m in page["items"]]
    assert keys == sorted(keys)


async def test_the_account_ledger_opens_with_the_balance_before_from(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_bank_history(client, ledger)
    page = (
        await client.get(url(ledger, "accounts", BANK, "ledger"), params={"from": "2026-02-01"})
    ).json()
    assert page["opening_balance"] == "1120.00"
    assert page["closing_balance"] == "880.00"
    assert _movements(page) == [
        ("2026-02-05", None, "30.00", "1090.00"),
        ("2026-02-05", None, "20.00", "1070.00"),
        ("2026-02-05", None, "200.00", "870.00"),
        ("2026-03-10", "10.00", None, "880.00"),
    ]


async def test_the_account_ledger_is_limited_by_to(client: httpx.AsyncClient, ledger: str) -> None:
    await _post_bank_history(client, ledger)
    page = (
        await client.get(
            url(ledger, "accounts", BANK, "ledger"),
            params={"from": "2026-01-20", "to": "2026-01-31"},
        )
    ).json()
    assert page["opening_balance"] == "1000.00"
    assert page["closing_balance"] == "1120.00"
    assert _movements(page) == [("2026-01-20", "120.00", None, "1120.00")]


async def test_running_balances_stay_right_across_pages(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_bank_history(client, ledger)
    path = url(ledger, "accounts", BANK, "ledger")
    for params in ({}, {"from": "2026-01-20"}):
        whole = (await client.get(path, params=params)).json()
        items: list[dict[str, Any]] = []
        cursor = None
        pages = 0
        while True:
            query: dict[str, Any] = {**params, "limit": 2}
            if cursor:
                query["cursor"] = cursor
            page = (await client.get(path, params=query)).json()
            pages += 1
            assert page["opening_balance"] == whole["opening_balance"]
            assert page["closing_balance"] == whole["closing_balance"]
            items.extend(page["items"])
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert items == whole["items"]
        assert pages >= len(whole["items"]) // 2


async def test_an_account_without_movements_has_an_empty_ledger(
    client: httpx.AsyncClient, ledger: str
) -> None:
    page = (await client.get(url(ledger, "accounts", "530000", "ledger"))).json()
    assert page == {
        "account": "530000",
        "name": "Caisse",
        "opening_balance": "0.00",
        "closing_balance": "0.00",
        "items": [],
        "next_cursor": None,
    }


async def test_the_account_ledger_of_an_unknown_account_is_not_found(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.get(url(ledger, "accounts", "499999", "ledger"))
    assert_problem(response, 404, "account-not-found")


@pytest.mark.parametrize(
    ("params", "type_"),
    [
        ({"from": "2026-03-01", "to": "2026-02-01"}, "invalid-date-range"),
        ({"cursor": "garbage"}, "invalid-cursor"),
        ({"cursor": "WyJhY2NvdW50LWxlZGdlciIsIngiLCJ5IiwieiJd"}, "invalid-cursor"),
        ({"limit": 0}, "validation-error"),
    ],
    ids=["reversed-range", "garbage-cursor", "forged-cursor", "limit-zero"],
)
async def test_a_bad_account_ledger_query_is_refused(
    client: httpx.AsyncClient, ledger: str, params: dict[str, Any], type_: str
) -> None:
    response = await client.get(url(ledger, "accounts", BANK, "ledger"), params=params)
    assert_problem(response, 422, type_)


async def test_the_balance_of_an_account_as_of_a_date(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_bank_history(client, ledger)
    path = url(ledger, "accounts", BANK, "balance")
    expectations = {
        "2026-01-01": ("0.00", "0.00", "0.00"),
        "2026-01-02": ("1000.00", "0.00", "1000.00"),
        "2026-01-19": ("1000.00", "0.00", "1000.00"),
        "2026-02-05": ("1120.00", "250.00", "870.00"),
        "2026-12-31": ("1130.00", "250.00", "880.00"),
    }
    for as_of, (total_debit, total_credit, balance) in expectations.items():
        response = await client.get(path, params={"as_of": as_of})
        assert response.status_code == 200, response.text
        assert response.json() == {
            "account": BANK,
            "name": "Banque",
            "as_of": as_of,
            "debit": total_debit,
            "credit": total_credit,
            "balance": balance,
        }


async def test_the_balance_without_a_date_counts_every_entry(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_bank_history(client, ledger)
    body = (await client.get(url(ledger, "accounts", BANK, "balance"))).json()
    assert body["as_of"] is None
    assert body["balance"] == "880.00"
    credit_side = (await client.get(url(ledger, "accounts", "101000", "balance"))).json()
    assert (credit_side["debit"], credit_side["credit"], credit_side["balance"]) == (
        "0.00",
        "1000.00",
        "-1000.00",
    )


async def test_the_balance_of_an_unknown_account_is_not_found(
    client: httpx.AsyncClient, ledger: str
) -> None:
    response = await client.get(url(ledger, "accounts", "499999", "balance"))
    assert_problem(response, 404, "account-not-found")
    bad_date = await client.get(url(ledger, "accounts", BANK, "balance"), params={"as_of": "x"})
    assert_problem(bad_date, 422, "invalid-date")


async def test_balances_agree_with_the_trial_balance(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_bank_history(client, ledger)
    tb = (await client.get(url(ledger, "trial-balance"), params={"to": "2026-02-28"})).json()
    for item in tb["items"]:
        balance = (
            await client.get(
                url(ledger, "accounts", item["account"], "balance"), params={"as_of": "2026-02-28"}
            )
        ).json()
        assert (balance["debit"], balance["credit"], balance["balance"]) == (
            item["debit"],
            item["credit"],
            item["balance"],
        )
