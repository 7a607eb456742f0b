"""The general ledger (grand livre): one account's, or every account's, movements with their
running balances, a page at a time or streamed whole for a spreadsheet.

Balances follow report/window.py like every report: the opening of a range counts from the
end of the latest closed fiscal year, and the opening entries restating a closed year inside
the range are not among its movements.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account
from grandlivre.errors import InvalidCursor
from grandlivre.ledger import service as ledger_service
from grandlivre.party import service as party_service
from grandlivre.report import repository as repo
from grandlivre.report.repository import (
    AccountFigures,
    Key,
    Movement,
    PartyFigures,
    Position,
    Slice,
)
from grandlivre.report.service import Books, find_books, is_shown
from grandlivre.report.window import Window
from grandlivre.store import Store

# Lines read per query when a spreadsheet streams.
CHUNK_LINES = 5000


@dataclass(frozen=True)
class AccountLedger:
    """A page of one account's general ledger, with running balances."""

    decimals: int
    number: str
    name: str
    date_from: date | None
    date_to: date | None
    opening: int
    debit: int
    credit: int
    movements: list[tuple[Movement, int]]
    has_more: bool

    @property
    def closing(self) -> int:
        """The account's balance at the end of the range."""
        return self.opening + self.debit - self.credit


@dataclass(frozen=True)
class LedgerPlan:
    """What a general ledger spreadsheet streams: these accounts' movements over the window,
    each account with its figures, in number order (the accounts moved in the range; for one
    account's own ledger, that account even if it did not move)."""

    ledger_id: uuid.UUID
    decimals: int
    date_from: date | None
    date_to: date | None
    window: Window
    include_drafts: bool
    third_party_id: uuid.UUID | None
    accounts: list[AccountFigures]


def _as_account(account: Account, found: Sequence[PartyFigures]) -> AccountFigures:
    """The figures of one third party's lines on one account, as an account's."""
    return AccountFigures(
        account_id=account.id,
        number=account.number,
        name=account.name,
        opening=sum(f.opening for f in found),
        debit=sum(f.debit for f in found),
        credit=sum(f.credit for f in found),
        lines=sum(f.lines for f in found),
        before=sum(f.before for f in found),
    )


async def _account_figures(
    session: AsyncSession,
    books: Books,
    account: Account,
    party_id: uuid.UUID | None,
    after: Key | None,
    include_drafts: bool,
) -> AccountFigures:
    if party_id is None:
        found = await repo.account_figures(
            session,
            books.ledger.id,
            books.window,
            include_drafts=include_drafts,
            account_id=account.id,
            position=None if after is None else Position(account.number, after),
        )
        if found:
            return found[0]
        return AccountFigures(account.id, account.number, account.name, 0, 0, 0, 0)
    lines = await repo.party_figures(
        session,
        books.ledger.id,
        books.window,
        include_drafts=include_drafts,
        account_id=account.id,
        third_party_id=party_id,
        collective_only=False,
        upto=after,
    )
    return _as_account(account, lines)


async def account_ledger(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    *,
    date_from: date | None,
    date_to: date | None,
    fiscal_year: int | None = None,
    after: Key | None,
    limit: int,
    include_drafts: bool = False,
    third_party: str | None = None,
) -> AccountLedger:
    """Return a page of an account's lines (one third party's only, if named) with the
    balance after each one.

    The opening balance is what stands before `from` (report/window.py); a later page starts
    from the opening plus the lines up to the previous page's last, so running balances are
    right on every page. Four round trips (five with a third party): the ledger with its
    years, the account, [the third party], the figures (opening, movements, up to the
    cursor: one statement), the lines of the page.
    """
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    account = await ledger_service.get_account(session, books.ledger, number)
    party_id = None
    if third_party is not None:
        party_id = (await party_service.find_party(session, books.ledger, third_party)).id
    figures = await _account_figures(session, books, account, party_id, after, include_drafts)
    (rows,) = await repo.read_movements(
        session,
        books.ledger.id,
        books.window,
        [Slice((account.id,), after, limit)],
        include_drafts=include_drafts,
        third_party_id=party_id,
    )
    running = figures.opening + figures.before
    with_balance = []
    for movement in rows:
        running += movement.amount
        with_balance.append((movement, running))
    return AccountLedger(
        decimals=books.ledger.decimals,
        number=account.number,
        name=account.name,
        date_from=books.date_from,
        date_to=books.date_to,
        opening=figures.opening,
        debit=figures.debit,
        credit=figures.credit,
        movements=with_balance,
        has_more=len(rows) == limit,
    )


