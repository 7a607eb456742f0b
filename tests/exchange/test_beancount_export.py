"""The Beancount export: Beancount's own loader reads it without an error, and its balances are
ours to the cent."""

from __future__ import annotations

import uuid
from decimal import Decimal

import httpx
from beancount import loader
from beancount.core import data, realization
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.entry.helpers import credit, debit, new_ledger, url
from tests.exchange.support import books, post


def load(text: str) -> list[data.Directive]:
    """Load a Beancount ledger, failing on any error Beancount reports."""
    entries, errors, _ = loader.load_string(text)
    assert errors == [], [e.message for e in errors]
    return list(entries)


def beancount_balances(entries: list[data.Directive]) -> dict[str, Decimal]:
    """Each PCG account's balance as Beancount sums it, by account number."""
    found: dict[str, Decimal] = {}
    for account in realization.iter_children(realization.realize(entries)):
        if account.balance.is_empty():
            continue
        number = account.account.split(":")[-1].split("-")[0]
        (position,) = account.balance.get_positions()
        assert position.units.currency == "EUR"
        found[number] = position.units.number
    return found


async def our_balances(client: httpx.AsyncClient, ledger: str) -> dict[str, Decimal]:
    response = await client.get(url(ledger, "trial-balance"))
    assert response.status_code == 200, response.text
    return {
        line["account"]: Decimal(line["balance"])
        for line in response.json()["items"]
        if Decimal(line["balance"]) != 0
    }


async def export(client: httpx.AsyncClient, ledger: str) -> str:
    response = await client.get(url(ledger, "exports", "beancount"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"] == f'attachment; filename="{ledger}.beancount"'
    return response.text


async def test_beancount_reads_the_books_and_finds_our_balances(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await books(client)
    text = await export(client, ledger)
    entries = load(text)
    transactions = [e for e in entries if isinstance(e, data.Transaction)]
    # Five validated entries (the reversal among them); the draft is left out.
    assert len(transactions) == 5
    assert beancount_balances(entries) == await our_balances(client, ledger)
    invoice = next(t for t in transactions if t.meta.get("reference") == "F-001")
    assert invoice.narration == "Facture F-001 — œuvre d’art"
    assert invoice.meta["journal"] == "VE"
    assert [p.account for p in invoice.postings] == [
        "Assets:411000-Clients",
        "Income:706000-Prestations-de-services",
        "Liabilities:445710-TVA-collectée",
    ]
    assert invoice.postings[0].meta["third_party"] == "DUPONT"
    assert invoice.postings[1].meta["label"] == "Vente"
    # The balance assertions Beancount checked are there, one per account used.
    assertions = [e for e in entries if isinstance(e, data.Balance)]
    assert {a.account for a in assertions} == {p.account for t in transactions for p in t.postings}


async def test_an_empty_ledger_exports_its_options_only(client: httpx.AsyncClient) -> None:
    code = f"b{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    assert load(await export(client, code)) == []


ACCOUNTS = [
    "101000",
    "164000",
    "218300",
    "401000",
    "411000",
    "445660",
    "512000",
    "606100",
    "706000",
    "758000",
]
LABELS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp", "Cf", "Co", "Cn")),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() == s and s.strip())
LINES = st.lists(
    st.tuples(st.sampled_from(ACCOUNTS), st.integers(min_value=1, max_value=10**9)),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(entries=st.lists(st.tuples(LABELS, LINES), min_size=1, max_size=6))
async def test_any_books_load_in_beancount_with_our_balances(
    client: httpx.AsyncClient, entries: list[tuple[str, list[tuple[str, int]]]]
) -> None:
    code = f"b{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    for label, lines in entries:
        # Each debit is balanced by a credit of the same amount to 512000 (or 101000).
        body = []
        for account, cents in lines:
            counter = "101000" if account == "512000" else "512000"
            amount = f"{Decimal(cents).scaleb(-2):.2f}"
            body += [debit(account, amount, label), credit(counter, amount)]
        await post(client, code, journal="OD", date="2026-02-03", label=label, lines=body)
    assert beancount_balances(load(await export(client, code))) == await our_balances(client, code)
