"""Replayable writes: named operations with JSON arguments.

A write the store may have to replay is not a closure but an operation: a name and JSON
arguments, run by a handler that the domain registers. The same handler serves the live
request (on PostgreSQL, or on the SQLite fallback with a journal row) and the replay, so the
rules checked on replay are exactly those of the original request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

ORIGIN_PRIMARY = "primary"
ORIGIN_FALLBACK = "fallback"
STATUS_POSTED = "posted"
STATUS_PENDING_REPLAY = "pending_replay"


@dataclass(frozen=True)
class OpContext:
    """Where an operation runs: live on the primary, live on the fallback, or in a replay."""

    on_fallback: bool = False
    replaying: bool = False

    @property
    def origin(self) -> str:
        """The origin recorded on what the operation writes."""
        return ORIGIN_FALLBACK if self.on_fallback or self.replaying else ORIGIN_PRIMARY

    @property
    def entry_status(self) -> str:
        """The status of entries written: pending on the fallback until replayed."""
        return STATUS_PENDING_REPLAY if self.on_fallback else STATUS_POSTED


LIVE = OpContext()

Handler = Callable[[AsyncSession, dict[str, Any], OpContext], Awaitable[Any]]
Cleanup = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class Operation:
    """A replayable write: its handler, and how to undo its local effect if discarded."""

    name: str
    handler: Handler
    discard_local: Cleanup | None = None


def wrote_nothing(result: Any) -> bool:
    """Tell whether a handler answered from an earlier write instead of writing.

    A handler that replays a stored answer (an Idempotency-Key seen before) returns a result
    whose `replayed` is True; such a call is not journaled, as there is nothing to replay.
    """
    return getattr(result, "replayed", False) is True


class AlreadyApplied(Exception):
    """Raised by a handler in a replay when what it would write is already there."""


Registry = dict[str, Operation]