async def plan_account_ledger(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    *,
    date_from: date | None,
    date_to: date | None,
    fiscal_year: int | None = None,
    include_drafts: bool = False,
    third_party: str | None = None,
) -> LedgerPlan:
    """Work out the spreadsheet of one account's general ledger over the whole range.

    Three round trips (four with a third party); `ledger_parts` then streams the lines.
    """
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    account = await ledger_service.get_account(session, books.ledger, number)
    party_id = None
    if third_party is not None:
        party_id = (await party_service.find_party(session, books.ledger, third_party)).id
    figures = await _account_figures(session, books, account, party_id, None, include_drafts)
    return LedgerPlan(
        ledger_id=books.ledger.id,
        decimals=books.ledger.decimals,
        date_from=books.date_from,
        date_to=books.date_to,
        window=books.window,
        include_drafts=include_drafts,
        third_party_id=party_id,
        accounts=[figures],
    )


# -- the general ledger of every account ----------------------------------------------------


def plan_slices(
    queue: Sequence[tuple[uuid.UUID, int]], after: Key | None, budget: int
) -> tuple[list[tuple[Slice, int]], bool]:
    """Plan the reads of the next `budget` lines of the general ledger, given the accounts to
    come in order with the lines each has left (the first one after `after`, when given).

    An account whose lines fill what is left of the page gets a slice of its own, read in
    order from its key; the accounts whose lines all fit together share one slice. So a page
    is at most three slices (in one statement) whatever the number of accounts it spans.
    Each slice comes with the number of lines the counts promise; a slice read in full asks
    for one more, so that counts behind the books (a line posted meanwhile) are noticed.
    Returns the slices and whether they cover the whole queue.
    """
    slices: list[tuple[Slice, int]] = []
    want = budget
    middle: list[uuid.UUID] = []
    middle_lines = 0
    rest = list(queue)
    if after is not None and rest:
        account_id, left = rest.pop(0)
        if left >= want:
            return [(Slice((account_id,), after, want), want)], not rest and left == want
        slices.append((Slice((account_id,), after, left + 1), left))
        want -= left
    covered = True
    for index, (account_id, left) in enumerate(rest):
        if left <= 0:
            continue
        if left >= want:
            if middle:
                slices.append((Slice(tuple(middle), None, middle_lines + 1), middle_lines))
                middle = []
            slices.append((Slice((account_id,), None, want), want))
            covered = left == want and index == len(rest) - 1
            break
        middle.append(account_id)
        middle_lines += left
        want -= left
    if middle:
        slices.append((Slice(tuple(middle), None, middle_lines + 1), middle_lines))
    return slices, covered


def take_page(
    planned: Sequence[tuple[Slice, int]], found: Sequence[Sequence[Movement]], budget: int
) -> tuple[list[Movement], bool]:
    """Join what the slices read into one run of at most `budget` lines, in order; and tell
    whether it was cut short because a slice held more than its count promised (what comes
    after that slice is then not known to follow it)."""
    rows: list[Movement] = []
    for (_, expected), got in zip(planned, found, strict=True):
        rows.extend(got[: budget - len(rows)])
        if len(got) > expected:
            return rows, True
        if len(rows) >= budget:
            break
    return rows, False


