"""Reports over posted entries (and drafts, when asked for)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.dialect import is_postgresql
from grandlivre.ledger import service as ledger_service
from grandlivre.party import service as party_service
from grandlivre.report import repository as repo
from grandlivre.report.repository import AccountTotals, Movement, PartyTotals


@dataclass(frozen=True)
class TrialBalance:
    """Totals per account over a range; the grand totals of debit and credit are equal."""

    decimals: int
    items: list[AccountTotals]
    debit: int
    credit: int


@dataclass(frozen=True)
class AccountLedger:
    """A page of one account's general ledger, with running balances."""

    decimals: int
    number: str
    name: str
    opening: int
    closing: int
    movements: list[tuple[Movement, int]]
    has_more: bool


@dataclass(frozen=True)
class AccountBalance:
    """Totals of one account up to a date."""

    decimals: int
    number: str
    name: str
    debit: int
    credit: int


async def compute_trial_balance(
    session: AsyncSession,
    ledger_code: str,
    date_from: date | None,
    date_to: date | None,
    *,
    include_drafts: bool = False,
) -> TrialBalance:
    """Total every account moved between the dates (inclusive), drafts only if asked."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    items = await repo.totals_by_account(
        session, ledger.id, date_from, date_to, include_drafts=include_drafts
    )
    return TrialBalance(
        decimals=ledger.decimals,
        items=items,
        debit=sum(i.debit for i in items),
        credit=sum(i.credit for i in items),
    )


async def account_ledger(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    *,
    date_from: date | None,
    date_to: date | None,
    after: tuple[date, uuid.UUID, int] | None,
    limit: int,
    include_drafts: bool = False,
    third_party: str | None = None,
) -> AccountLedger:
    """Return a page of an account's lines (one third party's only, if named) with the
    balance after each one.

    The opening balance is everything before `from`; a later page starts from the balance
    after the previous page's last line, so running balances are right on every page.
    """
    ledger = await ledger_service.get_ledger(session, ledger_code)
    account = await ledger_service.get_account(session, ledger, number)
    party_id = None
    if third_party is not None:
        party_id = (await party_service.find_party(session, ledger, third_party)).id

    async def balance(
        *,
        date_from: date | None = None,
        date_to: date | None = None,
        through: tuple[date, uuid.UUID, int] | None = None,
    ) -> int:
        if party_id is None:
            debit, credit = await repo.account_totals(
                session,
                ledger.id,
                account.id,
                date_from=date_from,
                date_to=date_to,
                through=through,
                include_drafts=include_drafts,
            )
        else:
            debit, credit = await repo.party_line_totals(
                session,
                ledger.id,
                account.id,
                party_id,
                date_from=date_from,
                date_to=date_to,
                through=through,
                include_drafts=include_drafts,
            )
        return debit - credit

    opening = 0
    if date_from is not None:
        opening = await balance(date_to=date_from - timedelta(days=1))
    closing = opening + await balance(date_from=date_from, date_to=date_to)
    running = opening
    if after is not None:
        # `after` is the last line of the previous page: everything up to it is behind us.
        running += await balance(date_from=date_from, through=after)
    rows = await repo.movements(
        session,
        ledger.id,
        account.id,
        date_from=date_from,
        date_to=date_to,
        after=after,
        limit=limit,
        include_drafts=include_drafts,
        third_party_id=party_id,
    )
    with_balance = []
    for movement in rows:
        running += movement.amount
        with_balance.append((movement, running))
    return AccountLedger(
        decimals=ledger.decimals,
        number=account.number,
        name=account.name,
        opening=opening,
        closing=closing,
        movements=with_balance,
        has_more=len(rows) == limit,
    )


async def account_balance(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    as_of: date | None,
    *,
    include_drafts: bool = False,
) -> AccountBalance:
    """Return the totals of one account over every entry dated up to `as_of` (inclusive)."""
    if is_postgresql(session):
        found = await repo.account_balance_by_number(
            session, ledger_code, number, as_of, include_drafts=include_drafts
        )
        if found is not None:
            return AccountBalance(
                found.decimals, found.number, found.name, found.debit, found.credit
            )
        # The ledger or the account is missing: the lookups below say which.
    ledger = await ledger_service.get_ledger(session, ledger_code)
    account = await ledger_service.get_account(session, ledger, number)
    debit, credit = await repo.account_totals(
        session, ledger.id, account.id, date_to=as_of, include_drafts=include_drafts
    )
    return AccountBalance(ledger.decimals, account.number, account.name, debit, credit)


@dataclass(frozen=True)
class PartyBalance:
    """The balance auxiliaire: totals per collective account and third party."""

    decimals: int
    items: list[PartyTotals]


async def third_party_balance(
    session: AsyncSession,
    ledger_code: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    account: str | None = None,
    third_party: str | None = None,
    include_drafts: bool = False,
) -> PartyBalance:
    """Total the lines of collective accounts per third party (one account, one party, or
    all); lines that name none are totalled apart, so each account's rows sum to its balance.
    """
    ledger = await ledger_service.get_ledger(session, ledger_code)
    account_id = party_id = None
    if account is not None:
        account_id = (await ledger_service.get_account(session, ledger, account)).id
    if third_party is not None:
        party_id = (await party_service.find_party(session, ledger, third_party)).id
    items = await repo.totals_by_third_party(
        session,
        ledger.id,
        date_from=date_from,
        date_to=date_to,
        account_id=account_id,
        third_party_id=party_id,
        include_drafts=include_drafts,
    )
    return PartyBalance(ledger.decimals, items)
