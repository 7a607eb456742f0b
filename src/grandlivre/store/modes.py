"""The storage mode machine: where reads and writes go, and when that changes. No I/O.

    embedded    DATABASE_URL is SQLite: everything happens there, nothing ever changes.
    primary     PostgreSQL answers: reads and writes go to it; the mirror copies it to SQLite.
    fallback    PostgreSQL is unreachable: reads from the SQLite mirror; writes go to SQLite
                with a replay-journal row in the same transaction.
    recovering  PostgreSQL answers again: the journal drains to it, in order; reads and writes
                stay on SQLite until it is empty, then a short gate hands over to primary.

    primary --(a request meets a dead connection, or K failed probes)--> fallback
    fallback --(N good probes in a row, then PostgreSQL made ready)--> recovering
    recovering --(journal empty, under the write gate)--> primary
    recovering --(a probe or a replay fails)--> fallback

The rules live here so that they can be tested in milliseconds, without a database: above all,
never back to primary with un-replayed writes (that would order new writes before older ones),
and the convergence rule (the gate closes only for a small remainder, so that clients that
keep writing still see the hand-over). The store (store.py) does the I/O each verdict asks for
and reports what it found; every change of mode comes back to it as a `Transition`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


class Mode(enum.StrEnum):
    """Where reads and writes go."""

    embedded = "embedded"
    primary = "primary"
    fallback = "fallback"
    recovering = "recovering"


class Verdict(enum.StrEnum):
    """What a probe's result asks the store to do."""

    nothing = "nothing"
    # N good probes in a row on the fallback: make PostgreSQL ready, then `recovery_ready`.
    prepare_recovery = "prepare_recovery"


@dataclass(frozen=True)
class Transition:
    """A change of mode, for the store to announce (logs, metrics, caches)."""

    before: Mode
    to: Mode
    reason: str


@dataclass
class ModeMachine:
    """The current mode and the probe counts that move it; every rule of DESIGN §3."""

    mode: Mode
    probe_failures: int = 2
    probe_successes: int = 3
    # Journal rows under which the hand-over to primary may close the write gate.
    hand_over_backlog: int = 400
    fallback_since: datetime | None = None
    failures: int = 0
    successes: int = 0

    @property
    def in_fallback(self) -> bool:
        """Tell whether reads and writes go to the SQLite fallback now."""
        return self.mode in (Mode.fallback, Mode.recovering)

    def started(self, pending: int, now: datetime) -> Transition | None:
        """PostgreSQL answered at start-up: stay off it while the journal holds writes."""
        if self.mode != Mode.primary:
            return None
        if pending:
            # Writes acknowledged before a restart are not replayed yet: serving from
            # PostgreSQL now would hide them and order new writes before them.
            return self._to(Mode.recovering, "journal not empty at start-up", now)
        return None

    def failed(self, reason: str, now: datetime) -> Transition | None:
        """A request or maintenance met a dead PostgreSQL: to the fallback at once."""
        if self.mode in (Mode.primary, Mode.recovering):
            return self._to(Mode.fallback, reason, now)
        return None

    def probed(self, healthy: bool, now: datetime) -> tuple[Verdict, Transition | None]:
        """Count a probe's result; return what the store must do and any change of mode."""
        if self.mode == Mode.primary:
            self.failures = 0 if healthy else self.failures + 1
            if self.failures >= self.probe_failures:
                return Verdict.nothing, self._to(Mode.fallback, "probes failed", now)
        elif self.mode == Mode.fallback:
            self.successes = self.successes + 1 if healthy else 0
            if self.successes >= self.probe_successes:
                return Verdict.prepare_recovery, None
        elif self.mode == Mode.recovering and not healthy:
            return Verdict.nothing, self._to(Mode.fallback, "probe failed while recovering", now)
        return Verdict.nothing, None

    def recovery_ready(self, now: datetime) -> Transition | None:
        """PostgreSQL was made ready after good probes: start draining the journal."""
        if self.mode != Mode.fallback:
            return None
        return self._to(Mode.recovering, "probes succeeded", now)

    def recovery_failed(self) -> None:
        """Making PostgreSQL ready failed: count good probes from zero again."""
        self.successes = 0

    def may_close_gate(self, pending: int) -> bool:
        """Tell whether the hand-over may hold new writes at the gate to drain the rest.

        Only for a small remainder: the gate then stays closed for a bounded drain, and writes
        wait briefly, never fail. Above it, the journal drains tick by tick with the gate open.
        On primary too: other processes of the replica may still be journaling, and they
        switch only behind a closed gate.
        """
        return self.mode in (Mode.recovering, Mode.primary) and pending <= self.hand_over_backlog

    def drained(self, pending: int, now: datetime) -> Transition | None:
        """The journal was counted under the write gate: to primary only if nothing is left.

        The one way back to primary: with a single row un-replayed, new writes on PostgreSQL
        would be ordered before it.
        """
        if self.mode != Mode.recovering or pending:
            return None
        return self._to(Mode.primary, "journal drained", now)

    def _to(self, mode: Mode, reason: str, now: datetime) -> Transition | None:
        before = self.mode
        if before == mode:
            return None
        self.mode = mode
        self.failures = self.successes = 0
        if mode in (Mode.fallback, Mode.recovering) and before == Mode.primary:
            self.fallback_since = now
        if mode == Mode.primary:
            self.fallback_since = None
        return Transition(before, mode, reason)
