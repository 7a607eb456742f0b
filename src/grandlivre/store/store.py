"""The store: runs units of work on the active database and is the only place that commits.

Where reads and writes go, and when that changes, is the mode machine's (modes.py, DESIGN §3);
this module does the I/O its verdicts ask for: probing, preparing PostgreSQL again, mirroring,
draining the journal (replay.py) and the hand-over to primary behind a short write gate.

A read is a function of a session. A write is an operation (see `operations.py`): a typed,
frozen dataclass with a journaled name and JSON form, so that what was accepted on the fallback
can be run again on PostgreSQL by the same `apply`, with the same ids, exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from grandlivre.clock import Clock, IdFactory, SystemClock, UUID7Factory
from grandlivre.db.tables import ReplayJournal
from grandlivre.errors import (
    DatabaseUnavailable,
    FallbackReadOnly,
    MirrorIncomplete,
    NotFound,
    ReplayRowNotFound,
    UnknownAccount,
    UnknownJournal,
)
from grandlivre.ops import metrics
from grandlivre.store import journal, mirror, unit
from grandlivre.store.availability import is_unavailable
from grandlivre.store.modes import Mode, ModeMachine, Transition, Verdict
from grandlivre.store.operations import (
    LIVE,
    ON_FALLBACK,
    Operation,
    Registry,
)
from grandlivre.store.replay import ConflictAction, Replayer, bounded
from grandlivre.store.signals import ChangeSignals
from grandlivre.store.unit import UnitOfWork

T = TypeVar("T")

Prepare = Callable[[AsyncEngine], Awaitable[None]]
# Maintenance the domain hands the store (the sealer): a unit of work run on the primary
# database every probe interval, again at once while it returns something truthy.
Periodic = Callable[[AsyncSession], Awaitable[object]]
PERIODIC_ROUNDS = 20
# Journal rows left, in replay batches, under which the hand-over to primary holds new writes
# at the fallback's gate and drains the rest (see Store._hand_over).
HAND_OVER_BACKLOG = 2
# Drains behind the closed gate before it opens again for a next tick (writes already past it
# can add a row or two after a drain).
HAND_OVER_ROUNDS = 3
# How long the hand-over may hold every fallback write of the replica at its gate, at most: it
# opens by itself after that, should the process that closed it die.
HAND_OVER_GATE_SECONDS = 5.0
# How often a write held at the replica's gate looks again.
GATE_POLL_SECONDS = 0.02
# How often a first copy of PostgreSQL into the mirror says how far it got (log line).
PROGRESS_LOG_SECONDS = 10.0

log = structlog.get_logger("grandlivre.store")


@dataclass(frozen=True)
class StoreConfig:
    """Timing and policy of the fallback machinery."""

    probe_interval: float = 1.0
    probe_timeout: float = 1.0
    probe_failures: int = 2
    probe_successes: int = 3
    replay_batch: int = 200
    fallback_writes: Literal["accept", "reject"] = "accept"
    # A replay batch or a hand-over that takes longer than this is abandoned (and logged with
    # where it was waiting) and tried again, so that one stuck await cannot stall recovery.
    replay_step_timeout: float = 30.0
    # Rows per mirror chunk: one SQLite transaction, one saved position (see mirror.py).
    mirror_chunk_rows: int = mirror.DEFAULT_CHUNK_ROWS


@dataclass(frozen=True)
class ReplayStatus:
    """What the journal holds, for healthz, metrics and the CLI."""

    pending: int
    conflicts: int
    applied: int
    duplicates: int
    discarded: int
    oldest_pending_at: datetime | None


class GateClosed(Exception):
    """The replica's hand-over holds fallback writes; wait and try again."""


class _HandedOver(Exception):
    """The store switched to primary while a write waited for the fallback's lock."""


