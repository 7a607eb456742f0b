"""HTTP routes of lettrage (matching an account's lines), its open items and the aged balance."""

from __future__ import annotations

import re
import uuid
from datetime import date
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, status
from fastapi.responses import JSONResponse, Response

from grandlivre.auth.deps import Accountant, Viewer
from grandlivre.clock import today_in_paris
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.entry.schemas import MAX_LINES
from grandlivre.errors import InvalidCursor
from grandlivre.lettering import service
from grandlivre.lettering.operations import MatchLines, UnmatchLines
from grandlivre.lettering.schemas import (
    CODE_PATTERN,
    AgedBalanceRead,
    MatchCreate,
    MatchRead,
    OpenItemRead,
)
from grandlivre.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, Limit
from grandlivre.party.schemas import CODE_PATTERN as PARTY_CODE_PATTERN
from grandlivre.schemas import PROBLEM_RESPONSES, Day, Page
from grandlivre.tabular import TABULAR_RESPONSES, Cell, Column, ReportFormat, Sheet, render

router = APIRouter(
    prefix="/api/v1/ledgers",
    tags=["lettering"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Viewer],
)

# Not patterned, like every account route: a number or code nothing holds is not found (404).
NumberPath = Annotated[str, Path(description="The account's number.")]
CodePath = Annotated[str, Path(description="The match's code.")]
PartyQuery = Annotated[
    str | None, Query(pattern=PARTY_CODE_PATTERN, description="Only this third party's lines.")
]
AsOf = Annotated[
    Day | None,
    Query(
        description="The day the items are taken as of (YYYY-MM-DD): lines dated after it are "
        "left out, and a match dated after it does not close its lines."
    ),
]
Kind = Annotated[service.AgedKind, Query(description="Customers or suppliers.")]


def _minor(amount: int, decimals: int) -> Decimal:
    return Decimal(amount).scaleb(-decimals)


@router.post(
    "/{ledger}/accounts/{number}/matches",
    status_code=status.HTTP_201_CREATED,
    response_model=MatchRead,
    dependencies=[Accountant],
)
async def create_match(
    ledger: str,
    number: NumberPath,
    body: MatchCreate,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
) -> JSONResponse:
    """Match lines of the account that sum to zero (lettrage) under a code and a date."""
    op = MatchLines(
        ledger=ledger, account=number, match_id=ids.new(), spec=body.to_spec(), now=clock.now()
    )
    view = await store.execute(op)
    return JSONResponse(
        MatchRead.of(view).model_dump(mode="json"),
        status_code=status.HTTP_201_CREATED,
        headers={"Location": f"/api/v1/ledgers/{ledger}/accounts/{number}/matches/{view.code}"},
    )


