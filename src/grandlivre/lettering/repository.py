"""Queries of lettrage: the lines a match names, matches, open items, the aged balance's sums."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.dialect import among, dialect_name, is_postgresql
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

# A line joined to the row that says which match holds it, and to that match.
_LINE_KEY = and_(
    MatchedLine.entry_id == EntryLine.entry_id, MatchedLine.position == EntryLine.position
)
# Codes in their sequence's order: A..Z, then AA..ZZ, then AAA..
_CODE_ORDER = (func.length(Match.code), Match.code)


@dataclass(frozen=True)
class LineRow:
    """A line as a match sees it: where it is, what it holds, and which match holds it."""

    entry_id: uuid.UUID
    position: int
    account_id: uuid.UUID
    amount: int
    third_party_id: uuid.UUID | None
    third_party: str | None
    status: str
    date: date
    journal: str
    label: str
    reference: str | None
    match_id: uuid.UUID | None
    match_code: str | None


@dataclass(frozen=True)
class MatchRow:
    """A match with its third party's code."""

    match: Match
    third_party: str | None


@dataclass(frozen=True)
class AgedRow:
    """The sum of a third party's open lines of one day, one way (debits or credits)."""

    third_party_id: uuid.UUID
    code: str
    name: str
    account: str
    payment_terms_days: int
    date: date
    amount: int


def _line_columns() -> tuple[Any, ...]:
    return (
        EntryLine.entry_id,
        EntryLine.position,
        EntryLine.account_id,
        EntryLine.amount,
        EntryLine.third_party_id,
        ThirdParty.code.label("third_party"),
        Entry.status,
        Entry.entry_date.label("date"),
        Journal.code.label("journal"),
        func.coalesce(EntryLine.label, Entry.label).label("label"),
        Entry.reference,
    )


async def lines_of_entries(
    session: AsyncSession, ledger_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
) -> list[LineRow]:
    """Return every line of these entries of the ledger, with the match that holds it."""
    if not entry_ids:
        return []
    query = (
        select(*_line_columns(), MatchedLine.match_id, Match.code.label("match_code"))
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Journal, Journal.id == Entry.journal_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .outerjoin(MatchedLine, _LINE_KEY)
        .outerjoin(Match, Match.id == MatchedLine.match_id)
        .where(
            Entry.ledger_id == ledger_id,
            among(EntryLine.entry_id, set(entry_ids), dialect_name(session)),
        )
    )
    return [LineRow(**row._asdict()) for row in await session.execute(query)]


async def last_code(session: AsyncSession, account_id: uuid.UUID) -> str | None:
    """Return the last code in sequence order the account's matches ever took, live or not."""
    query = (
        select(Match.code)
        .where(Match.account_id == account_id)
        .order_by(*(column.desc() for column in _CODE_ORDER))
        .limit(1)
    )
    code: str | None = (await session.execute(query)).scalar_one_or_none()
    return code


async def live_match(session: AsyncSession, account_id: uuid.UUID, code: str) -> MatchRow | None:
    """Return the account's live match with that code, if any."""
    query = (
        select(Match, ThirdParty.code)
        .outerjoin(ThirdParty, ThirdParty.id == Match.third_party_id)
        .where(Match.account_id == account_id, Match.code == code, Match.unmatched_at.is_(None))
    )
    row = (await session.execute(query)).first()
    return MatchRow(row[0], row[1]) if row is not None else None


async def get_match(session: AsyncSession, match_id: uuid.UUID) -> Match | None:
    """Return the match with that id, live or not."""
    return await session.get(Match, match_id)


async def add_match(session: AsyncSession, match: Match) -> None:
    """Insert a match."""
    session.add(match)
    await session.flush()


async def claim_lines(
    session: AsyncSession, match_id: uuid.UUID, keys: Sequence[tuple[uuid.UUID, int]]
) -> int:
    """Give these lines to the match unless another holds them; return how many it got.

    One statement: a line never matched gets its row, one unmatched has its row's null match
    taken, one matched meanwhile (a concurrent match that committed first) is left alone and
    not counted.
    """
    insert = postgresql_insert if is_postgresql(session) else sqlite_insert
    rows = insert(MatchedLine).values(
        [
            {"entry_id": entry_id, "position": position, "match_id": match_id}
            for entry_id, position in keys
        ]
    )
    upsert = rows.on_conflict_do_update(
        index_elements=[MatchedLine.entry_id, MatchedLine.position],
        set_={"match_id": rows.excluded.match_id},
        where=MatchedLine.match_id.is_(None),
    )
    return len((await session.execute(upsert.returning(MatchedLine.entry_id))).all())


async def release_lines(session: AsyncSession, match_id: uuid.UUID) -> None:
    """Unmatch the lines of a match (their rows stay, with no match)."""
    await session.execute(
        update(MatchedLine).where(MatchedLine.match_id == match_id).values(match_id=None)
    )


