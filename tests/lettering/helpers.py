"""Helpers of the lettering tests: third parties, invoices and payments, matches, open items."""

from __future__ import annotations

from typing import Any

import httpx

from tests.entry.helpers import credit, debit, url, walk


async def make_party(
    client: httpx.AsyncClient, ledger: str, code: str, kind: str = "customer", **extra: Any
) -> dict[str, Any]:
    """Open a third party and return it."""
    body = {"code": code, "name": f"Tiers {code}", "kind": kind, **extra}
    response = await client.post(url(ledger, "third-parties"), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def named(line: dict[str, Any], party: str | None) -> dict[str, Any]:
    """Return the line naming a third party (or none)."""
    return {**line, "third_party": party} if party is not None else line


async def post(
    client: httpx.AsyncClient,
    ledger: str,
    lines: list[dict[str, Any]],
    *,
    date: str,
    journal: str = "VE",
    label: str = "Pièce",
    **extra: Any,
) -> dict[str, Any]:
    """Post an entry and return it."""
    body = {"journal": journal, "date": date, "label": label, "lines": lines, **extra}
    response = await client.post(url(ledger, "entries"), json=body)
    assert response.status_code == 201, response.text
    entry: dict[str, Any] = response.json()
    return entry


async def invoice(
    client: httpx.AsyncClient,
    ledger: str,
    party: str | None,
    amount: str,
    *,
    date: str,
    account: str = "411000",
    **extra: Any,
) -> dict[str, Any]:
    """Post a sale (the customer's line first, at position 0) and return it."""
    lines = [named(debit(account, amount), party), credit("706000", amount)]
    return await post(client, ledger, lines, date=date, reference=f"F-{date}", **extra)


async def payment(
    client: httpx.AsyncClient,
    ledger: str,
    party: str | None,
    amount: str,
    *,
    date: str,
    account: str = "411000",
) -> dict[str, Any]:
    """Post a customer's payment (the customer's line at position 1) and return it."""
    lines = [debit("512000", amount), named(credit(account, amount), party)]
    return await post(client, ledger, lines, date=date, journal="BQ", label="Règlement")


async def purchase(
    client: httpx.AsyncClient, ledger: str, party: str, amount: str, *, date: str
) -> dict[str, Any]:
    """Post a supplier's invoice (the supplier's line at position 1) and return it."""
    lines = [debit("607000", amount), named(credit("401000", amount), party)]
    return await post(client, ledger, lines, date=date, journal="AC", label="Achat")


async def settlement(
    client: httpx.AsyncClient, ledger: str, party: str, amount: str, *, date: str
) -> dict[str, Any]:
    """Post a payment to a supplier (the supplier's line at position 0) and return it."""
    lines = [named(debit("401000", amount), party), credit("512000", amount)]
    return await post(client, ledger, lines, date=date, journal="BQ", label="Paiement")


def line(entry: dict[str, Any], position: int) -> dict[str, Any]:
    """Name a line of an entry as a match does."""
    return {"entry_id": entry["id"], "position": position}


def matches_path(ledger: str, account: str = "411000", *rest: str) -> str:
    """The path of an account's matches (or of one of them)."""
    return url(ledger, "accounts", account, "matches", *rest)


async def match(
    client: httpx.AsyncClient,
    ledger: str,
    lines: list[dict[str, Any]],
    account: str = "411000",
    **extra: Any,
) -> httpx.Response:
    """POST a match of these lines."""
    return await client.post(matches_path(ledger, account), json={"lines": lines, **extra})


async def open_items(
    client: httpx.AsyncClient, ledger: str, account: str = "411000", **params: Any
) -> list[tuple[str, int]]:
    """Every open item of the account, as (entry id, position), in the API's order."""
    items, _ = await walk(client, url(ledger, "accounts", account, "open-items"), **params)
    return [(item["entry_id"], item["position"]) for item in items]


def key(entry: dict[str, Any], position: int) -> tuple[str, int]:
    """A line as `open_items` lists it."""
    return entry["id"], position