@router.get("/{ledger}/accounts/{number}/matches", response_model=Page[MatchRead])
async def list_matches(
    ledger: str,
    number: NumberPath,
    store: StoreDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[MatchRead]:
    """List the account's live matches with their lines, in code order (A..Z, AA..)."""
    after = decode_cursor("matches", cursor, 1)[0] if cursor else None
    if after is not None and not re.fullmatch(CODE_PATTERN, after):
        raise InvalidCursor("the cursor is not one this service issued")
    views = await store.read(
        lambda s: service.list_matches(s, ledger, number, after=after, limit=limit)
    )
    next_cursor = encode_cursor("matches", [views[-1].code]) if len(views) == limit else None
    return Page(items=[MatchRead.of(v) for v in views], next_cursor=next_cursor)


@router.get("/{ledger}/accounts/{number}/matches/{code}", response_model=MatchRead)
async def get_match(ledger: str, number: NumberPath, code: CodePath, store: StoreDep) -> MatchRead:
    """Read one live match of the account and its lines."""
    return MatchRead.of(await store.read(lambda s: service.get_match(s, ledger, number, code)))


@router.delete(
    "/{ledger}/accounts/{number}/matches/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Accountant],
)
async def delete_match(
    ledger: str, number: NumberPath, code: CodePath, store: StoreDep, clock: ClockDep
) -> Response:
    """Unmatch: the lines are open again; the match is kept as history, its code free."""
    # The operation names the match by id, so that a replay unmatches this very match.
    match_id = await store.read(lambda s: service.find_live_match(s, ledger, number, code))
    op = UnmatchLines(ledger=ledger, account=number, match_id=match_id, code=code, now=clock.now())
    await store.execute(op)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


OPEN_ITEMS_COLUMNS = (
    Column("Date", "date"),
    Column("Journal"),
    Column("Pièce"),
    Column("Libellé"),
    Column("Tiers"),
    Column("Débit", "amount"),
    Column("Crédit", "amount"),
    Column("Écriture"),
    Column("Ligne", "integer"),
)


@router.get(
    "/{ledger}/accounts/{number}/open-items",
    response_model=Page[OpenItemRead],
    responses=TABULAR_RESPONSES,
)
async def list_open_items(
    request: Request,
    ledger: str,
    number: NumberPath,
    store: StoreDep,
    fmt: ReportFormat,
    third_party: PartyQuery = None,
    as_of: AsOf = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[OpenItemRead] | Response:
    """List the account's validated lines that no match holds, in date order (as JSON, or
    the same page as CSV or XLSX, the next one in the `Link` header)."""
    after = None
    if cursor:
        day, entry_id, position = decode_cursor("open-items", cursor, 3)
        try:
            after = (date.fromisoformat(day), uuid.UUID(entry_id), int(position))
        except ValueError as exc:
            raise InvalidCursor("the cursor is not one this service issued") from exc
        if not 0 <= after[2] < MAX_LINES:
            raise InvalidCursor("the cursor is not one this service issued")
    page = await store.read(
        lambda s: service.open_items(
            s, ledger, number, third_party=third_party, as_of=as_of, after=after, limit=limit
        )
    )
    next_cursor = None
    if len(page.items) == limit:
        last = page.items[-1]
        next_cursor = encode_cursor(
            "open-items", [last.date.isoformat(), str(last.entry_id), str(last.position)]
        )
    if fmt == "json":
        items = [OpenItemRead.of(item, page.decimals) for item in page.items]
        return Page(items=items, next_cursor=next_cursor)
    sheet = Sheet(
        f"Non lettré {number}",
        OPEN_ITEMS_COLUMNS,
        [
            (
                item.date,
                item.journal,
                item.reference,
                item.label,
                item.third_party,
                _minor(item.amount, page.decimals) if item.amount > 0 else None,
                _minor(-item.amount, page.decimals) if item.amount < 0 else None,
                str(item.entry_id),
                item.position,
            )
            for item in page.items
        ],
    )
    response = render(sheet, fmt, f"open-items-{ledger}-{number}")
    if next_cursor is not None:
        following = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return response


AGED_COLUMNS = (
    Column("Tiers"),
    Column("Nom"),
    Column("Compte"),
    Column("Délai (jours)", "integer"),
    Column("Non échu", "amount"),
    Column("0-30 jours", "amount"),
    Column("31-60 jours", "amount"),
    Column("61-90 jours", "amount"),
    Column("Plus de 90 jours", "amount"),
    Column("Total", "amount"),
)


@router.get(
    "/{ledger}/reports/aged-balance",
    response_model=AgedBalanceRead,
    responses=TABULAR_RESPONSES,
)
async def get_aged_balance(
    ledger: str,
    kind: Kind,
    store: StoreDep,
    clock: ClockDep,
    fmt: ReportFormat,
    as_of: Annotated[
        Day | None,
        Query(
            description="The day the items are aged at (YYYY-MM-DD), today in France when left "
            "out: lines dated after it are left out, a match dated after it does not close "
            "its lines."
        ),
    ] = None,
) -> AgedBalanceRead | Response:
    """The aged balance (balance âgée) of customers or suppliers: each one's open items by
    days past due (not due, 0-30, 31-60, 61-90, over 90), with totals."""
    day = as_of or today_in_paris(clock)
    report = await store.read(lambda s: service.aged_balance(s, ledger, kind, day))
    if fmt == "json":
        return AgedBalanceRead.of(report)

    def row(
        code: str, name: str, account: str, terms: int | None, buckets: dict[service.Bucket, int]
    ) -> list[Cell]:
        amounts = [_minor(buckets[b], report.decimals) for b in service.BUCKETS]
        return [
            code,
            name,
            account,
            terms,
            *amounts,
            _minor(sum(buckets.values()), report.decimals),
        ]

    rows = [row(p.code, p.name, p.account, p.payment_terms_days, p.buckets) for p in report.parties]
    rows.append(row("Total", "", "", None, report.totals()))
    title = "Balance âgée clients" if kind == "customer" else "Balance âgée fournisseurs"
    sheet = Sheet(f"{title} {day.isoformat()}", AGED_COLUMNS, list(rows))
    return render(sheet, fmt, f"aged-balance-{ledger}-{kind}-{day.isoformat()}")