async def delete_match(session: AsyncSession, match_id: uuid.UUID) -> None:
    """Delete a match whose lines were released (a fallback write discarded, never replayed)."""
    await session.execute(delete(Match).where(Match.id == match_id))


async def live_matches(
    session: AsyncSession, account_id: uuid.UUID, *, after: str | None, limit: int
) -> list[MatchRow]:
    """Return a page of the account's live matches in code order."""
    query = (
        select(Match, ThirdParty.code)
        .outerjoin(ThirdParty, ThirdParty.id == Match.third_party_id)
        .where(Match.account_id == account_id, Match.unmatched_at.is_(None))
        .order_by(*_CODE_ORDER)
        .limit(limit)
    )
    if after is not None:
        query = query.where(tuple_(*_CODE_ORDER) > tuple_(len(after), after))
    return [MatchRow(row[0], row[1]) for row in await session.execute(query)]


async def lines_of_matches(
    session: AsyncSession, match_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[LineRow]]:
    """Return the lines each match holds, in date, entry and position order."""
    if not match_ids:
        return {}
    query = (
        select(*_line_columns(), MatchedLine.match_id, Match.code.label("match_code"))
        .select_from(MatchedLine)
        .join(Match, Match.id == MatchedLine.match_id)
        .join(EntryLine, _LINE_KEY)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Journal, Journal.id == Entry.journal_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .where(among(MatchedLine.match_id, set(match_ids), dialect_name(session)))
        .order_by(Entry.entry_date, EntryLine.entry_id, EntryLine.position)
    )
    found: dict[uuid.UUID, list[LineRow]] = {}
    for row in await session.execute(query):
        line = LineRow(**row._asdict())
        assert line.match_id is not None
        found.setdefault(line.match_id, []).append(line)
    return found


def _open_as_of(as_of: date | None) -> Any:
    """A line no match holds, or one only a match dated after `as_of` holds."""
    unmatched = MatchedLine.match_id.is_(None)
    return unmatched if as_of is None else or_(unmatched, Match.match_date > as_of)


async def open_items(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    account_id: uuid.UUID,
    *,
    third_party_id: uuid.UUID | None,
    as_of: date | None,
    after: tuple[date, uuid.UUID, int] | None,
    limit: int,
) -> list[LineRow]:
    """Return a page of the account's validated lines open as of `as_of`, in date order."""
    query = (
        select(*_line_columns(), MatchedLine.match_id, Match.code.label("match_code"))
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Journal, Journal.id == Entry.journal_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .outerjoin(MatchedLine, _LINE_KEY)
        .outerjoin(Match, Match.id == MatchedLine.match_id)
        .where(
            Entry.ledger_id == ledger_id,
            EntryLine.account_id == account_id,
            Entry.status != EntryStatus.draft,
            _open_as_of(as_of),
        )
        .order_by(Entry.entry_date, EntryLine.entry_id, EntryLine.position)
        .limit(limit)
    )
    if third_party_id is not None:
        query = query.where(EntryLine.third_party_id == third_party_id)
    if as_of is not None:
        query = query.where(Entry.entry_date <= as_of)
    if after is not None:
        query = query.where(
            tuple_(Entry.entry_date, EntryLine.entry_id, EntryLine.position) > tuple_(*after)
        )
    return [LineRow(**row._asdict()) for row in await session.execute(query)]


async def aged_rows(
    session: AsyncSession, ledger_id: uuid.UUID, kind: str, as_of: date
) -> list[AgedRow]:
    """Return, per third party of the kind, day and direction, the sum of its open lines on
    its collective account as of `as_of`: a row per day and way, not per line."""
    debit = EntryLine.amount > 0
    query = (
        select(
            ThirdParty.id.label("third_party_id"),
            ThirdParty.code,
            ThirdParty.name,
            Account.number.label("account"),
            ThirdParty.payment_terms_days,
            Entry.entry_date.label("date"),
            func.sum(EntryLine.amount).label("amount"),
        )
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(
            ThirdParty,
            and_(
                ThirdParty.id == EntryLine.third_party_id,
                ThirdParty.account_id == EntryLine.account_id,
            ),
        )
        .join(Account, Account.id == ThirdParty.account_id)
        .outerjoin(MatchedLine, _LINE_KEY)
        .outerjoin(Match, Match.id == MatchedLine.match_id)
        .where(
            Entry.ledger_id == ledger_id,
            ThirdParty.ledger_id == ledger_id,
            ThirdParty.kind == kind,
            Entry.status != EntryStatus.draft,
            Entry.entry_date <= as_of,
            _open_as_of(as_of),
        )
        .group_by(
            ThirdParty.id,
            ThirdParty.code,
            ThirdParty.name,
            Account.number,
            ThirdParty.payment_terms_days,
            Entry.entry_date,
            debit,
        )
        .order_by(ThirdParty.code, Entry.entry_date)
    )
    return [
        AgedRow(**{**row._asdict(), "amount": int(row.amount)})
        for row in await session.execute(query)
    ]