@dataclass(frozen=True)
class AccountPage:
    """One account on a page of the general ledger: its figures over the whole range and its
    movements on this page, each with the balance after it."""

    figures: AccountFigures
    movements: list[tuple[Movement, int]]


@dataclass(frozen=True)
class GeneralLedgerPage:
    """A page of the general ledger: the accounts with movements on it, in number order."""

    decimals: int
    date_from: date | None
    date_to: date | None
    accounts: list[AccountPage]
    next_position: Position | None


async def _read_run(
    session: AsyncSession,
    plan: LedgerPlan,
    queue: list[tuple[uuid.UUID, int]],
    after: Key | None,
    budget: int,
) -> tuple[list[Movement], bool]:
    """Read the next lines of the queue, up to `budget`; and whether more may follow."""
    while True:
        planned, covered = plan_slices(queue, after, budget)
        found = await repo.read_movements(
            session,
            plan.ledger_id,
            plan.window,
            [piece for piece, _ in planned],
            include_drafts=plan.include_drafts,
            third_party_id=plan.third_party_id,
        )
        rows, cut = take_page(planned, found, budget)
        if rows or covered:
            return rows, cut or not covered or len(rows) >= budget
        # Every account planned held fewer lines than counted (drafts deleted meanwhile) and
        # none is left in them: go on past them rather than answer an empty page.
        planned_ids = {a for piece, _ in planned for a in piece.account_ids}
        queue = [(a, n) for a, n in queue if a not in planned_ids]
        after = None


def _queue_from(
    accounts: Sequence[AccountFigures], start: Position | None
) -> tuple[list[tuple[uuid.UUID, int]], Key | None]:
    """The accounts still to read after a position, with the lines each has left."""
    queue: list[tuple[uuid.UUID, int]] = []
    after = None
    for figures in accounts:
        if start is not None and figures.number < start.account:
            continue
        if start is not None and figures.number == start.account:
            after = start.key
            queue.append((figures.account_id, max(figures.lines - figures.lines_before, 0)))
        elif figures.lines > 0:
            queue.append((figures.account_id, figures.lines))
    return queue, after


async def general_ledger(
    session: AsyncSession,
    ledger_code: str,
    *,
    date_from: date | None,
    date_to: date | None,
    fiscal_year: int | None = None,
    account: str | None = None,
    after: Position | None,
    limit: int,
    include_drafts: bool = False,
) -> GeneralLedgerPage:
    """Return a page of the general ledger (grand livre): every account's movements over the
    range (or one account's), by account number, date, entry and line, each account with its
    opening and closing and each movement with the balance after it.

    A page holds `limit` movements; the accounts are those of the trial balance over the
    same range. Three round trips (four with `account`): the ledger with its
    years, [the account], the figures of the accounts from the cursor's on (one statement,
    the running balance up to the cursor included), the movements of the page (at most
    three slices in one statement: see `plan_slices`).
    """
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    account_id = None
    if account is not None:
        account_id = (await ledger_service.get_account(session, books.ledger, account)).id
        if after is not None and after.account != account:
            raise InvalidCursor("the cursor does not belong to this list")
    figures = await repo.account_figures(
        session,
        books.ledger.id,
        books.window,
        include_drafts=include_drafts,
        account_id=account_id,
        from_number=None if after is None else after.account,
        position=after,
    )
    shown = [f for f in figures if is_shown(f)]
    plan = LedgerPlan(
        books.ledger.id,
        books.ledger.decimals,
        books.date_from,
        books.date_to,
        books.window,
        include_drafts,
        None,
        shown,
    )
    queue, key = _queue_from(shown, after)
    rows, has_more = await _read_run(session, plan, queue, key, limit) if queue else ([], False)
    by_id = {f.account_id: f for f in shown}
    pages: list[AccountPage] = []
    for row in rows:
        if not pages or pages[-1].figures.account_id != row.account_id:
            item = by_id[row.account_id]
            running = item.opening
            if after is not None and item.number == after.account:
                running += item.before
            pages.append(AccountPage(item, []))
        running += row.amount
        pages[-1].movements.append((row, running))
    next_position = None
    if has_more and rows:
        next_position = Position(pages[-1].figures.number, rows[-1].key)
    return GeneralLedgerPage(
        decimals=books.ledger.decimals,
        date_from=books.date_from,
        date_to=books.date_to,
        accounts=pages,
        next_position=next_position,
    )


