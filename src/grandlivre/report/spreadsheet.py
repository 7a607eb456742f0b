"""Spreadsheets that stream: a paginated report as one CSV or XLSX of its whole range.

`tabular.render` writes a `Sheet` held in memory, right for a trial balance; a general ledger
of a million entries is three million rows. Here rows come in chunks from an async iterator
(each chunk one query, see service.ledger_parts) and leave as they come:

- CSV is written chunk by chunk into the response, in exactly tabular.py's format (each chunk
  goes through `tabular.to_csv`, less the BOM and header it starts with);
- XLSX is written with openpyxl's write-only mode, which puts each row in a temporary file
  on disk rather than in memory; the finished workbook is then sent in blocks. A sheet holds
  at most 1,048,576 rows (Excel's limit): past it the rows go on in a next sheet, named
  `<title> (2)` and so on, with the header again.

Memory stays bounded by a chunk whatever the range. The response's status and headers go
before the first row is read, so everything that could be refused (an unknown ledger, a bad
range) is checked before the stream starts.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import Literal

from fastapi.responses import StreamingResponse

from grandlivre.tabular import TEXT_CSV, XLSX, Cell, Column, Kind, Sheet, to_csv

Rows = AsyncIterator[Sequence[Sequence[Cell]]]

XLSX_MAX_ROWS = 1_048_576
_NUMBER_FORMATS: dict[Kind, str] = {"amount": "#,##0.00", "date": "DD/MM/YYYY", "integer": "0"}
_BLOCK = 1 << 20


async def csv_chunks(title: str, columns: Sequence[Column], rows: Rows) -> AsyncIterator[bytes]:
    """Yield a CSV as tabular.py writes it (BOM, header, `;`, comma decimals), a chunk of
    rows at a time."""
    columns = tuple(columns)
    start = to_csv(Sheet(title, columns))
    yield start
    async for chunk in rows:
        if chunk:
            yield to_csv(Sheet(title, columns, list(chunk)))[len(start) :]


def _sheet_title(title: str, number: int) -> str:
    clean = "".join(ch for ch in title if ch not in "[]:*?/\\") or "Sheet"
    suffix = "" if number == 1 else f" ({number})"
    return clean[: 31 - len(suffix)] + suffix


async def xlsx_chunks(
    title: str, columns: Sequence[Column], rows: Rows, *, max_rows: int = XLSX_MAX_ROWS
) -> AsyncIterator[bytes]:
    """Yield an XLSX workbook of typed cells (numbers, dates), built row by row on disk."""
    # Imported here: only a spreadsheet request pays for them.
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    formats = [_NUMBER_FORMATS.get(c.kind) for c in columns]
    bold = Font(bold=True)
    sheets = 0
    sheet = None
    used = max_rows

    def new_sheet() -> None:
        nonlocal sheet, sheets, used
        sheets += 1
        sheet = book.create_sheet(_sheet_title(title, sheets))
        sheet.freeze_panes = "A2"
        header = []
        for column in columns:
            cell = WriteOnlyCell(sheet, column.title)
            cell.font = bold
            header.append(cell)
        sheet.append(header)
        used = 1

    async for chunk in rows:
        for row in chunk:
            if used >= max_rows:
                new_sheet()
            assert sheet is not None
            cells = []
            for value, number_format in zip(row, formats, strict=True):
                cell = WriteOnlyCell(sheet, value)  # type: ignore[arg-type]  # Decimal, date: typed cells
                if number_format is not None and value is not None:
                    cell.number_format = number_format
                cells.append(cell)
            sheet.append(cells)
            used += 1
    if sheet is None:
        new_sheet()
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while block := out.read(_BLOCK):
            yield block


def stream(
    title: str,
    columns: Sequence[Column],
    rows: Rows,
    fmt: Literal["csv", "xlsx"],
    filename: str,
) -> StreamingResponse:
    """Answer the rows as a download named `filename` plus the format's extension."""
    if fmt == "csv":
        body, media_type = csv_chunks(title, columns, rows), f"{TEXT_CSV}; charset=utf-8"
    else:
        body, media_type = xlsx_chunks(title, columns, rows), XLSX
    return StreamingResponse(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}.{fmt}"'},
    )
