"""Aggregate queries over entry lines and the day totals of sealed entries.

Balances per account read the day totals of sealed entries (db/rollup.py) and the lines of the
entries still unsealed, in one statement, so that an entry sealed meanwhile is counted once.
Every date bound follows a `Window` (report/window.py): the opening of a range is summed from
the end of the latest closed fiscal year, and the opening entries restating a closed year
inside the range are taken out of its movements.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVarTuple, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import (
    Account,
    AccountDayTotal,
    Entry,
    EntryLine,
    FiscalYear,
    Journal,
    Ledger,
    ThirdParty,
)
from grandlivre.report.window import OPENING_ROLE, Window

Ts = TypeVarTuple("Ts")
AnySelect = Select[*tuple[Any, ...]]

Key = tuple[date, uuid.UUID, int]
"""A line's place in an account's general ledger: (entry date, entry id, line position)."""

_ZERO: ColumnElement[Any] = literal_column("0")
_ONE: ColumnElement[Any] = literal_column("1")
_MINUS_ONE: ColumnElement[Any] = literal_column("-1")
# Written into the statement, not bound: PostgreSQL matches the partial index of unsealed
# entries (ix_entries_unsealed) only to a predicate it can read.
_NOT_DRAFT = Entry.status != literal_column("'draft'")
_LINE_DEBIT = case((EntryLine.amount > 0, EntryLine.amount), else_=0)
_LINE_CREDIT = case((EntryLine.amount < 0, -EntryLine.amount), else_=0)


def _if(condition: ColumnElement[bool] | None, value: Any) -> ColumnElement[Any]:
    """`value` where `condition` holds (always, when None), else 0."""
    if condition is None:
        return cast(ColumnElement[Any], value)
    return case((condition, value), else_=_ZERO)


def _all(*conditions: ColumnElement[bool] | None) -> ColumnElement[bool] | None:
    present = [c for c in conditions if c is not None]
    if not present:
        return None
    return present[0] if len(present) == 1 else and_(*present)


def _unsealed(include_drafts: bool) -> ColumnElement[bool]:
    """Entries not in the day totals: those not sealed yet, drafts only when asked for."""
    if include_drafts:
        return Entry.seq.is_(None)
    return and_(Entry.seq.is_(None), _NOT_DRAFT)


def _counted_dates(query: Select[*Ts], window: Window) -> Select[*Ts]:
    """Entries the window counts at all: after `since`, up to `date_to`."""
    if window.since is not None:
        query = query.where(Entry.entry_date > window.since)
    if window.date_to is not None:
        query = query.where(Entry.entry_date <= window.date_to)
    return query


def _not_restated(window: Window) -> ColumnElement[bool] | None:
    """Leave out the opening entries that restate a closed year inside the range."""
    if not window.restated:
        return None
    return or_(
        Entry.role.is_(None),
        Entry.role != OPENING_ROLE,
        Entry.entry_date.not_in(window.restated),
    )


# -- the ledger and its fiscal years ---------------------------------------------------------


@dataclass(frozen=True)
class YearRow:
    """A fiscal year as stored: name, bounds, status."""

    year: int
    start: date
    end: date
    status: str


async def ledger_calendar(session: AsyncSession, code: str) -> tuple[Ledger, list[YearRow]] | None:
    """Return the ledger of that code with its fiscal years in order (one round trip), or
    None when there is no such ledger."""
    result = await session.execute(
        select(
            Ledger, FiscalYear.year, FiscalYear.start_date, FiscalYear.end_date, FiscalYear.status
        )
        .outerjoin(FiscalYear, FiscalYear.ledger_id == Ledger.id)
        .where(Ledger.code == code)
        .order_by(FiscalYear.year)
    )
    rows = result.all()
    if not rows:
        return None
    years = [
        YearRow(r.year, r.start_date, r.end_date, r.status) for r in rows if r.year is not None
    ]
    return rows[0][0], years


async def find_journal(session: AsyncSession, ledger_id: uuid.UUID, code: str) -> Journal | None:
    """Return the ledger's journal of that code, if any."""
    result = await session.execute(
        select(Journal).where(Journal.ledger_id == ledger_id, Journal.code == code)
    )
    return result.scalar_one_or_none()


