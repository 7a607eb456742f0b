"""The FEC export: the file the law asks for, checked by the suite's own FEC checker."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import httpx
from fastapi import FastAPI

from tests.conftest import assert_problem, bearer, issue_key
from tests.entry.helpers import credit, debit, new_ledger, url
from tests.exchange.fec_checker import FEC_COLUMNS, assert_valid_fec
from tests.exchange.support import SIREN, Y2025, Y2026, books, party, post
from tests.sealer.support import seal


async def fec(client: httpx.AsyncClient, ledger: str, year: int, **params: str) -> httpx.Response:
    response = await client.get(
        url(ledger, "exports", "fec"), params={"fiscal_year": str(year), **params}
    )
    return response


def filename(response: httpx.Response) -> str:
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="'), disposition
    return disposition.removeprefix('attachment; filename="').removesuffix('"')


async def delete_draft(client: httpx.AsyncClient, ledger: str) -> None:
    listed = await client.get(url(ledger, "entries"), params={"status": "draft"})
    for entry in listed.json()["items"]:
        assert (await client.delete(url(ledger, "entries", entry["id"]))).status_code == 204


async def test_an_open_year_exports_a_provisional_fec_of_its_validated_entries(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await books(client)
    await seal(app)
    response = await fec(client, ledger, 2025)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=iso-8859-15"
    assert response.headers["x-fec-provisional"] == "true"
    assert filename(response) == f"{SIREN}FEC20251231.txt"
    rows = assert_valid_fec(filename(response), response.content, **Y2025)
    assert response.content.startswith("|".join(FEC_COLUMNS).encode() + b"\r\n")
    # The draft is outside the books; the reversal is in, as an entry of its own.
    assert [(r["JournalCode"], r["EcritureNum"]) for r in rows] == [
        ("AC", "1"),
        ("AC", "1"),
        ("BQ", "1"),
        ("BQ", "1"),
        ("BQ", "2"),
        ("BQ", "2"),
        ("OD", "1"),
        ("OD", "1"),
        ("VE", "1"),
        ("VE", "1"),
        ("VE", "1"),
    ]
    today = datetime.now(UTC).astimezone(ZoneInfo("Europe/Paris")).strftime("%Y%m%d")
    invoice = rows[8]
    assert invoice == {
        "JournalCode": "VE",
        "JournalLib": "Ventes",
        "EcritureNum": "1",
        "EcritureDate": "20250310",
        "CompteNum": "411000",
        "CompteLib": "Clients",
        "CompAuxNum": "DUPONT",
        "CompAuxLib": "Dupont & Fils",
        "PieceRef": "F-001",
        "PieceDate": "20250309",
        # ISO-8859-15 has œ but no dash or curly apostrophe: they are written as their nearest.
        "EcritureLib": "Facture F-001 - œuvre d'art",
        "Debit": "1200,00",
        "Credit": "0,00",
        "EcritureLet": "",
        "DateLet": "",
        "ValidDate": today,
        "Montantdevise": "",
        "Idevise": "",
    }
    assert rows[9]["EcritureLib"] == "Vente"
    assert (rows[9]["Debit"], rows[9]["Credit"], rows[9]["CompAuxNum"]) == ("0,00", "1000,00", "")
    # An entry without a reference is its own piece.
    assert rows[0]["PieceRef"] == "AC1"


async def test_a_closed_year_leaves_out_its_closing_and_the_next_year_starts_with_its_opening(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await books(client)
    await delete_draft(client, ledger)
    closed = await client.post(url(ledger, "fiscal-years", "2025", "close"))
    assert closed.status_code == 200, closed.text
    await post(
        client,
        ledger,
        journal="VE",
        date="2026-01-05",
        label="Facture 2026",
        lines=[party(debit("411000", "60.00"), "DUPONT"), credit("706000", "60.00")],
    )
    await seal(app)

    response = await fec(client, ledger, 2025)
    assert response.status_code == 200, response.text
    assert response.headers["x-fec-provisional"] == "false"
    rows = assert_valid_fec(filename(response), response.content, **Y2025)
    assert {r["CompteNum"] for r in rows if r["JournalCode"] == "OD"} == {"512000", "758000"}
    assert not any(r["CompteNum"] in ("120000", "129000") for r in rows)

    response = await fec(client, ledger, 2026)
    assert response.headers["x-fec-provisional"] == "true"
    assert filename(response) == f"{SIREN}FEC20261231.txt"
    rows = assert_valid_fec(filename(response), response.content, **Y2026)
    opening = [r for r in rows if r["JournalCode"] == "AN"]
    assert {r["EcritureNum"] for r in opening} == {"1"}
    assert {r["EcritureDate"] for r in opening} == {"20260101"}
    # The à-nouveaux carry the balance sheet: the result (700.00 of sales less purchases,
    # plus 10.00) to 120000, and the customer's balance per third party.
    carried = {(r["CompteNum"], r["CompAuxNum"]): (r["Debit"], r["Credit"]) for r in opening}
    assert carried[("120000", "")] == ("0,00", "710,00")
    assert carried[("411000", "DUPONT")] == ("1200,00", "0,00")


async def test_a_reopened_and_closed_again_year_keeps_its_numbering_continuous(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    ledger = await books(client)
    await delete_draft(client, ledger)
    assert (await client.post(url(ledger, "fiscal-years", "2025", "close"))).status_code == 200
    assert (await client.post(url(ledger, "fiscal-years", "2025", "reopen"))).status_code == 200
    await post(
        client,
        ledger,
        journal="OD",
        date="2025-12-31",
        label="Régularisation",
        lines=[debit("512000", "5.00"), credit("758000", "5.00")],
    )
    assert (await client.post(url(ledger, "fiscal-years", "2025", "close"))).status_code == 200
    await seal(app)
    response = await fec(client, ledger, 2025)
    rows = assert_valid_fec(filename(response), response.content, **Y2025)
    # OD holds the closing (number 2), its reversal (3), the regularisation (4) and the new
    # closing (5): without the closings, the file numbers OD 1, 2.
    od = [(r["EcritureNum"], r["EcritureLib"]) for r in rows if r["JournalCode"] == "OD"]
    assert od == [
        ("1", "Reclassement"),
        ("1", "Reclassement"),
        ("2", "Régularisation"),
        ("2", "Régularisation"),
    ]


async def test_tab_and_utf8_are_given_on_request(app: FastAPI, client: httpx.AsyncClient) -> None:
    ledger = await books(client)
    await seal(app)
    response = await fec(client, ledger, 2025, separator="tab", encoding="utf-8")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content.startswith("\t".join(FEC_COLUMNS).encode())
    rows = assert_valid_fec(filename(response), response.content, encoding="utf-8", **Y2025)
    assert rows[8]["EcritureLib"] == "Facture F-001 — œuvre d’art"


async def test_the_export_is_refused_without_a_siren_or_a_year(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = f"f{uuid.uuid4().hex[:12]}"
    await new_ledger(client, code)
    body = assert_problem(await fec(client, code, 2026), 409, "siren-required")
    assert "PATCH" in body["detail"]
    assert (await client.patch(url(code), json={"siren": SIREN})).status_code == 200
    assert_problem(await fec(client, code, 2031), 404, "fiscal-year-not-found")
    for params in ({"separator": "comma"}, {"encoding": "latin-1"}, {"fiscal_year": "2026.0"}):
        response = await client.get(
            url(code, "exports", "fec"), params={"fiscal_year": "2026", **params}
        )
        assert_problem(response, 422, "validation-error")
    assert_problem(await client.get(url(code, "exports", "fec")), 422, "validation-error")


async def test_a_viewer_downloads_the_fec(app: FastAPI, client: httpx.AsyncClient) -> None:
    ledger = await books(client)
    await seal(app)
    viewer = await issue_key(app, "viewer")
    response = await client.get(
        url(ledger, "exports", "fec"), params={"fiscal_year": "2025"}, headers=bearer(viewer)
    )
    assert response.status_code == 200, response.text
    assert_valid_fec(filename(response), response.content, **Y2025)
