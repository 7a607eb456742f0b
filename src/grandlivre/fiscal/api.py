"""HTTP routes for fiscal years and their periods."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Response, status
from pydantic import BeforeValidator, Field

from grandlivre.auth.deps import Admin, Viewer
from grandlivre.deps import ClockDep, StoreDep
from grandlivre.errors import InvalidCursor
from grandlivre.fiscal import service
from grandlivre.fiscal.operations import LockPeriod, OpenFiscalYear
from grandlivre.fiscal.schemas import (
    FIRST_YEAR,
    LAST_YEAR,
    PERIOD_PATTERN,
    FiscalYearCreate,
    FiscalYearRead,
    PeriodRead,
)
from grandlivre.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, Limit
from grandlivre.schemas import PROBLEM_RESPONSES, Page, query_int

router = APIRouter(
    prefix="/api/v1/ledgers",
    tags=["fiscal years"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Viewer],
)

YearPath = Annotated[
    int,
    Field(ge=FIRST_YEAR, le=LAST_YEAR),
    BeforeValidator(query_int),
    Path(description="The fiscal year's name: the calendar year in which it ends."),
]
PeriodPath = Annotated[
    str, Path(pattern=PERIOD_PATTERN, description="A month, YYYY-MM.", examples=["2026-03"])
]


def _after(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    key = decode_cursor("fiscal-years", cursor, 1)[0]
    if re.fullmatch(r"[0-9]{4}", key) is None:
        raise InvalidCursor("the cursor is not one this service issued")
    return int(key)


def _month(period: str) -> date:
    return date(int(period[:4]), int(period[5:]), 1)


@router.get("/{ledger}/fiscal-years", response_model=Page[FiscalYearRead])
async def list_fiscal_years(
    ledger: str, store: StoreDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[FiscalYearRead]:
    """List the ledger's fiscal years in order, each with its monthly periods."""
    after = _after(cursor)
    views = await store.read(lambda s: service.list_years(s, ledger, after=after, limit=limit))
    last = str(views[-1].year) if len(views) == limit else None
    return Page(
        items=[FiscalYearRead.of(v) for v in views],
        next_cursor=encode_cursor("fiscal-years", [last]) if last else None,
    )


@router.post(
    "/{ledger}/fiscal-years",
    status_code=status.HTTP_201_CREATED,
    response_model=FiscalYearRead,
    dependencies=[Admin],
)
async def open_fiscal_year(
    ledger: str, body: FiscalYearCreate, store: StoreDep, clock: ClockDep, response: Response
) -> FiscalYearRead:
    """Open the fiscal year after the ledger's last one: the 12 months that follow it.

    `year` names it (the calendar year in which it ends) and must be the next one
    (`fiscal-year-not-next` says which is); an existing one is `fiscal-year-exists`.
    """
    view = await store.execute(OpenFiscalYear(ledger=ledger, year=body.year, now=clock.now()))
    response.headers["Location"] = f"/api/v1/ledgers/{ledger}/fiscal-years/{view.year}"
    return FiscalYearRead.of(view)


@router.get("/{ledger}/fiscal-years/{year}", response_model=FiscalYearRead)
async def get_fiscal_year(ledger: str, year: YearPath, store: StoreDep) -> FiscalYearRead:
    """Show one fiscal year with its bounds, status and periods."""
    return FiscalYearRead.of(await store.read(lambda s: service.get_year(s, ledger, year)))


@router.post("/{ledger}/periods/{period}/lock", response_model=PeriodRead, dependencies=[Admin])
async def lock_period(
    ledger: str, period: PeriodPath, store: StoreDep, clock: ClockDep
) -> PeriodRead:
    """Lock a month: entries dated in it are refused (`period-locked`) until it is unlocked.

    Postings under way when the lock is taken are either committed before it or refused.
    Locking a locked period leaves it as it was.
    """
    op = LockPeriod(ledger=ledger, month=_month(period), locked=True, now=clock.now())
    year, view = await store.execute(op)
    return PeriodRead.of(year.year, view)


@router.post("/{ledger}/periods/{period}/unlock", response_model=PeriodRead, dependencies=[Admin])
async def unlock_period(
    ledger: str, period: PeriodPath, store: StoreDep, clock: ClockDep
) -> PeriodRead:
    """Unlock a month of an open fiscal year; a closed year's are refused
    (`fiscal-year-closed`)."""
    op = LockPeriod(ledger=ledger, month=_month(period), locked=False, now=clock.now())
    year, view = await store.execute(op)
    return PeriodRead.of(year.year, view)
