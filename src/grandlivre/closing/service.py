"""Closing a fiscal year, and reopening it.

Closing year N books its result, classes 7 minus 6, to 120 (profit) or 129 (loss) in one
closing entry (journal OD, dated the year's last day) that zeroes every class 6 and 7
account; locks the year; and opens year N+1 (creating it if needed) with one opening entry
(journal AN, the à-nouveaux, dated its first day) that carries forward every other account's
balance, per third party on collective accounts. Reopening reverses both entries (never
deletes them) and opens the year again, as long as N+1 holds nothing but its opening.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.closing import repository as repo
from grandlivre.closing.repository import Balance
from grandlivre.db.tables import FiscalYear
from grandlivre.entry import service as entry_service
from grandlivre.errors import (
    DraftsRemain,
    FiscalYearClosed,
    FiscalYearOpen,
    NextYearInUse,
    PreviousYearOpen,
)
from grandlivre.fiscal import service as fiscal_service
from grandlivre.ledger import service as ledger_service
from grandlivre.money import format_amount

CLOSING = "closing"
OPENING = "opening"
CLOSING_JOURNAL = "OD"
OPENING_JOURNAL = "AN"
PROFIT_ACCOUNT = "120000"
LOSS_ACCOUNT = "129000"


@dataclass(frozen=True)
class ClosingPlan:
    """What closing a year writes: its result and the lines of both entries (signed minor
    units, debit positive), and the year the opening goes into."""

    year: int
    decimals: int
    result: int  # profit > 0, loss < 0
    closing_date: date
    closing: list[Balance]
    opening_year: int
    opening_date: date
    opening: list[Balance]
    opening_year_exists: bool


def _is_income_statement(balance: Balance) -> bool:
    return balance.account[0] in "67"


async def plan_closing(session: AsyncSession, ledger_code: str, year: int) -> ClosingPlan:
    """Work out the closing of a year, or raise why it cannot be closed now."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    row = await fiscal_service.find_year(session, ledger_code, year)
    await _check_closable(session, row)
    found = await repo.balances(session, ledger.id, row.start_date, row.end_date)
    result = -sum(b.amount for b in found if _is_income_statement(b))
    closing = [
        Balance(b.account, b.third_party, -b.amount) for b in found if _is_income_statement(b)
    ]
    sheet = [b for b in found if not _is_income_statement(b)]
    if result:
        booked = Balance(PROFIT_ACCOUNT if result > 0 else LOSS_ACCOUNT, None, -result)
        closing.append(booked)
        sheet.append(booked)
    carried: dict[tuple[str, str | None], int] = {}
    for balance in sheet:
        key = (balance.account, balance.third_party)
        carried[key] = carried.get(key, 0) + balance.amount
    opening = [
        Balance(account, party, amount)
        for (account, party), amount in sorted(carried.items(), key=_order)
        if amount
    ]
    following = await fiscal_service.next_year_of(session, row)
    start, end = fiscal_service.next_year_bounds(row.end_date)
    return ClosingPlan(
        year=year,
        decimals=ledger.decimals,
        result=result,
        closing_date=row.end_date,
        closing=closing,
        opening_year=end.year,
        opening_date=start,
        opening=opening,
        opening_year_exists=following is not None,
    )


def _order(item: tuple[tuple[str, str | None], int]) -> tuple[str, str]:
    (account, party), _ = item
    return account, party or ""


async def _check_closable(session: AsyncSession, row: FiscalYear) -> None:
    if row.status != fiscal_service.OPEN:
        raise FiscalYearClosed(f"fiscal year {row.year} is closed already", fiscal_year=row.year)
    previous = await fiscal_service.previous_year_of(session, row)
    if previous is not None and previous.status == fiscal_service.OPEN:
        raise PreviousYearOpen(
            f"fiscal year {previous.year} is open: close it before {row.year}",
            fiscal_year=previous.year,
        )
    drafts = await repo.count_entries(
        session, row.ledger_id, row.start_date, row.end_date, drafts=True
    )
    if drafts:
        raise DraftsRemain(
            f"{drafts} draft(s) are dated in fiscal year {row.year}: validate or delete them "
            "before closing it",
            drafts=drafts,
        )


def _lines(balances: Sequence[Balance], decimals: int) -> list[entry_service.LineDraft]:
    return [
        entry_service.LineDraft(
            account=b.account,
            debit=format_amount(b.amount, decimals) if b.amount > 0 else None,
            credit=format_amount(-b.amount, decimals) if b.amount < 0 else None,
            third_party=b.third_party,
        )
        for b in balances
    ]


