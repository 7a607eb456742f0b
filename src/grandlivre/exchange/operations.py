"""The replayable writes of exchange: imports (see grandlivre/store/operations.py)."""

from __future__ import annotations

import uuid
from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.entry import service as entry_service
from grandlivre.exchange import importer
from grandlivre.exchange.csv_layout import parse_csv
from grandlivre.exchange.fec_import import parse_fec
from grandlivre.ledger import service as ledger_service
from grandlivre.store import AlreadyApplied, OpContext, Operation, Store
from grandlivre.store import operations as codec


@dataclass(frozen=True)
class _FileImport(Operation[importer.ImportReport]):
    """An import of a file, all of it or nothing.

    Journaled with the file's text, decoded: a replay reads the same file again and checks
    every rule again against the books as they are then. Its entries' ids run from `first_id`
    (importer.entry_ids), so the first of them being there tells a replay it was applied.
    """

    ledger: str
    text: str
    first_id: uuid.UUID
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> importer.ImportReport:
        """Import the file; in a replay, its first entry there already means it was."""
        if ctx.replaying and await entry_service.entry_exists(
            session, importer.entry_ids(self.first_id, 1)[0]
        ):
            raise AlreadyApplied(str(self.first_id))
        ledger = await ledger_service.get_ledger(session, self.ledger)
        return await self.run(session, ctx, ledger.decimals)

    @abstractmethod
    async def run(
        self, session: AsyncSession, ctx: OpContext, decimals: int
    ) -> importer.ImportReport:
        """Read the file and import it."""

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


@dataclass(frozen=True)
class ImportFec(_FileImport):
    """Import a FEC into a ledger with no entries (exchange/importer.py)."""

    name: ClassVar[str] = "exchange.import_fec"

    async def run(
        self, session: AsyncSession, ctx: OpContext, decimals: int
    ) -> importer.ImportReport:
        """Read the FEC and import it."""
        return await importer.import_fec(
            session,
            self.ledger,
            parse_fec(self.text, decimals=decimals),
            first_id=self.first_id,
            now=self.now,
            origin=ctx.origin,
            status=ctx.entry_status,
        )


@dataclass(frozen=True)
class ImportCsv(_FileImport):
    """Post the entries of a CSV in the layout of exchange/csv_layout.py."""

    name: ClassVar[str] = "exchange.import_csv"

    async def run(
        self, session: AsyncSession, ctx: OpContext, decimals: int
    ) -> importer.ImportReport:
        """Read the CSV and post its entries."""
        return await importer.import_csv(
            session,
            self.ledger,
            parse_csv(self.text, decimals=decimals),
            first_id=self.first_id,
            now=self.now,
            origin=ctx.origin,
            status=ctx.entry_status,
        )


# -- running one ------------------------------------------------------------------------------


class _Rehearsed(Exception):
    """Carries a dry run's report out of the transaction it makes the store roll back."""

    def __init__(self, report: importer.ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


async def run_import(
    store: Store, op: ImportFec | ImportCsv, *, dry_run: bool
) -> importer.ImportReport:
    """Run an import as a journaled write, or rehearse it in a transaction rolled back
    (`dry_run`): every rule checked against the books, nothing written."""
    if not dry_run:
        return await store.execute(op)

    async def rehearse(session: AsyncSession) -> None:
        raise _Rehearsed(await op.apply(session, OpContext()))

    try:
        await store.write(rehearse)
    except _Rehearsed as done:
        return done.report
    raise AssertionError("a rehearsal always ends in _Rehearsed")  # pragma: no cover


OPERATIONS: tuple[type[Operation[Any]], ...] = (ImportFec, ImportCsv)
