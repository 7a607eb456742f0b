"""Rules for ledgers, accounts and journals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, Journal, Ledger
from grandlivre.errors import (
    AccountExists,
    AccountInUse,
    AccountNotFound,
    InvalidCollective,
    JournalExists,
    LedgerExists,
    LedgerNotFound,
    UnknownCurrency,
)
from grandlivre.ledger import chart
from grandlivre.ledger import repository as repo
from grandlivre.money import CURRENCY_DECIMALS

ChartKind = Literal["pcg", "empty"]

# Namespace of the ids derived from names (seeded ledgers, their charts and journals). Derived
# ids are the same on PostgreSQL and on the SQLite fallback, so a ledger seeded on both, or a
# chart created on the fallback and replayed, is one set of rows and never two.
SEED_NAMESPACE = uuid.UUID("6c0b9a52-1f7e-4f0c-9d51-4a6f0e3b7d21")


def seeded_ledger_id(code: str) -> uuid.UUID:
    """Return the id the seeded ledger `code` gets on every database."""
    return uuid.uuid5(SEED_NAMESPACE, f"ledger:{code}")


def chart_account_id(ledger_id: uuid.UUID, number: str) -> uuid.UUID:
    """Return the id of a chart account created with its ledger."""
    return uuid.uuid5(ledger_id, f"account:{number}")


def chart_journal_id(ledger_id: uuid.UUID, code: str) -> uuid.UUID:
    """Return the id of a journal created with its ledger."""
    return uuid.uuid5(ledger_id, f"journal:{code}")


@dataclass(frozen=True)
class LedgerSpec:
    """What a new ledger is made of."""

    code: str
    name: str
    currency: str = "EUR"
    chart: ChartKind = "pcg"


def account_class(number: str) -> int:
    """Return the PCG class of an account: the first digit of its number."""
    return int(number[0])


async def get_ledger(session: AsyncSession, code: str) -> Ledger:
    """Return the ledger with that code or raise LedgerNotFound."""
    ledger = await repo.get_ledger_by_code(session, code)
    if ledger is None:
        raise LedgerNotFound(f"no ledger with code {code!r}")
    return ledger


async def list_ledgers(session: AsyncSession, *, after: str | None, limit: int) -> Sequence[Ledger]:
    """Return a page of ledgers."""
    return await repo.list_ledgers(session, after=after, limit=limit)


# Customers (411) and suppliers (401) are collective by nature; a 42x to 46x account (staff,
# social bodies, the State, partners, other debtors and creditors) is when the ledger says so.
COLLECTIVE_BY_NATURE = ("401", "411")
MAY_BE_COLLECTIVE = ("401", "411", "42", "44", "45", "46")


def is_collective_by_nature(number: str) -> bool:
    """Tell whether an account is collective whatever the ledger says (401 and 411)."""
    return number.startswith(COLLECTIVE_BY_NATURE)


async def create_ledger(
    session: AsyncSession, spec: LedgerSpec, *, ledger_id: uuid.UUID, now: datetime
) -> Ledger:
    """Create a ledger with its journals and, unless asked for an empty one, the PCG chart."""
    decimals = CURRENCY_DECIMALS.get(spec.currency)
    if decimals is None:
        raise UnknownCurrency(
            f"{spec.currency!r} is not a supported ISO 4217 currency",
            supported=sorted(CURRENCY_DECIMALS),
        )
    if await repo.get_ledger_by_code(session, spec.code) is not None:
        raise LedgerExists(f"a ledger with code {spec.code!r} exists already")
    ledger = Ledger(
        id=ledger_id,
        code=spec.code,
        name=spec.name,
        currency=spec.currency,
        decimals=decimals,
        created_at=now,
    )
    # A concurrent twin makes this flush fail; the store runs the unit again, and the
    # check above then answers with a conflict.
    await repo.add(session, ledger)
    if spec.chart == "pcg":
        await repo.insert_accounts(
            session,
            (
                {
                    "id": chart_account_id(ledger.id, number),
                    "ledger_id": ledger.id,
                    "number": number,
                    "name": name,
                    "active": True,
                    "created_at": now,
                    "collective": is_collective_by_nature(number),
                }
                for number, name in chart.pcg_accounts()
            ),
        )
    await repo.insert_journals(
        session,
        (
            {
                "id": chart_journal_id(ledger.id, code),
                "ledger_id": ledger.id,
                "code": code,
                "name": name,
                "created_at": now,
            }
            for code, name in chart.default_journals()
        ),
    )
    return ledger


async def ensure_ledger(session: AsyncSession, spec: LedgerSpec, *, now: datetime) -> Ledger | None:
    """Create the seeded ledger unless it exists; return it if it was created. Idempotent."""
    if await repo.get_ledger_by_code(session, spec.code) is not None:
        return None
    return await create_ledger(session, spec, ledger_id=seeded_ledger_id(spec.code), now=now)


async def ledger_exists(session: AsyncSession, ledger_id: uuid.UUID) -> bool:
    """Tell whether a ledger with that id exists."""
    return await repo.get_ledger_by_id(session, ledger_id) is not None


async def account_exists(session: AsyncSession, account_id: uuid.UUID) -> bool:
    """Tell whether an account with that id exists."""
    return await repo.get_account_by_id(session, account_id) is not None


async def journal_exists(session: AsyncSession, journal_id: uuid.UUID) -> bool:
    """Tell whether a journal with that id exists."""
    return await repo.get_journal_by_id(session, journal_id) is not None


async def is_seeded(session: AsyncSession, code: str) -> bool:
    """Tell whether the seeded ledger exists with a chart of accounts."""
    ledger = await repo.get_ledger_by_code(session, code)
    return ledger is not None and await repo.count_accounts(session, ledger.id) > 0


async def rename_ledger(session: AsyncSession, code: str, name: str) -> Ledger:
    """Give a ledger a new name."""
    ledger = await get_ledger(session, code)
    ledger.name = name
    await session.flush()
    return ledger


async def get_account(session: AsyncSession, ledger: Ledger, number: str) -> Account:
    """Return an account of the ledger or raise AccountNotFound."""
    account = await repo.get_account(session, ledger.id, number)
    if account is None:
        raise AccountNotFound(f"no account {number} in ledger {ledger.code!r}")
    return account


async def list_accounts(
    session: AsyncSession,
    ledger: Ledger,
    *,
    after: str | None,
    limit: int,
    prefix: str | None,
    active: bool | None,
) -> Sequence[Account]:
    """Return a page of the ledger's chart."""
    return await repo.list_accounts(
        session, ledger.id, after=after, limit=limit, prefix=prefix, active=active
    )


