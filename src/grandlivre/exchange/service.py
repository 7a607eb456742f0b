"""What the FEC holds: the sealed, validated entries of one fiscal year, journal by journal.

The export is a snapshot of the entries sealed when it starts (seq up to the ledger's last):
it streams in chunks of numbered entries, each chunk one query, so a year of a million
entries goes out in bounded memory and no chunk sees an entry the first did not.
Closing entries (the zeroing of classes 6 and 7) are left out, as the issue of the FEC asks;
the opening entries (à-nouveaux) are in. A journal's EcritureNum is the entry's number less
the closing entries numbered before it in that journal, so the numbering stays continuous
in the file; it equals `number` in every journal a closing did not write to.
"""

from __future__ import annotations

import bisect
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.errors import SirenRequired
from grandlivre.exchange import beancount, csv_layout
from grandlivre.exchange import repository as repo
from grandlivre.exchange.fec import (
    FecFormat,
    encode_rows,
    fec_amount,
    fec_date,
    field,
    header,
)
from grandlivre.exchange.repository import FecLine, JournalRow, LedgerLine
from grandlivre.fiscal import service as fiscal_service
from grandlivre.ledger import service as ledger_service
from grandlivre.money import format_amount
from grandlivre.store import Store

# The books are French: an entry validated at 23:30 UTC on 31 December was validated on
# 1 January in Paris, which is the date the FEC says.
PARIS = ZoneInfo("Europe/Paris")
CHUNK_ENTRIES = 2000


@dataclass(frozen=True)
class JournalPlan:
    """One journal's share of the file: its last number and the closing numbers it skips."""

    journal: JournalRow
    last_number: int
    skipped: tuple[int, ...]


@dataclass(frozen=True)
class FecPlan:
    """Everything the export needs before its first byte: the file name and its snapshot."""

    ledger_id: uuid.UUID
    siren: str
    year: int
    start: date
    end: date
    closed: bool
    decimals: int
    max_seq: int
    unsealed: int
    journals: tuple[JournalPlan, ...]

    @property
    def provisional(self) -> bool:
        """Whether the file may still change: the year is open, or entries await their number."""
        return not self.closed or self.unsealed > 0


async def plan_fec(session: AsyncSession, ledger_code: str, year: int) -> FecPlan:
    """Fix what the export of a fiscal year will hold (2 + 3 per journal round trips)."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    fiscal_year = await fiscal_service.find_year(session, ledger_code, year)
    if ledger.siren is None:
        raise SirenRequired(
            f"ledger {ledger.code!r} has no SIREN, which names the FEC file: set it with "
            'PATCH /api/v1/ledgers/{ledger} {"siren": "..."}'
        )
    max_seq = await repo.last_seq(session, ledger.id)
    plans = []
    for journal in await repo.journals(session, ledger.id):
        last = await repo.max_number(session, journal.id, year, max_seq)
        if last == 0:
            continue
        skipped = await repo.closing_numbers(session, journal.id, year, max_seq)
        plans.append(JournalPlan(journal, last, tuple(skipped)))
    return FecPlan(
        ledger_id=ledger.id,
        siren=ledger.siren,
        year=year,
        start=fiscal_year.start_date,
        end=fiscal_year.end_date,
        closed=fiscal_year.status == "closed",
        decimals=ledger.decimals,
        max_seq=max_seq,
        unsealed=await repo.count_unsealed(
            session, ledger.id, fiscal_year.start_date, fiscal_year.end_date
        ),
        journals=tuple(plans),
    )


class FecRows:
    """Write a journal's lines as FEC rows, working out what an entry's lines share once per
    entry and each date and name once per chunk (a year has a few hundred days, a chart a
    few hundred accounts, and a million entries)."""

    def __init__(
        self, journal: JournalRow, skipped: tuple[int, ...], decimals: int, fmt: FecFormat
    ):
        self.fmt = fmt
        self.code = field(journal.code, fmt)
        self.name = field(journal.name, fmt)
        self.skipped = skipped
        self.decimals = decimals
        self.zero = fec_amount(0, decimals)
        self._dates: dict[date, str] = {}
        self._texts: dict[str, str] = {}

    def _date(self, day: date) -> str:
        found = self._dates.get(day)
        if found is None:
            found = self._dates[day] = fec_date(day)
        return found

    def _text(self, text: str) -> str:
        found = self._texts.get(text)
        if found is None:
            found = self._texts[text] = field(text, self.fmt)
        return found

    def rows(self, lines: Sequence[Sequence[Any]]) -> list[list[str]]:
        """Return the 18 fields of each line, in order."""
        out: list[list[str]] = []
        current = None
        num = entry_date = piece = piece_date = valid = entry_label = ""
        text, day = self._text, self._date
        for (
            number,
            entry_day,
            document_day,
            validated_at,
            reference,
            label,
            account,
            account_name,
            party_code,
            party_name,
            line_label,
            amount,
            letter,
            letter_date,
        ) in lines:
            if number != current:
                current = number
                num = str(number - bisect.bisect_left(self.skipped, number))
                entry_date = day(entry_day)
                # PieceRef is mandatory: an entry without a reference is its own piece.
                piece = text(reference) if reference else f"{self.code}{num}"
                piece_date = day(document_day)
                valid = day(validated_at.astimezone(PARIS).date())
                entry_label = field(label, self.fmt)
            out.append(
                [
                    self.code,
                    self.name,
                    num,
                    entry_date,
                    account,
                    text(account_name),
                    text(party_code) if party_code else "",
                    text(party_name) if party_code and party_name else "",
                    piece,
                    piece_date,
                    field(line_label, self.fmt) if line_label else entry_label,
                    fec_amount(amount, self.decimals) if amount > 0 else self.zero,
                    fec_amount(-amount, self.decimals) if amount < 0 else self.zero,
                    letter or "",
                    day(letter_date) if letter_date is not None else "",
                    valid,
                    "",
                    "",
                ]
            )
        return out


async def _lines(
    journal_id: uuid.UUID, plan: FecPlan, after: int, upto: int, session: AsyncSession
) -> Sequence[FecLine]:
    return await repo.fec_lines(
        session, journal_id, plan.year, after=after, upto=upto, max_seq=plan.max_seq
    )


async def fec_chunks(
    store: Store, plan: FecPlan, fmt: FecFormat, chunk: int = CHUNK_ENTRIES
) -> AsyncIterator[bytes]:
    """Yield the file: its header, then each journal's lines, `chunk` entries at a time."""
    yield header(fmt)
    for journal_plan in plan.journals:
        writer = FecRows(journal_plan.journal, journal_plan.skipped, plan.decimals, fmt)
        after = 0
        while after < journal_plan.last_number:
            upto = min(after + chunk, journal_plan.last_number)
            lines = await store.read(partial(_lines, journal_plan.journal.id, plan, after, upto))
            yield encode_rows(writer.rows(lines), fmt)
            after = upto


