"""The replayable writes of third parties (see grandlivre/store/operations.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self, cast

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.party import service
from grandlivre.store import AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec

KINDS = ("customer", "supplier", "other")


def _kind(value: Any) -> service.Kind:
    if value not in KINDS:
        raise codec.MalformedOperation(f"kind is not one of {KINDS}: {value!r}")
    return cast(service.Kind, value)


def _days_or_none(value: Any) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a number of days, got {type(value).__name__}")
    return value


def _change(name: str, value: Any) -> Any:
    """Decode one journaled change of a third party (its terms a number, the rest text)."""
    return _days_or_none(value) if name == "payment_terms_days" else codec.text_or_none(value)


@dataclass(frozen=True)
class CreateThirdParty(Operation[service.PartyView]):
    """Open a third party under a collective account."""

    name: ClassVar[str] = "third_party.create"

    ledger: str
    spec: service.PartySpec
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> service.PartyView:
        """Create it; in a replay, the very same third party there already was this one."""
        if ctx.replaying and await service.same_party_exists(session, self.ledger, self.spec):
            raise AlreadyApplied(self.spec.code)
        return await service.create_party(session, self.ledger, self.spec, now=self.now)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form (`payment_terms_days` only when given: rows written
        before payment terms existed have none, and read back the same)."""
        spec = self.spec
        data: dict[str, Any] = {
            "ledger": self.ledger,
            "code": spec.code,
            "name": spec.name,
            "kind": spec.kind,
            "account": spec.account,
            "siren": spec.siren,
            "vat_number": spec.vat_number,
            "now": codec.iso(self.now),
        }
        if spec.payment_terms_days is not None:
            data["payment_terms_days"] = spec.payment_terms_days
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            spec=service.PartySpec(
                code=codec.text(data["code"]),
                name=codec.text(data["name"]),
                kind=_kind(data["kind"]),
                account=codec.text_or_none(data["account"]),
                siren=codec.text_or_none(data["siren"]),
                vat_number=codec.text_or_none(data["vat_number"]),
                payment_terms_days=_days_or_none(data.get("payment_terms_days")),
            ),
            now=codec.instant(data["now"]),
        )


@dataclass(frozen=True)
class UpdateThirdParty(Operation[service.PartyView]):
    """Rename a third party or change its SIREN, VAT number or payment terms."""

    name: ClassVar[str] = "third_party.update"

    ledger: str
    code: str
    changes: service.PartyChanges

    async def apply(self, session: AsyncSession, ctx: OpContext) -> service.PartyView:
        """Change it (replaying it again leaves it as it is)."""
        return await service.update_party(session, self.ledger, self.code, self.changes)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form: the fields given only."""
        changes = {name: getattr(self.changes, name) for name in sorted(self.changes.given)}
        return {"ledger": self.ledger, "code": self.code, "changes": changes}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        changes = data["changes"]
        if not isinstance(changes, dict) or not set(changes) <= set(service.PartyChanges.FIELDS):
            raise codec.MalformedOperation(f"changes are not third-party fields: {changes!r}")
        return cls(
            ledger=codec.text(data["ledger"]),
            code=codec.text(data["code"]),
            changes=service.PartyChanges(
                given=frozenset(changes),
                **{name: _change(name, value) for name, value in changes.items()},
            ),
        )


OPERATIONS = (CreateThirdParty, UpdateThirdParty)
