"""The clock and the id factory, injected so that tests and replay are deterministic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import uuid6

PARIS = ZoneInfo("Europe/Paris")


class Clock(Protocol):
    """Tells the time."""

    def now(self) -> datetime:
        """Return the current instant, timezone-aware (UTC)."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        """Return the current instant in UTC."""
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that says what it is told; for tests."""

    instant: datetime

    def now(self) -> datetime:
        """Return the instant it was set to."""
        return self.instant


def today_in_paris(clock: Clock) -> date:
    """Return the civil date in France, the date books are kept in."""
    return clock.now().astimezone(PARIS).date()


class IdFactory(Protocol):
    """Makes entity ids."""

    def new(self) -> uuid.UUID:
        """Return a new, time-ordered id."""
        ...


class UUID7Factory:
    """UUIDv7 ids: time-ordered, so a retry or a replay can always be recognised."""

    def new(self) -> uuid.UUID:
        """Return a new UUIDv7."""
        value: uuid.UUID = uuid6.uuid7()
        return uuid.UUID(bytes=value.bytes)
