"""The replayable writes of ledgers, accounts and journals (see grandlivre/store/operations.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, Journal, Ledger
from grandlivre.fiscal import service as fiscal_service
from grandlivre.ledger import service
from grandlivre.ledger.service import ChartKind
from grandlivre.store import AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec


def _chart(value: Any) -> ChartKind:
    if value == "pcg":
        return "pcg"
    if value == "empty":
        return "empty"
    raise ValueError(f"unknown chart {value!r}")


@dataclass(frozen=True)
class CreateLedger(Operation[Ledger]):
    """Create a ledger, with its chart and default journals unless the chart is empty."""

    name: ClassVar[str] = "ledger.create"

    id: uuid.UUID
    code: str
    title: str
    currency: str
    chart: ChartKind
    now: datetime
    fiscal_year_start: date | None = None
    fiscal_year_end: date | None = None

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Ledger:
        """Create the ledger and its first fiscal year."""
        if ctx.replaying and await service.ledger_exists(session, self.id):
            raise AlreadyApplied(self.id)
        spec = service.LedgerSpec(
            code=self.code, name=self.title, currency=self.currency, chart=self.chart
        )
        ledger = await service.create_ledger(session, spec, ledger_id=self.id, now=self.now)
        await fiscal_service.open_first_year(
            session, ledger, start=self.fiscal_year_start, end=self.fiscal_year_end, now=self.now
        )
        return ledger

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form (the ledger's name is stored as `name`; the first fiscal
        year's bounds only when given, as rows were written before they existed)."""
        form: dict[str, Any] = {
            "id": str(self.id),
            "now": codec.iso(self.now),
            "code": self.code,
            "name": self.title,
            "currency": self.currency,
            "chart": self.chart,
        }
        if self.fiscal_year_start is not None:
            form["fiscal_year_start"] = codec.iso(self.fiscal_year_start)
        if self.fiscal_year_end is not None:
            form["fiscal_year_end"] = codec.iso(self.fiscal_year_end)
        return form

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            id=codec.an_id(data["id"]),
            code=codec.text(data["code"]),
            title=codec.text(data["name"]),
            currency=codec.text(data["currency"]),
            chart=_chart(data["chart"]),
            now=codec.instant(data["now"]),
            # Rows journaled before fiscal years existed have neither: a calendar year.
            fiscal_year_start=codec.day_or_none(data.get("fiscal_year_start")),
            fiscal_year_end=codec.day_or_none(data.get("fiscal_year_end")),
        )


@dataclass(frozen=True)
class RenameLedger(Operation[Ledger]):
    """Give a ledger a new name."""

    name: ClassVar[str] = "ledger.rename"

    ledger: str
    title: str

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Ledger:
        """Rename the ledger (replaying it again renames it to the same name)."""
        return await service.rename_ledger(session, self.ledger, self.title)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {"ledger": self.ledger, "name": self.title}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(ledger=codec.text(data["ledger"]), title=codec.text(data["name"]))


@dataclass(frozen=True)
class UpdateLedger(Operation[Ledger]):
    """Rename a ledger, say whether its collective lines must name third parties, set its SIREN.

    `siren` is applied only when `sets_siren` (None then clears it); a journaled row written
    before the SIREN existed has no "siren" key and leaves it alone.
    """

    name: ClassVar[str] = "ledger.update"

    ledger: str
    title: str | None = None
    third_party_required: bool | None = None
    sets_siren: bool = False
    siren: str | None = None

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Ledger:
        """Change the ledger (replaying it again leaves it as it is)."""
        row = await service.get_ledger(session, self.ledger)
        if self.title is not None:
            row = await service.rename_ledger(session, self.ledger, self.title)
        if self.third_party_required is not None:
            row = await service.set_third_party_required(
                session, self.ledger, self.third_party_required
            )
        if self.sets_siren:
            row = await service.set_siren(session, self.ledger, self.siren)
        return row

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        data: dict[str, Any] = {
            "ledger": self.ledger,
            "name": self.title,
            "third_party_required": self.third_party_required,
        }
        if self.sets_siren:
            data["siren"] = self.siren
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            title=codec.text_or_none(data["name"]),
            third_party_required=codec.flag_or_none(data["third_party_required"]),
            sets_siren="siren" in data,
            siren=codec.text_or_none(data["siren"]) if "siren" in data else None,
        )


