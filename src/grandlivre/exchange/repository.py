"""Queries of the exports: the sealed entries of a fiscal year, journal by journal."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Row, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import (
    Account,
    Entry,
    EntryLine,
    Journal,
    Match,
    MatchedLine,
    ThirdParty,
)
from grandlivre.store import EntryStatus

CLOSING_ROLE = "closing"


@dataclass(frozen=True)
class JournalRow:
    """A journal of the ledger."""

    id: uuid.UUID
    code: str
    name: str


# A line of a sealed entry as the FEC writes it: number, entry_date, document_date,
# validated_at, reference, entry_label, account, account_name, party_code, party_name, label,
# amount, letter, letter_date. Rows as the driver gives them: a dataclass per line costs more
# than the query (py-spy, docs/exchange.md).
FecLine = Row[Any]


async def journals(session: AsyncSession, ledger_id: uuid.UUID) -> list[JournalRow]:
    """Return the ledger's journals by code."""
    query = (
        select(Journal.id, Journal.code, Journal.name)
        .where(Journal.ledger_id == ledger_id)
        .order_by(Journal.code)
    )
    return [JournalRow(r.id, r.code, r.name) for r in await session.execute(query)]


async def last_seq(session: AsyncSession, ledger_id: uuid.UUID) -> int:
    """Return the ledger's highest seq (0 before its first sealed entry)."""
    found = await session.scalar(select(func.max(Entry.seq)).where(Entry.ledger_id == ledger_id))
    return int(found or 0)


async def count_unsealed(
    session: AsyncSession, ledger_id: uuid.UUID, start: date, end: date
) -> int:
    """Count the validated entries dated in [start, end] that have no number yet."""
    query = select(func.count()).where(
        Entry.ledger_id == ledger_id,
        Entry.entry_date >= start,
        Entry.entry_date <= end,
        Entry.seq.is_(None),
        Entry.status != EntryStatus.draft,
    )
    return int(await session.scalar(query) or 0)


async def closing_numbers(
    session: AsyncSession, journal_id: uuid.UUID, year: int, max_seq: int
) -> list[int]:
    """Return, in order, the numbers a year's closing entries hold in a journal."""
    query = (
        select(Entry.number)
        .where(
            Entry.journal_id == journal_id,
            Entry.fiscal_year == year,
            Entry.role == CLOSING_ROLE,
            Entry.seq <= max_seq,
        )
        .order_by(Entry.number)
    )
    return [int(n) for n in (await session.scalars(query)) if n is not None]


