"""Rules of third parties: auxiliary accounts under a collective account."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Ledger, ThirdParty
from grandlivre.errors import (
    AccountNotFound,
    NotCollective,
    ThirdPartyExists,
    ThirdPartyNotFound,
    UnknownAccount,
)
from grandlivre.ledger import service as ledger_service
from grandlivre.party import repository as repo

Kind = Literal["customer", "supplier", "other"]
# Where a customer's and a supplier's auxiliary accounts go when the client names none.
DEFAULT_ACCOUNTS: dict[str, str] = {"customer": "411000", "supplier": "401000"}
# Days from an invoice to its due date when none is agreed: the Code de commerce's (L441-10).
DEFAULT_PAYMENT_TERMS_DAYS = 30


def party_id(ledger_id: uuid.UUID, code: str) -> uuid.UUID:
    """The id of a ledger's third party: derived from its code, the same on both databases."""
    return uuid.uuid5(ledger_id, f"third-party:{code}")


@dataclass(frozen=True)
class PartyView:
    """A third party as read back."""

    code: str
    name: str
    kind: str
    account: str
    siren: str | None
    vat_number: str | None
    created_at: datetime
    payment_terms_days: int


@dataclass(frozen=True)
class PartySpec:
    """A third party to create, as the client sent it (its account: a default by kind; its
    payment terms: None in a journal row written before they existed, the default)."""

    code: str
    name: str
    kind: Kind
    account: str | None = None
    siren: str | None = None
    vat_number: str | None = None
    payment_terms_days: int | None = None

    @property
    def terms(self) -> int:
        """The payment terms it is created with."""
        if self.payment_terms_days is None:
            return DEFAULT_PAYMENT_TERMS_DAYS
        return self.payment_terms_days


@dataclass(frozen=True)
class PartyChanges:
    """What a PATCH of a third party changes: the fields in `given` (null clears the SIREN
    or the VAT number)."""

    given: frozenset[str]
    name: str | None = None
    siren: str | None = None
    vat_number: str | None = None
    payment_terms_days: int | None = None

    FIELDS = ("name", "siren", "vat_number", "payment_terms_days")


async def _view(session: AsyncSession, party: ThirdParty) -> PartyView:
    numbers = await repo.account_numbers(session, [party.account_id])
    return _view_of(party, numbers[party.account_id])


def _view_of(party: ThirdParty, account: str) -> PartyView:
    return PartyView(
        code=party.code,
        name=party.name,
        kind=party.kind,
        account=account,
        siren=party.siren,
        vat_number=party.vat_number,
        created_at=party.created_at,
        payment_terms_days=party.payment_terms_days,
    )


async def find_party(session: AsyncSession, ledger: Ledger, code: str) -> ThirdParty:
    """Return the ledger's third party, or raise ThirdPartyNotFound."""
    party = await repo.get_party(session, ledger.id, code)
    if party is None:
        raise ThirdPartyNotFound(f"no third party {code!r} in ledger {ledger.code!r}")
    return party


async def get_party(session: AsyncSession, ledger_code: str, code: str) -> PartyView:
    """Return one third party."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    return await _view(session, await find_party(session, ledger, code))


async def list_parties(
    session: AsyncSession, ledger_code: str, *, kind: str | None, after: str | None, limit: int
) -> list[PartyView]:
    """Return a page of the ledger's third parties in code order."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    parties = await repo.list_parties(session, ledger.id, kind=kind, after=after, limit=limit)
    numbers = await repo.account_numbers(session, [p.account_id for p in parties])
    return [_view_of(p, numbers[p.account_id]) for p in parties]


async def create_party(
    session: AsyncSession, ledger_code: str, spec: PartySpec, *, now: datetime
) -> PartyView:
    """Open a third party under a collective account of the ledger."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    number = spec.account or DEFAULT_ACCOUNTS[spec.kind]
    try:
        account = await ledger_service.get_account(session, ledger, number)
    except AccountNotFound as missing:
        # The account is a field of the body, not the URL's resource: as for a line that
        # names an unknown account, a 422 (a 404 would say the URL names nothing).
        raise UnknownAccount(str(missing), accounts=[number]) from None
    if not account.collective:
        raise NotCollective(
            f"account {number} is not collective: a third party goes under 411, 401 or a "
            "42x to 46x account marked collective",
            account=number,
        )
    if await repo.get_party(session, ledger.id, spec.code) is not None:
        raise ThirdPartyExists(f"third party {spec.code!r} exists already in {ledger.code!r}")
    party = ThirdParty(
        id=party_id(ledger.id, spec.code),
        ledger_id=ledger.id,
        code=spec.code,
        name=spec.name,
        kind=spec.kind,
        account_id=account.id,
        siren=spec.siren,
        vat_number=spec.vat_number,
        created_at=now,
        payment_terms_days=spec.terms,
    )
    # A concurrent twin makes this flush fail; the store runs the unit again, and the check
    # above then answers with a conflict.
    await repo.add(session, party)
    return _view_of(party, number)


async def same_party_exists(session: AsyncSession, ledger_code: str, spec: PartySpec) -> bool:
    """Tell whether the third party exists already as `spec` describes it (a replay's twin)."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    party = await repo.get_party(session, ledger.id, spec.code)
    if party is None:
        return False
    view = await _view(session, party)
    account = spec.account or DEFAULT_ACCOUNTS.get(spec.kind)
    return (
        view.name,
        view.kind,
        view.account,
        view.siren,
        view.vat_number,
        view.payment_terms_days,
    ) == (spec.name, spec.kind, account, spec.siren, spec.vat_number, spec.terms)


async def update_party(
    session: AsyncSession, ledger_code: str, code: str, changes: PartyChanges
) -> PartyView:
    """Rename a third party, or change its SIREN, VAT number or payment terms."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    party = await find_party(session, ledger, code)
    for name in changes.given:
        setattr(party, name, getattr(changes, name))
    await session.flush()
    return await _view(session, party)
