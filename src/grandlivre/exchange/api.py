"""HTTP routes of the exports."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BeforeValidator, Field

from grandlivre.auth.deps import Viewer
from grandlivre.deps import StoreDep
from grandlivre.exchange import service
from grandlivre.exchange.fec import Encoding, FecFormat, Separator, fec_filename
from grandlivre.fiscal.schemas import FIRST_YEAR, LAST_YEAR
from grandlivre.schemas import PROBLEM_RESPONSES, query_int

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
