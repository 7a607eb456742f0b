"""Helpers shared by the API tests: URLs, problem assertions, posting and snapshots."""

from __future__ import annotations

import copy
from typing import Any

import httpx

API = "/api/v1/ledgers"

DESIGN_ENTRY: dict[str, Any] = {
    "journal": "VE",
    "date": "2026-11-23",
    "label": "Facture F-2026-001",
    "reference": "F-2026-001",
    "lines": [
        {"account": "411000", "debit": "120.00", "label": "Client Dupont"},
        {"account": "706000", "credit": "100.00"},
        {"account": "445710", "credit": "20.00"},
    ],
}


# Given by the background sealer at any moment after the commit (see entry/sealer.py): two
# reads of the same entry may differ in them alone.
SEAL_FIELDS = frozenset({"seq", "number", "hash"})


def unsealed(entry: dict[str, Any]) -> dict[str, Any]:
    """Return an entry as read, without the fields the background sealer fills in later."""
    return {k: v for k, v in entry.items() if k not in SEAL_FIELDS}


def design_entry(**changes: Any) -> dict[str, Any]:
    """Return a deep copy of the DESIGN.md entry with top-level fields replaced."""
    body = copy.deepcopy(DESIGN_ENTRY)
    body.update(changes)
    return body


async def open_year(client: httpx.AsyncClient, ledger: str, year: int) -> dict[str, Any]:
    """Open the ledger's next fiscal year, named `year`, and return it."""
    response = await client.post(url(ledger, "fiscal-years"), json={"year": year})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def url(ledger: str, *parts: str) -> str:
    """Return the path of a resource under a ledger."""
    return "/".join([API, ledger, *parts])


def debit(account: str, amount: str, label: str | None = None) -> dict[str, Any]:
    """Return a debit line."""
    line: dict[str, Any] = {"account": account, "debit": amount}
    if label is not None:
        line["label"] = label
    return line


def credit(account: str, amount: str, label: str | None = None) -> dict[str, Any]:
    """Return a credit line."""
    line: dict[str, Any] = {"account": account, "credit": amount}
    if label is not None:
        line["label"] = label
    return line


async def post_entry(
    client: httpx.AsyncClient,
    ledger: str,
    lines: list[dict[str, Any]],
    *,
    journal: str = "OD",
    date: str = "2026-01-15",
    label: str = "Écriture de test",
    reference: str | None = None,
) -> dict[str, Any]:
    """Post a valid entry and return it as read back."""
    body: dict[str, Any] = {"journal": journal, "date": date, "label": label, "lines": lines}
    if reference is not None:
        body["reference"] = reference
    response = await client.post(url(ledger, "entries"), json=body)
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def walk(
    client: httpx.AsyncClient, path: str, **params: Any
) -> tuple[list[dict[str, Any]], int]:
    """Follow `next_cursor` to the end of a list; return every item and the number of pages."""
    items: list[dict[str, Any]] = []
    pages = 0
    cursor: str | None = None
    while True:
        query = dict(params)
        if cursor is not None:
            query["cursor"] = cursor
        response = await client.get(path, params=query)
        assert response.status_code == 200, response.text
        page = response.json()
        pages += 1
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items, pages
        assert pages < 1000, "pagination does not end"


async def snapshot(client: httpx.AsyncClient, ledger: str) -> dict[str, Any]:
    """Return what a reader sees of the books: the trial balance and every entry.

    Seals are left out: the background sealer may give them between two snapshots.
    """
    tb = await client.get(url(ledger, "trial-balance"))
    assert tb.status_code == 200, tb.text
    entries, _ = await walk(client, url(ledger, "entries"), limit=500)
    return {"trial_balance": tb.json(), "entries": [unsealed(e) for e in entries]}


async def balances(client: httpx.AsyncClient, ledger: str, **params: Any) -> dict[str, str]:
    """Return the trial balance as {account: balance}."""
    response = await client.get(url(ledger, "trial-balance"), params=params)
    assert response.status_code == 200, response.text
    return {item["account"]: item["balance"] for item in response.json()["items"]}


async def new_ledger(
    client: httpx.AsyncClient,
    code: str,
    *,
    currency: str = "EUR",
    chart: str = "pcg",
    fiscal_year_start: str = "2026-01-01",
) -> dict[str, Any]:
    """Create a ledger (books from 2026-01-01 unless told otherwise) and return it."""
    body = {
        "code": code,
        "name": f"Test {code}",
        "currency": currency,
        "chart": chart,
        "fiscal_year_start": fiscal_year_start,
    }
    response = await client.post(API, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