# -- figures per account: opening, movements, up to a cursor ---------------------------------


@dataclass(frozen=True)
class AccountFigures:
    """One account over a window, in minor units: its opening balance (signed), the debit
    and credit of its movements, how many lines they are, and, for the account of a cursor,
    the signed sum and count of its movements up to the cursor (inclusive)."""

    account_id: uuid.UUID
    number: str
    name: str
    opening: int
    debit: int
    credit: int
    lines: int
    before: int = 0
    lines_before: int = 0

    @property
    def closing(self) -> int:
        """The balance at the end of the window."""
        return self.opening + self.debit - self.credit


@dataclass(frozen=True)
class Position:
    """Where a page starts: after this line of this account."""

    account: str
    key: Key


async def account_figures(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    window: Window,
    *,
    include_drafts: bool = False,
    account_id: uuid.UUID | None = None,
    from_number: str | None = None,
    position: Position | None = None,
) -> list[AccountFigures]:
    """Return the figures of every account the window touches (one account, or those from
    a number on), by number: one statement.

    Sealed entries come from the day totals (the day of `position` from its lines, up to it),
    unsealed ones from their lines, and the lines of restated opening entries are taken out
    of the movements. An account appears when it has a line in the window; its figures may
    then all be zero.
    """
    start, upto_day = window.date_from, position.key[0] if position else None
    current = None
    if position is not None:
        current = (
            select(Account.id)
            .where(Account.ledger_id == ledger_id, Account.number == position.account)
            .scalar_subquery()
        )

    day = AccountDayTotal.day
    net = AccountDayTotal.debit - AccountDayTotal.credit
    moved = None if start is None else day >= start
    day_before = (
        None
        if current is None
        else _all(AccountDayTotal.account_id == current, moved, day < upto_day)
    )
    sealed: AnySelect = (
        select(
            AccountDayTotal.account_id.label("account_id"),
            (_ZERO if start is None else _if(day < start, net)).label("opening"),
            _if(moved, AccountDayTotal.debit).label("debit"),
            _if(moved, AccountDayTotal.credit).label("credit"),
            _if(moved, AccountDayTotal.lines).label("lines"),
            (_ZERO if day_before is None else _if(day_before, net)).label("before"),
            (_ZERO if day_before is None else _if(day_before, AccountDayTotal.lines)).label(
                "lines_before"
            ),
        )
        .join(Account, Account.id == AccountDayTotal.account_id)
        .where(Account.ledger_id == ledger_id)
    )
    if window.since is not None:
        sealed = sealed.where(day > window.since)
    if window.date_to is not None:
        sealed = sealed.where(day <= window.date_to)
    if account_id is not None:
        sealed = sealed.where(AccountDayTotal.account_id == account_id)
    if from_number is not None:
        sealed = sealed.where(Account.number >= from_number)

    entry_day, amount = Entry.entry_date, EntryLine.amount
    line_moved = None if start is None else entry_day >= start
    line_key = tuple_(entry_day, Entry.id, EntryLine.position)
    line_before = (
        None
        if current is None or position is None
        else _all(EntryLine.account_id == current, line_moved, line_key <= tuple_(*position.key))
    )

    def line_columns(sign: int) -> list[ColumnElement[Any]]:
        # sign -1: lines taken out of the movements (never out of the opening).
        signed = amount if sign > 0 else -amount
        return [
            EntryLine.account_id.label("account_id"),
            (_ZERO if start is None or sign < 0 else _if(entry_day < start, amount)).label(
                "opening"
            ),
            _if(_all(line_moved, amount > 0), signed).label("debit"),
            _if(_all(line_moved, amount < 0), -signed).label("credit"),
            _if(line_moved, _ONE if sign > 0 else _MINUS_ONE).label("lines"),
            (_ZERO if line_before is None else _if(line_before, signed)).label("before"),
            (
                _ZERO if line_before is None else _if(line_before, _ONE if sign > 0 else _MINUS_ONE)
            ).label("lines_before"),
        ]

    unsealed: AnySelect = _counted_dates(
        select(*line_columns(1))
        .join(Entry, Entry.id == EntryLine.entry_id)
        .where(Entry.ledger_id == ledger_id, _unsealed(include_drafts)),
        window,
    )
    if account_id is not None:
        unsealed = unsealed.where(EntryLine.account_id == account_id)
    parts: list[AnySelect] = [sealed, unsealed]

    if position is not None and current is not None:
        upto_id, upto_position = position.key[1], position.key[2]
        # The day of the cursor, from its sealed lines up to the cursor: a range on the
        # (ledger, date, id) index, not the whole day's entries.
        cursor_day = _counted_dates(
            select(
                EntryLine.account_id.label("account_id"),
                _ZERO.label("opening"),
                _ZERO.label("debit"),
                _ZERO.label("credit"),
                _ZERO.label("lines"),
                amount.label("before"),
                _ONE.label("lines_before"),
            )
            .join(Entry, Entry.id == EntryLine.entry_id)
            .where(
                Entry.ledger_id == ledger_id,
                Entry.entry_date == upto_day,
                Entry.id <= upto_id,
                Entry.seq.is_not(None),
                EntryLine.account_id == current,
                tuple_(Entry.id, EntryLine.position) <= tuple_(upto_id, upto_position),
            ),
            window,
        )
        if start is not None:
            cursor_day = cursor_day.where(Entry.entry_date >= start)
        parts.append(cursor_day)

    if window.restated:
        restated = select(*line_columns(-1)).join(Entry, Entry.id == EntryLine.entry_id)
        restated = restated.where(
            Entry.ledger_id == ledger_id,
            Entry.role == OPENING_ROLE,
            Entry.entry_date.in_(window.restated),
        )
        if account_id is not None:
            restated = restated.where(EntryLine.account_id == account_id)
        parts.append(restated)

    every = union_all(*parts).subquery()
    query = (
        select(
            Account.id,
            Account.number,
            Account.name,
            func.sum(every.c.opening).label("opening"),
            func.sum(every.c.debit).label("debit"),
            func.sum(every.c.credit).label("credit"),
            func.sum(every.c.lines).label("lines"),
            func.sum(every.c.before).label("before"),
            func.sum(every.c.lines_before).label("lines_before"),
        )
        .select_from(every)
        .join(Account, Account.id == every.c.account_id)
        .group_by(Account.id, Account.number, Account.name)
        .order_by(Account.number)
    )
    if from_number is not None:
        query = query.where(Account.number >= from_number)
    result = await session.execute(query)
    return [
        AccountFigures(
            r.id,
            r.number,
            r.name,
            int(r.opening),
            int(r.debit),
            int(r.credit),
            int(r.lines),
            int(r.before),
            int(r.lines_before),
        )
        for r in result
    ]


