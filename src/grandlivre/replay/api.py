"""HTTP routes for the replay journal (admins only)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from pydantic import BeforeValidator, Field

from grandlivre.auth.deps import AdminPrincipal
from grandlivre.deps import StoreDep
from grandlivre.ops import security
from grandlivre.replay.schemas import JournalRow, ReplayState, Resolution
from grandlivre.schemas import PROBLEM_RESPONSES, query_int
from grandlivre.store import ConflictAction, journal

router = APIRouter(prefix="/api/v1/ops/replay", tags=["operations"], responses=PROBLEM_RESPONSES)

RowId = Annotated[
    int, Field(ge=1, le=2**53), BeforeValidator(query_int), Path(description="A journal row id.")
]


@router.get("", response_model=ReplayState)
async def replay_state(store: StoreDep, admin: AdminPrincipal) -> ReplayState:
    """Show the replay journal: counts by status, and every write in conflict with its reason."""
    status = await store.replay_status()
    conflicts = await store.list_journal([journal.CONFLICT], limit=500)
    counts: dict[str, Any] = {
        "pending": 0,
        "conflicts": 0,
        "applied": 0,
        "duplicates": 0,
        "discarded": 0,
        "oldest_pending_at": None,
    }
    if status is not None:
        counts = {
            "pending": status.pending,
            "conflicts": status.conflicts,
            "applied": status.applied,
            "duplicates": status.duplicates,
            "discarded": status.discarded,
            "oldest_pending_at": status.oldest_pending_at,
        }
    return ReplayState(
        mode=store.mode,
        fallback=store.in_fallback,
        items=[JournalRow.of(row) for row in conflicts],
        **counts,
    )


@router.post("/{row_id}/retry", response_model=JournalRow)
async def retry_conflict(
    row_id: RowId, body: Resolution, store: StoreDep, admin: AdminPrincipal
) -> JournalRow:
    """Put a conflicting write back in the queue (after fixing its cause, e.g. an account)."""
    row = await store.resolve_conflict(row_id, action=ConflictAction.retry, reason=body.reason)
    security.emit(
        "replay_conflict_retried",
        level="info",
        journal_id=row_id,
        principal=admin.name,
        reason=body.reason,
    )
    return JournalRow.of(row)


@router.post("/{row_id}/discard", response_model=JournalRow)
async def discard_conflict(
    row_id: RowId, body: Resolution, store: StoreDep, admin: AdminPrincipal
) -> JournalRow:
    """Give up a conflicting write: it is removed from the fallback copy and never replayed."""
    row = await store.resolve_conflict(row_id, action=ConflictAction.discard, reason=body.reason)
    security.emit(
        security.REPLAY_DISCARDED,
        journal_id=row_id,
        op_id=str(row.op_id),
        operation=row.operation,
        principal=admin.name,
        reason=body.reason,
    )
    return JournalRow.of(row)
