"""Replayable writes: typed operations with a stored JSON form.

A write the store may have to replay is not a closure but an operation: a frozen dataclass of
typed arguments, with the handler that runs it (`apply`) and its journaled form (`name` and
`to_json`). The same `apply` serves the live request (on PostgreSQL, or on the SQLite fallback
with a journal row) and the replay, so the rules checked on replay are exactly those of the
original request, and replay never runs route code.

The journaled form is a stored format: a pending row written by one version is replayed by the
next. `name` is never renamed, and `to_json` / `from_json` keep their shape; changing either
needs a migration of the pending rows.
"""

from __future__ import annotations

import enum
import uuid
from abc import ABC, abstractmethod
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Generic, Self, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

T = TypeVar("T")


class Origin(enum.StrEnum):
    """Which database first took a write."""

    primary = "primary"
    fallback = "fallback"


class EntryStatus(enum.StrEnum):
    """Where an entry stands: a draft (editable, outside the books), posted for good, or
    posted on the fallback and awaiting replay."""

    draft = "draft"
    posted = "posted"
    pending_replay = "pending_replay"


@dataclass(frozen=True)
class OpContext:
    """Where an operation runs: live on the primary, live on the fallback, or in a replay."""

    on_fallback: bool = False
    replaying: bool = False

    @property
    def origin(self) -> Origin:
        """The origin recorded on what the operation writes."""
        return Origin.fallback if self.on_fallback or self.replaying else Origin.primary

    @property
    def entry_status(self) -> EntryStatus:
        """The status of entries written: pending on the fallback until replayed."""
        return EntryStatus.pending_replay if self.on_fallback else EntryStatus.posted


LIVE = OpContext()
ON_FALLBACK = OpContext(on_fallback=True)
REPLAYING = OpContext(replaying=True)


class MalformedOperation(ValueError):
    """A journaled operation whose JSON is not what its `from_json` reads."""


class Operation(ABC, Generic[T]):
    """A replayable write that answers a `T`.

    Subclasses are frozen dataclasses; `name` is their journaled name.
    """

    name: ClassVar[str]
    # Whether `apply_at_once` may settle the write, so that the store tries it first.
    at_once: ClassVar[bool] = False

    @abstractmethod
    async def apply(self, session: AsyncSession, ctx: OpContext) -> T:
        """Check the rules and write, in the caller's transaction; raise AlreadyApplied in a
        replay when what it would write is there already."""

    @abstractmethod
    def to_json(self) -> dict[str, Any]:
        """Return the journaled arguments (a stored format: keep its shape)."""

    @classmethod
    @abstractmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild the operation from its journaled arguments."""

    async def apply_at_once(self, conn: AsyncConnection) -> T | None:
        """Do the whole write live on PostgreSQL in one statement on an autocommit connection,
        or return None, having written nothing, for `apply` to run in a transaction instead.

        For the write clients send most, whose common case one statement can check and do:
        one round trip instead of BEGIN, a read, a write and COMMIT. It may only answer what
        `apply` would answer (the statement's own checks agree with `apply`'s rules, and any
        case it does not settle goes to `apply`, which says why). The default settles none.
        """
        return None

    def replay_group(self) -> Hashable | None:
        """Return a key that consecutive journaled operations share when the replay may apply
        them as one (`apply_together`), or None (the default) to apply this one alone.

        Operations of different classes may share a key only if they share `apply_together`.
        """
        return None

    @classmethod
    async def apply_together(
        cls, session: AsyncSession, ctx: OpContext, ops: Sequence[Operation[Any]]
    ) -> None:
        """Apply consecutive operations of one `replay_group`, in order, in the caller's
        transaction, as if each were applied in turn (the default does just that).

        Raise as `apply` does if any of them would: the caller then applies them one by one to
        tell each its outcome. An override does in a few statements what each would do in its
        own, with the same rules.
        """
        for op in ops:
            await op.apply(session, ctx)

    async def discard_local(self, session: AsyncSession) -> None:
        """Undo what the operation wrote on the fallback, when an admin discards its replay."""

    def wrote_nothing(self, result: T) -> bool:
        """Tell whether `apply` answered from an earlier write instead of writing.

        Such a call (an Idempotency-Key seen before) is not journaled: there is nothing to
        replay.
        """
        return False


Registry = dict[str, type[Operation[Any]]]


def registry(*operations: type[Operation[Any]]) -> Registry:
    """Index operation classes by their journaled name, refusing a name used twice."""
    found: Registry = {}
    for op in operations:
        if op.name in found:
            raise ValueError(f"two operations are named {op.name!r}")
        found[op.name] = op
    return found


def decode(cls: type[Operation[T]], data: Any) -> Operation[T]:
    """Rebuild an operation from journaled JSON, or raise MalformedOperation."""
    if not isinstance(data, dict):
        raise MalformedOperation(f"{cls.name}: arguments are not a JSON object")
    try:
        return cls.from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise MalformedOperation(f"{cls.name}: {type(exc).__name__}: {exc}") from exc


class AlreadyApplied(Exception):
    """Raised by an operation in a replay when what it would write is already there."""


# -- codecs of the journaled form: the shapes every operation has always been stored in ------


def iso(value: datetime | date) -> str:
    """Encode a date or an instant as ISO 8601 (`datetime.isoformat`)."""
    return value.isoformat()


def iso_or_none(value: date | None) -> str | None:
    """Encode an optional date."""
    return value.isoformat() if value is not None else None


def instant(value: Any) -> datetime:
    """Decode an instant written by `iso`."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 instant, got {type(value).__name__}")
    return datetime.fromisoformat(value)


def day(value: Any) -> date:
    """Decode a date written by `iso`."""
    if not isinstance(value, str):
        raise TypeError(f"expected an ISO 8601 date, got {type(value).__name__}")
    return date.fromisoformat(value)


def day_or_none(value: Any) -> date | None:
    """Decode an optional date."""
    return None if value is None else day(value)


def an_id(value: Any) -> uuid.UUID:
    """Decode a UUID written as its string."""
    if not isinstance(value, str):
        raise TypeError(f"expected a UUID string, got {type(value).__name__}")
    return uuid.UUID(value)


def text(value: Any) -> str:
    """Decode a string."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def text_or_none(value: Any) -> str | None:
    """Decode an optional string."""
    return None if value is None else text(value)


def flag_or_none(value: Any) -> bool | None:
    """Decode an optional boolean."""
    if value is not None and not isinstance(value, bool):
        raise TypeError(f"expected a boolean, got {type(value).__name__}")
    return value
