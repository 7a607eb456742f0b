"""The replayable writes of API keys (see grandlivre/store/operations.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.auth import service
from grandlivre.auth.service import Role
from grandlivre.clock import Clock, IdFactory
from grandlivre.db.tables import ApiKey
from grandlivre.store import AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec


@dataclass(frozen=True)
class IssueKey(Operation[ApiKey]):
    """Store a new API key: its hash and public prefix, never the key."""

    name: ClassVar[str] = "key.issue"

    id: uuid.UUID
    holder: str
    role: Role
    prefix: str
    key_hash: str
    now: datetime

    @classmethod
    def of(cls, holder: str, role: Role, key: str, ids: IdFactory, clock: Clock) -> IssueKey:
        """Build the operation that stores `key` for `holder`."""
        return cls(
            id=ids.new(),
            holder=holder,
            role=role,
            prefix=service.key_prefix(key),
            key_hash=service.hash_key(key),
            now=clock.now(),
        )

    async def apply(self, session: AsyncSession, ctx: OpContext) -> ApiKey:
        """Store the key."""
        if ctx.replaying and await service.key_exists(session, self.id):
            raise AlreadyApplied(self.id)
        return await service.store_key(
            session,
            key_id=self.id,
            name=self.holder,
            role=self.role,
            prefix=self.prefix,
            key_hash=self.key_hash,
            now=self.now,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form (the holder is stored as `name`)."""
        return {
            "id": str(self.id),
            "name": self.holder,
            "role": self.role.value,
            "prefix": self.prefix,
            "key_hash": self.key_hash,
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            id=codec.an_id(data["id"]),
            holder=codec.text(data["name"]),
            role=Role(data["role"]),
            prefix=codec.text(data["prefix"]),
            key_hash=codec.text(data["key_hash"]),
            now=codec.instant(data["now"]),
        )


@dataclass(frozen=True)
class RevokeKey(Operation[ApiKey]):
    """Revoke an API key: every later request with it gets 401."""

    name: ClassVar[str] = "key.revoke"

    id: uuid.UUID
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> ApiKey:
        """Revoke the key (revoking it again keeps the first revocation's time)."""
        return await service.revoke_key(session, self.id, now=self.now)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {"id": str(self.id), "now": codec.iso(self.now)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(id=codec.an_id(data["id"]), now=codec.instant(data["now"]))


OPERATIONS = (IssueKey, RevokeKey)