# -- an account's balance as of a day, in one round trip (PostgreSQL) ------------------------

# One round trip from the ledger's code and the account's number to its totals, as fixed text:
# asyncpg prepares it once per connection and SQLAlchemy compiles nothing per request. Building
# the same query with Core (three statements: the ledger, the account, the totals) cost a served
# worker more CPU than PostgreSQL spent answering it (docs/performance.md). The parts are those
# of `account_figures`: sealed days from the day totals, unsealed entries from their lines, in
# one snapshot so that an entry sealed meanwhile is counted once; both after the end of the
# latest closed fiscal year before the day (report/window.py: its opening entry carries it).
_ACCOUNT_BALANCE_POSTGRESQL = """
WITH target AS (
    SELECT l.id AS ledger_id, l.decimals, a.id AS account_id, a.number, a.name,
           COALESCE((SELECT max(f.end_date) FROM fiscal_years f
                     WHERE f.ledger_id = l.id AND f.status = 'closed' AND f.end_date < $3),
                    DATE '0001-01-01') AS since
    FROM ledgers l JOIN accounts a ON a.ledger_id = l.id
    WHERE l.code = $1 AND a.number = $2
), parts AS (
    SELECT d.debit, d.credit
    FROM target t JOIN account_day_totals d ON d.account_id = t.account_id
    WHERE d.day <= $3 AND d.day > t.since
    UNION ALL
    SELECT CASE WHEN el.amount > 0 THEN el.amount ELSE 0 END,
           CASE WHEN el.amount < 0 THEN -el.amount ELSE 0 END
    FROM target t
    JOIN entries e ON e.ledger_id = t.ledger_id AND e.seq IS NULL
    JOIN entry_lines el ON el.entry_id = e.id AND el.account_id = t.account_id
    WHERE e.entry_date <= $3 AND e.entry_date > t.since
      AND (e.status <> 'draft' OR $4::boolean)
)
SELECT t.decimals, t.number, t.name, p.debit, p.credit
FROM target t
CROSS JOIN (SELECT COALESCE(sum(debit), 0) AS debit, COALESCE(sum(credit), 0) AS credit
            FROM parts) p
"""


