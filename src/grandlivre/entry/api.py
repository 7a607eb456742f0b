"""HTTP routes for journal entries."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic_core import PydanticCustomError
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.auth.deps import Accountant, Viewer
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.entry import service
from grandlivre.errors import EntryImmutable, InvalidCursor, InvalidDateRange
from grandlivre.idempotency import service as idempotency
from grandlivre.money import format_amount
from grandlivre.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from grandlivre.schemas import PROBLEM_RESPONSES, Label, Page, WriteModel

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["entries"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)

MAX_LINES = 1000


def _amount_string(value: Any) -> Any:
    if value is None:
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "invalid_amount", 'amounts are decimal strings such as "120.00", never JSON numbers'
        )
    return value


def _date_string(value: Any) -> Any:
    if not isinstance(value, str | date):
        raise PydanticCustomError("date_type", 'dates are ISO 8601 strings such as "2026-11-23"')
    return value


def _book_year(value: date) -> date:
    if not 1900 <= value.year <= 2999:
        raise PydanticCustomError("date_out_of_range", "dates must lie between 1900 and 2999")
    return value


AmountText = Annotated[
    str | None,
    BeforeValidator(_amount_string),
    Field(default=None, pattern=r"^[0-9]{1,16}(\.[0-9]{1,12})?$", examples=["120.00"]),
]
BookDate = Annotated[date, BeforeValidator(_date_string), AfterValidator(_book_year)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=r"^[\x21-\x7e]+$",
        description="Retrying with the same key and body replays the first response.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]


class LineCreate(WriteModel):
    """A line: an account and exactly one of debit and credit."""

    account: Annotated[str, StringConstraints(min_length=1, max_length=20)] = Field(
        examples=["411000"]
    )
    debit: AmountText = None
    credit: AmountText = None
    label: Label | None = None

    @model_validator(mode="after")
    def _one_side(self) -> LineCreate:
        if (self.debit is None) == (self.credit is None):
            raise PydanticCustomError("invalid_line", "give exactly one of debit and credit")
        return self


class EntryCreate(WriteModel):
    """A balanced journal entry."""

    journal: Annotated[str, StringConstraints(min_length=1, max_length=8)] = Field(examples=["VE"])
    date: BookDate = Field(examples=["2026-11-23"])
    label: Label = Field(examples=["Facture F-2026-001"])
    reference: Reference | None = Field(default=None, examples=["F-2026-001"])
    lines: list[LineCreate] = Field(min_length=2, max_length=MAX_LINES)

    def to_draft(self) -> service.EntryDraft:
        """Turn the payload into the service's draft."""
        return service.EntryDraft(
            journal=self.journal,
            date=self.date,
            label=self.label,
            reference=self.reference,
            lines=[
                service.LineDraft(
                    account=line.account, debit=line.debit, credit=line.credit, label=line.label
                )
                for line in self.lines
            ],
        )


class ReversalCreate(WriteModel):
    """Options of a reversal: its date (default: the original's) and label."""

    date: BookDate | None = None
    label: Label | None = None


class LineRead(BaseModel):
    """A posted line; the unused side is null."""

    account: str
    debit: str | None
    credit: str | None
    label: str | None


class EntryRead(BaseModel):
    """An entry as posted."""

    id: uuid.UUID
    ledger: str
    journal: str
    date: date
    label: str
    reference: str | None
    lines: list[LineRead]
    status: str
    origin: str
    created_at: datetime
    reverses: uuid.UUID | None
    reversed_by: uuid.UUID | None

    @classmethod
    def of(cls, view: service.EntryView) -> EntryRead:
        """Build from the service's view."""
        return cls(
            id=view.id,
            ledger=view.ledger,
            journal=view.journal,
            date=view.date,
            label=view.label,
            reference=view.reference,
            lines=[
                LineRead(
                    account=line.account,
                    debit=format_amount(line.amount, view.decimals) if line.amount > 0 else None,
                    credit=format_amount(-line.amount, view.decimals) if line.amount < 0 else None,
                    label=line.label,
                )
                for line in view.lines
            ],
            status=view.status,
            origin=view.origin,
            created_at=view.created_at,
            reverses=view.reverses,
            reversed_by=view.reversed_by,
        )


