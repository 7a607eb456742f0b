"""API keys: issued at random, shown once, stored as a SHA-256 hash, revocable."""

from __future__ import annotations

import enum
import hashlib
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.auth import repository as repo
from grandlivre.clock import Clock, IdFactory
from grandlivre.db.tables import ApiKey
from grandlivre.errors import KeyNotFound

KEY_PREFIX = "gl_"


class Role(enum.StrEnum):
    """What a key may do; each role may do what the ones before it may."""

    viewer = "viewer"
    accountant = "accountant"
    admin = "admin"

    @property
    def rank(self) -> int:
        """Order of the role: viewer < accountant < admin."""
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        """Tell whether this role may do what `needed` may."""
        return self.rank >= needed.rank


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, name, role and public prefix (never the key)."""

    key_id: uuid.UUID
    name: str
    role: Role
    prefix: str


def hash_key(key: str) -> str:
    """Hash a key for storage and lookup. Keys are 256 random bits, so no stretching is needed."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """Draw a new key: 256 random bits behind a recognisable prefix."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_prefix(key: str) -> str:
    """Return the public part of a key, enough to recognise it in a list."""
    return key[:10]


async def store_key(
    session: AsyncSession,
    *,
    key_id: uuid.UUID,
    name: str,
    role: Role,
    prefix: str,
    key_hash: str,
    now: datetime,
) -> ApiKey:
    """Record a key by its hash; the key itself is never stored."""
    row = ApiKey(
        id=key_id,
        name=name,
        role=role.value,
        prefix=prefix,
        key_hash=key_hash,
        created_at=now,
        revoked_at=None,
    )
    await repo.add(session, row)
    return row


async def key_exists(session: AsyncSession, key_id: uuid.UUID) -> bool:
    """Tell whether a key with that id exists."""
    return await repo.get(session, key_id) is not None


async def issue_key(
    session: AsyncSession, name: str, role: Role, *, ids: IdFactory, clock: Clock
) -> tuple[ApiKey, str]:
    """Create a key; return its row and the key itself, which is never stored."""
    key = new_key()
    row = await store_key(
        session,
        key_id=ids.new(),
        name=name,
        role=role,
        prefix=key_prefix(key),
        key_hash=hash_key(key),
        now=clock.now(),
    )
    return row, key


async def find_key(session: AsyncSession, key: str) -> ApiKey | None:
    """Return the row of a presented key, revoked or not, or None if it is unknown."""
    return await repo.get_by_hash(session, hash_key(key))


def principal_of(row: ApiKey) -> Principal:
    """Describe the caller behind a key row."""
    return Principal(key_id=row.id, name=row.name, role=Role(row.role), prefix=row.prefix)


async def list_keys(
    session: AsyncSession, *, after: uuid.UUID | None = None, limit: int | None = None
) -> Sequence[ApiKey]:
    """Return keys in id (creation) order, revoked ones included."""
    return await repo.list_keys(session, after=after, limit=limit)


async def revoke_key(session: AsyncSession, key_id: uuid.UUID, *, now: datetime) -> ApiKey:
    """Revoke a key; revoking a revoked key changes nothing."""
    row = await repo.get(session, key_id)
    if row is None:
        raise KeyNotFound(f"no API key with id {key_id}")
    if row.revoked_at is None:
        row.revoked_at = now
        await session.flush()
    return row
