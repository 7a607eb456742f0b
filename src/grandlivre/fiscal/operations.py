"""The replayable writes of fiscal years and periods (see grandlivre/store/operations.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.fiscal import service
from grandlivre.fiscal.service import FiscalYearView, PeriodView
from grandlivre.store import AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec


@dataclass(frozen=True)
class OpenFiscalYear(Operation[FiscalYearView]):
    """Open the fiscal year after the ledger's last one, named `year`."""

    name: ClassVar[str] = "fiscal_year.open"

    ledger: str
    year: int
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> FiscalYearView:
        """Open the year; a replay finds it opened already on PostgreSQL."""
        if ctx.replaying and await service.year_exists(session, self.ledger, self.year):
            raise AlreadyApplied(self.year)
        await service.open_next_year(session, self.ledger, year=self.year, now=self.now)
        return await service.get_year(session, self.ledger, self.year)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {"ledger": self.ledger, "year": self.year, "now": codec.iso(self.now)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        year = data["year"]
        if not isinstance(year, int) or isinstance(year, bool):
            raise codec.MalformedOperation(f"year is not an integer: {year!r}")
        return cls(ledger=codec.text(data["ledger"]), year=year, now=codec.instant(data["now"]))


@dataclass(frozen=True)
class LockPeriod(Operation[tuple[FiscalYearView, PeriodView]]):
    """Lock a month of a ledger (no new entry dated in it), or unlock it."""

    name: ClassVar[str] = "period.lock"

    ledger: str
    month: date
    locked: bool
    now: datetime

    async def apply(
        self, session: AsyncSession, ctx: OpContext
    ) -> tuple[FiscalYearView, PeriodView]:
        """Lock or unlock the period (replaying it again leaves it as it is)."""
        if self.locked:
            return await service.lock_period(session, self.ledger, self.month, now=self.now)
        return await service.unlock_period(session, self.ledger, self.month)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "month": codec.iso(self.month),
            "locked": self.locked,
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        locked = data["locked"]
        if not isinstance(locked, bool):
            raise codec.MalformedOperation(f"locked is not a boolean: {locked!r}")
        return cls(
            ledger=codec.text(data["ledger"]),
            month=codec.day(data["month"]),
            locked=locked,
            now=codec.instant(data["now"]),
        )


OPERATIONS = (OpenFiscalYear, LockPeriod)
