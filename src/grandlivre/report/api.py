"""HTTP routes for the trial balance and account reads."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.auth.deps import Viewer
from grandlivre.deps import StoreDep
from grandlivre.errors import InvalidCursor
from grandlivre.money import format_amount
from grandlivre.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, DateFrom, DateTo, IncludeDrafts, Limit, check_range
from grandlivre.party import service as party_service
from grandlivre.party.schemas import CODE_PATTERN, ThirdPartyBalanceRead
from grandlivre.report import service
from grandlivre.schemas import PROBLEM_RESPONSES, Day

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["reports"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)


AccountQuery = Annotated[
    str | None, Query(pattern=r"^[0-9]{1,20}$", description="Only this collective account.")
]
PartyPath = Annotated[str, Path(pattern=CODE_PATTERN, description="The third party's code.")]
PartyQuery = Annotated[
    str | None,
    Query(pattern=CODE_PATTERN, description="Only this third party."),
]


class TrialBalanceLine(BaseModel):
    """Totals of one account; balance = debit − credit, signed."""

    account: str
    name: str
    debit: str
    credit: str
    balance: str


class Totals(BaseModel):
    """Grand totals; their balance is always zero."""

    debit: str
    credit: str
    balance: str


class TrialBalanceRead(BaseModel):
    """The trial balance (balance générale) over a range of dates."""

    date_from: date | None = None
    date_to: date | None = None
    items: list[TrialBalanceLine]
    totals: Totals


class MovementRead(BaseModel):
    """One line of an account's general ledger and the balance after it."""

    entry_id: uuid.UUID
    date: date
    journal: str
    label: str
    reference: str | None
    debit: str | None
    credit: str | None
    balance: str


class AccountLedgerRead(BaseModel):
    """The general ledger (grand livre) of one account over a range, cursor-paginated."""

    account: str
    name: str
    opening_balance: str
    closing_balance: str
    items: list[MovementRead]
    next_cursor: str | None


class AccountBalanceRead(BaseModel):
    """Totals of one account over every entry dated up to `as_of`."""

    account: str
    name: str
    as_of: date | None
    debit: str
    credit: str
    balance: str


@router.get("/{ledger}/trial-balance", response_model=TrialBalanceRead)
async def get_trial_balance(
    ledger: str,
    store: StoreDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    include_drafts: IncludeDrafts = False,
) -> TrialBalanceRead:
    """Total debit, credit and balance of every account moved between the dates."""
    check_range(date_from, date_to)
    tb = await store.read(
        lambda s: service.compute_trial_balance(
            s, ledger, date_from, date_to, include_drafts=include_drafts
        )
    )

    def fmt(minor: int) -> str:
        return format_amount(minor, tb.decimals)

    return TrialBalanceRead(
        date_from=date_from,
        date_to=date_to,
        items=[
            TrialBalanceLine(
                account=i.number,
                name=i.name,
                debit=fmt(i.debit),
                credit=fmt(i.credit),
                balance=fmt(i.debit - i.credit),
            )
            for i in tb.items
        ],
        totals=Totals(
            debit=fmt(tb.debit), credit=fmt(tb.credit), balance=fmt(tb.debit - tb.credit)
        ),
    )


class PartyBalanceLine(BaseModel):
    """Totals of one third party on one collective account (`third_party` null: the
    account's lines that name none)."""

    account: str
    account_name: str
    third_party: str | None
    name: str | None
    debit: str
    credit: str
    balance: str


class PartyBalanceRead(BaseModel):
    """The balance auxiliaire: collective accounts broken down by third party. The rows of
    an account sum to its line of the trial balance over the same range."""

    date_from: date | None = None
    date_to: date | None = None
    items: list[PartyBalanceLine]
    totals: Totals


@router.get("/{ledger}/third-party-balance", response_model=PartyBalanceRead)
async def get_third_party_balance(
    ledger: str,
    store: StoreDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    account: AccountQuery = None,
    third_party: PartyQuery = None,
    include_drafts: IncludeDrafts = False,
) -> PartyBalanceRead:
    """Total debit, credit and balance of each third party on each collective account."""
    check_range(date_from, date_to)
    found = await store.read(
        lambda s: service.third_party_balance(
            s,
            ledger,
            date_from=date_from,
            date_to=date_to,
            account=account,
            third_party=third_party,
            include_drafts=include_drafts,
        )
    )

    def fmt(minor: int) -> str:
        return format_amount(minor, found.decimals)

    debit = sum(i.debit for i in found.items)
    credit = sum(i.credit for i in found.items)
    return PartyBalanceRead(
        date_from=date_from,
        date_to=date_to,
        items=[
            PartyBalanceLine(
                account=i.account,
                account_name=i.account_name,
                third_party=i.third_party,
                name=i.third_party_name,
                debit=fmt(i.debit),
                credit=fmt(i.credit),
                balance=fmt(i.debit - i.credit),
            )
            for i in found.items
        ],
        totals=Totals(debit=fmt(debit), credit=fmt(credit), balance=fmt(debit - credit)),
    )