@dataclass(frozen=True)
class AccountBalanceRow:
    """An account of a ledger with its totals up to a date, in minor units (both positive)."""

    decimals: int
    number: str
    name: str
    debit: int
    credit: int


async def account_balance_by_number(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    date_to: date | None,
    *,
    include_drafts: bool = False,
) -> AccountBalanceRow | None:
    """Return an account's totals as of `date_to` in one round trip (PostgreSQL only).

    None when the ledger or the account does not exist: the caller asks which, to say so.
    """
    conn = await session.connection()
    result = await conn.exec_driver_sql(
        _ACCOUNT_BALANCE_POSTGRESQL, (ledger_code, number, date_to or date.max, include_drafts)
    )
    row = result.first()
    if row is None:
        return None
    decimals, found, name, debit, credit = cast(tuple[Any, ...], row)
    return AccountBalanceRow(decimals, found, name, int(debit), int(credit))


# -- movements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movement:
    """One line of an account's general ledger."""

    account_id: uuid.UUID
    entry_id: uuid.UUID
    position: int
    date: date
    journal: str
    entry_label: str
    reference: str | None
    line_label: str | None
    amount: int

    @property
    def key(self) -> Key:
        """Its place in its account's general ledger."""
        return (self.date, self.entry_id, self.position)


@dataclass(frozen=True)
class Slice:
    """A run of general ledger lines to read: of these accounts, in (account number, date,
    entry, position) order, after `after` (a key of the first account), at most `limit`."""

    account_ids: tuple[uuid.UUID, ...]
    after: Key | None
    limit: int


def _slice_query(
    ledger_id: uuid.UUID,
    window: Window,
    piece: Slice,
    index: int,
    *,
    include_drafts: bool,
    third_party_id: uuid.UUID | None,
) -> AnySelect:
    query: AnySelect = (
        select(
            literal_column(str(index)).label("slice"),
            Account.number.label("number"),
            EntryLine.account_id,
            EntryLine.entry_id,
            EntryLine.position,
            Entry.entry_date,
            Journal.code.label("journal"),
            Entry.label.label("entry_label"),
            Entry.reference,
            EntryLine.label.label("line_label"),
            EntryLine.amount,
        )
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Journal, Journal.id == Entry.journal_id)
        .join(Account, Account.id == EntryLine.account_id)
        .where(Entry.ledger_id == ledger_id)
        .limit(piece.limit)
    )
    if len(piece.account_ids) == 1:
        # The ledger's condition lets PostgreSQL walk the entries' (ledger, date, id) index in
        # order and stop at `limit` lines, instead of sorting every line of a busy account
        # (under a millisecond against a second at 1,000,000 entries); for a rare account it
        # reads the account's few lines and sorts them.
        query = query.where(EntryLine.account_id == piece.account_ids[0]).order_by(
            Entry.entry_date, Entry.id, EntryLine.position
        )
    else:
        # Accounts whose lines all fit in the page: read through the (account, entry) index.
        query = query.where(EntryLine.account_id.in_(piece.account_ids)).order_by(
            Account.number, Entry.entry_date, Entry.id, EntryLine.position
        )
    if window.date_from is not None:
        query = query.where(Entry.entry_date >= window.date_from)
    if window.date_to is not None:
        query = query.where(Entry.entry_date <= window.date_to)
    if not include_drafts:
        query = query.where(_NOT_DRAFT)
    if third_party_id is not None:
        query = query.where(EntryLine.third_party_id == third_party_id)
    not_restated = _not_restated(window)
    if not_restated is not None:
        query = query.where(not_restated)
    if piece.after is not None:
        day, entry_id, _ = piece.after
        query = query.where(
            tuple_(Entry.entry_date, Entry.id, EntryLine.position) > tuple_(*piece.after),
            # The same bound on the entries alone: the key above spans two tables, so only
            # this one lets PostgreSQL start the (ledger, date, id) index at the cursor,
            # rather than walk every entry before it on each page (quadratic over a walk).
            tuple_(Entry.entry_date, Entry.id) >= tuple_(day, entry_id),
        )
    return query


