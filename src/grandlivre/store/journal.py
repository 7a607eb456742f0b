"""Queries on the replay journal (SQLite) and the replayed-operations ledger (PostgreSQL)."""

from __future__ import annotations

import enum
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import FallbackGate, ReplayedOp, ReplayJournal

_JOURNAL = cast(Table, ReplayJournal.__table__)


class Status(enum.StrEnum):
    """Where a journaled write stands (a stored value: never renamed)."""

    pending = "pending"
    applied = "applied"
    duplicate = "duplicate"
    conflict = "conflict"
    discarded = "discarded"


PENDING = Status.pending
APPLIED = Status.applied
DUPLICATE = Status.duplicate
CONFLICT = Status.conflict
DISCARDED = Status.discarded


async def append(
    session: AsyncSession,
    *,
    op_id: uuid.UUID,
    operation: str,
    args: dict[str, Any],
    now: datetime,
) -> None:
    """Journal a write accepted on the fallback, in the write's own transaction."""
    session.add(
        ReplayJournal(
            op_id=op_id,
            operation=operation,
            args=json.dumps(args, separators=(",", ":"), sort_keys=True),
            status=PENDING,
            created_at=now,
            attempts=0,
        )
    )
    await session.flush()


async def next_pending(session: AsyncSession, limit: int) -> Sequence[ReplayJournal]:
    """Return the oldest pending rows, in the order they were committed."""
    query = (
        select(ReplayJournal)
        .where(ReplayJournal.status == PENDING)
        .order_by(ReplayJournal.id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def mark(
    session: AsyncSession,
    row_id: int,
    status: Status,
    *,
    now: datetime,
    reason: str | None = None,
    conflict_type: str | None = None,
) -> bool:
    """Record a pending row's outcome; False if another replayer recorded it first."""
    result = await session.execute(
        update(ReplayJournal)
        .where(ReplayJournal.id == row_id, ReplayJournal.status == PENDING)
        .values(
            status=status,
            attempts=ReplayJournal.attempts + 1,
            reason=reason,
            conflict_type=conflict_type,
            resolved_at=now if status != CONFLICT else None,
        )
    )
    return bool(getattr(result, "rowcount", 0))


Outcome = tuple[Status, str | None, str | None]
"""A row's outcome: its status, and the reason and type of a conflict."""

# Row ids one UPDATE names (SQLite binds at most 32766 parameters).
_MARK_CHUNK = 500


async def mark_all(
    session: AsyncSession, outcomes: Mapping[int, Outcome], *, now: datetime
) -> set[int]:
    """Record pending rows' outcomes; return the ids recorded (not those another replayer
    recorded first).

    Rows of the same outcome without a reason (applied, duplicate) share one statement: a
    batch costs a few statements, not one per row.
    """
    marked: set[int] = set()
    alike: dict[Status, list[int]] = {}
    for row_id, (status, reason, conflict_type) in outcomes.items():
        if reason is None and conflict_type is None:
            alike.setdefault(status, []).append(row_id)
        elif await mark(
            session, row_id, status, now=now, reason=reason, conflict_type=conflict_type
        ):
            marked.add(row_id)
    conn = await session.connection()
    for status, row_ids in alike.items():
        for start in range(0, len(row_ids), _MARK_CHUNK):
            result = await conn.execute(
                update(_JOURNAL)
                .where(
                    _JOURNAL.c.id.in_(row_ids[start : start + _MARK_CHUNK]),
                    _JOURNAL.c.status == PENDING,
                )
                .values(
                    status=status,
                    attempts=_JOURNAL.c.attempts + 1,
                    reason=None,
                    conflict_type=None,
                    resolved_at=now if status != CONFLICT else None,
                )
                .returning(_JOURNAL.c.id)
            )
            marked.update(row_id for (row_id,) in result)
    return marked


async def counts(session: AsyncSession) -> dict[str, int]:
    """Return how many journal rows are in each status."""
    result = await session.execute(
        select(ReplayJournal.status, func.count()).group_by(ReplayJournal.status)
    )
    return {status: int(count) for status, count in result}


async def oldest_pending_at(session: AsyncSession) -> datetime | None:
    """Return when the oldest pending write was accepted, if any is pending."""
    result = await session.execute(
        select(func.min(ReplayJournal.created_at)).where(ReplayJournal.status == PENDING)
    )
    value = result.scalar_one_or_none()
    return value if isinstance(value, datetime) or value is None else None


async def list_rows(
    session: AsyncSession, *, statuses: Sequence[Status], limit: int
) -> Sequence[ReplayJournal]:
    """Return journal rows in the given statuses, oldest first."""
    query = (
        select(ReplayJournal)
        .where(ReplayJournal.status.in_(list(statuses)))
        .order_by(ReplayJournal.id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()


async def get(session: AsyncSession, row_id: int) -> ReplayJournal | None:
    """Return one journal row."""
    return await session.get(ReplayJournal, row_id)


async def claim_op(session: AsyncSession, op_id: uuid.UUID, now: datetime) -> None:
    """On PostgreSQL, record that an operation is applied.

    Raises IntegrityError if it was applied before (by this replayer or a concurrent one); the
    caller runs this inside the row's savepoint and reads that as a duplicate.
    """
    await session.execute(insert(ReplayedOp).values(op_id=op_id, applied_at=now))


async def claim_ops(session: AsyncSession, op_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """On PostgreSQL, record that operations are applied, in one statement (IntegrityError if
    any was applied before)."""
    if op_ids:
        await session.execute(
            insert(ReplayedOp).values([{"op_id": op_id, "applied_at": now} for op_id in op_ids])
        )


async def op_claimed(session: AsyncSession, op_id: uuid.UUID) -> bool:
    """Tell whether an operation was applied on PostgreSQL already."""
    return await session.get(ReplayedOp, op_id) is not None


# -- the replica's write gate (fallback_gate, see its table) -----------------------------------

GATE_ROW = 1


async def gate_closed(session: AsyncSession, now: datetime) -> bool:
    """Tell whether the hand-over holds every fallback write of this replica now."""
    gate = await session.get(FallbackGate, GATE_ROW)
    return gate is not None and gate.closed_until is not None and gate.closed_until > now


async def set_gate(session: AsyncSession, closed_until: datetime | None) -> None:
    """Close the gate until `closed_until`, or open it (None)."""
    gate = await session.get(FallbackGate, GATE_ROW)
    if gate is None:
        session.add(FallbackGate(id=GATE_ROW, closed_until=closed_until))
    else:
        gate.closed_until = closed_until
    await session.flush()


async def pending_behind_closed_gate(session: AsyncSession, now: datetime) -> int | None:
    """Return the rows left to replay if the gate is closed, else None; one snapshot."""
    if not await gate_closed(session, now):
        return None
    result = await session.execute(
        select(func.count()).select_from(ReplayJournal).where(ReplayJournal.status == PENDING)
    )
    return int(result.scalar_one())
