"""The journal report: one journal's entries over a range with their lines, a page at a time
(with the journal's totals on the first) or streamed whole for a spreadsheet."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Journal
from grandlivre.errors import JournalNotFound
from grandlivre.report import repository as repo
from grandlivre.report.repository import EntryPosition, JournalLine
from grandlivre.report.service import Books, find_books
from grandlivre.store import Store

# Entries read per query when a spreadsheet streams.
CHUNK_ENTRIES = 1000


@dataclass(frozen=True)
class JournalEntry:
    """An entry of a journal report with its lines."""

    entry_id: uuid.UUID
    date: date
    number: int | None
    fiscal_year: int | None
    status: str
    label: str
    reference: str | None
    lines: list[JournalLine]


@dataclass(frozen=True)
class JournalReport:
    """A page of one journal's entries over a range (and, on the first page, the journal's
    totals over it)."""

    decimals: int
    journal: str
    name: str
    date_from: date | None
    date_to: date | None
    entries: list[JournalEntry]
    totals: tuple[int, int] | None  # (debit, credit) over the range: on the first page only
    next_position: EntryPosition | None


def _entries_of(lines: Sequence[JournalLine]) -> list[JournalEntry]:
    entries: list[JournalEntry] = []
    for line in lines:
        if not entries or entries[-1].entry_id != line.entry_id:
            entries.append(
                JournalEntry(
                    line.entry_id,
                    line.date,
                    line.number,
                    line.fiscal_year,
                    line.status,
                    line.entry_label,
                    line.reference,
                    [],
                )
            )
        entries[-1].lines.append(line)
    return entries


async def _journal(session: AsyncSession, books: Books, code: str) -> Journal:
    journal = await repo.find_journal(session, books.ledger.id, code)
    if journal is None:
        raise JournalNotFound(f"no journal {code!r} in ledger {books.ledger.code!r}")
    return journal


async def _position_after(
    session: AsyncSession, journal_id: uuid.UUID, last: JournalEntry
) -> EntryPosition:
    """Where the next page starts: after `last` (report/repository.py, EntryPosition)."""
    horizon = 0
    if last.number is None:
        horizon = await repo.journal_horizon(session, journal_id, last.fiscal_year)
    return EntryPosition(last.date, last.number, last.entry_id, horizon)


async def journal_report(
    session: AsyncSession,
    ledger_code: str,
    code: str,
    *,
    date_from: date | None,
    date_to: date | None,
    fiscal_year: int | None = None,
    after: EntryPosition | None,
    limit: int,
    include_drafts: bool = False,
) -> JournalReport:
    """Return a page of a journal's entries over the range, in (date, number, id) order,
    each with its lines; the first page (no `after`) also the journal's debit and credit
    over the whole range.

    The totals are a sum over every line of the journal in the range (the day totals hold
    accounts, not journals): 1.4 s for a year of a million entries, which a walk through
    twenty thousand pages would pay on each. So they come once, with the first page.
    Four round trips on the first page (the ledger with its years, the journal, the totals,
    the page's entries with their lines in one statement), three on the next ones; one
    more, an index look-up, when a page ends on an entry not numbered yet.
    """
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    journal = await _journal(session, books, code)
    totals = None
    if after is None:
        totals = await repo.journal_totals(
            session,
            books.ledger.id,
            journal.id,
            books.date_from,
            books.date_to,
            include_drafts=include_drafts,
        )
    lines = await repo.journal_lines(
        session,
        books.ledger.id,
        journal.id,
        books.date_from,
        books.date_to,
        after=after,
        limit=limit,
        include_drafts=include_drafts,
    )
    entries = _entries_of(lines)
    next_position = None
    if len(entries) == limit:
        next_position = await _position_after(session, journal.id, entries[-1])
    return JournalReport(
        decimals=books.ledger.decimals,
        journal=journal.code,
        name=journal.name,
        date_from=books.date_from,
        date_to=books.date_to,
        entries=entries,
        totals=totals,
        next_position=next_position,
    )


@dataclass(frozen=True)
class JournalStream:
    """What `journal_parts` reads: a journal of a ledger over a range."""

    ledger_id: uuid.UUID
    journal_id: uuid.UUID
    date_from: date | None
    date_to: date | None
    include_drafts: bool


async def journal_stream(
    session: AsyncSession,
    ledger_code: str,
    code: str,
    *,
    date_from: date | None,
    date_to: date | None,
    fiscal_year: int | None = None,
    include_drafts: bool = False,
) -> tuple[JournalReport, JournalStream]:
    """Find what a journal report spreadsheet streams (two round trips): the report's
    header (no entries, no totals: the spreadsheet sums what it writes) and the stream."""
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    journal = await _journal(session, books, code)
    header = JournalReport(
        books.ledger.decimals,
        journal.code,
        journal.name,
        books.date_from,
        books.date_to,
        [],
        None,
        None,
    )
    stream = JournalStream(
        books.ledger.id, journal.id, books.date_from, books.date_to, include_drafts
    )
    return header, stream


async def journal_parts(
    store: Store, stream: JournalStream, chunk: int | None = None
) -> AsyncIterator[list[JournalEntry]]:
    """Stream a journal's entries over the range, `chunk` entries per read, each read its own
    unit of work: one round trip per chunk."""
    chunk = chunk or CHUNK_ENTRIES
    after: EntryPosition | None = None
    while True:
        entries, after = await store.read(
            partial(_journal_chunk, stream=stream, after=after, limit=chunk)
        )
        if entries:
            yield entries
        if after is None:
            return


async def _journal_chunk(
    session: AsyncSession, *, stream: JournalStream, after: EntryPosition | None, limit: int
) -> tuple[list[JournalEntry], EntryPosition | None]:
    lines = await repo.journal_lines(
        session,
        stream.ledger_id,
        stream.journal_id,
        stream.date_from,
        stream.date_to,
        after=after,
        limit=limit,
        include_drafts=stream.include_drafts,
    )
    entries = _entries_of(lines)
    if len(entries) < limit:
        return entries, None
    return entries, await _position_after(session, stream.journal_id, entries[-1])
