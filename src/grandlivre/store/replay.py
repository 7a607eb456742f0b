"""Replay: the journal of writes taken on the fallback, drained into PostgreSQL exactly once.

Rows are applied in journal order, a batch per PostgreSQL transaction: the whole batch at once
when every row simply applies (one claim statement, no savepoint per row, consecutive postings
into one ledger as one statement), else row by row, each in its own savepoint, so that a row
that breaks a rule becomes a visible conflict (invariant 6) and the others still commit. Each
row's operation id is claimed in PostgreSQL (`replayed_ops`) in the same transaction as its
effect, so a crash between the two databases, or two replayers at once, replays nothing twice.
"""

from __future__ import annotations

import asyncio
import enum
import io
import json
from collections.abc import Awaitable, Hashable, Sequence
from typing import Any, Protocol, TypeVar

import structlog
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from grandlivre.clock import Clock
from grandlivre.db.tables import ReplayJournal
from grandlivre.errors import DomainError, ReplayRowNotConflict, ReplayRowNotFound
from grandlivre.ops import metrics
from grandlivre.store import journal, unit
from grandlivre.store.operations import (
    REPLAYING,
    AlreadyApplied,
    MalformedOperation,
    Operation,
    Registry,
    decode,
)
from grandlivre.store.unit import UnitOfWork

T = TypeVar("T")

log = structlog.get_logger("grandlivre.store")


class ConflictAction(enum.StrEnum):
    """What an admin does with a replay conflict."""

    retry = "retry"
    discard = "discard"


class StepStalled(Exception):
    """A replay step did not finish within its time; the next tick tries again."""


class Writer(Protocol):
    """Runs a write unit of work on an engine, under the store's lock for that engine."""

    async def __call__(
        self, engine: AsyncEngine, fn: UnitOfWork[T], *, retry_on_conflict: bool = True
    ) -> T: ...


