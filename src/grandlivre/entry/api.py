"""HTTP routes for journal entries."""

from __future__ import annotations

import re
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
from grandlivre.entry import sealer, service
from grandlivre.errors import EntryImmutable, InvalidCursor, InvalidDateRange
from grandlivre.idempotency import service as idempotency
from grandlivre.money import format_amount
from grandlivre.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from grandlivre.schemas import PROBLEM_RESPONSES, Label, Page, WriteModel
from grandlivre.store import AlreadyApplied, OpContext, Operation, Registry

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["entries"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)

MAX_LINES = 1000


AMOUNT_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,12})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)


def _amount_string(value: Any) -> Any:
    if value is None:
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "invalid_amount", 'amounts are decimal strings such as "120.00", never JSON numbers'
        )
    if not _AMOUNT.fullmatch(value):
        raise PydanticCustomError(
            "invalid_amount",
            'amounts are positive decimal strings such as "120.00" (got {value!r})',
            {"value": value[:40]},
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
    Field(default=None, json_schema_extra={"pattern": AMOUNT_PATTERN}, examples=["120.00"]),
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
    seq: int | None = Field(
        description="Gapless position in the ledger, in commit order; null until sealed."
    )
    number: int | None = Field(
        description="Gapless number in its journal and fiscal year (the FEC's EcritureNum); "
        "null until sealed."
    )
    hash: str | None = Field(
        description="SHA-256 of the entry chained to the one before it; null until sealed."
    )

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
            seq=view.seq,
            number=view.number,
            hash=view.hash,
        )


class ChainRead(BaseModel):
    """What verifying a ledger's audit chain found."""

    ok: bool = Field(description="True when every sealed entry verifies.")
    checked: int = Field(description="Sealed entries checked, the first broken one included.")
    first_broken_seq: int | None = Field(description="The first seq that fails, if any.")


def check_range(date_from: date | None, date_to: date | None) -> None:
    """Refuse a range whose start is after its end."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidDateRange(f"from ({date_from}) is after to ({date_to})")


def _idempotency(
    request: Request, ledger: str, key: str | None, payload: Any
) -> dict[str, str] | None:
    if key is None:
        return None
    return {
        "scope": f"ledger:{ledger}",
        "key": key,
        "fingerprint": idempotency.fingerprint(request.method, request.url.path, payload),
    }


def _respond(ledger: str, outcome: idempotency.Outcome) -> JSONResponse:
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
    args = {
        "ledger": ledger,
        # Assigned before any store is touched, so that a retry or a replay is recognised.
        "entry_id": str(ids.new()),
        "draft": service.draft_to_json(body.to_draft()),
        "now": clock.now().isoformat(),
        "idempotency": _idempotency(request, ledger, idempotency_key, body.model_dump(mode="json")),
    }
    return _respond(ledger, await store.execute("entry.post", args))


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
    options = body or ReversalCreate()
    args = {
        "ledger": ledger,
        "entry_id": str(entry_id),
        "reversal_id": str(ids.new()),
        "date": options.date.isoformat() if options.date else None,
        "label": options.label,
        "now": clock.now().isoformat(),
        "idempotency": _idempotency(
            request, ledger, idempotency_key, options.model_dump(mode="json")
        ),
    }
    return _respond(ledger, await store.execute("entry.reverse", args))


@router.get("/{ledger}/verify", response_model=ChainRead)
async def verify_chain(ledger: str, store: StoreDep) -> ChainRead:
    """Recompute the ledger's hash chain from its first sealed entry."""
    verdict = await store.read(lambda s: sealer.verify_chain(s, ledger))
    return ChainRead(
        ok=verdict.ok, checked=verdict.checked, first_broken_seq=verdict.first_broken_seq
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


# -- replayable operations (see grandlivre/store/operations.py) -------------------------------


async def _once(
    session: AsyncSession,
    args: dict[str, Any],
    ctx: OpContext,
    post: Callable[[bool], Awaitable[service.EntryView | None]],
) -> idempotency.Outcome:
    """Run `post` at most once per Idempotency-Key and render its response.

    A replay without a key has nobody to answer: it skips reading the entry back.
    """
    key = args.get("idempotency")

    async def action() -> tuple[int, dict[str, Any]]:
        view = await post(True)
        assert view is not None
        return status.HTTP_201_CREATED, EntryRead.of(view).model_dump(mode="json")

    if key is None:
        if ctx.replaying:
            await post(False)
            return idempotency.Outcome(status.HTTP_201_CREATED, {}, replayed=False)
        code, body = await action()
        return idempotency.Outcome(code, body, replayed=False)
    outcome = await idempotency.run_once(
        session,
        scope=key["scope"],
        key=key["key"],
        request_fingerprint=key["fingerprint"],
        now=datetime.fromisoformat(args["now"]),
        action=action,
    )
    if ctx.replaying and outcome.replayed:
        # The key was answered on PostgreSQL meanwhile: the client's one write is there.
        raise AlreadyApplied(key["key"])
    return outcome


async def _post_entry(
    session: AsyncSession, args: dict[str, Any], ctx: OpContext
) -> idempotency.Outcome:
    entry_id = uuid.UUID(args["entry_id"])
    if ctx.replaying and await service.entry_exists(session, entry_id):
        raise AlreadyApplied(entry_id)
    draft = service.draft_from_json(args["draft"])
    now = datetime.fromisoformat(args["now"])
    return await _once(
        session,
        args,
        ctx,
        lambda read_back: service.post_entry(
            session,
            args["ledger"],
            draft,
            entry_id=entry_id,
            now=now,
            status=ctx.entry_status,
            origin=ctx.origin,
            read_back=read_back,
        ),
    )


async def _reverse_entry(
    session: AsyncSession, args: dict[str, Any], ctx: OpContext
) -> idempotency.Outcome:
    reversal_id = uuid.UUID(args["reversal_id"])
    if ctx.replaying and await service.entry_exists(session, reversal_id):
        raise AlreadyApplied(reversal_id)
    return await _once(
        session,
        args,
        ctx,
        lambda read_back: service.reverse_entry(
            session,
            args["ledger"],
            uuid.UUID(args["entry_id"]),
            reversal_id=reversal_id,
            now=datetime.fromisoformat(args["now"]),
            on=date.fromisoformat(args["date"]) if args["date"] else None,
            label=args["label"],
            status=ctx.entry_status,
            origin=ctx.origin,
            read_back=read_back,
        ),
    )


def _discarder(id_field: str) -> Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]:
    async def discard(session: AsyncSession, args: dict[str, Any]) -> None:
        await service.discard_entry(session, uuid.UUID(args[id_field]))
        key = args.get("idempotency")
        if key is not None:
            await idempotency.forget(session, key["scope"], key["key"])

    return discard


OPERATIONS: Registry = {
    op.name: op
    for op in (
        Operation("entry.post", _post_entry, discard_local=_discarder("entry_id")),
        Operation("entry.reverse", _reverse_entry, discard_local=_discarder("reversal_id")),
    )
}