@dataclass(frozen=True)
class LedgerHead:
    """What the Beancount export needs before its first line."""

    ledger_id: uuid.UUID
    code: str
    name: str
    currency: str
    decimals: int


async def ledger_head(session: AsyncSession, ledger_code: str) -> LedgerHead:
    """Return the ledger the export is of (one round trip)."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    return LedgerHead(ledger.id, ledger.code, ledger.name, ledger.currency, ledger.decimals)


async def _page(
    ledger_id: uuid.UUID,
    after: tuple[date, uuid.UUID] | None,
    date_from: date | None,
    date_to: date | None,
    session: AsyncSession,
) -> Sequence[LedgerLine]:
    return await repo.validated_lines(
        session,
        ledger_id,
        after=after,
        entries=CHUNK_ENTRIES,
        date_from=date_from,
        date_to=date_to,
    )


async def ledger_lines(
    store: Store,
    ledger_id: uuid.UUID,
    date_from: date | None = None,
    date_to: date | None = None,
) -> AsyncIterator[Sequence[LedgerLine]]:
    """Yield the lines of the validated entries, by (date, id), `CHUNK_ENTRIES` entries at a
    time, one query each."""
    after: tuple[date, uuid.UUID] | None = None
    while True:
        lines = await store.read(partial(_page, ledger_id, after, date_from, date_to))
        if not lines:
            return
        yield lines
        after = (lines[-1].entry_date, lines[-1].entry_id)


async def entries_csv_chunks(
    store: Store, head: LedgerHead, date_from: date | None, date_to: date | None
) -> AsyncIterator[bytes]:
    """Yield the validated entries as CSV in the import's layout, one row per line.

    What an entry's lines share is written once per entry, each date once, and the
    driver's rows are read by position (profiled: per-line `strftime` and attribute reads were
    most of it)."""
    yield csv_layout.header().encode()
    days: dict[date | None, str] = {}  # a few hundred a year

    def day(value: date | None) -> str:
        text = days.get(value)
        if text is None:
            text = days[value] = csv_layout.export_date(value)
        return text

    async for lines in ledger_lines(store, head.ledger_id, date_from, date_to):
        rows = []
        current = None
        shared: tuple[str, ...] = ()
        by_position: Sequence[Sequence[Any]] = lines  # the columns of LedgerLine, in order
        for (
            entry_id,
            entry_date,
            document_date,
            journal,
            _number,
            label,
            reference,
            account,
            _account_name,
            party_code,
            line_label,
            amount,
        ) in by_position:
            if entry_id != current:
                current = entry_id
                shared = (
                    str(entry_id),
                    journal,
                    day(entry_date),
                    day(document_date),
                    label,
                    reference or "",
                )
            text = csv_layout.french_amount(format_amount(abs(amount), head.decimals))
            rows.append(
                (
                    *shared,
                    account,
                    party_code or "",
                    line_label or "",
                    text if amount > 0 else "",
                    text if amount < 0 else "",
                )
            )
        yield csv_layout.write_rows(rows).encode()


async def beancount_chunks(store: Store, head: LedgerHead) -> AsyncIterator[bytes]:
    """Yield the Beancount ledger: options, transactions by (date, id), `CHUNK_ENTRIES` at a
    time, then each account's `open` and `balance`. Memory holds a chunk and a total per
    account, whatever the size of the books."""
    yield beancount.header(head.name, head.currency).encode()
    balances: dict[str, int] = {}
    first: date | None = None
    last: date | None = None
    async for lines in ledger_lines(store, head.ledger_id):
        for line in lines:
            name = beancount.account_name(line.account, line.account_name)
            balances[name] = balances.get(name, 0) + line.amount
        first = first or lines[0].entry_date
        last = lines[-1].entry_date
        yield beancount.transactions(lines, head.currency, head.decimals).encode()
    if first is not None and last is not None:
        yield beancount.closing(
            first, last + timedelta(days=1), balances, head.currency, head.decimals
        ).encode()