async def close_year(
    session: AsyncSession,
    ledger_code: str,
    year: int,
    *,
    closing_id: uuid.UUID,
    opening_id: uuid.UUID,
    now: datetime,
) -> tuple[ClosingPlan, bool, bool]:
    """Close the year: post its closing entry, open the next year with its opening entry,
    and lock the year. Return the plan and whether each entry was posted (an entry with no
    line to carry is not)."""
    plan = await plan_closing(session, ledger_code, year)
    ledger = await ledger_service.get_ledger(session, ledger_code)
    row = await fiscal_service.find_year(session, ledger_code, year)
    await repo.allow_locked_periods(session, ledger.id)
    closed = bool(plan.closing)
    if closed:
        await _post(
            session,
            ledger_code,
            CLOSING,
            closing_id,
            entry_service.EntryDraft(
                journal=CLOSING_JOURNAL,
                date=plan.closing_date,
                label=f"Clôture de l'exercice {year}",
                reference=f"CLOTURE-{year}",
                lines=_lines(plan.closing, plan.decimals),
            ),
            now,
        )
    if not plan.opening_year_exists:
        await fiscal_service.open_next_year(session, ledger_code, year=plan.opening_year, now=now)
    opened = bool(plan.opening)
    if opened:
        await _post(
            session,
            ledger_code,
            OPENING,
            opening_id,
            entry_service.EntryDraft(
                journal=OPENING_JOURNAL,
                date=plan.opening_date,
                label=f"À-nouveaux de l'exercice {year}",
                reference=f"AN-{plan.opening_year}",
                lines=_lines(plan.opening, plan.decimals),
            ),
            now,
        )
    await fiscal_service.set_year_status(session, row, closed_at=now)
    return plan, closed, opened


async def _post(
    session: AsyncSession,
    ledger_code: str,
    role: str,
    entry_id: uuid.UUID,
    draft: entry_service.EntryDraft,
    now: datetime,
) -> None:
    # Accounts deactivated during the year still have their balance closed or carried.
    await entry_service.post_entry(
        session,
        ledger_code,
        draft,
        entry_id=entry_id,
        now=now,
        read_back=False,
        allow_inactive=True,
        role=role,
    )


def reversal_id(entry_id: uuid.UUID) -> uuid.UUID:
    """The id of the reversal a reopening gives a closing's entry (reversed at most once)."""
    return uuid.uuid5(entry_id, "reopening")


async def reopen_year(
    session: AsyncSession, ledger_code: str, year: int, *, now: datetime
) -> list[uuid.UUID]:
    """Open a closed year again, reversing the entries its closing wrote; return the ids of
    the reversals. Refused once the next year has entries of its own, or is closed."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    row = await fiscal_service.find_year(session, ledger_code, year)
    if row.status == fiscal_service.OPEN:
        raise FiscalYearOpen(f"fiscal year {year} is open: there is nothing to reopen")
    following = await fiscal_service.next_year_of(session, row)
    opening: Sequence[uuid.UUID] = ()
    if following is not None:
        if following.status != fiscal_service.OPEN:
            raise NextYearInUse(
                f"fiscal year {following.year} is closed: reopen it first",
                fiscal_year=following.year,
            )
        own = await repo.count_entries(
            session,
            ledger.id,
            following.start_date,
            following.end_date,
            drafts=False,
            without_role=True,
        )
        if own:
            raise NextYearInUse(
                f"fiscal year {following.year} holds {own} validated entries besides its "
                f"opening: fiscal year {year} stays closed",
                fiscal_year=following.year,
            )
        opening = await repo.unreversed_with_role(
            session, ledger.id, OPENING, following.start_date, following.end_date
        )
    closing = await repo.unreversed_with_role(
        session, ledger.id, CLOSING, row.start_date, row.end_date
    )
    await fiscal_service.set_year_status(session, row, closed_at=None)
    await repo.allow_locked_periods(session, ledger.id)
    reversals = []
    for entry_id in [*opening, *closing]:
        reversals.append(reversal_id(entry_id))
        await entry_service.reverse_entry(
            session,
            ledger_code,
            entry_id,
            reversal_id=reversals[-1],
            now=now,
            label=f"Réouverture de l'exercice {year}",
            read_back=False,
            by_reopening=True,
        )
    return reversals
