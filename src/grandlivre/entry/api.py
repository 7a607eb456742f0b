"""HTTP routes for journal entries."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from grandlivre.auth.deps import Accountant, Viewer
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.entry import sealer, service
from grandlivre.entry.operations import (
    DeleteDraft,
    IdempotencyArgs,
    PostEntries,
    PostEntry,
    ReverseEntry,
    UpdateDraft,
    ValidateEntries,
    idempotency_args,
)
from grandlivre.entry.schemas import (
    MAX_VALIDATE,
    AuditRead,
    ChainRead,
    DraftsValidate,
    DraftsValidated,
    DraftUpdate,
    EntriesCreate,
    EntriesRead,
    EntryCreate,
    EntryRead,
    ReversalCreate,
)
from grandlivre.errors import EntryImmutable, InvalidCursor
from grandlivre.idempotency import service as idempotency
from grandlivre.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, DateFrom, DateTo, Limit, check_range
from grandlivre.schemas import PROBLEM_RESPONSES, Page
from grandlivre.store import EntryStatus

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["entries"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)

# Printable ASCII without spaces (RFC 9110 token characters and more), 1 to 255 of them.
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Retrying with the same key and body replays the first response; the "
        "same key with another body is refused (422 `idempotency-key-reused`). At most one.",
    ),
]
JournalFilter = Annotated[str | None, Query(pattern=r"^[A-Z0-9]{1,8}$")]
AccountFilter = Annotated[str | None, Query(pattern=r"^[0-9]{1,20}$")]
StatusFilter = Annotated[
    EntryStatus | None,
    Query(description="Only entries in this status (`draft` for the drafts); left out, all."),
]


def key_args(
    request: Request, ledger: str, key: str | None, body: BaseModel
) -> IdempotencyArgs | None:
    """The Idempotency-Key of a write and the fingerprint of its method, path and body."""
    return idempotency_args(
        ledger, key, request.method, request.url.path, body.model_dump(mode="json")
    )


def respond(ledger: str, outcome: idempotency.Outcome) -> JSONResponse:
    """The answer to a posting: its entry (or the stored answer) and where it lives."""
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
    op = PostEntry(
        ledger=ledger,
        # Assigned before any store is touched, so that a retry or a replay is recognised.
        entry_id=ids.new(),
        draft=body.to_draft(),
        now=clock.now(),
        idempotency=key_args(request, ledger, idempotency_key, body),
    )
    return respond(ledger, await store.execute(op))


@router.post(
    "/{ledger}/entries/batch",
    status_code=status.HTTP_201_CREATED,
    response_model=EntriesRead,
    dependencies=[Accountant],
)
async def post_entries(
    ledger: str,
    body: EntriesCreate,
    request: Request,
    store: StoreDep,
    ids: IdsDep,
    clock: ClockDep,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Post up to 1,000 entries in one transaction: every one, or none.

    Each entry is checked as a single post would be. If any breaks a rule, nothing is posted
    and the problem (`entries-refused`) lists each refused entry by its index with its reason.
    With `Idempotency-Key`, a retry replays the first response.
    """
    op = PostEntries(
        ledger=ledger,
        postings=tuple((ids.new(), entry.to_draft()) for entry in body.entries),
        now=clock.now(),
        idempotency=key_args(request, ledger, idempotency_key, body),
    )
    outcome = await store.execute(op)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status_code, headers=headers)


