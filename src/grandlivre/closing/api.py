"""HTTP routes for closing and reopening fiscal years."""

from __future__ import annotations

from fastapi import APIRouter

from grandlivre.auth.deps import Admin
from grandlivre.closing import service
from grandlivre.closing.operations import CloseFiscalYear, ReopenFiscalYear
from grandlivre.closing.schemas import ClosingRead, ReopenRead
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.fiscal.api import YearPath
from grandlivre.schemas import PROBLEM_RESPONSES, QueryFlag

router = APIRouter(
    prefix="/api/v1/ledgers",
    tags=["fiscal years"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Admin],
)


@router.post("/{ledger}/fiscal-years/{year}/close", response_model=ClosingRead)
async def close_fiscal_year(
    ledger: str,
    year: YearPath,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
    dry_run: QueryFlag = False,
) -> ClosingRead:
    """Close a fiscal year: book its result, zero classes 6 and 7, open the next year with
    the à-nouveaux, and lock the year. `?dry_run=true` shows what it would write, and writes
    nothing.

    Refused while drafts are dated in the year (`drafts-remain`), while the year before is
    open (`previous-year-open`), once closed (`fiscal-year-closed`), and on the fallback
    (`primary-required`).
    """
    if dry_run:
        plan = await store.read(lambda s: service.plan_closing(s, ledger, year))
        return ClosingRead.of(plan, dry_run=True)
    op = CloseFiscalYear(
        ledger=ledger, year=year, closing_id=ids.new(), opening_id=ids.new(), now=clock.now()
    )
    plan, _, _ = await store.execute(op)
    return ClosingRead.of(plan, dry_run=False, closing_id=op.closing_id, opening_id=op.opening_id)


@router.post("/{ledger}/fiscal-years/{year}/reopen", response_model=ReopenRead)
async def reopen_fiscal_year(
    ledger: str, year: YearPath, store: StoreDep, clock: ClockDep
) -> ReopenRead:
    """Reopen a closed fiscal year: its closing and opening entries are reversed (never
    deleted) and the year is open again. Refused once the next year holds validated entries
    besides its opening, or is closed (`next-year-in-use`)."""
    reversals = await store.execute(ReopenFiscalYear(ledger=ledger, year=year, now=clock.now()))
    return ReopenRead(fiscal_year=year, reversals=reversals)
