"""HTTP routes of the reports: balances, general ledger, journal report.

Each answers JSON by default, CSV or XLSX on request (`Accept`, tabular.py). A paginated
report's spreadsheet holds its whole range, streamed (report/spreadsheet.py); `limit` and
`cursor` are for its JSON pages only. docs/reports.md describes every report and format.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BeforeValidator, Field

from grandlivre.auth.deps import Viewer
from grandlivre.deps import StoreDep
from grandlivre.errors import InvalidCursor
from grandlivre.fiscal.schemas import FIRST_YEAR, LAST_YEAR
from grandlivre.money import format_amount
from grandlivre.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, DateFrom, DateTo, IncludeDrafts, Limit
from grandlivre.party.schemas import CODE_PATTERN, ThirdPartyBalanceRead
from grandlivre.report import general_ledger, journal, service, sheets, spreadsheet
from grandlivre.report.repository import EntryPosition, Key, Movement, Position
from grandlivre.report.schemas import (
    AccountBalanceRead,
    AccountLedgerRead,
    ClassLine,
    GeneralLedgerAccount,
    GeneralLedgerRead,
    JournalEntryRead,
    JournalLineRead,
    JournalReportRead,
    MovementRead,
    PartyBalanceLine,
    PartyBalanceRead,
    Totals,
    TrialBalanceLine,
    TrialBalanceRead,
)
from grandlivre.report.window import check_range
from grandlivre.schemas import PROBLEM_RESPONSES, Day, query_int
from grandlivre.tabular import TABULAR_RESPONSES, ReportFormat, render

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["reports"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)

AccountQuery = Annotated[
    str | None, Query(pattern=r"^[0-9]{1,20}$", description="Only this collective account.")
]
LedgerAccountQuery = Annotated[
    str | None,
    Query(
        pattern=r"^[0-9]{1,20}$",
        description="Only this account (`404 account-not-found` if the ledger lacks it).",
    ),
]
PartyPath = Annotated[str, Path(pattern=CODE_PATTERN, description="The third party's code.")]
PartyQuery = Annotated[
    str | None,
    Query(pattern=CODE_PATTERN, description="Only this third party."),
]
FiscalYearQuery = Annotated[
    int | None,
    Field(ge=FIRST_YEAR, le=LAST_YEAR),
    BeforeValidator(query_int),
    Query(
        description="A fiscal year, by its name (the calendar year in which it ends): the "
        "range of its first to its last day, instead of `from` and `to` (giving both is "
        "`422 invalid-date-range`; an unknown year is `404 fiscal-year-not-found`)."
    ),
]
AsOf = Annotated[Day | None, Query(description="Last day counted, inclusive (YYYY-MM-DD).")]


def _money(decimals: int) -> Callable[[int], str]:
    return lambda minor: format_amount(minor, decimals)


def _whole_range_only(request: Request) -> None:
    """Refuse `limit` and `cursor` with a spreadsheet, which holds the whole range."""
    errors = [
        {
            "type": "spreadsheet_whole_range",
            "loc": ("query", name),
            "msg": "a CSV or XLSX holds the whole range, not a page: leave out limit and cursor",
            "input": request.query_params[name],
        }
        for name in ("limit", "cursor")
        if name in request.query_params
    ]
    if errors:
        raise RequestValidationError(errors)


# -- trial balance ----------------------------------------------------------------------------


@router.get("/{ledger}/trial-balance", response_model=TrialBalanceRead, responses=TABULAR_RESPONSES)
async def get_trial_balance(
    ledger: str,
    store: StoreDep,
    fmt: ReportFormat,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fiscal_year: FiscalYearQuery = None,
    include_drafts: IncludeDrafts = False,
) -> TrialBalanceRead | Response:
    """The trial balance (balance générale): per account and per PCG class, the balance
    before the range, the movements over it and the balance at its end. It lists every account
    moved in the range and every one that carries a balance through it unmoved, so that its
    opening and closing columns net to zero."""
    check_range(date_from, date_to, fiscal_year)
    tb = await store.read(
        partial(
            service.compute_trial_balance,
            ledger_code=ledger,
            date_from=date_from,
            date_to=date_to,
            fiscal_year=fiscal_year,
            include_drafts=include_drafts,
        )
    )
    if fmt != "json":
        name = f"balance-generale-{ledger}-{sheets.span(tb.date_from, tb.date_to)}"
        return render(sheets.trial_balance_sheet(tb), fmt, name)
    money = _money(tb.decimals)
    return TrialBalanceRead(
        date_from=tb.date_from,
        date_to=tb.date_to,
        items=[
            TrialBalanceLine(
                account=i.number,
                name=i.name,
                opening=money(i.opening),
                debit=money(i.debit),
                credit=money(i.credit),
                balance=money(i.debit - i.credit),
                closing=money(i.closing),
            )
            for i in tb.items
        ],
        classes=[
            ClassLine.model_validate(
                {
                    "class": c.number,
                    "name": c.name,
                    "opening": money(c.opening),
                    "debit": money(c.debit),
                    "credit": money(c.credit),
                    "balance": money(c.debit - c.credit),
                    "closing": money(c.closing),
                }
            )
            for c in tb.classes
        ],
        totals=Totals(
            debit=money(tb.debit), credit=money(tb.credit), balance=money(tb.debit - tb.credit)
        ),
    )


@router.get(
    "/{ledger}/third-party-balance", response_model=PartyBalanceRead, responses=TABULAR_RESPONSES
)
async def get_third_party_balance(
    ledger: str,
    store: StoreDep,
    fmt: ReportFormat,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fiscal_year: FiscalYearQuery = None,
    account: AccountQuery = None,
    third_party: PartyQuery = None,
    include_drafts: IncludeDrafts = False,
) -> PartyBalanceRead | Response:
    """The balance auxiliaire: each collective account broken down by third party, with the
    columns of the trial balance."""
    check_range(date_from, date_to, fiscal_year)
    found = await store.read(
        partial(
            service.third_party_balance,
            ledger_code=ledger,
            date_from=date_from,
            date_to=date_to,
            fiscal_year=fiscal_year,
            account=account,
            third_party=third_party,
            include_drafts=include_drafts,
        )
    )
    if fmt != "json":
        name = f"balance-auxiliaire-{ledger}-{sheets.span(found.date_from, found.date_to)}"
        return render(sheets.party_balance_sheet(found), fmt, name)
    money = _money(found.decimals)
    debit = sum(i.debit for i in found.items)
    credit = sum(i.credit for i in found.items)
    return PartyBalanceRead(
        date_from=found.date_from,
        date_to=found.date_to,
        items=[
            PartyBalanceLine(
                account=i.account,
                account_name=i.account_name,
                third_party=i.third_party,
                name=i.third_party_name,
                opening=money(i.opening),
                debit=money(i.debit),
                credit=money(i.credit),
                balance=money(i.debit - i.credit),
                closing=money(i.closing),
            )
            for i in found.items
        ],
        totals=Totals(debit=money(debit), credit=money(credit), balance=money(debit - credit)),
    )


# -- an account -------------------------------------------------------------------------------


def _movement(movement: Movement, balance: int, money: Callable[[int], str]) -> MovementRead:
    return MovementRead(
        entry_id=movement.entry_id,
        date=movement.date,
        journal=movement.journal,
        label=movement.line_label or movement.entry_label,
        reference=movement.reference,
        debit=money(movement.amount) if movement.amount > 0 else None,
        credit=money(-movement.amount) if movement.amount < 0 else None,
        balance=money(balance),
    )


def _line_key(day: str, entry_id: str, position: str) -> Key:
    try:
        return (date.fromisoformat(day), uuid.UUID(entry_id), int(position))
    except ValueError as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc


@router.get(
    "/{ledger}/accounts/{number}/ledger",
    response_model=AccountLedgerRead,
    responses=TABULAR_RESPONSES,
)
async def get_account_ledger(
    request: Request,
    ledger: str,
    number: str,
    store: StoreDep,
    fmt: ReportFormat,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fiscal_year: FiscalYearQuery = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    include_drafts: IncludeDrafts = False,
    third_party: PartyQuery = None,
) -> AccountLedgerRead | Response:
    """List the lines of one account with a running balance (its grand livre); as a
    spreadsheet, every line of the range (`limit` and `cursor` are then refused)."""
    check_range(date_from, date_to, fiscal_year)
    if fmt != "json":
        _whole_range_only(request)
        plan = await store.read(
            partial(
                general_ledger.plan_account_ledger,
                ledger_code=ledger,
                number=number,
                date_from=date_from,
                date_to=date_to,
                fiscal_year=fiscal_year,
                include_drafts=include_drafts,
                third_party=third_party,
            )
        )
        name = f"grand-livre-{ledger}-{number}-{sheets.span(plan.date_from, plan.date_to)}"
        rows = sheets.ledger_rows(
            general_ledger.ledger_parts(store, plan), plan.decimals, plan.date_from, plan.date_to
        )
        return spreadsheet.stream("Grand livre", sheets.LEDGER_COLUMNS, rows, fmt, name)
    after = None
    if cursor:
        after = _line_key(*decode_cursor("account-ledger", cursor, 3))
    page = await store.read(
        partial(
            general_ledger.account_ledger,
            ledger_code=ledger,
            number=number,
            date_from=date_from,
            date_to=date_to,
            fiscal_year=fiscal_year,
            after=after,
            limit=limit,
            include_drafts=include_drafts,
            third_party=third_party,
        )
    )
    money = _money(page.decimals)
    next_cursor = None
    if page.has_more:
        last = page.movements[-1][0]
        next_cursor = encode_cursor(
            "account-ledger", [last.date.isoformat(), str(last.entry_id), str(last.position)]
        )
    return AccountLedgerRead(
        account=page.number,
        name=page.name,
        opening_balance=money(page.opening),
        closing_balance=money(page.closing),
        items=[_movement(m, balance, money) for m, balance in page.movements],
        next_cursor=next_cursor,
    )


@router.get(
    "/{ledger}/accounts/{number}/balance",
    response_model=AccountBalanceRead,
    responses=TABULAR_RESPONSES,
)
async def get_account_balance(
    ledger: str,
    number: str,
    store: StoreDep,
    fmt: ReportFormat,
    as_of: AsOf = None,
    include_drafts: IncludeDrafts = False,
) -> AccountBalanceRead | Response:
    """Balance of one account as of a date: the entries dated that day or before, from the
    start of the fiscal year after the last closed one (whose opening entry carries the
    balances before it)."""
    result = await store.read(
        partial(
            service.account_balance,
            ledger_code=ledger,
            number=number,
            as_of=as_of,
            include_drafts=include_drafts,
        )
    )
    if fmt != "json":
        name = f"solde-{ledger}-{number}-{as_of or 'fin'}"
        return render(sheets.account_balance_sheet(result, as_of), fmt, name)
    money = _money(result.decimals)
    return AccountBalanceRead(
        account=result.number,
        name=result.name,
        as_of=as_of,
        debit=money(result.debit),
        credit=money(result.credit),
        balance=money(result.debit - result.credit),
    )


@router.get(
    "/{ledger}/third-parties/{code}/balance",
    response_model=ThirdPartyBalanceRead,
    responses=TABULAR_RESPONSES,
)
async def get_party_balance(
    ledger: str,
    code: PartyPath,
    store: StoreDep,
    fmt: ReportFormat,
    as_of: AsOf = None,
    include_drafts: IncludeDrafts = False,
) -> ThirdPartyBalanceRead | Response:
    """Balance of one third party's auxiliary account as of a date, counted like an
    account's balance."""
    result = await store.read(
        partial(
            service.party_balance,
            ledger_code=ledger,
            code=code,
            as_of=as_of,
            include_drafts=include_drafts,
        )
    )
    if fmt != "json":
        name = f"solde-tiers-{ledger}-{code}-{as_of or 'fin'}"
        return render(sheets.party_account_balance_sheet(result, as_of), fmt, name)
    money = _money(result.decimals)
    return ThirdPartyBalanceRead(
        third_party=result.code,
        name=result.name,
        account=result.account,
        as_of=as_of,
        debit=money(result.debit),
        credit=money(result.credit),
        balance=money(result.debit - result.credit),
    )