class Replayer:
    """Drains a fallback's replay journal into PostgreSQL and resolves its conflicts."""

    def __init__(
        self,
        primary: AsyncEngine,
        fallback: AsyncEngine,
        *,
        operations: Registry,
        clock: Clock,
        write: Writer,
        batch: int,
        step_timeout: float,
    ) -> None:
        self.primary = primary
        self.fallback = fallback
        self.operations = operations
        self.clock = clock
        # The store's locked write: the fallback's lock is also the hand-over's write gate.
        self.write = write
        self.batch = batch
        self.step_timeout = step_timeout

    async def drain(self, *, at_most: int | None = None) -> dict[str, int]:
        """Replay pending journal rows to PostgreSQL now; return counts by outcome.

        Every row by default (the CLI); `at_most` rows otherwise, so that a maintenance tick
        ends even while clients keep adding rows, and the hand-over gets its turn.
        """
        totals: dict[str, int] = {}
        left = at_most
        while left is None or left > 0:
            rows = await unit.run(
                self.fallback,
                lambda s: journal.next_pending(s, self.batch),
                write=False,
            )
            if not rows:
                return totals
            for outcome in await bounded(
                self._replay_batch(rows), "replay_batch", self.step_timeout
            ):
                totals[outcome] = totals.get(outcome, 0) + 1
            if left is not None:
                left -= len(rows)
        return totals

    async def _replay_batch(self, rows: Sequence[ReplayJournal]) -> list[journal.Status]:
        """Apply rows in order in one PostgreSQL transaction, each in its own savepoint.

        A row that breaks a rule rolls back to its savepoint and becomes a conflict; the others
        commit together. Their outcomes are then recorded in SQLite in one transaction. A crash
        in between replays the batch again, and `replayed_ops` turns every row already
        committed into a duplicate.
        """
        outcomes: dict[int, journal.Outcome] = {}

        async def apply_all(session: AsyncSession) -> None:
            outcomes.clear()
            for row in rows:
                outcomes[row.id] = await self._apply_one(session, row)

        if not await self._replay_whole(rows, outcomes):
            await self.write(self.primary, apply_all, retry_on_conflict=False)
        now = self.clock.now()

        async def mark_all(session: AsyncSession) -> set[int]:
            return await journal.mark_all(session, outcomes, now=now)

        marked = await self.write(self.fallback, mark_all)
        for row in rows:
            outcome, reason, kind = outcomes[row.id]
            if row.id not in marked:
                continue  # another replayer recorded it first
            metrics.REPLAYED.labels(outcome).inc()
            event = log.error if outcome == journal.CONFLICT else log.debug
            event(
                "replay_" + outcome,
                journal_id=row.id,
                op_id=str(row.op_id),
                operation=row.operation,
                reason=reason,
                conflict_type=kind,
            )
        return [outcomes[row.id][0] for row in rows]

    async def _replay_whole(
        self,
        rows: Sequence[ReplayJournal],
        outcomes: dict[int, journal.Outcome],
    ) -> bool:
        """Apply a batch in one transaction without a savepoint per row; False if any row
        would not simply apply (a conflict, a duplicate), and nothing was written.

        The common case, every row new and valid, then costs no SAVEPOINT, no RELEASE and one
        claim for the whole batch; and each run of consecutive rows that share a replay group
        (postings into one ledger) is applied as one (`Operation.apply_together`), in journal
        order with the rows around it. Anything else is left to the row-by-row path, which
        tells each row's outcome.
        """
        groups: list[tuple[Hashable | None, list[Operation[Any]]]] = []
        for row in rows:
            kind = self.operations.get(row.operation)
            if kind is None:
                return False
            try:
                op = decode(kind, json.loads(row.args))
            except (MalformedOperation, ValueError):
                return False
            group = op.replay_group()
            if group is not None and groups and groups[-1][0] == group:
                groups[-1][1].append(op)
            else:
                groups.append((group, [op]))

        async def apply_whole(session: AsyncSession) -> None:
            await journal.claim_ops(session, [row.op_id for row in rows], self.clock.now())
            for _, ops in groups:
                if len(ops) == 1:
                    await ops[0].apply(session, REPLAYING)
                else:
                    await type(ops[0]).apply_together(session, REPLAYING, ops)

        try:
            await self.write(self.primary, apply_whole, retry_on_conflict=False)
        except (DomainError, AlreadyApplied, IntegrityError):
            return False
        outcomes.clear()
        outcomes.update({row.id: (journal.APPLIED, None, None) for row in rows})
        return True

    async def _apply_one(self, session: AsyncSession, row: ReplayJournal) -> journal.Outcome:
        kind = self.operations.get(row.operation)
        if kind is None:
            return journal.CONFLICT, f"no handler for {row.operation!r}", "unknown-operation"
        try:
            op = decode(kind, json.loads(row.args))
        except (MalformedOperation, ValueError) as exc:
            return journal.CONFLICT, str(exc)[:500], "malformed-operation"
        try:
            async with session.begin_nested():
                await journal.claim_op(session, row.op_id, self.clock.now())
                await op.apply(session, REPLAYING)
        except AlreadyApplied:
            return journal.DUPLICATE, None, None
        except DomainError as exc:
            return journal.CONFLICT, exc.detail, exc.type
        except IntegrityError as exc:
            # A concurrent replayer committed it first, or it collides with what PostgreSQL
            # holds under other ids.
            if await journal.op_claimed(session, row.op_id):
                return journal.DUPLICATE, None, None
            reason = str(exc.orig)[:500] if exc.orig else "integrity error"
            return journal.CONFLICT, reason, "integrity"
        return journal.APPLIED, None, None

    # -- conflicts --------------------------------------------------------------------------

    async def list_journal(
        self, statuses: list[journal.Status], limit: int = 100
    ) -> list[ReplayJournal]:
        """Return journal rows in the given statuses, oldest first."""
        return list(
            await unit.run(
                self.fallback,
                lambda s: journal.list_rows(s, statuses=statuses, limit=limit),
                write=False,
            )
        )

    async def resolve_conflict(
        self, row_id: int, *, action: ConflictAction, reason: str
    ) -> ReplayJournal:
        """Retry a conflict (back to pending) or discard it (its local effect undone)."""

        async def unit(session: AsyncSession) -> ReplayJournal:
            row = await journal.get(session, row_id)
            if row is None:
                raise ReplayRowNotFound(f"no replay journal row {row_id}")
            if row.status != journal.CONFLICT:
                raise ReplayRowNotConflict(f"row {row_id} is {row.status}, not in conflict")
            now = self.clock.now()
            if action is ConflictAction.retry:
                row.status = journal.PENDING
                row.resolution = f"retry: {reason}"
            else:
                kind = self.operations.get(row.operation)
                if kind is not None:
                    try:
                        op = decode(kind, json.loads(row.args))
                    except (MalformedOperation, ValueError):
                        op = None  # nothing it wrote can be found from unreadable arguments
                    if op is not None:
                        await op.discard_local(session)
                row.status = journal.DISCARDED
                row.resolution = f"discarded: {reason}"
                row.resolved_at = now
            await session.flush()
            return row

        return await self.write(self.fallback, unit)


async def bounded(step: Awaitable[T], what: str, seconds: float) -> T:
    """Run one step of the replay within `seconds`; say where it hung if not."""
    task = asyncio.ensure_future(step)
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout=seconds)
    except TimeoutError:
        stack = io.StringIO()
        task.print_stack(limit=20, file=stack)
        task.cancel()
        log.error(
            "store_step_stalled",
            step=what,
            timeout=seconds,
            stack=stack.getvalue()[-4000:],
        )
        raise StepStalled(what) from None
