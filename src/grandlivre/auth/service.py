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
from grandlivre.store import signals

KEY_PREFIX = "gl_"
KEYS_TOPIC = "keys"


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
    await signals.announce(session, KEYS_TOPIC)
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


async def find_key_by_hash(session: AsyncSession, key_hash: str) -> ApiKey | None:
    """Return the row of a key by its hash, revoked or not, or None if it is unknown."""
    return await repo.get_by_hash(session, key_hash)


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
        # Every process drops what it cached of keys when this commits.
        await signals.announce(session, KEYS_TOPIC)
    return row


class KeyCache:
    """Principals of valid keys by key hash, trusted only while change signals say so.

    A cached principal is used only if no key changed since it was read (the generation of
    the store's change signals) and the process listens for changes: a revocation on any
    process of any replica reaches this one within the notification's delivery time. Unknown
    and revoked keys are never cached, and the size is bounded.
    """

    def __init__(self, changes: signals.ChangeSignals, *, size: int = 10_000) -> None:
        self._changes = changes
        self._size = size
        self._entries: dict[str, tuple[int, Principal]] = {}

    def get(self, key_hash: str) -> Principal | None:
        """Return the cached principal of a key, if it may be trusted."""
        entry = self._entries.get(key_hash)
        if entry is None:
            return None
        generation, principal = entry
        if not self._changes.trusts(generation):
            del self._entries[key_hash]
            return None
        return principal

    def generation(self) -> int:
        """Return the generation to pass to `put` for a key about to be read."""
        return self._changes.generation

    def put(self, key_hash: str, principal: Principal, generation: int) -> None:
        """Cache a principal read at `generation` (dropped at once if that is already old)."""
        if not self._changes.trusts(generation):
            return
        if len(self._entries) >= self._size:
            self._entries.clear()
        self._entries[key_hash] = (generation, principal)
