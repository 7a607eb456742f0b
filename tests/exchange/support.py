"""Books the exchange tests export: a year of entries with third parties, a reversal, a draft."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx

from tests.entry.helpers import credit, debit, new_ledger, url

SIREN = "732829320"
Y2025 = {"year_start": date(2025, 1, 1), "year_end": date(2025, 12, 31), "siren": SIREN}
Y2026 = {"year_start": date(2026, 1, 1), "year_end": date(2026, 12, 31), "siren": SIREN}


def party(line: dict[str, Any], code: str) -> dict[str, Any]:
    return {**line, "third_party": code}


async def post(client: httpx.AsyncClient, ledger: str, **body: Any) -> dict[str, Any]:
    response = await client.post(url(ledger, "entries"), json=body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def books(client: httpx.AsyncClient) -> str:
    """A ledger from 2025 with a SIREN, two third parties and a year of entries."""
    code = f"f{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code, fiscal_year_start="2025-01-01")
    assert (await client.patch(url(code), json={"siren": SIREN})).status_code == 200
    for body in (
        {"code": "DUPONT", "name": "Dupont & Fils", "kind": "customer"},
        {"code": "MARTIN", "name": "Martin Frères", "kind": "supplier"},
    ):
        assert (await client.post(url(code, "third-parties"), json=body)).status_code == 201
    await post(
        client,
        code,
        journal="VE",
        date="2025-03-10",
        document_date="2025-03-09",
        label="Facture F-001 — œuvre d’art",
        reference="F-001",
        lines=[
            party(debit("411000", "1200.00"), "DUPONT"),
            credit("706000", "1000.00", "Vente"),
            credit("445710", "200.00"),
        ],
    )
    await post(
        client,
        code,
        journal="AC",
        date="2025-04-02",
        label="Achat",
        lines=[debit("607000", "300.00"), party(credit("401000", "300.00"), "MARTIN")],
    )
    paid = await post(
        client,
        code,
        journal="BQ",
        date="2025-05-20",
        label="Règlement Dupont",
        reference="VIR-1",
        lines=[debit("512000", "500.00"), party(credit("411000", "500.00"), "DUPONT")],
    )
    reversed_ = await client.post(url(code, "entries", paid["id"], "reverse"), json={})
    assert reversed_.status_code == 201, reversed_.text
    await post(
        client,
        code,
        journal="OD",
        date="2025-06-30",
        label="Reclassement",
        lines=[debit("512000", "10.00"), credit("758000", "10.00")],
    )
    await post(
        client,
        code,
        journal="OD",
        date="2025-07-01",
        label="Brouillon",
        status="draft",
        lines=[debit("512000", "99.00"), credit("758000", "99.00")],
    )
    return code