def check_range(date_from: date | None, date_to: date | None) -> None:
    """Refuse a range whose start is after its end."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidDateRange(f"from ({date_from}) is after to ({date_to})")


async def _write_once(
    request: Request,
    store: StoreDep,
    *,
    ledger: str,
    key: str | None,
    payload: Any,
    now: datetime,
    post: Callable[[AsyncSession], Awaitable[service.EntryView]],
) -> JSONResponse:
    """Run an entry-creating unit of work, at most once per Idempotency-Key."""

    async def unit(session: AsyncSession) -> idempotency.Outcome:
        async def action() -> tuple[int, dict[str, Any]]:
            view = await post(session)
            return status.HTTP_201_CREATED, EntryRead.of(view).model_dump(mode="json")

        if key is None:
            code, body = await action()
            return idempotency.Outcome(code, body, replayed=False)
        return await idempotency.run_once(
            session,
            scope=f"ledger:{ledger}",
            key=key,
            request_fingerprint=idempotency.fingerprint(request.method, request.url.path, payload),
            now=now,
            action=action,
        )

    outcome = await store.write(unit)
    headers = {"Location": f"/api/v1/ledgers/{ledger}/entries/{outcome.body['id']}"}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.post(
    "/{ledger}/entries",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryRead,
    dependencies=[Accountant],
)
async def post_entry(
    ledger: str,
    body: EntryCreate,
    request: Request,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Post a balanced entry. With `Idempotency-Key`, a retry replays the first response."""
    entry_id = ids.new()  # assigned before any store is touched, so a retry is recognisable
    draft = body.to_draft()
    now = clock.now()
    return await _write_once(
        request,
        store,
        ledger=ledger,
        key=idempotency_key,
        payload=body.model_dump(mode="json"),
        now=now,
        post=lambda s: service.post_entry(s, ledger, draft, entry_id=entry_id, now=now),
    )


@router.get("/{ledger}/entries", response_model=Page[EntryRead])
async def list_entries(
    ledger: str,
    store: StoreDep,
    date_from: Annotated[date | None, Query(alias="from")] = None,
    date_to: Annotated[date | None, Query(alias="to")] = None,
    journal: Annotated[str | None, Query(max_length=8)] = None,
    account: Annotated[str | None, Query(max_length=20)] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: str | None = None,
) -> Page[EntryRead]:
    """List entries in date order, filtered by date range, journal or account."""
    check_range(date_from, date_to)
    after = None
    if cursor:
        day, entry_id = decode_cursor("entries", cursor, 2)
        try:
            after = (date.fromisoformat(day), uuid.UUID(entry_id))
        except ValueError as exc:
            raise InvalidCursor("the cursor is not one this service issued") from exc
    filters = service.EntryFilter(date_from, date_to, journal, account)
    views = await store.read(
        lambda s: service.list_entries(s, ledger, filters, after=after, limit=limit)
    )
    next_cursor = None
    if len(views) == limit:
        last = views[-1]
        next_cursor = encode_cursor("entries", [last.date.isoformat(), str(last.id)])
    return Page(items=[EntryRead.of(v) for v in views], next_cursor=next_cursor)


@router.get("/{ledger}/entries/{entry_id}", response_model=EntryRead)
async def get_entry(ledger: str, entry_id: uuid.UUID, store: StoreDep) -> EntryRead:
    """Read one entry."""
    return EntryRead.of(await store.read(lambda s: service.get_entry(s, ledger, entry_id)))


@router.post(
    "/{ledger}/entries/{entry_id}/reverse",
    status_code=status.HTTP_201_CREATED,
    response_model=EntryRead,
    dependencies=[Accountant],
)
async def reverse_entry(
    ledger: str,
    entry_id: uuid.UUID,
    request: Request,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
    body: ReversalCreate | None = None,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Post the reversal (extourne) of an entry. An entry is reversed at most once."""
    reversal_id = ids.new()
    options = body or ReversalCreate()
    now = clock.now()
    return await _write_once(
        request,
        store,
        ledger=ledger,
        key=idempotency_key,
        payload=options.model_dump(mode="json"),
        now=now,
        post=lambda s: service.reverse_entry(
            s,
            ledger,
            entry_id,
            reversal_id=reversal_id,
            now=now,
            on=options.date,
            label=options.label,
        ),
    )


@router.api_route(
    "/{ledger}/entries/{entry_id}",
    methods=["PUT", "PATCH", "DELETE"],
    include_in_schema=False,
    dependencies=[Accountant],
)
async def refuse_change(ledger: str, entry_id: uuid.UUID, store: StoreDep) -> None:
    """Posted entries are never changed or deleted: answer 405 and point at reversal."""
    await store.read(lambda s: service.get_entry(s, ledger, entry_id))
    raise EntryImmutable(
        f"entry {entry_id} is posted and cannot be changed or deleted; "
        f"POST /api/v1/ledgers/{ledger}/entries/{entry_id}/reverse to correct it",
        headers={"Allow": "GET"},
    )
