"""Spreadsheet renderings of a report: what Accept picks, and what a French spreadsheet reads."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from starlette.requests import Request

from grandlivre.tabular import XLSX, Column, Sheet, chosen_format, to_csv, to_xlsx


def request_with(accept: str | None) -> Request:
    headers = [] if accept is None else [(b"accept", accept.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("application/problem+json", "json"),
        ("text/csv", "csv"),
        ("text/*", "csv"),
        ("application/*", "json"),
        (XLSX, "xlsx"),
        (f"text/csv;q=0.5, {XLSX}", "xlsx"),
        (f"text/csv, {XLSX};q=0.9", "csv"),
        ("text/csv;q=0.4, application/json;q=0.5", "json"),
        ("text/csv, application/json", "json"),
        ("text/csv;q=0, */*", "json"),
    ],
)
async def test_accept_picks_the_representation(accept: str | None, expected: str) -> None:
    assert await chosen_format(request_with(accept)) == expected


SHEET = Sheet(
    "Balance générale: 2026/1",
    (Column("Compte"), Column("Date", "date"), Column("Montant", "amount"), Column("N", "integer")),
    [
        ("411000", date(2026, 1, 2), Decimal("1234.56"), 3),
        ('Libellé; avec "guillemets"', None, Decimal("-0.05"), None),
    ],
)


def test_csv_is_what_a_french_spreadsheet_opens() -> None:
    body = to_csv(SHEET)
    assert body.startswith(b"\xef\xbb\xbf")
    assert body.decode("utf-8-sig").split("\r\n") == [
        "Compte;Date;Montant;N",
        "411000;02/01/2026;1234,56;3",
        '"Libellé; avec ""guillemets""";;-0,05;',
        "",
    ]


def test_xlsx_cells_are_typed() -> None:
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(SHEET)))
    ws = book.active
    assert ws is not None
    assert ws.title == "Balance générale 20261"
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("Compte", "Date", "Montant", "N")
    assert rows[1][0] == "411000"
    assert rows[1][1].date() == date(2026, 1, 2)
    assert Decimal(str(rows[1][2])) == Decimal("1234.56")
    assert rows[2][2] == pytest.approx(-0.05)
    assert ws["C2"].number_format == "#,##0.00"
    assert ws["B2"].number_format == "DD/MM/YYYY"