async def plan_general_ledger(
    session: AsyncSession,
    ledger_code: str,
    *,
    date_from: date | None,
    date_to: date | None,
    fiscal_year: int | None = None,
    account: str | None = None,
    include_drafts: bool = False,
) -> LedgerPlan:
    """Work out the spreadsheet of the general ledger over the whole range: the figures of
    every account (two round trips, three with `account`); `ledger_parts` streams the lines."""
    books = await find_books(session, ledger_code, date_from, date_to, fiscal_year)
    account_id = None
    if account is not None:
        account_id = (await ledger_service.get_account(session, books.ledger, account)).id
    figures = await repo.account_figures(
        session,
        books.ledger.id,
        books.window,
        include_drafts=include_drafts,
        account_id=account_id,
    )
    return LedgerPlan(
        books.ledger.id,
        books.ledger.decimals,
        books.date_from,
        books.date_to,
        books.window,
        include_drafts,
        None,
        [f for f in figures if is_shown(f)],
    )


@dataclass(frozen=True)
class LedgerPart:
    """Movements of one account, in order, each with the balance after it; `starts` on the
    account's first part (an account without movements has one part, and no movement)."""

    account: AccountFigures
    movements: list[tuple[Movement, int]]
    starts: bool


async def ledger_parts(
    store: Store, plan: LedgerPlan, chunk: int | None = None
) -> AsyncIterator[LedgerPart]:
    """Stream the planned general ledger, `chunk` lines per read, each read its own short
    unit of work (a long-running read would hold back the mirror and vacuum): one round trip
    per chunk, and no more than a chunk of lines in memory.

    Running balances start from the figures read by the plan; lines posted into the range
    while it streams are in it if they come after the point reached.
    """
    chunk = chunk or CHUNK_LINES
    accounts = plan.accounts
    by_id = {a.account_id: a for a in accounts}
    rank = {a.account_id: i for i, a in enumerate(accounts)}
    consumed: dict[uuid.UUID, int] = {}
    running = {a.account_id: a.opening for a in accounts}
    emitted = 0  # accounts started so far
    queue = [(a.account_id, a.lines) for a in accounts if a.lines > 0]
    after: Key | None = None
    more = bool(queue)
    while more:
        rows, more = await store.read(
            partial(_read_run, plan=plan, queue=queue, after=after, budget=chunk)
        )
        groups: list[tuple[uuid.UUID, list[tuple[Movement, int]]]] = []
        for row in rows:
            running[row.account_id] += row.amount
            consumed[row.account_id] = consumed.get(row.account_id, 0) + 1
            if not groups or groups[-1][0] != row.account_id:
                groups.append((row.account_id, []))
            groups[-1][1].append((row, running[row.account_id]))
        for account_id, movements in groups:
            while emitted < rank[account_id]:
                yield LedgerPart(accounts[emitted], [], True)
                emitted += 1
            starts = emitted == rank[account_id]
            if starts:
                emitted += 1
            yield LedgerPart(by_id[account_id], movements, starts)
        if not rows:
            break
        last = rows[-1]
        after = last.key
        position = next(i for i, (a, _) in enumerate(queue) if a == last.account_id)
        queue = [(a, max(by_id[a].lines - consumed.get(a, 0), 0)) for a, _ in queue[position:]]
    for figures in accounts[emitted:]:
        yield LedgerPart(figures, [], True)