@router.get("/{ledger}/accounts/{number}/ledger", response_model=AccountLedgerRead)
async def get_account_ledger(
    ledger: str,
    number: str,
    store: StoreDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    include_drafts: IncludeDrafts = False,
    third_party: PartyQuery = None,
) -> AccountLedgerRead:
    """List the lines of one account with a running balance (grand livre)."""
    check_range(date_from, date_to)
    after = None
    if cursor:
        day, entry_id, position = decode_cursor("account-ledger", cursor, 3)
        try:
            after = (date.fromisoformat(day), uuid.UUID(entry_id), int(position))
        except ValueError as exc:
            raise InvalidCursor("the cursor is not one this service issued") from exc
    page = await store.read(
        lambda s: service.account_ledger(
            s,
            ledger,
            number,
            date_from=date_from,
            date_to=date_to,
            after=after,
            limit=limit,
            include_drafts=include_drafts,
            third_party=third_party,
        )
    )

    def fmt(minor: int) -> str:
        return format_amount(minor, page.decimals)

    next_cursor = None
    if page.has_more:
        last = page.movements[-1][0]
        next_cursor = encode_cursor(
            "account-ledger", [last.date.isoformat(), str(last.entry_id), str(last.position)]
        )
    return AccountLedgerRead(
        account=page.number,
        name=page.name,
        opening_balance=fmt(page.opening),
        closing_balance=fmt(page.closing),
        items=[
            MovementRead(
                entry_id=m.entry_id,
                date=m.date,
                journal=m.journal,
                label=m.line_label or m.entry_label,
                reference=m.reference,
                debit=fmt(m.amount) if m.amount > 0 else None,
                credit=fmt(-m.amount) if m.amount < 0 else None,
                balance=fmt(balance),
            )
            for m, balance in page.movements
        ],
        next_cursor=next_cursor,
    )


@router.get("/{ledger}/accounts/{number}/balance", response_model=AccountBalanceRead)
async def get_account_balance(
    ledger: str,
    number: str,
    store: StoreDep,
    as_of: Annotated[
        Day | None, Query(description="Last day counted, inclusive (YYYY-MM-DD).")
    ] = None,
    include_drafts: IncludeDrafts = False,
) -> AccountBalanceRead:
    """Balance of one account as of a date (every entry dated that day or before)."""
    result = await store.read(
        lambda s: service.account_balance(s, ledger, number, as_of, include_drafts=include_drafts)
    )

    def fmt(minor: int) -> str:
        return format_amount(minor, result.decimals)

    return AccountBalanceRead(
        account=result.number,
        name=result.name,
        as_of=as_of,
        debit=fmt(result.debit),
        credit=fmt(result.credit),
        balance=fmt(result.debit - result.credit),
    )


@router.get("/{ledger}/third-parties/{code}/balance", response_model=ThirdPartyBalanceRead)
async def get_party_balance(
    ledger: str,
    code: PartyPath,
    store: StoreDep,
    as_of: Annotated[
        Day | None, Query(description="Last day counted, inclusive (YYYY-MM-DD).")
    ] = None,
    include_drafts: IncludeDrafts = False,
) -> ThirdPartyBalanceRead:
    """Balance of one third party's auxiliary account as of a date."""

    async def read(session: AsyncSession) -> tuple[party_service.PartyView, service.PartyBalance]:
        party = await party_service.get_party(session, ledger, code)
        totals = await service.third_party_balance(
            session,
            ledger,
            date_to=as_of,
            third_party=code,
            include_drafts=include_drafts,
        )
        return party, totals

    party, totals = await store.read(read)
    debit = sum(item.debit for item in totals.items)
    credit = sum(item.credit for item in totals.items)
    return ThirdPartyBalanceRead(
        third_party=party.code,
        name=party.name,
        account=party.account,
        as_of=as_of,
        debit=format_amount(debit, totals.decimals),
        credit=format_amount(credit, totals.decimals),
        balance=format_amount(debit - credit, totals.decimals),
    )