@router.get("/{ledger}/entries", response_model=Page[EntryRead])
async def list_entries(
    ledger: str,
    store: StoreDep,
    date_from: DateFrom = None,
    date_to: DateTo = None,
    journal: JournalFilter = None,
    account: AccountFilter = None,
    status: StatusFilter = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[EntryRead]:
    """List entries in date order, drafts included, filtered by date range, journal, account
    or status."""
    check_range(date_from, date_to)
    after = None
    if cursor:
        day, entry_id = decode_cursor("entries", cursor, 2)
        try:
            after = (date.fromisoformat(day), uuid.UUID(entry_id))
        except ValueError as exc:
            raise InvalidCursor("the cursor is not one this service issued") from exc
    filters = service.EntryFilter(date_from, date_to, journal, account, status)
    views = await store.read(
        lambda s: service.list_entries(s, ledger, filters, after=after, limit=limit)
    )
    next_cursor = None
    if len(views) == limit:
        last = views[-1]
        next_cursor = encode_cursor("entries", [last.date.isoformat(), str(last.id)])
    return Page(items=[EntryRead.of(v) for v in views], next_cursor=next_cursor)


@router.get("/{ledger}/entries/{entry_id:uuid}", response_model=EntryRead)
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
    op = ReverseEntry(
        ledger=ledger,
        entry_id=entry_id,
        reversal_id=ids.new(),
        now=clock.now(),
        on=options.date,
        label=options.label,
        idempotency=key_args(request, ledger, idempotency_key, options),
    )
    return respond(ledger, await store.execute(op))


@router.get("/{ledger}/audit/verify", response_model=AuditRead)
async def verify_audit_chain(ledger: str, store: StoreDep) -> AuditRead:
    """Recompute the ledger's hash chain from its first sealed entry (docs/audit.md)."""
    verdict = await store.read(lambda s: sealer.verify_chain(s, ledger))
    return AuditRead(ok=verdict.ok, checked=verdict.checked, first_broken=verdict.first_broken_seq)


@router.get("/{ledger}/verify", response_model=ChainRead)
async def verify_chain(ledger: str, store: StoreDep) -> ChainRead:
    """Recompute the ledger's hash chain from its first sealed entry (the same check as
    `audit/verify`, under its first name)."""
    verdict = await store.read(lambda s: sealer.verify_chain(s, ledger))
    return ChainRead(
        ok=verdict.ok, checked=verdict.checked, first_broken_seq=verdict.first_broken_seq
    )


@router.patch(
    "/{ledger}/entries/{entry_id:uuid}", response_model=EntryRead, dependencies=[Accountant]
)
async def update_draft(
    ledger: str, entry_id: uuid.UUID, body: DraftUpdate, store: StoreDep, clock: ClockDep
) -> JSONResponse:
    """Change a draft: the fields sent replace theirs (a JSON merge patch). A posted entry is
    never changed (405 `entry-immutable`): it is reversed."""
    op = UpdateDraft(ledger=ledger, entry_id=entry_id, changes=body.to_changes(), now=clock.now())
    return JSONResponse(await store.execute(op))


@router.delete(
    "/{ledger}/entries/{entry_id:uuid}",
    status_code=status.HTTP_204_NO_CONTENT,
    dependencies=[Accountant],
)
async def delete_draft(ledger: str, entry_id: uuid.UUID, store: StoreDep) -> Response:
    """Delete a draft. A posted entry is never deleted (405 `entry-immutable`): it is
    reversed."""
    await store.execute(DeleteDraft(ledger=ledger, entry_id=entry_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{ledger}/entries/{entry_id:uuid}/validate",
    response_model=EntryRead,
    dependencies=[Accountant],
)
async def validate_entry(
    ledger: str, entry_id: uuid.UUID, store: StoreDep, clock: ClockDep
) -> EntryRead:
    """Validate a draft: it is checked again by every rule of a posting, becomes permanent
    (its `validated_at` is now) and is numbered and chained by the sealer. An entry validated
    already is answered as it stands: validating is idempotent."""
    op = ValidateEntries(ledger=ledger, entry_ids=(entry_id,), now=clock.now())
    validated = await store.execute(op)
    if validated:
        return EntryRead.of(validated[0])
    return EntryRead.of(await store.read(lambda s: service.get_entry(s, ledger, entry_id)))


@router.post(
    "/{ledger}/entries/validate", response_model=DraftsValidated, dependencies=[Accountant]
)
async def validate_drafts(
    ledger: str, body: DraftsValidate, store: StoreDep, clock: ClockDep
) -> DraftsValidated:
    """Validate every draft dated up to `date_to` (in one journal, or all), all or none.

    If any draft breaks a rule now (a locked period, a deactivated account...), none is
    validated and the problem (`drafts-refused`) lists each refused draft by id with its
    reason. At most 10,000 drafts a call, the oldest first: `remaining` says how many are left.
    """
    ids, total = await store.read(
        lambda s: service.find_drafts(s, ledger, body.date_to, body.journal, MAX_VALIDATE)
    )
    validated: list[service.EntryView] = []
    if ids:
        op = ValidateEntries(ledger=ledger, entry_ids=tuple(ids), now=clock.now())
        validated = await store.execute(op)
    return DraftsValidated(
        validated=[view.id for view in validated], remaining=max(0, total - len(ids))
    )


@router.put("/{ledger}/entries/{entry_id:uuid}", include_in_schema=False, dependencies=[Accountant])
async def refuse_change(ledger: str, entry_id: uuid.UUID, store: StoreDep) -> None:
    """Entries are not replaced: answer 405 (a draft is patched, a posted entry reversed)."""
    view = await store.read(lambda s: service.get_entry(s, ledger, entry_id))
    if view.status != service.DRAFT:
        raise EntryImmutable(
            f"entry {entry_id} is posted and cannot be changed or deleted; "
            f"POST /api/v1/ledgers/{ledger}/entries/{entry_id}/reverse to correct it",
            headers={"Allow": "GET"},
        )
    # The problem handler says which methods the document gives a draft's path.
    raise HTTPException(status.HTTP_405_METHOD_NOT_ALLOWED)