async def fec_lines(
    session: AsyncSession,
    journal_id: uuid.UUID,
    year: int,
    *,
    after: int,
    upto: int,
    max_seq: int,
) -> Sequence[FecLine]:
    """Return the lines of the journal's sealed entries of the year numbered in (after, upto],
    closing entries left out, by number and position.

    Numbers are gapless per journal and year, so the range holds `upto - after` entries at
    most: one keyset range scan of ix_entries_journal_year_number, one query per chunk.
    """
    query = (
        select(
            Entry.number,
            Entry.entry_date,
            Entry.document_date,
            Entry.validated_at,
            Entry.reference,
            Entry.label.label("entry_label"),
            Account.number.label("account"),
            Account.name.label("account_name"),
            ThirdParty.code.label("party_code"),
            ThirdParty.name.label("party_name"),
            EntryLine.label,
            EntryLine.amount,
            Match.code.label("letter"),
            Match.match_date.label("letter_date"),
        )
        .select_from(Entry)
        .join(EntryLine, EntryLine.entry_id == Entry.id)
        .join(Account, Account.id == EntryLine.account_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        # A line's row names a match only while the match is live (lettering/service.py).
        .outerjoin(
            MatchedLine,
            (MatchedLine.entry_id == EntryLine.entry_id)
            & (MatchedLine.position == EntryLine.position),
        )
        .outerjoin(Match, Match.id == MatchedLine.match_id)
        .where(
            Entry.journal_id == journal_id,
            Entry.fiscal_year == year,
            Entry.number > after,
            Entry.number <= upto,
            Entry.seq <= max_seq,
            Entry.role.is_distinct_from(CLOSING_ROLE),
        )
        .order_by(Entry.number, EntryLine.position)
    )
    # On the connection: the ORM's result machinery costs more per row than the driver.
    conn = await session.connection()
    return cast("Sequence[FecLine]", (await conn.execute(query)).all())


async def max_number(session: AsyncSession, journal_id: uuid.UUID, year: int, max_seq: int) -> int:
    """Return the journal's last number in the year among entries sealed up to max_seq."""
    query = select(func.max(Entry.number)).where(
        Entry.journal_id == journal_id, Entry.fiscal_year == year, Entry.seq <= max_seq
    )
    return int(await session.scalar(query) or 0)


# A line of a validated entry as the Beancount and CSV exports write it: entry_id,
# entry_date, document_date, journal, number, label, reference, account, account_name,
# party_code, line_label, amount (rows as the driver gives them, like FecLine).
LedgerLine = Row[Any]


async def validated_lines(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    *,
    after: tuple[date, uuid.UUID] | None,
    entries: int,
    date_from: date | None = None,
    date_to: date | None = None,
) -> Sequence[LedgerLine]:
    """Return the lines of the next `entries` validated entries after the (date, id) key, in
    (date, id, position) order: two range scans of ix_entries_ledger_date_id and the lines."""
    page = (
        select(Entry.id)
        .where(Entry.ledger_id == ledger_id, Entry.status != EntryStatus.draft)
        .order_by(Entry.entry_date, Entry.id)
        .limit(entries)
    )
    if after is not None:
        page = page.where(tuple_(Entry.entry_date, Entry.id) > tuple_(*after))
    if date_from is not None:
        page = page.where(Entry.entry_date >= date_from)
    if date_to is not None:
        page = page.where(Entry.entry_date <= date_to)
    query = (
        select(
            Entry.id.label("entry_id"),
            Entry.entry_date,
            Entry.document_date,
            Journal.code.label("journal"),
            Entry.number,
            Entry.label,
            Entry.reference,
            Account.number.label("account"),
            Account.name.label("account_name"),
            ThirdParty.code.label("party_code"),
            EntryLine.label.label("line_label"),
            EntryLine.amount,
        )
        .select_from(Entry)
        .join(Journal, Journal.id == Entry.journal_id)
        .join(EntryLine, EntryLine.entry_id == Entry.id)
        .join(Account, Account.id == EntryLine.account_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .where(Entry.id.in_(page.scalar_subquery()))
        .order_by(Entry.entry_date, Entry.id, EntryLine.position)
    )
    conn = await session.connection()
    return cast("Sequence[LedgerLine]", (await conn.execute(query)).all())


async def has_entries(session: AsyncSession, ledger_id: uuid.UUID) -> bool:
    """Tell whether the ledger holds an entry, draft or not."""
    found = await session.scalar(select(Entry.id).where(Entry.ledger_id == ledger_id).limit(1))
    return found is not None


async def accounts_by_number(session: AsyncSession, ledger_id: uuid.UUID) -> dict[str, bool]:
    """Return every account of the ledger's chart, and whether it is collective."""
    query = select(Account.number, Account.collective).where(Account.ledger_id == ledger_id)
    return {r.number: bool(r.collective) for r in await session.execute(query)}


async def parties_by_code(session: AsyncSession, ledger_id: uuid.UUID) -> dict[str, str]:
    """Return every third party of the ledger, by code, with its collective account's number."""
    query = (
        select(ThirdParty.code, Account.number)
        .join(Account, Account.id == ThirdParty.account_id)
        .where(ThirdParty.ledger_id == ledger_id)
    )
    return {r.code: r.number for r in await session.execute(query)}