@dataclass(frozen=True)
class CreateAccount(Operation[Account]):
    """Open an account in a ledger's chart."""

    name: ClassVar[str] = "account.create"

    ledger: str
    id: uuid.UUID
    number: str
    title: str
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Account:
        """Open the account."""
        if ctx.replaying and await service.account_exists(session, self.id):
            raise AlreadyApplied(self.id)
        row = await service.get_ledger(session, self.ledger)
        return await service.create_account(
            session, row, self.number, self.title, account_id=self.id, now=self.now
        )

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "id": str(self.id),
            "number": self.number,
            "name": self.title,
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            id=codec.an_id(data["id"]),
            number=codec.text(data["number"]),
            title=codec.text(data["name"]),
            now=codec.instant(data["now"]),
        )


@dataclass(frozen=True)
class UpdateAccount(Operation[Account]):
    """Rename, deactivate or reactivate an account; None leaves a field as it is."""

    name: ClassVar[str] = "account.update"

    ledger: str
    number: str
    title: str | None = None
    active: bool | None = None
    collective: bool | None = None

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Account:
        """Change the account."""
        row = await service.get_ledger(session, self.ledger)
        return await service.update_account(
            session,
            row,
            self.number,
            name=self.title,
            active=self.active,
            collective=self.collective,
        )

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form (`collective` only when given, as rows were written
        before it existed)."""
        form: dict[str, Any] = {
            "ledger": self.ledger,
            "number": self.number,
            "name": self.title,
            "active": self.active,
        }
        if self.collective is not None:
            form["collective"] = self.collective
        return form

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            number=codec.text(data["number"]),
            title=codec.text_or_none(data["name"]),
            active=codec.flag_or_none(data["active"]),
            collective=codec.flag_or_none(data.get("collective")),
        )


@dataclass(frozen=True)
class DeleteAccount(Operation[None]):
    """Delete an account no entry uses."""

    name: ClassVar[str] = "account.delete"

    ledger: str
    number: str

    async def apply(self, session: AsyncSession, ctx: OpContext) -> None:
        """Delete the account."""
        row = await service.get_ledger(session, self.ledger)
        if ctx.replaying and not await service.account_number_exists(session, row, self.number):
            raise AlreadyApplied(self.number)
        await service.delete_account(session, row, self.number)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {"ledger": self.ledger, "number": self.number}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(ledger=codec.text(data["ledger"]), number=codec.text(data["number"]))


@dataclass(frozen=True)
class CreateJournal(Operation[Journal]):
    """Open a journal in a ledger."""

    name: ClassVar[str] = "journal.create"

    ledger: str
    id: uuid.UUID
    code: str
    title: str
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Journal:
        """Open the journal."""
        if ctx.replaying and await service.journal_exists(session, self.id):
            raise AlreadyApplied(self.id)
        row = await service.get_ledger(session, self.ledger)
        return await service.create_journal(
            session, row, self.code, self.title, journal_id=self.id, now=self.now
        )

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "id": str(self.id),
            "code": self.code,
            "name": self.title,
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            id=codec.an_id(data["id"]),
            code=codec.text(data["code"]),
            title=codec.text(data["name"]),
            now=codec.instant(data["now"]),
        )


OPERATIONS = (
    CreateLedger,
    RenameLedger,
    UpdateLedger,
    CreateAccount,
    UpdateAccount,
    DeleteAccount,
    CreateJournal,
)
