"""Reports as spreadsheets: the same rows as the JSON, in CSV or XLSX, chosen by `Accept`.

A report route answers JSON by default; `Accept: text/csv` gives a CSV a French spreadsheet
opens as it is (`;` between fields, comma decimals, dates DD/MM/YYYY, UTF-8 with a BOM so that
Excel reads the accents), and `Accept: application/vnd.openxmlformats-officedocument.
spreadsheetml.sheet` an XLSX workbook with typed cells (numbers, dates). A route declares
`responses=TABULAR_RESPONSES` (so the OpenAPI document, and the Accept check of ops/strict.py,
know it offers both), takes `fmt: ReportFormat`, and when `fmt` is not "json" returns
`render(sheet, fmt, filename)` for a `Sheet` built from the rows it would have answered.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.responses import Response

from grandlivre.ops.strict import accept_ranges

TEXT_CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON = "application/json"

Format = Literal["json", "csv", "xlsx"]
_BY_MEDIA: dict[str, Format] = {JSON: "json", TEXT_CSV: "csv", XLSX: "xlsx"}

TABULAR_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON by default; CSV (`;`, comma decimals, UTF-8 with BOM) with "
        "`Accept: text/csv`; an XLSX workbook with `Accept: " + XLSX + "`.",
        "content": {
            TEXT_CSV: {"schema": {"type": "string"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

Kind = Literal["text", "amount", "date", "integer"]
Cell = str | int | Decimal | date | None


async def chosen_format(request: Request) -> Format:
    """Pick the representation the Accept header prefers: JSON unless CSV or XLSX is asked.

    The highest q wins, then an exact media type over a wildcard, then JSON, CSV, XLSX in
    that order (so `*/*` is JSON, `text/*` CSV). A header none of them satisfies is refused
    before the route runs (ops/strict.py).
    """
    accept = request.headers.get("accept")
    ranges = accept_ranges(accept) if accept else None
    best: tuple[float, bool, int] | None = None
    chosen: Format = "json"
    for media, q in ranges or []:
        if q <= 0:
            continue
        kind, _, sub = media.partition("/")
        for rank, (offer, fmt) in enumerate(_BY_MEDIA.items()):
            offer_kind, _, offer_sub = offer.partition("/")
            if kind in ("*", offer_kind) and sub in ("*", offer_sub):
                candidate = (q, media == offer, -rank)
                if best is None or candidate > best:
                    best, chosen = candidate, fmt
    return chosen


ReportFormat = Annotated[Format, Depends(chosen_format)]


@dataclass(frozen=True)
class Column:
    """A column of a sheet: its title and how its cells are written."""

    title: str
    kind: Kind = "text"


@dataclass(frozen=True)
class Sheet:
    """A titled table of rows, one cell per column; amounts are Decimals of the currency."""

    title: str
    columns: tuple[Column, ...]
    rows: list[Sequence[Cell]] = field(default_factory=list)


def _csv_cell(value: Cell, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if kind == "amount" or isinstance(value, Decimal):
        return str(value).replace(".", ",")
    return str(value)


def to_csv(sheet: Sheet) -> bytes:
    """Write a sheet as a French spreadsheet's CSV: BOM, `;`, comma decimals, DD/MM/YYYY."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([c.title for c in sheet.columns])
    for row in sheet.rows:
        writer.writerow(_csv_cell(v, c.kind) for v, c in zip(row, sheet.columns, strict=True))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_NUMBER_FORMATS: dict[Kind, str] = {"amount": "#,##0.00", "date": "DD/MM/YYYY", "integer": "0"}


def to_xlsx(sheet: Sheet) -> bytes:
    """Write a sheet as an XLSX workbook with typed cells and a frozen header row."""
    from openpyxl import Workbook  # imported here: only a spreadsheet request pays for it
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    ws = book.active
    assert ws is not None
    # Excel caps a sheet's name at 31 characters and forbids a few of them.
    ws.title = "".join(ch for ch in sheet.title if ch not in "[]:*?/\\")[:31] or "Sheet"
    ws.append([c.title for c in sheet.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in sheet.rows:
        ws.append(list(row))
    for index, column in enumerate(sheet.columns, start=1):
        number_format = _NUMBER_FORMATS.get(column.kind)
        if number_format is None:
            continue
        for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
            cell.number_format = number_format
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def render(sheet: Sheet, fmt: Literal["csv", "xlsx"], filename: str) -> Response:
    """Answer a sheet as a download named `filename` plus the format's extension."""
    if fmt == "csv":
        body, media_type = to_csv(sheet), f"{TEXT_CSV}; charset=utf-8"
    else:
        body, media_type = to_xlsx(sheet), XLSX
    return Response(
        content=body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
