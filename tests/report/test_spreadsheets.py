"""Every report as CSV and XLSX: what a French spreadsheet opens (`;`, comma decimals, BOM,
DD/MM/YYYY) and typed cells (numbers, dates), with a file name that says what it is."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime
from decimal import Decimal

import httpx
import pytest

from grandlivre.report.spreadsheet import xlsx_chunks
from grandlivre.tabular import Cell, Column
from tests.conftest import assert_problem
from tests.entry.helpers import url
from tests.report.support import CSV, XLSX, csv_rows, download_name, xlsx_sheets
from tests.report.test_fiscal_boundary import closed_books
from tests.report.test_trial_balance import _post_quarter

BALANCE_HEADER = [
    "Compte",
    "Intitulé",
    "Solde début débit",
    "Solde début crédit",
    "Mouvements débit",
    "Mouvements crédit",
    "Solde fin débit",
    "Solde fin crédit",
]


async def test_the_trial_balance_csv_is_a_french_balance(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    response = await client.get(
        url(ledger, "trial-balance"),
        params={"from": "2026-02-01", "to": "2026-03-31"},
        headers={"Accept": CSV},
    )
    assert download_name(response) == f"balance-generale-{ledger}-2026-02-01-2026-03-31.csv"
    # A balance shows on its side: 411000 opens with a debit of 120 and closes at zero.
    assert csv_rows(response) == [
        BALANCE_HEADER,
        ["401000", "Fournisseurs", "", "", "60,00", "60,00", "", ""],
        ["411000", "Clients", "120,00", "", "0,00", "120,00", "", ""],
        ["445660", "TVA déductible sur autres biens et services", "", "", "10,00", "0,00",
         "10,00", ""],
        ["445710", "TVA collectée", "", "20,00", "0,00", "0,00", "", "20,00"],
        ["", "Total classe 4 – Comptes de tiers", "120,00", "20,00", "70,00", "180,00", "10,00",
         "20,00"],
        ["512000", "Banque", "", "", "120,00", "60,00", "60,00", ""],
        ["", "Total classe 5 – Comptes financiers", "0,00", "0,00", "120,00", "60,00", "60,00",
         "0,00"],
        ["607000", "Achats de marchandises", "", "", "50,00", "0,00", "50,00", ""],
        ["", "Total classe 6 – Comptes de charges", "0,00", "0,00", "50,00", "0,00", "50,00",
         "0,00"],
        ["706000", "Prestations de services", "", "100,00", "0,00", "0,00", "", "100,00"],
        ["", "Total classe 7 – Comptes de produits", "0,00", "100,00", "0,00", "0,00", "0,00",
         "100,00"],
        ["", "Total général", "120,00", "120,00", "240,00", "240,00", "120,00", "120,00"],
    ]  # fmt: skip


async def test_the_trial_balance_of_a_closed_year_s_successor_as_csv(
    client: httpx.AsyncClient,
) -> None:
    ledger = await closed_books(client)
    response = await client.get(
        url(ledger, "trial-balance"), params={"fiscal_year": "2027"}, headers={"Accept": CSV}
    )
    assert download_name(response) == f"balance-generale-{ledger}-2027-01-01-2027-12-31.csv"
    assert csv_rows(response)[1:] == [
        ["120000", "Résultat de l'exercice - bénéfice", "", "", "0,00", "700,00", "", "700,00"],
        ["", "Total classe 1 – Comptes de capitaux", "0,00", "0,00", "0,00", "700,00", "0,00",
         "700,00"],
        ["401000", "Fournisseurs", "", "", "0,00", "300,00", "", "300,00"],
        ["411000", "Clients", "", "", "700,00", "100,00", "600,00", ""],
        ["445710", "TVA collectée", "", "", "0,00", "200,00", "", "200,00"],
        ["", "Total classe 4 – Comptes de tiers", "0,00", "0,00", "700,00", "600,00", "600,00",
         "500,00"],
        ["512000", "Banque", "", "", "600,00", "0,00", "600,00", ""],
        ["", "Total classe 5 – Comptes financiers", "0,00", "0,00", "600,00", "0,00", "600,00",
         "0,00"],
        ["", "Total général", "0,00", "0,00", "1300,00", "1300,00", "1200,00", "1200,00"],
    ]  # fmt: skip


async def test_the_trial_balance_xlsx_has_numbers_where_amounts_are(
    client: httpx.AsyncClient, ledger: str
) -> None:
    await _post_quarter(client, ledger)
    response = await client.get(url(ledger, "trial-balance"), headers={"Accept": XLSX})
    assert download_name(response) == f"balance-generale-{ledger}-debut-fin.xlsx"
    rows = xlsx_sheets(response)["Balance générale"]
    assert list(rows[0]) == BALANCE_HEADER
    bank = next(r for r in rows if r[0] == "512000")
    assert bank == ("512000", "Banque", None, None, 120, 60, 60, None)
    assert all(isinstance(v, int | float) for v in bank[4:7])
    assert rows[-1][1] == "Total général"
    assert rows[-1][4] == rows[-1][5] == 360


async def test_the_balance_auxiliaire_as_csv(client: httpx.AsyncClient) -> None:
    ledger = await closed_books(client)
    response = await client.get(
        url(ledger, "third-party-balance"), params={"fiscal_year": "2027"}, headers={"Accept": CSV}
    )
    assert download_name(response) == f"balance-auxiliaire-{ledger}-2027-01-01-2027-12-31.csv"
    assert csv_rows(response) == [
        ["Compte", "Intitulé du compte", "Tiers", "Nom du tiers", *BALANCE_HEADER[2:]],
        ["401000", "Fournisseurs", "MARTIN", "Martin", "", "", "0,00", "300,00", "", "300,00"],
        ["411000", "Clients", "DUPONT", "Dupont", "", "", "700,00", "100,00", "600,00", ""],
        ["", "Total général", "", "", "0,00", "0,00", "700,00", "400,00", "600,00", "300,00"],
    ]


async def test_an_account_ledger_csv_holds_every_line_of_the_range(
    client: httpx.AsyncClient,
) -> None:
    ledger = await closed_books(client)
    response = await client.get(
        url(ledger, "accounts", "411000", "ledger"),
        params={"fiscal_year": "2027", "third_party": "DUPONT"},
        headers={"Accept": CSV},
    )
    assert download_name(response) == f"grand-livre-{ledger}-411000-2027-01-01-2027-12-31.csv"
    assert csv_rows(response)[1:] == [
        ["411000", "Clients", "01/01/2027", "", "", "Solde d'ouverture", "", "", "0,00"],
        ["411000", "Clients", "01/01/2027", "AN", "AN-2027", "À-nouveaux de l'exercice 2026",
         "700,00", "", "700,00"],
        ["411000", "Clients", "01/02/2027", "BQ", "", "Règlement Dupont", "", "100,00",
         "600,00"],
        ["411000", "Clients", "31/12/2027", "", "", "Total du compte", "700,00", "100,00",
         "600,00"],
    ]  # fmt: skip
    refused = await client.get(
        url(ledger, "accounts", "411000", "ledger"),
        params={"limit": "10"},
        headers={"Accept": XLSX},
    )
    assert_problem(refused, 422, "validation-error")


async def test_balances_as_of_a_day_as_spreadsheets(client: httpx.AsyncClient) -> None:
    ledger = await closed_books(client)
    bank = await client.get(
        url(ledger, "accounts", "512000", "balance"),
        params={"as_of": "2027-06-30"},
        headers={"Accept": CSV},
    )
    assert download_name(bank) == f"solde-{ledger}-512000-2027-06-30.csv"
    assert csv_rows(bank) == [
        ["Compte", "Intitulé", "Au", "Débit", "Crédit", "Solde"],
        ["512000", "Banque", "30/06/2027", "600,00", "0,00", "600,00"],
    ]
    dupont = await client.get(
        url(ledger, "third-parties", "DUPONT", "balance"), headers={"Accept": XLSX}
    )
    assert download_name(dupont) == f"solde-tiers-{ledger}-DUPONT-fin.xlsx"
    assert xlsx_sheets(dupont)["Solde du tiers"] == [
        ("Tiers", "Nom", "Compte", "Au", "Débit", "Crédit", "Solde"),
        ("DUPONT", "Dupont", "411000", None, 700, 100, 600),
    ]
    dated = await client.get(
        url(ledger, "accounts", "512000", "balance"),
        params={"as_of": "2027-06-30"},
        headers={"Accept": XLSX},
    )
    (row,) = xlsx_sheets(dated)["Solde du compte"][1:]
    assert isinstance(row[2], datetime)
    assert row[2].date() == date(2027, 6, 30)


@pytest.mark.parametrize(
    ("accept", "kind"),
    [
        ("text/csv", "csv"),
        (XLSX, "xlsx"),
        ("application/json", "json"),
        ("*/*", "json"),
        ("text/csv;q=0.5, application/json", "json"),
        ("text/csv, application/json;q=0.5", "csv"),
    ],
)
async def test_the_accept_header_chooses_the_format(
    client: httpx.AsyncClient, ledger: str, accept: str, kind: str
) -> None:
    for path in ("trial-balance", "general-ledger", "journals/VE/report", "third-party-balance",
                 "accounts/512000/ledger", "accounts/512000/balance"):  # fmt: skip
        response = await client.get(url(ledger, path), headers={"Accept": accept})
        assert response.status_code == 200, (path, response.text)
        media = response.headers["content-type"]
        assert media.startswith(
            {"csv": "text/csv", "xlsx": XLSX, "json": "application/json"}[kind]
        ), (path, media)


async def test_a_format_no_report_offers_is_refused(client: httpx.AsyncClient, ledger: str) -> None:
    response = await client.get(url(ledger, "general-ledger"), headers={"Accept": "text/html"})
    assert_problem(response, 406, "not-acceptable")


async def test_a_workbook_goes_on_in_a_next_sheet_past_the_row_limit() -> None:
    async def rows() -> AsyncIterator[Sequence[Sequence[Cell]]]:
        yield [["a", Decimal("1.50")], ["b", Decimal("2.00")]]
        yield [["c", Decimal("3.00")]]

    import io

    from openpyxl import load_workbook

    columns = (Column("Nom"), Column("Montant", "amount"))
    body = b"".join([chunk async for chunk in xlsx_chunks("Grand livre", columns, rows(),
                                                          max_rows=3)])  # fmt: skip
    book = load_workbook(io.BytesIO(body))
    assert book.sheetnames == ["Grand livre", "Grand livre (2)"]
    assert [list(s.iter_rows(values_only=True)) for s in book.worksheets] == [
        [("Nom", "Montant"), ("a", 1.5), ("b", 2)],
        [("Nom", "Montant"), ("c", 3)],
    ]
    assert book.worksheets[1]["B2"].number_format == "#,##0.00"
