"""Helpers of the report tests: spreadsheets as a user opens them, and report pages walked."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from openpyxl import load_workbook

from tests.entry.helpers import url

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_rows(response: httpx.Response) -> list[list[str]]:
    """The rows of a CSV answer, as a French spreadsheet reads them (BOM, `;`)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf"), body[:10]
    text = body.decode("utf-8")[1:]
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def xlsx_sheets(response: httpx.Response) -> dict[str, list[tuple[Any, ...]]]:
    """The sheets of an XLSX answer: their rows of typed values, by sheet name."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book.worksheets}


def download_name(response: httpx.Response) -> str:
    """The file name of a download."""
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="'), disposition
    return disposition.removeprefix('attachment; filename="').removesuffix('"')


async def get_json(client: httpx.AsyncClient, ledger: str, *path: str, **params: Any) -> Any:
    """GET a report as JSON and return its body."""
    response = await client.get(url(ledger, *path), params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


async def general_ledger_pages(
    client: httpx.AsyncClient, ledger: str, **params: Any
) -> list[dict[str, Any]]:
    """Every page of the general ledger, following `next_cursor`."""
    pages = []
    cursor = None
    while True:
        query = dict(params)
        if cursor is not None:
            query["cursor"] = cursor
        page = await get_json(client, ledger, "general-ledger", **query)
        pages.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 1000, "pagination does not end"


def joined_accounts(pages: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The accounts of general ledger pages, each with its movements of every page joined;
    an account's figures must be the same on every page it shows on."""
    accounts: dict[str, dict[str, Any]] = {}
    order: list[str] = []
    for page in pages:
        for item in page["items"]:
            number = item["account"]
            if number not in accounts:
                accounts[number] = {**item, "movements": []}
                order.append(number)
            figures = {k: v for k, v in item.items() if k != "movements"}
            assert figures == {k: v for k, v in accounts[number].items() if k != "movements"}
            accounts[number]["movements"] += item["movements"]
    assert order == sorted(order), order
    return accounts
