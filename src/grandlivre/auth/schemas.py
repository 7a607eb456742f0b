"""Pydantic models of the API-key routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from grandlivre.auth.service import Role
from grandlivre.db.tables import ApiKey
from grandlivre.schemas import ShortName, WriteModel


class KeyCreate(WriteModel):
    """A new API key."""

    name: ShortName = Field(examples=["compta-export"])
    role: Role = Role.viewer


class KeyIdentity(BaseModel):
    """The key a request is made with, as `GET /api/v1/me` tells it."""

    id: uuid.UUID
    name: str
    role: Role = Field(description="What the key may do: viewer < accountant < admin.")
    prefix: str


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