async def read_movements(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    window: Window,
    slices: Sequence[Slice],
    *,
    include_drafts: bool = False,
    third_party_id: uuid.UUID | None = None,
) -> list[list[Movement]]:
    """Return the lines of each slice, in order: one statement whatever their number."""
    if not slices:
        return []
    queries = [
        _slice_query(
            ledger_id,
            window,
            piece,
            index,
            include_drafts=include_drafts,
            third_party_id=third_party_id,
        )
        for index, piece in enumerate(slices)
    ]
    if len(queries) == 1:
        statement: Any = queries[0]
    else:
        # Each slice keeps its own order and limit inside a subquery; the union is re-sorted
        # (a page of rows, no more) because a union promises no order of its own.
        subqueries = [q.subquery() for q in queries]
        every = union_all(*(select(*s.c) for s in subqueries)).subquery()
        statement = select(*every.c).order_by(
            every.c.slice,
            every.c.number,
            every.c.entry_date,
            every.c.entry_id,
            every.c.position,
        )
    result = await session.execute(statement)
    found: list[list[Movement]] = [[] for _ in slices]
    # Unpacked by position: a spreadsheet of a general ledger reads millions of these rows.
    for index, _, *movement in result:
        found[int(index)].append(Movement(*movement))
    return found


# -- third parties ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartyFigures:
    """One third party (None: lines naming none) on one account over a window, in minor
    units: opening (signed), the debit and credit of its movements, their count, and the
    signed sum of its movements up to a cursor."""

    account: str
    account_name: str
    third_party: str | None
    third_party_name: str | None
    opening: int
    debit: int
    credit: int
    lines: int
    before: int = 0

    @property
    def closing(self) -> int:
        """The balance at the end of the window."""
        return self.opening + self.debit - self.credit


