"""The writes of closing: close and reopen a fiscal year (see grandlivre/store/operations.py).

Both read the whole year to decide what they write, so they run on PostgreSQL only: on the
fallback they are refused (`primary-required`) rather than decided on a copy that may lack
entries, and never journaled.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.closing import service
from grandlivre.errors import PrimaryRequired
from grandlivre.store import OpContext, Operation
from grandlivre.store import operations as codec


def _on_primary(ctx: OpContext, what: str) -> None:
    if ctx.on_fallback:
        raise PrimaryRequired(
            f"{what} reads the whole fiscal year: it waits until PostgreSQL is back"
        )


@dataclass(frozen=True)
class CloseFiscalYear(Operation[tuple[service.ClosingPlan, bool, bool]]):
    """Close a fiscal year, with the ids its closing and opening entries take."""

    name: ClassVar[str] = "fiscal_year.close"

    ledger: str
    year: int
    closing_id: uuid.UUID
    opening_id: uuid.UUID
    now: datetime

    async def apply(
        self, session: AsyncSession, ctx: OpContext
    ) -> tuple[service.ClosingPlan, bool, bool]:
        """Close the year."""
        _on_primary(ctx, "closing a fiscal year")
        return await service.close_year(
            session,
            self.ledger,
            self.year,
            closing_id=self.closing_id,
            opening_id=self.opening_id,
            now=self.now,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "year": self.year,
            "closing_id": str(self.closing_id),
            "opening_id": str(self.opening_id),
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        year = data["year"]
        if not isinstance(year, int) or isinstance(year, bool):
            raise codec.MalformedOperation(f"year is not an integer: {year!r}")
        return cls(
            ledger=codec.text(data["ledger"]),
            year=year,
            closing_id=codec.an_id(data["closing_id"]),
            opening_id=codec.an_id(data["opening_id"]),
            now=codec.instant(data["now"]),
        )


@dataclass(frozen=True)
class ReopenFiscalYear(Operation[list[uuid.UUID]]):
    """Reopen a closed fiscal year, reversing what its closing wrote."""

    name: ClassVar[str] = "fiscal_year.reopen"

    ledger: str
    year: int
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> list[uuid.UUID]:
        """Reopen the year."""
        _on_primary(ctx, "reopening a fiscal year")
        return await service.reopen_year(session, self.ledger, self.year, now=self.now)

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


OPERATIONS = (CloseFiscalYear, ReopenFiscalYear)