class Store:
    """Runs reads and operations on the active database, and moves between databases."""

    def __init__(
        self,
        engine: AsyncEngine,
        fallback: AsyncEngine | None = None,
        *,
        config: StoreConfig | None = None,
        operations: Registry | None = None,
        clock: Clock | None = None,
        ids: IdFactory | None = None,
        periodic: Sequence[Periodic] = (),
        announce: bool = True,
    ) -> None:
        self.engine = engine
        # A store opened only to prepare the databases before the workers start says what it
        # found at debug level: the workers' own stores announce the service's mode.
        self.announce = announce
        self.fallback = fallback
        self.config = config or StoreConfig()
        self.operations: Registry = operations or {}
        self.clock = clock or SystemClock()
        self.ids = ids or UUID7Factory()
        self.periodic = tuple(periodic)
        self.is_sqlite = engine.dialect.name == "sqlite"
        self.modes = ModeMachine(
            Mode.embedded if fallback is None else Mode.primary,
            probe_failures=self.config.probe_failures,
            probe_successes=self.config.probe_successes,
            hand_over_backlog=HAND_OVER_BACKLOG * self.config.replay_batch,
        )
        # SQLite has one writer at a time; queueing this process's writers here is cheaper
        # than having them spin on the file lock. The fallback's lock is also the write gate
        # of the hand-over from recovering to primary.
        self._primary_lock = asyncio.Lock() if self.is_sqlite else None
        self._fallback_lock = asyncio.Lock()
        # Open (set) but while the hand-over to primary drains the journal's last rows: new
        # fallback writes wait here, then go to PostgreSQL (Store._hand_over).
        self._writes_open = asyncio.Event()
        self._writes_open.set()
        self._probe_engine: AsyncEngine | None = None
        self._replayer: Replayer | None = None
        self._prepare_primary: Prepare | None = None
        self._task: asyncio.Task[None] | None = None
        # Set by `close`: the background loops end after the tick under way.
        self._closing = asyncio.Event()
        # What the last probe found; maintenance that needs PostgreSQL waits for a good one.
        self._healthy = True
        self._lease: IO[str] | None = None
        # When (monotonic) the fallback's mirror was last seen complete; None: not yet.
        self._mirror_seen_complete: float | None = None
        self._progress_logged_at = -PROGRESS_LOG_SECONDS
        # What in-process caches may trust: PostgreSQL's change notifications, while primary.
        self.signals = ChangeSignals(
            engine.url if fallback is not None else None, timeout=self.config.probe_timeout
        )

    # -- life cycle -------------------------------------------------------------------------

    async def open(
        self,
        prepare: Prepare | None = None,
        *,
        background: bool = True,
        recover: Prepare | None = None,
    ) -> None:
        """Prepare the databases (migrations, seed) and start probing, mirroring, replaying.

        PostgreSQL unreachable at start-up is not an error: the store starts on the fallback.
        `recover` makes PostgreSQL ready again when it returns after an outage (it may come back
        empty, restored from a backup); it defaults to `prepare`.
        """
        self._prepare_primary = recover or prepare
        if self.fallback is not None and prepare is not None:
            await prepare(self.fallback)
        if self.fallback is None:
            if prepare is not None:
                await prepare(self.engine)
        else:
            self._probe_engine = create_async_engine(
                self.engine.url,
                poolclass=NullPool,
                connect_args={
                    "timeout": self.config.probe_timeout,
                    "command_timeout": self.config.probe_timeout,
                },
            )
            try:
                if prepare is not None:
                    await prepare(self.engine)
                else:
                    await self.ping()
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self._fail_over(exc)
            else:
                status = await self.replay_status()
                pending = status.pending if status is not None else 0
                self._announce(self.modes.started(pending, self.clock.now()))
        metrics.set_database_mode(self.mode)
        metrics.FALLBACK_ACTIVE.set(1 if self.in_fallback else 0)
        if self.mode == Mode.primary:
            await self.signals.ensure_listening()
        if background and (self.fallback is not None or self.periodic):
            self._task = asyncio.create_task(self._background(), name="grandlivre-store")

    async def close(self) -> None:
        """Stop the background work and close every connection.

        The background loops are asked to stop after the tick under way, and waited for (a
        tick is bounded by the connect and statement timeouts); only one that does not end
        in time is cancelled. A task cancelled in the middle of opening a connection can
        leave that connection to the garbage collector instead of the pool.
        """
        self._closing.set()
        if self._task is not None:
            grace = max(self.config.probe_timeout, self.config.probe_interval) * 3
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._task), timeout=grace)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._lease is not None:
            self._lease.close()
            self._lease = None
        await self.signals.close()
        for engine in (self.engine, self.fallback, self._probe_engine):
            if engine is not None:
                await engine.dispose()

    @property
    def mode(self) -> Mode:
        """Where reads and writes go now."""
        return self.modes.mode

    @property
    def fallback_since(self) -> datetime | None:
        """When the service left PostgreSQL (None while on it)."""
        return self.modes.fallback_since

    @property
    def in_fallback(self) -> bool:
        """Tell whether reads and writes go to the SQLite fallback now."""
        return self.modes.in_fallback

    # -- reads and writes -------------------------------------------------------------------

    async def read(self, fn: UnitOfWork[T], *, partial_ok: bool = False) -> T:
        """Run `fn` read-only on the active database; fall back if PostgreSQL dies under it.

        On a fallback whose mirror never completed a copy of PostgreSQL the read is refused
        (503 mirror-incomplete) unless the caller can tell a missing row from an absent one
        itself (`partial_ok`: the key look-up, readiness).
        """
        if not self.in_fallback:
            try:
                return await self._run(self.engine, fn, write=False)
            except Exception as exc:
                if not self._should_fail_over(exc):
                    raise
                self._fail_over(exc)
        assert self.fallback is not None
        if not partial_ok:
            await self.refuse_incomplete_mirror()
        return await self._run(self.fallback, fn, write=False)

    async def write(self, fn: UnitOfWork[T], *, retry_on_conflict: bool = True) -> T:
        """Run `fn` in a read-write transaction on the active database, without journaling.

        For what either database may do on its own (seeding, tests); anything a client asks
        for goes through `execute`, so that it can be replayed.
        """
        engine = self.fallback if self.in_fallback and self.fallback is not None else self.engine
        return await self._write(engine, fn, retry_on_conflict=retry_on_conflict)

    async def execute(self, op: Operation[T]) -> T:
        """Run the operation: on PostgreSQL, or on the fallback with a journal row.

        A write that meets the replica's closed gate (the hand-over to primary draining the
        journal's last rows) waits for it, then runs wherever the store is by then: it waits
        briefly, it never fails for it.
        """
        failures = 0
        while True:
            if not self.in_fallback:
                try:
                    if op.at_once and not self.is_sqlite:
                        done = await unit.run_at_once(self.engine, op.apply_at_once)
                        if done is not None:
                            return done
                    return await self._write(self.engine, lambda s: op.apply(s, LIVE))
                except Exception as exc:
                    if not self._should_fail_over(exc):
                        raise
                    failures += 1
                    if failures >= 3:
                        raise DatabaseUnavailable(
                            "no database could take this write; retry shortly"
                        ) from exc
                    # The request that met the failure is retried on the fallback, not failed.
                    self._fail_over(exc)
                    continue
            if self.config.fallback_writes == "reject":
                raise FallbackReadOnly(
                    "the primary database is unreachable and this service is read-only until "
                    "it returns (FALLBACK_WRITES=reject)",
                    headers={"Retry-After": str(max(1, round(self._retry_after())))},
                )
            await self._writes_open.wait()
            try:
                return await self._journal_on_fallback(op)
            except GateClosed:
                await self._wait_at_gate()
            except _HandedOver:
                pass  # handed over to primary while this write waited: run it there

    async def _journal_on_fallback(self, op: Operation[T]) -> T:
        async with self._fallback_lock:
            if not self.in_fallback:
                raise _HandedOver

            async def journaled(session: AsyncSession) -> T:
                if await journal.gate_closed(session, self.clock.now()):
                    raise GateClosed
                result = await op.apply(session, ON_FALLBACK)
                if not op.wrote_nothing(result):
                    await journal.append(
                        session,
                        op_id=self.ids.new(),
                        operation=op.name,
                        args=op.to_json(),
                        now=self.clock.now(),
                    )
                return result

            try:
                return await self._run_retrying(self._fallback(), journaled)
            except (NotFound, UnknownAccount, UnknownJournal):
                # What the write names may be on PostgreSQL and not yet in a copy that
                # never completed: that is not the client's error to fix.
                await self.refuse_incomplete_mirror()
                raise

    async def _wait_at_gate(self) -> None:
        """Wait while the replica's gate is closed; switch to primary when that is safe.

        Behind a closed gate no process of the replica can journal a write, so a journal seen
        empty stays empty: a recovering process may then switch as the leaseholder did.
        """
        deadline = time.monotonic() + HAND_OVER_GATE_SECONDS + 1
        while self.in_fallback and time.monotonic() < deadline:
            pending = await self._run(
                self._fallback(),
                lambda s: journal.pending_behind_closed_gate(s, self.clock.now()),
                write=False,
            )
            if pending is None:
                return
            if pending == 0 and self.mode == Mode.recovering:
                self._announce(self.modes.drained(0, self.clock.now()))
                return
            await asyncio.sleep(GATE_POLL_SECONDS)

    async def on_primary(self, fn: UnitOfWork[T]) -> T | None:
        """Run `fn` in a write transaction on the primary database; None while it is not in charge.

        For maintenance that belongs to the database of record alone, such as sealing: it
        never runs on the fallback (nor while recovering), whose entries wait for their replay.
        """
        if self.mode not in (Mode.embedded, Mode.primary):
            return None
        return await self._write(self.engine, fn, retry_on_conflict=False)

    async def run_periodic(self) -> None:
        """Run each periodic unit of work on the primary, again while it reports work done."""
        for fn in self.periodic:
            for _ in range(PERIODIC_ROUNDS):
                if not await self.on_primary(fn):
                    break

    async def ping(self) -> None:
        """Run a trivial query on the active database; raise if it does not answer."""
        engine = self.fallback if self.in_fallback and self.fallback is not None else self.engine
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    # -- status -----------------------------------------------------------------------------

    async def replay_status(self) -> ReplayStatus | None:
        """Return what the replay journal holds (None in embedded mode)."""
        if self.fallback is None:
            return None

        async def read(session: AsyncSession) -> tuple[dict[str, int], datetime | None]:
            return await journal.counts(session), await journal.oldest_pending_at(session)

        counts, oldest = await self._run(self.fallback, read, write=False)
        return ReplayStatus(
            pending=counts.get(journal.PENDING, 0),
            conflicts=counts.get(journal.CONFLICT, 0),
            applied=counts.get(journal.APPLIED, 0),
            duplicates=counts.get(journal.DUPLICATE, 0),
            discarded=counts.get(journal.DISCARDED, 0),
            oldest_pending_at=oldest,
        )

    async def mirror_synced_at(self) -> datetime | None:
        """Return when the mirror last caught up with PostgreSQL (None if never)."""
        if self.fallback is None:
            return None
        async with self.fallback.connect() as conn:
            state = await mirror.read_state(conn)
        return state.synced_at if state is not None else None

    async def mirror_progress(self) -> mirror.Progress | None:
        """Return whether the mirror ever completed a copy of PostgreSQL (None if no mirror)."""
        if self.fallback is None:
            return None
        async with self.fallback.connect() as conn:
            state = await mirror.read_state(conn)
        return mirror.progress_of(state)

    async def refuse_incomplete_mirror(self) -> None:
        """Raise 503 mirror-incomplete if serving from a fallback that never completed a copy.

        What such a copy lacks cannot be told from what PostgreSQL lacks: reads, an unknown
        API key and a write naming an unknown account or entry meet this instead of an answer
        that could be wrong (docs/operations.md, "A mirror that never completed"). A no-op
        while PostgreSQL serves. Once seen complete, the state row is read again at most once
        per probe interval.
        """
        if not self.in_fallback:
            return
        seen = self._mirror_seen_complete
        if seen is not None and time.monotonic() - seen < self.config.probe_interval:
            return
        progress = await self.mirror_progress()
        if progress is None or progress.complete:
            self._mirror_seen_complete = time.monotonic()
            return
        self._mirror_seen_complete = None
        raise MirrorIncomplete(
            "PostgreSQL is unreachable and the SQLite fallback never completed a copy of it: "
            "answering from it could refuse valid keys and show books with entries missing",
            headers={"Retry-After": str(max(1, round(self._retry_after())))},
            mirror_rows_copied=progress.rows_copied,
            mirror_rows_estimate=progress.rows_estimate,
        )

    async def describe(self) -> dict[str, Any]:
        """Return the storage fields of healthz."""
        body: dict[str, Any] = {
            "mode": self.mode.value,
            "fallback": self.in_fallback,
            "database": "sqlite" if self.in_fallback or self.is_sqlite else "postgresql",
            "fallback_since": self.fallback_since.isoformat() if self.fallback_since else None,
            "replay_pending": 0,
            "replay_conflicts": 0,
            "mirror_lag_seconds": None,
            "mirror_complete": None,
            "mirror_progress": None,
        }
        if self.fallback is not None:
            status = await self.replay_status()
            assert status is not None
            body["replay_pending"] = status.pending
            body["replay_conflicts"] = status.conflicts
            synced = await self.mirror_synced_at()
            if synced is not None:
                body["mirror_lag_seconds"] = round(
                    max(0.0, (self.clock.now() - synced).total_seconds()), 3
                )
            progress = await self.mirror_progress()
            assert progress is not None
            body["mirror_complete"] = progress.complete
            body["mirror_progress"] = {
                "rows_copied": progress.rows_copied,
                "rows_estimate": progress.rows_estimate,
                "complete_at": progress.complete_at.isoformat() if progress.complete_at else None,
            }
        return body

    # -- replay and conflicts (replay.py) ---------------------------------------------------

    @property
    def replayer(self) -> Replayer:
        """The fallback's replayer (the store must have a fallback)."""
        if self._replayer is None:
            self._replayer = Replayer(
                self.engine,
                self._fallback(),
                operations=self.operations,
                clock=self.clock,
                write=self._write,
                batch=self.config.replay_batch,
                step_timeout=self.config.replay_step_timeout,
            )
        return self._replayer

    async def drain(self, *, at_most: int | None = None) -> dict[str, int]:
        """Replay pending journal rows to PostgreSQL now; return counts by outcome.

        Every row by default (the CLI); `at_most` rows otherwise, so that a maintenance tick
        ends even while clients keep adding rows, and the hand-over gets its turn.
        """
        return await self.replayer.drain(at_most=at_most)

    async def list_journal(
        self, statuses: list[journal.Status], limit: int = 100
    ) -> list[ReplayJournal]:
        """Return journal rows in the given statuses, oldest first."""
        if self.fallback is None:
            return []
        return await self.replayer.list_journal(statuses, limit)

    async def resolve_conflict(
        self, row_id: int, *, action: ConflictAction, reason: str
    ) -> ReplayJournal:
        """Retry a conflict (back to pending) or discard it (its local effect undone)."""
        if self.fallback is None:
            raise ReplayRowNotFound("embedded mode keeps no replay journal")
        return await self.replayer.resolve_conflict(row_id, action=action, reason=reason)

    # -- background -------------------------------------------------------------------------

    async def _background(self) -> None:
        # Two loops: probing never waits behind maintenance (a mirror round stuck on a dead
        # connection until its statement timeout), so detection takes the probes' time only.
        probing = (
            [asyncio.create_task(self._every(self._probe_tick), name="grandlivre-probe")]
            if self._probe_engine is not None
            else []
        )
        try:
            await self._every(self._maintenance_tick)
            for task in probing:
                await task  # asked to stop too: it ends after its probe under way
        finally:
            for task in probing:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _every(self, tick: Callable[[], Awaitable[None]]) -> None:
        while True:
            started = time.monotonic()
            try:
                await tick()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the loop must outlive any one failure
                log.exception("store_background_error", error=_describe(exc))
            elapsed = time.monotonic() - started
            if self._closing.is_set():
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._closing.wait(), max(0.05, self.config.probe_interval - elapsed)
                )
            if self._closing.is_set():
                return

    async def _maintenance_tick(self) -> None:
        if self._healthy:
            await self._run_periodic_safely()
            await self._maintain()
        await self.publish_metrics()

    async def _probe_tick(self) -> None:
        healthy = self._healthy = await self._probe()
        if self.mode == Mode.primary and healthy:
            await self.signals.ensure_listening()
        verdict, transition = self.modes.probed(healthy, self.clock.now())
        self._announce(transition)
        if verdict is Verdict.prepare_recovery:
            try:
                # Connections pooled before the outage are dead: drop them all at once
                # rather than discover each at its checkout.
                await self.engine.dispose()
                if self._prepare_primary is not None:
                    await self._prepare_primary(self.engine)
            except Exception as exc:
                if not is_unavailable(exc):
                    raise
                self.modes.recovery_failed()
            else:
                self._announce(self.modes.recovery_ready(self.clock.now()))

    async def _run_periodic_safely(self) -> None:
        # Before the mirror round, so that what was just sealed is copied in the same tick; a
        # failure here must not stop the mirror and the replay.
        try:
            await self.run_periodic()
        except Exception as exc:
            if self.mode == Mode.primary and self._should_fail_over(exc):
                self._fail_over(exc)
            else:
                log.exception("store_periodic_error", error=_describe(exc))

    async def _maintain(self) -> None:
        if self.mode not in (Mode.primary, Mode.recovering):
            return
        leader = self._hold_lease()
        status: ReplayStatus | None = None
        try:
            if leader:
                # What was pending when the tick began: rows added meanwhile wait for the
                # next tick, or for the hand-over's drain behind the gate.
                status = await self.replay_status()
                await self.drain(at_most=status.pending if status is not None else 0)
            if self.mode == Mode.recovering or (
                leader and status is not None and status.pending > 0
            ):
                await bounded(
                    self._hand_over(leader=leader), "hand_over", self.config.replay_step_timeout
                )
            if leader and self.mode == Mode.primary:
                await self._mirror_rounds()
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            self._fail_over(exc)

    async def _mirror_rounds(self) -> None:
        """Copy chunks until the pass under way ends or this tick's time is up.

        Each round is one bounded chunk in its own transactions; between rounds the event loop
        serves requests and probes, and a mode change stops the copy where it stands.
        """
        deadline = time.monotonic() + self.config.probe_interval
        while self.mode == Mode.primary:
            result = await mirror.sync_once(
                self.engine,
                self._fallback(),
                self.clock.now(),
                chunk_rows=self.config.mirror_chunk_rows,
            )
            if result.rows or result.deletions:
                metrics.MIRROR_ROWS.inc(result.rows)
            if not result.done:
                log.debug(
                    "mirror_chunk_copied",
                    rows=result.rows,
                    deletions=result.deletions,
                    table=result.table,
                    watermark=result.watermark,
                )
            elif result.rows or result.deletions:
                log.debug("mirror_synced", rows=result.rows, watermark=result.watermark)
            if result.first_copy_completed:
                metrics.MIRROR_COMPLETE.set(1)
                progress = await self.mirror_progress()
                log.info(
                    "mirror_first_copy_completed",
                    rows=progress.rows_copied if progress else result.rows,
                    watermark=result.watermark,
                )
            if result.done or time.monotonic() >= deadline:
                if not result.done:
                    await self._log_first_copy_progress()
                return
            await asyncio.sleep(0)

    async def _log_first_copy_progress(self) -> None:
        """Say how far a first copy got, at most every PROGRESS_LOG_SECONDS."""
        now = time.monotonic()
        if now - self._progress_logged_at < PROGRESS_LOG_SECONDS:
            return
        progress = await self.mirror_progress()
        if progress is None or progress.complete:
            return
        self._progress_logged_at = now
        log.info(
            "mirror_first_copy_progress",
            rows_copied=progress.rows_copied,
            rows_estimate=progress.rows_estimate,
        )

    async def _hand_over(self, *, leader: bool) -> None:
        """Switch to primary once the journal is empty, converging while clients write.

        Clients that keep writing on the fallback can add rows as fast as they drain, so an
        empty journal may never be seen between two writes. Once what is left is small (two
        replay batches), the leaseholder closes the replica's gate (`fallback_gate`, shared by
        every worker of the replica through the SQLite file): no process can journal a write
        any more, so the journal only shrinks. It drains the rest and switches under the
        fallback's write lock with nothing pending; every other recovering process sees the
        closed gate and the empty journal and switches too (here, or where its writes wait
        in `_wait_at_gate`). The gate opens again by itself after HAND_OVER_GATE_SECONDS, or
        at once if the hand-over did not happen. Writes wait for a bounded drain, never fail.

        A leaseholder already on primary does the same for the rows other workers journal
        meanwhile: without it, they would wait in `recovering` for a gate nobody closes.
        """
        status = await self.replay_status()
        if status is None or not self.modes.may_close_gate(status.pending):
            return
        if not leader:
            async with self._fallback_lock:
                pending = await self._run(
                    self._fallback(),
                    lambda s: journal.pending_behind_closed_gate(s, self.clock.now()),
                    write=False,
                )
                if pending == 0:
                    self._announce(self.modes.drained(0, self.clock.now()))
            return
        self._writes_open.clear()
        until = self.clock.now() + timedelta(seconds=HAND_OVER_GATE_SECONDS)
        await self._write(self._fallback(), lambda s: journal.set_gate(s, until))
        try:
            for _ in range(HAND_OVER_ROUNDS):
                await self.drain()
                async with self._fallback_lock:
                    status = await self.replay_status()
                    pending = status.pending if status is not None else 0
                    if self.mode == Mode.primary and pending == 0:
                        return  # the other workers can switch now
                    transition = self.modes.drained(pending, self.clock.now())
                    if transition is not None:
                        self._announce(transition)
                        return
                if self.mode != Mode.recovering:
                    break
            await self._write(self._fallback(), lambda s: journal.set_gate(s, None))
        finally:
            self._writes_open.set()

    async def _probe(self) -> bool:
        if self._probe_engine is None:
            return True
        try:
            async with asyncio.timeout(self.config.probe_timeout * 2):
                async with self._probe_engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:
            if is_unavailable(exc):
                return False
            raise

    async def publish_metrics(self) -> None:
        """Set the gauges of the replay journal and the mirror from this store's state (each
        maintenance tick does, and each scrape, so that it shows this process's own state)."""
        status = await self.replay_status()
        if status is not None:
            metrics.REPLAY_PENDING.set(status.pending)
            metrics.REPLAY_CONFLICTS.set(status.conflicts)
            age = 0.0
            if status.oldest_pending_at is not None:
                age = max(0.0, (self.clock.now() - status.oldest_pending_at).total_seconds())
            metrics.REPLAY_OLDEST_AGE.set(age)
        progress = await self.mirror_progress()
        if progress is not None:
            metrics.MIRROR_COMPLETE.set(1 if progress.complete else 0)
            metrics.MIRROR_FIRST_COPY_ROWS.set(progress.rows_copied)
            metrics.MIRROR_FIRST_COPY_ESTIMATE.set(progress.rows_estimate or 0)
        synced = await self.mirror_synced_at()
        if synced is not None:
            metrics.MIRROR_LAG.set(max(0.0, (self.clock.now() - synced).total_seconds()))

    def _hold_lease(self) -> bool:
        """Hold the file lock that makes one process of this replica mirror and replay."""
        if self._lease is not None:
            return True
        database = self._fallback().url.database
        if not database or database == ":memory:":
            return True
        handle = Path(f"{database}.lease").open("a")  # noqa: SIM115 (held for the process)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._lease = handle
        log.info("store_lease_taken", lease=f"{database}.lease")
        return True

    # -- plumbing ---------------------------------------------------------------------------

    def _fallback(self) -> AsyncEngine:
        assert self.fallback is not None
        return self.fallback

    def _retry_after(self) -> float:
        return self.config.probe_interval * (self.config.probe_successes + 1)

    def _should_fail_over(self, exc: BaseException) -> bool:
        # True also when a concurrent request already switched: this one is retried too.
        return self.fallback is not None and is_unavailable(exc)

    def _fail_over(self, exc: BaseException) -> None:
        self._announce(self.modes.failed(_describe(exc), self.clock.now()))

    def _announce(self, transition: Transition | None) -> None:
        """Say a change of mode everywhere it shows: caches, metrics, the log."""
        if transition is None:
            return
        if transition.to != Mode.primary:
            self.signals.lost()
        metrics.MODE_TRANSITIONS.labels(transition.before.value, transition.to.value).inc()
        metrics.set_database_mode(transition.to.value)
        metrics.FALLBACK_ACTIVE.set(1 if self.in_fallback else 0)
        (log.warning if self.announce else log.debug)(
            "storage_mode_changed",
            # Each worker process has its mode: say which one changed.
            pid=os.getpid(),
            from_mode=transition.before.value,
            to_mode=transition.to.value,
            reason=transition.reason,
            fallback_since=self.fallback_since.isoformat() if self.fallback_since else None,
        )

    async def _write(
        self, engine: AsyncEngine, fn: UnitOfWork[T], *, retry_on_conflict: bool = True
    ) -> T:
        lock = self._lock_for(engine)
        async with lock if lock is not None else contextlib.nullcontext():
            if retry_on_conflict:
                return await self._run_retrying(engine, fn)
            return await self._run(engine, fn, write=True)

    def _lock_for(self, engine: AsyncEngine) -> asyncio.Lock | None:
        if engine is self.engine:
            return self._primary_lock
        if engine is self.fallback:
            return self._fallback_lock
        return None

    async def _run_retrying(self, engine: AsyncEngine, fn: UnitOfWork[T]) -> T:
        return await unit.run_retrying(engine, fn, announced=self.signals.changed_here)

    async def _run(self, engine: AsyncEngine, fn: UnitOfWork[T], *, write: bool) -> T:
        return await unit.run(engine, fn, write=write, announced=self.signals.changed_here)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]
