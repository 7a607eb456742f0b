"""HTTP routes for API keys (admins only)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.auth import service
from grandlivre.auth.deps import Admin, AdminPrincipal
from grandlivre.auth.service import Role
from grandlivre.clock import Clock, IdFactory
from grandlivre.db.tables import ApiKey
from grandlivre.deps import ClockDep, IdsDep, StoreDep
from grandlivre.errors import InvalidCursor
from grandlivre.ops import security
from grandlivre.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, encode_cursor
from grandlivre.schemas import PROBLEM_RESPONSES, Page, ShortName, WriteModel
from grandlivre.store import AlreadyApplied, OpContext, Operation, Registry

router = APIRouter(prefix="/api/v1/keys", tags=["keys"], responses=PROBLEM_RESPONSES)


class KeyCreate(WriteModel):
    """A new API key."""

    name: ShortName = Field(examples=["compta-export"])
    role: Role = Role.viewer


class KeyRead(BaseModel):
    """An API key as listed: never the key itself."""

    id: uuid.UUID
    name: str
    role: Role
    prefix: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ApiKey) -> KeyRead:
        """Build from a row."""
        return cls(
            id=row.id,
            name=row.name,
            role=Role(row.role),
            prefix=row.prefix,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


class KeyCreated(KeyRead):
    """A new key, shown this once."""

    key: str = Field(description="The key. It is not stored and cannot be shown again.")


@router.get("", response_model=Page[KeyRead], dependencies=[Admin])
async def list_keys(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: str | None = None,
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
    row: ApiKey = await store.execute(
        "key.issue", issue_args(body.name, body.role, key, ids, clock)
    )
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
    row: ApiKey = await store.execute(
        "key.revoke", {"id": str(key_id), "now": clock.now().isoformat()}
    )
    security.emit(
        security.AUTHN_TOKEN_REVOKED, level="info", key_id=str(row.id), principal=admin.name
    )
    return KeyRead.of(row)


def issue_args(name: str, role: Role, key: str, ids: IdFactory, clock: Clock) -> dict[str, Any]:
    """Arguments of `key.issue`: the key's hash and prefix, never the key."""
    return {
        "id": str(ids.new()),
        "name": name,
        "role": role.value,
        "prefix": service.key_prefix(key),
        "key_hash": service.hash_key(key),
        "now": clock.now().isoformat(),
    }


# -- replayable operations (see grandlivre/store/operations.py) -------------------------------


async def _issue(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> ApiKey:
    key_id = uuid.UUID(args["id"])
    if ctx.replaying and await service.key_exists(s, key_id):
        raise AlreadyApplied(key_id)
    return await service.store_key(
        s,
        key_id=key_id,
        name=args["name"],
        role=Role(args["role"]),
        prefix=args["prefix"],
        key_hash=args["key_hash"],
        now=datetime.fromisoformat(args["now"]),
    )


async def _revoke(s: AsyncSession, args: dict[str, Any], ctx: OpContext) -> ApiKey:
    return await service.revoke_key(
        s, uuid.UUID(args["id"]), now=datetime.fromisoformat(args["now"])
    )


OPERATIONS: Registry = {
    op.name: op for op in (Operation("key.issue", _issue), Operation("key.revoke", _revoke))
}
