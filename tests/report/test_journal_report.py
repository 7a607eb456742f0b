"""The journal report: one journal's entries over a range, with their lines and totals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from grandlivre.entry import sealer
from grandlivre.report import journal
from tests.conftest import assert_problem
from tests.entry.helpers import credit, debit, post_entry, url
from tests.report.support import CSV, XLSX, csv_rows, download_name, get_json, xlsx_sheets


async def _sales(client: httpx.AsyncClient, ledger: str) -> list[dict[str, Any]]:
    """Three invoices in VE (two on one day) and a payment in BQ."""
    for body in ({"code": "DUPONT", "name": "Dupont", "kind": "customer"},):
        assert (await client.post(url(ledger, "third-parties"), json=body)).status_code == 201
    dupont = {"third_party": "DUPONT"}
    return [
        await post_entry(
            client, ledger,
            [{**debit("411000", "120.00", "Dupont"), **dupont}, credit("706000", "100.00"),
             credit("445710", "20.00")],
            journal="VE", date="2026-03-10", label="Facture F-1", reference="F-1",
        ),
        await post_entry(
            client, ledger,
            [debit("411000", "60.00"), credit("706000", "50.00"), credit("445710", "10.00")],
            journal="VE", date="2026-03-02", label="Facture F-2", reference="F-2",
        ),
        await post_entry(
            client, ledger, [debit("411000", "24.00"), credit("707000", "24.00")],
            journal="VE", date="2026-03-10", label="Facture F-3", reference="F-3",
        ),
        await post_entry(
            client, ledger, [debit("512000", "120.00"), credit("411000", "120.00")],
            journal="BQ", date="2026-03-20", label="Règlement F-1",
        ),
    ]  # fmt: skip


async def test_the_journal_report_lists_entries_with_their_lines_and_totals(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    posted = await _sales(client, ledger)
    await sealer.seal_now(app.state.store)
    report = await get_json(client, ledger, "journals", "VE", "report", fiscal_year="2026")
    assert (report["journal"], report["name"]) == ("VE", "Ventes")
    assert (report["date_from"], report["date_to"]) == ("2026-01-01", "2026-12-31")
    assert report["next_cursor"] is None
    # Date first; on one day, the number given at sealing (F-1 was posted first).
    assert [(e["date"], e["number"], e["reference"]) for e in report["items"]] == [
        ("2026-03-02", 2, "F-2"),
        ("2026-03-10", 1, "F-1"),
        ("2026-03-10", 3, "F-3"),
    ]
    assert report["items"][1] == {
        "id": posted[0]["id"],
        "date": "2026-03-10",
        "number": 1,
        "status": "posted",
        "label": "Facture F-1",
        "reference": "F-1",
        "lines": [
            {"account": "411000", "name": "Clients", "third_party": "DUPONT", "label": "Dupont",
             "debit": "120.00", "credit": None},
            {"account": "706000", "name": "Prestations de services", "third_party": None,
             "label": None, "debit": None, "credit": "100.00"},
            {"account": "445710", "name": "TVA collectée", "third_party": None, "label": None,
             "debit": None, "credit": "20.00"},
        ],
    }  # fmt: skip
    assert report["totals"] == {"debit": "204.00", "credit": "204.00", "balance": "0.00"}
    lines = [line for e in report["items"] for line in e["lines"]]
    assert sum(Decimal(line["debit"] or 0) for line in lines) == Decimal("204.00")
    assert sum(Decimal(line["credit"] or 0) for line in lines) == Decimal("204.00")


async def test_pages_of_entries_keep_the_totals_of_the_range(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await _sales(client, ledger)
    await sealer.seal_now(app.state.store)
    whole = await get_json(client, ledger, "journals", "VE", "report")
    items: list[dict[str, Any]] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = await get_json(client, ledger, "journals", "VE", "report", **params)
        pages += 1
        assert len(page["items"]) <= 2
        # The totals of the range, on the first page.
        assert page["totals"] == (whole["totals"] if pages == 1 else None)
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 2
    assert items == whole["items"]
    march_10 = await get_json(
        client, ledger, "journals", "VE", "report", **{"from": "2026-03-05", "to": "2026-03-10"}
    )
    assert [e["reference"] for e in march_10["items"]] == ["F-1", "F-3"]
    assert march_10["totals"]["debit"] == "144.00"


async def _walk(client: httpx.AsyncClient, ledger: str, **params: Any) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = dict(params, cursor=cursor) if cursor else params
        page = await get_json(client, ledger, "journals", "VE", "report", **query)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_drafts_are_in_the_journal_report_only_when_asked_for(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await _sales(client, ledger)
    await sealer.seal_now(app.state.store)
    draft = {
        "journal": "VE",
        "date": "2026-03-10",
        "label": "Facture à valider",
        "status": "draft",
        "lines": [debit("411000", "12.00"), credit("706000", "12.00")],
    }
    assert (await client.post(url(ledger, "entries"), json=draft)).status_code == 201
    without = await get_json(client, ledger, "journals", "VE", "report")
    assert len(without["items"]) == 3
    assert without["totals"]["debit"] == "204.00"
    with_drafts = await get_json(client, ledger, "journals", "VE", "report", include_drafts="true")
    # A draft has no number: it comes after the numbered entries of its day.
    assert [(e["label"], e["status"]) for e in with_drafts["items"]][-1] == (
        "Facture à valider",
        "draft",
    )
    assert with_drafts["items"][-1]["number"] is None
    assert with_drafts["totals"] == {"debit": "216.00", "credit": "216.00", "balance": "0.00"}
    # Pages walk across numbered and unnumbered entries alike.
    assert await _walk(client, ledger, limit=1, include_drafts="true") == with_drafts["items"]


async def test_entries_numbered_while_a_client_pages_are_neither_lost_nor_repeated(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await _sales(client, ledger)
    await sealer.seal_now(app.state.store)
    drafts = []
    for n in range(4):
        body = {
            "journal": "VE",
            "date": "2026-03-10",
            "label": f"Brouillon {n}",
            "status": "draft",
            "lines": [debit("411000", f"{n + 1}.00"), credit("706000", f"{n + 1}.00")],
        }
        made = await client.post(url(ledger, "entries"), json=body)
        assert made.status_code == 201, made.text
        drafts.append(made.json()["id"])
    params = {"limit": "4", "include_drafts": "true"}
    first = await get_json(client, ledger, "journals", "VE", "report", **params)
    # The page ends on the second draft, not numbered: then the last two and the first are
    # validated, in that order, and numbered.
    assert [e["number"] for e in first["items"]] == [2, 1, 3, None]
    for entry_id in (drafts[3], drafts[2], drafts[0]):
        done = await client.post(url(ledger, "entries", entry_id, "validate"))
        assert done.status_code == 200, done.text
    await sealer.seal_now(app.state.store)
    rest = await _walk(client, ledger, cursor=first["next_cursor"], **params)
    walked = [e["label"] for e in first["items"] + rest]
    assert sorted(walked) == sorted(
        ["Facture F-1", "Facture F-2", "Facture F-3"] + [f"Brouillon {n}" for n in range(4)]
    )
    # The two validated after the first one follow it, by number; the draft comes last.
    assert [e["label"] for e in rest][-1] == "Brouillon 1"
    assert [e["number"] for e in rest[:2]] == sorted(e["number"] for e in rest[:2])
    assert {e["label"] for e in rest[:2]} == {"Brouillon 2", "Brouillon 3"}


async def test_the_journal_report_csv_is_a_row_per_line_and_a_total(
    app: FastAPI, client: httpx.AsyncClient, ledger: str
) -> None:
    await _sales(client, ledger)
    await sealer.seal_now(app.state.store)
    response = await client.get(
        url(ledger, "journals", "VE", "report"),
        params={"fiscal_year": "2026"},
        headers={"Accept": CSV},
    )
    assert download_name(response) == f"journal-{ledger}-VE-2026-01-01-2026-12-31.csv"
    assert csv_rows(response) == [
        ["Date", "Numéro", "Pièce", "Libellé de l'écriture", "Compte", "Intitulé", "Tiers",
         "Libellé de la ligne", "Débit", "Crédit"],
        ["02/03/2026", "2", "F-2", "Facture F-2", "411000", "Clients", "", "", "60,00", ""],
        ["02/03/2026", "2", "F-2", "Facture F-2", "706000", "Prestations de services", "", "",
         "", "50,00"],
        ["02/03/2026", "2", "F-2", "Facture F-2", "445710", "TVA collectée", "", "", "",
         "10,00"],
        ["10/03/2026", "1", "F-1", "Facture F-1", "411000", "Clients", "DUPONT", "Dupont",
         "120,00", ""],
        ["10/03/2026", "1", "F-1", "Facture F-1", "706000", "Prestations de services", "", "",
         "", "100,00"],
        ["10/03/2026", "1", "F-1", "Facture F-1", "445710", "TVA collectée", "", "", "",
         "20,00"],
        ["10/03/2026", "3", "F-3", "Facture F-3", "411000", "Clients", "", "", "24,00", ""],
        ["10/03/2026", "3", "F-3", "Facture F-3", "707000", "Ventes de marchandises", "", "",
         "", "24,00"],
        ["", "", "", "Total du journal", "", "", "", "", "204,00", "204,00"],
    ]  # fmt: skip


async def test_the_journal_report_xlsx_streams_every_entry(
    client: httpx.AsyncClient, ledger: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _sales(client, ledger)
    monkeypatch.setattr(journal, "CHUNK_ENTRIES", 1)
    response = await client.get(url(ledger, "journals", "VE", "report"), headers={"Accept": XLSX})
    assert download_name(response) == f"journal-{ledger}-VE-debut-fin.xlsx"
    rows = xlsx_sheets(response)["Journal VE"]
    assert len(rows) == 1 + 8 + 1
    assert rows[1][0].date().isoformat() == "2026-03-02"
    assert rows[-1][3:] == ("Total du journal", None, None, None, None, 204, 204)


@pytest.mark.parametrize(
    ("path", "params", "status", "type_"),
    [
        (("journals", "XX", "report"), {}, 404, "journal-not-found"),
        (("journals", "VE", "report"), {"fiscal_year": "2031"}, 404, "fiscal-year-not-found"),
        (("journals", "VE", "report"), {"fiscal_year": "2026", "to": "2026-01-31"}, 422,
         "invalid-date-range"),
        (("journals", "VE", "report"), {"cursor": "WyJ4Il0"}, 422, "invalid-cursor"),
        (("journals", "VE", "report"), {"limit": "0"}, 422, "validation-error"),
        (("journals", "VE", "report"), {"account": "411000"}, 422, "validation-error"),
        (("journals", "ve", "report"), {}, 404, "journal-not-found"),
    ],
    ids=["unknown-journal", "unknown-year", "year-and-dates", "bad-cursor", "limit-0",
         "unknown-parameter", "lower-case"],
)  # fmt: skip
async def test_a_bad_journal_report_query_is_refused(
    client: httpx.AsyncClient,
    ledger: str,
    path: tuple[str, ...],
    params: dict[str, str],
    status: int,
    type_: str,
) -> None:
    assert_problem(await client.get(url(ledger, *path), params=params), status, type_)