# -- general ledger -----------------------------------------------------------------------------

GENERAL_LEDGER = "general-ledger"


@router.get(
    "/{ledger}/general-ledger", response_model=GeneralLedgerRead, responses=TABULAR_RESPONSES
)
async def get_general_ledger(
    request: Request,
    ledger: str,
    store: StoreDep,
    fmt: ReportFormat,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fiscal_year: FiscalYearQuery = None,
    account: LedgerAccountQuery = None,
    limit: Annotated[
        int,
        Field(ge=1, le=MAX_LIMIT),
        BeforeValidator(query_int),
        Query(description="Movements per page (an account may span pages)."),
    ] = DEFAULT_LIMIT,
    cursor: Cursor = None,
    include_drafts: IncludeDrafts = False,
) -> GeneralLedgerRead | Response:
    """The general ledger (grand livre): every account's movements over the range (or one
    account's), with running balances, each account with its opening and closing balances;
    as a spreadsheet, the whole range (`limit` and `cursor` are then refused)."""
    check_range(date_from, date_to, fiscal_year)
    if fmt != "json":
        _whole_range_only(request)
        plan = await store.read(
            partial(
                general_ledger.plan_general_ledger,
                ledger_code=ledger,
                date_from=date_from,
                date_to=date_to,
                fiscal_year=fiscal_year,
                account=account,
                include_drafts=include_drafts,
            )
        )
        name = f"grand-livre-{ledger}-{sheets.span(plan.date_from, plan.date_to)}"
        rows = sheets.ledger_rows(
            general_ledger.ledger_parts(store, plan), plan.decimals, plan.date_from, plan.date_to
        )
        return spreadsheet.stream("Grand livre", sheets.LEDGER_COLUMNS, rows, fmt, name)
    after = None
    if cursor:
        number, *key = decode_cursor(GENERAL_LEDGER, cursor, 4)
        if not number.isdigit() or not 1 <= len(number) <= 20:
            raise InvalidCursor("the cursor is not one this service issued")
        after = Position(number, _line_key(*key))
    page = await store.read(
        partial(
            general_ledger.general_ledger,
            ledger_code=ledger,
            date_from=date_from,
            date_to=date_to,
            fiscal_year=fiscal_year,
            account=account,
            after=after,
            limit=limit,
            include_drafts=include_drafts,
        )
    )
    money = _money(page.decimals)
    next_cursor = None
    if page.next_position is not None:
        day, entry_id, position = page.next_position.key
        next_cursor = encode_cursor(
            GENERAL_LEDGER,
            [page.next_position.account, day.isoformat(), str(entry_id), str(position)],
        )
    return GeneralLedgerRead(
        date_from=page.date_from,
        date_to=page.date_to,
        items=[
            GeneralLedgerAccount(
                account=a.figures.number,
                name=a.figures.name,
                opening=money(a.figures.opening),
                debit=money(a.figures.debit),
                credit=money(a.figures.credit),
                closing=money(a.figures.closing),
                movements=[_movement(m, balance, money) for m, balance in a.movements],
            )
            for a in page.accounts
        ],
        next_cursor=next_cursor,
    )


