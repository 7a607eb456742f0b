"""HTTP routes of the exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator, Field

from grandlivre.auth.deps import Accountant, Admin, Viewer
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.exchange import csv_layout, importer, service
from grandlivre.exchange.fec import Encoding, FecFormat, Separator, fec_filename
from grandlivre.exchange.fec_import import decode
from grandlivre.exchange.operations import ImportCsv, ImportFec, run_import
from grandlivre.fiscal.schemas import FIRST_YEAR, LAST_YEAR
from grandlivre.params import DateFrom, DateTo, check_range
from grandlivre.schemas import PROBLEM_RESPONSES, QueryFlag, query_int
from grandlivre.store import Store
from grandlivre.tabular import TEXT_CSV

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["exports"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)

FEC_MEDIA_TYPE = "text/plain"
FiscalYearQuery = Annotated[
    int,
    Field(ge=FIRST_YEAR, le=LAST_YEAR),
    BeforeValidator(query_int),
    Query(description="The fiscal year's name: the calendar year in which it ends."),
]


@router.get(
    "/{ledger}/exports/fec",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The FEC file, as a download named `<SIREN>FEC<AAAAMMJJ>.txt` "
            "(the year's closing date). `X-FEC-Provisional: true` while the year is open or "
            "some of its entries await their number.",
            "content": {FEC_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "headers": {
                "Content-Disposition": {"schema": {"type": "string"}},
                "X-FEC-Provisional": {"schema": {"type": "string", "enum": ["true", "false"]}},
            },
        }
    },
)
async def export_fec(
    ledger: str,
    store: StoreDep,
    fiscal_year: FiscalYearQuery,
    separator: Annotated[
        Separator, Query(description="`pipe` (the default) or `tab` between fields.")
    ] = "pipe",
    encoding: Annotated[
        Encoding,
        Query(
            description="`iso-8859-15` (the default; characters it lacks are written as their "
            "nearest, `’` as `'`) or `utf-8`."
        ),
    ] = "iso-8859-15",
) -> StreamingResponse:
    """Download the Fichier des Écritures Comptables of a fiscal year (article A47 A-1 of the
    Livre des procédures fiscales): its validated entries with their numbers, the opening
    entries included and the closing entries left out. A year still open is exported too,
    and said to be provisional. Refused while the ledger has no SIREN (`siren-required`)."""
    plan = await store.read(lambda s: service.plan_fec(s, ledger, fiscal_year))
    fmt = FecFormat(separator=separator, encoding=encoding)
    charset = "iso-8859-15" if encoding == "iso-8859-15" else "utf-8"
    return StreamingResponse(
        service.fec_chunks(store, plan, fmt),
        media_type=f"{FEC_MEDIA_TYPE}; charset={charset}",
        headers={
            "Content-Disposition": f'attachment; filename="{fec_filename(plan.siren, plan.end)}"',
            "X-FEC-Provisional": "true" if plan.provisional else "false",
        },
    )


@router.get(
    "/{ledger}/exports/beancount",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "A Beancount ledger of the validated entries, as a download named "
            "`<ledger>.beancount`.",
            "content": {FEC_MEDIA_TYPE: {"schema": {"type": "string"}}},
        }
    },
)
async def export_beancount(ledger: str, store: StoreDep) -> StreamingResponse:
    """Download the validated entries as a Beancount ledger that `bean-check` and Fava read:
    PCG accounts named `<Root>:<number>-<label>`, one transaction per entry, and a balance
    assertion per account that Beancount checks against its own sums."""
    head = await store.read(lambda s: service.ledger_head(s, ledger))
    return StreamingResponse(
        service.beancount_chunks(store, head),
        media_type=f"{FEC_MEDIA_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{head.code}.beancount"'},
    )


class ImportRead(BaseModel):
    """What an import wrote, or would write (`dry_run`)."""

    dry_run: bool
    entries: int
    lines: int
    journals_created: list[str]
    accounts_created: list[str]
    third_parties_created: list[str]
    collective_marked: list[str] = Field(
        description="Accounts (42x to 46x) marked collective because the file names third "
        "parties on them."
    )
    matches: int = Field(
        default=0, description="Lettering matches made from the file's EcritureLet and DateLet."
    )


FileEncoding = Annotated[
    Encoding, Query(description="How the file is encoded: `iso-8859-15` (the default) or `utf-8`.")
]


@router.post(
    "/{ledger}/imports/fec",
    response_model=ImportRead,
    status_code=201,
    dependencies=[Admin],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The FEC file itself, as the export writes it.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        }
    },
    responses={200: {"model": ImportRead, "description": "A dry run: what it would write."}},
)
async def import_fec(
    ledger: str,
    request: Request,
    response: Response,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
    encoding: FileEncoding = "iso-8859-15",
    dry_run: QueryFlag = False,
) -> ImportRead:
    """Import a FEC into a ledger with no entries (`ledger-not-empty` otherwise), all of it or
    nothing: journals, accounts and third parties the chart lacks are opened from the file's
    labels, and every entry is posted, validated on its ValidDate. A file that breaks a rule is
    refused whole (`import-refused`), each offending line listed by number. `?dry_run=true`
    checks everything and writes nothing (200)."""
    op = ImportFec(
        ledger=ledger, text=await _text_of(request, encoding), first_id=ids.new(), now=clock.now()
    )
    return await _run_import(op, store, response, dry_run=dry_run)


async def _text_of(request: Request, encoding: Encoding) -> str:
    text, problem = decode(await request.body(), encoding)
    if text is None:
        assert problem is not None
        raise importer.refuse([problem])
    return text


async def _run_import(
    op: ImportFec | ImportCsv, store: Store, response: Response, *, dry_run: bool
) -> ImportRead:
    """Run an import, or rehearse it (`dry_run`, answered 200)."""
    report = await run_import(store, op, dry_run=dry_run)
    if dry_run:
        response.status_code = 200
    return ImportRead(**importer.report_json(report, dry_run=dry_run))


@router.post(
    "/{ledger}/imports/csv",
    response_model=ImportRead,
    status_code=201,
    dependencies=[Accountant],
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "The CSV file itself, in the layout of docs/exchange.md: `;`, the "
            "header " + ";".join(csv_layout.COLUMNS) + ", UTF-8, comma decimals, dates "
            "DD/MM/YYYY or YYYY-MM-DD.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        }
    },
    responses={200: {"model": ImportRead, "description": "A dry run: what it would write."}},
)
async def import_csv(
    ledger: str,
    request: Request,
    response: Response,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
    dry_run: QueryFlag = False,
) -> ImportRead:
    """Post the entries of a CSV file, one row per line, all of them or none: a file with a
    row that breaks a rule is refused whole (`import-refused`), each offending row listed by
    its line number. `?dry_run=true` checks everything and writes nothing (200)."""
    op = ImportCsv(
        ledger=ledger, text=await _text_of(request, "utf-8"), first_id=ids.new(), now=clock.now()
    )
    return await _run_import(op, store, response, dry_run=dry_run)


@router.get(
    "/{ledger}/exports/entries",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The validated entries as CSV, one row per line, in the layout the "
            "CSV import reads, as a download named `<ledger>-entries.csv`.",
            "content": {TEXT_CSV: {"schema": {"type": "string"}}},
        }
    },
)
async def export_entries(
    ledger: str, store: StoreDep, date_from: DateFrom = None, date_to: DateTo = None
) -> StreamingResponse:
    """Download the validated entries dated in the range as CSV (`;`, comma decimals,
    DD/MM/YYYY, UTF-8 with BOM), one row per line: what the CSV import reads back."""
    check_range(date_from, date_to)
    head = await store.read(lambda s: service.ledger_head(s, ledger))
    return StreamingResponse(
        service.entries_csv_chunks(store, head, date_from, date_to),
        media_type=f"{TEXT_CSV}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{head.code}-entries.csv"'},
    )
