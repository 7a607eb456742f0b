"""The replayable writes of exchange: imports (see grandlivre/store/operations.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.entry import service as entry_service
from grandlivre.exchange import importer
from grandlivre.exchange.fec_import import parse_fec
from grandlivre.ledger import service as ledger_service
from grandlivre.store import AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec


@dataclass(frozen=True)
class ImportFec(Operation[importer.ImportReport]):
    """Import a FEC into a ledger with no entries, all of it or nothing.

    Journaled with the file's text, decoded: a replay reads the same file again, and checks
    every rule again against the books as they are then.
    """

    name: ClassVar[str] = "exchange.import_fec"

    ledger: str
    text: str
    first_id: uuid.UUID
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> importer.ImportReport:
        """Import it; in a replay, its first entry there already means it was."""
        if ctx.replaying and await entry_service.entry_exists(
            session, importer.entry_ids(self.first_id, 1)[0]
        ):
            raise AlreadyApplied(str(self.first_id))
        ledger = await ledger_service.get_ledger(session, self.ledger)
        parsed = parse_fec(self.text, decimals=ledger.decimals)
        return await importer.import_fec(
            session,
            self.ledger,
            parsed,
            first_id=self.first_id,
            now=self.now,
            origin=ctx.origin,
            status=ctx.entry_status,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "text": self.text,
            "first_id": str(self.first_id),
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            text=codec.text(data["text"]),
            first_id=codec.an_id(data["first_id"]),
            now=codec.instant(data["now"]),
        )


OPERATIONS: tuple[type[Operation[Any]], ...] = (ImportFec,)
