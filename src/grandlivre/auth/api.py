"""HTTP routes for API keys: who a key is (any key), and keys themselves (admins only)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, status

from grandlivre.auth import service
from grandlivre.auth.deps import Admin, AdminPrincipal, ViewerPrincipal
from grandlivre.auth.operations import IssueKey, RevokeKey
from grandlivre.auth.schemas import KeyCreate, KeyCreated, KeyIdentity, KeyRead
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.errors import InvalidCursor
from grandlivre.ops import security
from grandlivre.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor
from grandlivre.params import Cursor, Limit
from grandlivre.schemas import PROBLEM_RESPONSES, Page

router = APIRouter(prefix="/api/v1/keys", tags=["keys"], responses=PROBLEM_RESPONSES)
# Beside /keys rather than under it, where `DELETE /keys/me` would name the key `me`.
me_router = APIRouter(prefix="/api/v1", tags=["keys"], responses=PROBLEM_RESPONSES)


@me_router.get("/me", response_model=KeyIdentity)
async def who_am_i(principal: ViewerPrincipal) -> KeyIdentity:
    """The key this request is made with: its id, name, role and prefix (any valid key).

    A client learns from it what its key may do, without trying."""
    return KeyIdentity(
        id=principal.key_id, name=principal.name, role=principal.role, prefix=principal.prefix
    )


@router.get("", response_model=Page[KeyRead], dependencies=[Admin])
async def list_keys(
    store: StoreDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[KeyRead]:
    """List API keys (revoked ones too), oldest first, without the keys themselves."""
    after = None
    if cursor:
        try:
            after = uuid.UUID(decode_cursor("keys", cursor, 1)[0])
        except ValueError as exc:
            raise InvalidCursor("the cursor is not one this service issued") from exc
    rows = await store.read(lambda s: service.list_keys(s, after=after, limit=limit))
    next_cursor = encode_cursor("keys", [str(rows[-1].id)]) if len(rows) == limit else None
    return Page(items=[KeyRead.of(row) for row in rows], next_cursor=next_cursor)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=KeyCreated)
async def create_key(
    body: KeyCreate, store: StoreDep, ids: IdsDep, clock: ClockDep, admin: AdminPrincipal
) -> KeyCreated:
    """Issue a key; the response is the only place it ever appears."""
    key = service.new_key()
    row = await store.execute(IssueKey.of(body.name, body.role, key, ids, clock))
    security.emit(
        security.AUTHN_TOKEN_CREATED,
        level="info",
        key_id=str(row.id),
        prefix=row.prefix,
        role=row.role,
        principal=admin.name,
    )
    return KeyCreated(**KeyRead.of(row).model_dump(), key=key)


@router.delete("/{key_id}", response_model=KeyRead)
async def revoke_key(
    key_id: uuid.UUID, store: StoreDep, clock: ClockDep, admin: AdminPrincipal
) -> KeyRead:
    """Revoke a key: every later request with it gets 401."""
    row = await store.execute(RevokeKey(id=key_id, now=clock.now()))
    security.emit(
        security.AUTHN_TOKEN_REVOKED, level="info", key_id=str(row.id), principal=admin.name
    )
    return KeyRead.of(row)