async def create_account(
    session: AsyncSession,
    ledger: Ledger,
    number: str,
    name: str,
    *,
    account_id: uuid.UUID,
    now: datetime,
) -> Account:
    """Open an account in the ledger's chart."""
    if await repo.get_account(session, ledger.id, number) is not None:
        raise AccountExists(f"account {number} exists already in ledger {ledger.code!r}")
    account = Account(
        id=account_id,
        ledger_id=ledger.id,
        number=number,
        name=name,
        active=True,
        created_at=now,
        collective=is_collective_by_nature(number),
    )
    # A concurrent twin makes this flush fail; the store runs the unit again, and the
    # check above then answers with a conflict.
    await repo.add(session, account)
    return account


async def account_number_exists(session: AsyncSession, ledger: Ledger, number: str) -> bool:
    """Tell whether the ledger has an account with that number."""
    return await repo.get_account(session, ledger.id, number) is not None


async def update_account(
    session: AsyncSession,
    ledger: Ledger,
    number: str,
    *,
    name: str | None,
    active: bool | None,
    collective: bool | None = None,
) -> Account:
    """Rename, deactivate or reactivate an account, or mark it collective or not."""
    account = await get_account(session, ledger, number)
    if collective is not None and collective != account.collective:
        await _check_collective(session, account, collective)
        account.collective = collective
    if name is not None:
        account.name = name
    if active is not None:
        account.active = active
    await session.flush()
    return account


async def _check_collective(session: AsyncSession, account: Account, collective: bool) -> None:
    if is_collective_by_nature(account.number):
        raise InvalidCollective(f"account {account.number} is collective by nature (401, 411)")
    if collective and not account.number.startswith(MAY_BE_COLLECTIVE):
        raise InvalidCollective(
            f"account {account.number} cannot be collective: only 401, 411 and 42x to 46x "
            "accounts can"
        )
    if not collective and await repo.account_has_third_parties(session, account.id):
        raise AccountInUse(
            f"account {account.number} has third parties: it stays collective while they do"
        )


async def set_third_party_required(session: AsyncSession, code: str, required: bool) -> Ledger:
    """Say whether lines on the ledger's collective accounts must name their third party."""
    ledger = await get_ledger(session, code)
    ledger.third_party_required = required
    await session.flush()
    return ledger


async def set_siren(session: AsyncSession, code: str, siren: str | None) -> Ledger:
    """Set or clear the company's SIREN (already checked at the edge)."""
    ledger = await get_ledger(session, code)
    ledger.siren = siren
    await session.flush()
    return ledger


async def delete_account(session: AsyncSession, ledger: Ledger, number: str) -> None:
    """Delete an account that no entry uses; a used one can only be deactivated."""
    account = await get_account(session, ledger, number)
    if await repo.account_has_lines(session, account.id):
        raise AccountInUse(
            f"account {number} carries entry lines: deactivate it instead of deleting it"
        )
    if await repo.account_has_third_parties(session, account.id):
        raise AccountInUse(f"account {number} has third parties: it cannot be deleted")
    await repo.delete(session, account)


async def list_journals(
    session: AsyncSession, ledger: Ledger, *, after: str | None, limit: int
) -> Sequence[Journal]:
    """Return a page of the ledger's journals."""
    return await repo.list_journals(session, ledger.id, after=after, limit=limit)


async def create_journal(
    session: AsyncSession,
    ledger: Ledger,
    code: str,
    name: str,
    *,
    journal_id: uuid.UUID,
    now: datetime,
) -> Journal:
    """Open a journal in the ledger."""
    if await repo.get_journal(session, ledger.id, code) is not None:
        raise JournalExists(f"journal {code} exists already in ledger {ledger.code!r}")
    journal = Journal(id=journal_id, ledger_id=ledger.id, code=code, name=name, created_at=now)
    # A concurrent twin makes this flush fail; the store runs the unit again, and the
    # check above then answers with a conflict.
    await repo.add(session, journal)
    return journal