# -- journal report -----------------------------------------------------------------------------

JOURNAL_REPORT = "journal-report"


def _entry_position(day: str, number: str, entry_id: str, horizon: str) -> EntryPosition:
    try:
        return EntryPosition(
            date.fromisoformat(day),
            int(number) if number else None,
            uuid.UUID(entry_id),
            int(horizon),
        )
    except ValueError as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc


@router.get(
    "/{ledger}/journals/{code}/report",
    response_model=JournalReportRead,
    responses=TABULAR_RESPONSES,
)
async def get_journal_report(
    request: Request,
    ledger: str,
    code: str,
    store: StoreDep,
    fmt: ReportFormat,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    fiscal_year: FiscalYearQuery = None,
    limit: Annotated[
        int,
        Field(ge=1, le=MAX_LIMIT),
        BeforeValidator(query_int),
        Query(description="Entries per page."),
    ] = DEFAULT_LIMIT,
    cursor: Cursor = None,
    include_drafts: IncludeDrafts = False,
) -> JournalReportRead | Response:
    """One journal over a range: its entries in date, number and id order, each with its
    lines, and (on the first page) its debit and credit totals over the whole range; as a
    spreadsheet, a row per line of the whole range and a total row (`limit` and `cursor` are
    then refused)."""
    check_range(date_from, date_to, fiscal_year)
    if fmt != "json":
        _whole_range_only(request)
        header, stream = await store.read(
            partial(
                journal.journal_stream,
                ledger_code=ledger,
                code=code,
                date_from=date_from,
                date_to=date_to,
                fiscal_year=fiscal_year,
                include_drafts=include_drafts,
            )
        )
        name = f"journal-{ledger}-{header.journal}-{sheets.span(header.date_from, header.date_to)}"
        rows = sheets.journal_rows(journal.journal_parts(store, stream), header)
        title = f"Journal {header.journal}"
        return spreadsheet.stream(title, sheets.JOURNAL_COLUMNS, rows, fmt, name)
    after = None
    if cursor:
        after = _entry_position(*decode_cursor(JOURNAL_REPORT, cursor, 4))
    report = await store.read(
        partial(
            journal.journal_report,
            ledger_code=ledger,
            code=code,
            date_from=date_from,
            date_to=date_to,
            fiscal_year=fiscal_year,
            after=after,
            limit=limit,
            include_drafts=include_drafts,
        )
    )
    money = _money(report.decimals)
    next_cursor = None
    position = report.next_position
    if position is not None:
        next_cursor = encode_cursor(
            JOURNAL_REPORT,
            [
                position.date.isoformat(),
                "" if position.number is None else str(position.number),
                str(position.entry_id),
                str(position.horizon),
            ],
        )
    return JournalReportRead(
        journal=report.journal,
        name=report.name,
        date_from=report.date_from,
        date_to=report.date_to,
        items=[
            JournalEntryRead(
                id=e.entry_id,
                date=e.date,
                number=e.number,
                status=e.status,
                label=e.label,
                reference=e.reference,
                lines=[
                    JournalLineRead(
                        account=line.account,
                        name=line.account_name,
                        third_party=line.third_party,
                        label=line.line_label,
                        debit=money(line.amount) if line.amount > 0 else None,
                        credit=money(-line.amount) if line.amount < 0 else None,
                    )
                    for line in e.lines
                ],
            )
            for e in report.entries
        ],
        totals=None
        if report.totals is None
        else Totals(
            debit=money(report.totals[0]),
            credit=money(report.totals[1]),
            balance=money(report.totals[0] - report.totals[1]),
        ),
        next_cursor=next_cursor,
    )
