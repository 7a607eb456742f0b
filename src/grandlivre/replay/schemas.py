"""Pydantic models of the replay-journal routes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from grandlivre.db.tables import ReplayJournal
from grandlivre.schemas import Reason, WriteModel
from grandlivre.store import Mode, journal


class JournalRow(BaseModel):
    """A write accepted on the fallback, as the replay journal holds it."""

    id: int
    op_id: uuid.UUID
    operation: str
    status: journal.Status
    created_at: datetime
    attempts: int
    conflict_type: str | None
    reason: str | None
    resolution: str | None

    @classmethod
    def of(cls, row: ReplayJournal) -> JournalRow:
        """Build from a row."""
        return cls(
            id=row.id,
            op_id=row.op_id,
            operation=row.operation,
            status=journal.Status(row.status),
            created_at=row.created_at,
            attempts=row.attempts,
            conflict_type=row.conflict_type,
            reason=row.reason,
            resolution=row.resolution,
        )


class ReplayState(BaseModel):
    """Where the service stands, and the writes that need an admin."""

    mode: Mode
    fallback: bool
    pending: int
    conflicts: int
    applied: int
    duplicates: int
    discarded: int
    oldest_pending_at: datetime | None
    items: list[JournalRow] = Field(description="Rows in conflict, oldest first.")


class Resolution(WriteModel):
    """Why an admin retries or discards a conflicting write."""

    reason: Reason