async def party_figures(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    window: Window,
    *,
    include_drafts: bool = False,
    account_id: uuid.UUID | None = None,
    third_party_id: uuid.UUID | None = None,
    collective_only: bool = True,
    upto: Key | None = None,
) -> list[PartyFigures]:
    """Return figures per account and third party (the balance auxiliaire), from the lines
    themselves (the day totals hold accounts, not parties): one statement.

    Through the (third party, entry) index for one party. Rows come by account number, the
    lines naming no third party first.
    """
    entry_day, amount = Entry.entry_date, EntryLine.amount
    start = window.date_from
    moved = None if start is None else entry_day >= start
    before = (
        None
        if upto is None
        else _all(moved, tuple_(entry_day, Entry.id, EntryLine.position) <= tuple_(*upto))
    )
    query = _counted_dates(
        select(
            Account.number,
            Account.name,
            ThirdParty.code,
            ThirdParty.name.label("party_name"),
            func.sum(_ZERO if start is None else _if(entry_day < start, amount)).label("opening"),
            func.sum(_if(_all(moved, amount > 0), amount)).label("debit"),
            func.sum(_if(_all(moved, amount < 0), -amount)).label("credit"),
            func.sum(_if(moved, _ONE)).label("lines"),
            func.sum(_ZERO if before is None else _if(before, amount)).label("before"),
        )
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .join(Account, Account.id == EntryLine.account_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .where(Entry.ledger_id == ledger_id)
        .group_by(Account.number, Account.name, ThirdParty.code, ThirdParty.name)
        .order_by(Account.number, ThirdParty.code.nulls_first()),
        window,
    )
    if collective_only:
        query = query.where(Account.collective.is_(True))
    if not include_drafts:
        query = query.where(_NOT_DRAFT)
    if account_id is not None:
        query = query.where(EntryLine.account_id == account_id)
    if third_party_id is not None:
        query = query.where(EntryLine.third_party_id == third_party_id)
    not_restated = _not_restated(window)
    if not_restated is not None:
        query = query.where(not_restated)
    result = await session.execute(query)
    return [
        PartyFigures(
            r.number,
            r.name,
            r.code,
            r.party_name,
            int(r.opening),
            int(r.debit),
            int(r.credit),
            int(r.lines),
            int(r.before),
        )
        for r in result
    ]


@dataclass(frozen=True)
class PartyTotals:
    """A third party, the collective account it belongs to, and the totals of its lines."""

    code: str
    name: str
    account: str
    debit: int
    credit: int


async def party_totals(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    code: str,
    window: Window,
    *,
    include_drafts: bool = False,
) -> PartyTotals | None:
    """Return a third party with the totals of its lines over the window's movements, in one
    statement; None when the ledger has no such third party."""
    lines = _counted_dates(
        select(EntryLine.third_party_id, EntryLine.amount)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .where(Entry.ledger_id == ledger_id),
        window,
    )
    if window.date_from is not None:
        lines = lines.where(Entry.entry_date >= window.date_from)
    if not include_drafts:
        lines = lines.where(_NOT_DRAFT)
    not_restated = _not_restated(window)
    if not_restated is not None:
        lines = lines.where(not_restated)
    found = lines.subquery()
    result = await session.execute(
        select(
            ThirdParty.code,
            ThirdParty.name,
            Account.number,
            func.coalesce(func.sum(case((found.c.amount > 0, found.c.amount), else_=0)), 0),
            func.coalesce(func.sum(case((found.c.amount < 0, -found.c.amount), else_=0)), 0),
        )
        .join(Account, Account.id == ThirdParty.account_id)
        .outerjoin(found, found.c.third_party_id == ThirdParty.id)
        .where(ThirdParty.ledger_id == ledger_id, ThirdParty.code == code)
        .group_by(ThirdParty.code, ThirdParty.name, Account.number)
    )
    row = result.first()
    if row is None:
        return None
    return PartyTotals(row[0], row[1], row[2], int(row[3]), int(row[4]))


# -- journals -------------------------------------------------------------------------------


@dataclass(frozen=True)
class EntryPosition:
    """Where a page of a journal report ends: after this entry (date, number, id).

    Entries come by date, number, id; those not numbered yet (unsealed, or drafts) after the
    numbered ones of their day, by id. The sealer numbers entries while a client pages, so a
    page that ends on an unnumbered entry also notes the journal's highest number in that
    entry's fiscal year (`horizon`): an entry numbered above it was unnumbered when the page
    was read, so it follows the page when its id does.
    """

    date: date
    number: int | None
    entry_id: uuid.UUID
    horizon: int = 0


@dataclass(frozen=True)
class JournalLine:
    """One line of an entry of a journal, with what the report shows of its entry."""

    entry_id: uuid.UUID
    date: date
    number: int | None
    fiscal_year: int | None
    status: str
    entry_label: str
    reference: str | None
    position: int
    account: str
    account_name: str
    third_party: str | None
    line_label: str | None
    amount: int


def _journal_entries(
    ledger_id: uuid.UUID,
    journal_id: uuid.UUID,
    date_from: date | None,
    date_to: date | None,
    include_drafts: bool,
) -> AnySelect:
    query: AnySelect = select(Entry.id).where(
        Entry.ledger_id == ledger_id, Entry.journal_id == journal_id
    )
    if date_from is not None:
        query = query.where(Entry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(Entry.entry_date <= date_to)
    if not include_drafts:
        query = query.where(_NOT_DRAFT)
    return query


async def journal_lines(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    journal_id: uuid.UUID,
    date_from: date | None,
    date_to: date | None,
    *,
    after: EntryPosition | None,
    limit: int,
    include_drafts: bool = False,
) -> list[JournalLine]:
    """Return the lines of the next `limit` entries of a journal, in (date, number, id,
    position) order: one statement."""
    entries = _journal_entries(ledger_id, journal_id, date_from, date_to, include_drafts)
    entries = entries.add_columns(
        Entry.entry_date,
        Entry.number,
        Entry.fiscal_year,
        Entry.status,
        Entry.label,
        Entry.reference,
    )
    if after is not None:
        if after.number is None:
            same_day = and_(
                Entry.id > after.entry_id,
                or_(Entry.number.is_(None), Entry.number > after.horizon),
            )
        else:
            same_day = or_(
                Entry.number.is_(None),
                Entry.number > after.number,
                and_(Entry.number == after.number, Entry.id > after.entry_id),
            )
        entries = entries.where(
            or_(Entry.entry_date > after.date, and_(Entry.entry_date == after.date, same_day)),
            # A bound the (ledger, date, id) index can start from: the one above is an OR.
            Entry.entry_date >= after.date,
        )
    page = (
        entries.order_by(Entry.entry_date, Entry.number.asc().nulls_last(), Entry.id)
        .limit(limit)
        .subquery()
    )
    result = await session.execute(
        select(
            page.c.id,
            page.c.entry_date,
            page.c.number,
            page.c.fiscal_year,
            page.c.status,
            page.c.label,
            page.c.reference,
            EntryLine.position,
            Account.number.label("account"),
            Account.name.label("account_name"),
            ThirdParty.code.label("third_party"),
            EntryLine.label.label("line_label"),
            EntryLine.amount,
        )
        .select_from(page)
        .join(EntryLine, EntryLine.entry_id == page.c.id)
        .join(Account, Account.id == EntryLine.account_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .order_by(
            page.c.entry_date, page.c.number.asc().nulls_last(), page.c.id, EntryLine.position
        )
    )
    return [
        JournalLine(
            r.id,
            r.entry_date,
            r.number,
            r.fiscal_year,
            r.status,
            r.label,
            r.reference,
            r.position,
            r.account,
            r.account_name,
            r.third_party,
            r.line_label,
            r.amount,
        )
        for r in result
    ]


async def journal_horizon(
    session: AsyncSession, journal_id: uuid.UUID, fiscal_year: int | None
) -> int:
    """Return the highest number of a journal in a fiscal year so far (0: none): an index
    look-up on (journal, fiscal year, number)."""
    if fiscal_year is None:
        return 0
    found = await session.scalar(
        select(func.max(Entry.number)).where(
            Entry.journal_id == journal_id, Entry.fiscal_year == fiscal_year
        )
    )
    return int(found or 0)


async def journal_totals(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    journal_id: uuid.UUID,
    date_from: date | None,
    date_to: date | None,
    *,
    include_drafts: bool = False,
) -> tuple[int, int]:
    """Return (debit, credit) of a journal's entries over a range: one statement over its
    lines (the day totals hold accounts, not journals)."""
    query = (
        select(func.coalesce(func.sum(_LINE_DEBIT), 0), func.coalesce(func.sum(_LINE_CREDIT), 0))
        .select_from(EntryLine)
        .join(Entry, Entry.id == EntryLine.entry_id)
        .where(Entry.ledger_id == ledger_id, Entry.journal_id == journal_id)
    )
    if date_from is not None:
        query = query.where(Entry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(Entry.entry_date <= date_to)
    if not include_drafts:
        query = query.where(_NOT_DRAFT)
    row = (await session.execute(query)).one()
    return int(row[0]), int(row[1])
