"""Rules of lettrage: matching lines of an account that sum to zero, open items, aged balance.

A match is metadata on lines: it never changes an entry, its lines or its hash. Its lines are
lines of one account, of validated entries, of one third party (or none), not matched already,
that sum to zero; it is dated (the FEC's DateLet) no earlier than its latest line, and coded
(the FEC's EcritureLet) A, B, ..., Z, AA, ... per account: a code given, if no live match of
the account holds it, or the one after the last the account ever used, so that a code once
shown is never silently given again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import Account, Ledger, Match
from grandlivre.errors import (
    DraftLine,
    InvalidMatchDate,
    LineAlreadyMatched,
    MatchCodeInUse,
    MatchNotFound,
    MatchThirdPartyMismatch,
    UnbalancedMatch,
    UnknownLine,
    UnknownThirdParty,
)
from grandlivre.ledger import service as ledger_service
from grandlivre.lettering import repository as repo
from grandlivre.money import format_amount
from grandlivre.party import repository as party_repository
from grandlivre.party import service as party_service
from grandlivre.store import EntryStatus

MAX_CODE_LENGTH = 8
AgedKind = Literal["customer", "supplier"]
Bucket = Literal["not_due", "0-30", "31-60", "61-90", "over_90"]
BUCKETS: tuple[Bucket, ...] = ("not_due", "0-30", "31-60", "61-90", "over_90")


@dataclass(frozen=True, order=True)
class LineKey:
    """A line of an entry: the entry's id and the line's position in it (from 0)."""

    entry_id: uuid.UUID
    position: int

    def to_json(self) -> dict[str, Any]:
        """Return the line as the API and the journal name it."""
        return {"entry_id": str(self.entry_id), "position": self.position}


@dataclass(frozen=True)
class MatchSpec:
    """A match to make: its lines, and what the client said of its third party, date, code."""

    lines: tuple[LineKey, ...]
    third_party: str | None = None
    on: date | None = None
    code: str | None = None


@dataclass(frozen=True)
class LineView:
    """A line as a match or the open items show it; amount signed, in minor units."""

    entry_id: uuid.UUID
    position: int
    date: date
    journal: str
    label: str
    reference: str | None
    third_party: str | None
    amount: int


@dataclass(frozen=True)
class MatchView:
    """A live match and its lines."""

    id: uuid.UUID
    code: str
    account: str
    third_party: str | None
    date: date
    created_at: datetime
    lines: tuple[LineView, ...]
    decimals: int


@dataclass(frozen=True)
class OpenItems:
    """A page of an account's open items."""

    account: str
    decimals: int
    items: list[LineView]


@dataclass(frozen=True)
class AgedParty:
    """One third party's open items by age band, as what it owes (or is owed), minor units."""

    code: str
    name: str
    account: str
    payment_terms_days: int
    buckets: dict[Bucket, int]

    @property
    def total(self) -> int:
        """The sum of its bands."""
        return sum(self.buckets.values())


@dataclass(frozen=True)
class AgedBalance:
    """The aged balance of the customers or the suppliers of a ledger as of a day."""

    kind: AgedKind
    as_of: date
    decimals: int
    parties: list[AgedParty]

    def totals(self) -> dict[Bucket, int]:
        """The sum of each band over every third party."""
        return {b: sum(p.buckets[b] for p in self.parties) for b in BUCKETS}


def code_after(code: str | None) -> str:
    """Return the code after `code` in the sequence A..Z, AA..ZZ, AAA..; "A" after none."""
    if code is None:
        return "A"
    letters = list(code)
    index = len(letters) - 1
    while index >= 0 and letters[index] == "Z":
        letters[index] = "A"
        index -= 1
    if index < 0:
        return "A" * (len(code) + 1)
    letters[index] = chr(ord(letters[index]) + 1)
    return "".join(letters)


def bucket_of(days_past_due: int) -> Bucket:
    """Return the age band of an item so many days past its due date (negative: not due)."""
    if days_past_due < 0:
        return "not_due"
    if days_past_due <= 30:
        return "0-30"
    if days_past_due <= 60:
        return "31-60"
    if days_past_due <= 90:
        return "61-90"
    return "over_90"


def due_date(kind: AgedKind, amount: int, on: date, terms: int) -> date:
    """Return when an open item of a customer or supplier falls due.

    An invoice (a customer's debit, a supplier's credit) falls due `terms` days after its
    date; a line the other way (a payment, a credit note) is due on its own date.
    """
    invoice = amount > 0 if kind == "customer" else amount < 0
    return on + timedelta(days=terms) if invoice else on


def _view_of(row: repo.LineRow) -> LineView:
    return LineView(
        entry_id=row.entry_id,
        position=row.position,
        date=row.date,
        journal=row.journal,
        label=row.label,
        reference=row.reference,
        third_party=row.third_party,
        amount=row.amount,
    )


def _listed(keys: list[LineKey]) -> str:
    shown = ", ".join(f"{k.entry_id}/{k.position}" for k in keys[:5])
    return shown + (f" and {len(keys) - 5} more" if len(keys) > 5 else "")


def _totals(amounts: list[int], decimals: int) -> dict[str, str]:
    debit = sum(a for a in amounts if a > 0)
    credit = -sum(a for a in amounts if a < 0)
    return {
        "debit": format_amount(debit, decimals),
        "credit": format_amount(credit, decimals),
        "difference": format_amount(debit - credit, decimals),
    }


async def _account(session: AsyncSession, ledger_code: str, number: str) -> tuple[Ledger, Account]:
    ledger = await ledger_service.get_ledger(session, ledger_code)
    return ledger, await ledger_service.get_account(session, ledger, number)


async def _checked_lines(
    session: AsyncSession, ledger: Ledger, account: Account, spec: MatchSpec
) -> tuple[list[repo.LineRow], uuid.UUID | None]:
    """Return the match's lines and its third party's id, or raise the rule they break."""
    wanted = list(spec.lines)
    rows = await repo.lines_of_entries(session, ledger.id, [k.entry_id for k in wanted])
    found = {LineKey(r.entry_id, r.position): r for r in rows if r.account_id == account.id}
    unknown = [k for k in wanted if k not in found]
    if unknown:
        raise UnknownLine(
            f"not lines of account {account.number} in ledger {ledger.code!r}: " + _listed(unknown),
            lines=[k.to_json() for k in unknown],
        )
    lines = [found[k] for k in wanted]
    drafts = [k for k, line in zip(wanted, lines, strict=True) if line.status == EntryStatus.draft]
    if drafts:
        raise DraftLine(
            "lines of drafts are matched once validated: " + _listed(drafts),
            lines=[k.to_json() for k in drafts],
        )
    party_id: uuid.UUID | None
    if spec.third_party is not None:
        party = await party_repository.get_party(session, ledger.id, spec.third_party)
        if party is None:
            raise UnknownThirdParty(
                f"no third party {spec.third_party!r} in ledger {ledger.code!r}",
                third_parties=[spec.third_party],
            )
        party_id = party.id
        others = [
            k for k, line in zip(wanted, lines, strict=True) if line.third_party_id != party_id
        ]
        if others:
            raise MatchThirdPartyMismatch(
                f"lines that do not name third party {spec.third_party}: " + _listed(others),
                lines=[k.to_json() for k in others],
            )
    else:
        parties = {line.third_party for line in lines}
        if len(parties) > 1:
            named = ", ".join(sorted(p or "none" for p in parties))
            raise MatchThirdPartyMismatch(
                f"the lines name several third parties ({named}): a match is one party's",
                lines=[k.to_json() for k in wanted],
            )
        party_id = lines[0].third_party_id
    return lines, party_id


async def match_lines(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    *,
    match_id: uuid.UUID,
    spec: MatchSpec,
    now: datetime,
) -> MatchView:
    """Match lines of an account that sum to zero under a code and a date."""
    ledger, account = await _account(session, ledger_code, number)
    lines, party_id = await _checked_lines(session, ledger, account, spec)
    amounts = [line.amount for line in lines]
    if sum(amounts) != 0:
        totals = _totals(amounts, ledger.decimals)
        raise UnbalancedMatch(
            f"debits ({totals['debit']}) and credits ({totals['credit']}) of the lines differ "
            f"by {totals['difference']}",
            debit=totals["debit"],
            credit=totals["credit"],
            difference=totals["difference"],
        )
    latest = max(line.date for line in lines)
    on = spec.on or latest
    if on < latest:
        raise InvalidMatchDate(f"the match is dated {on}, before its latest line ({latest})")
    matched = [line for line in lines if line.match_id is not None]
    if matched:
        keys = [LineKey(line.entry_id, line.position) for line in matched]
        raise LineAlreadyMatched(
            "lines matched already (unmatch their match first): " + _listed(keys),
            lines=[
                {**LineKey(line.entry_id, line.position).to_json(), "code": line.match_code}
                for line in matched
            ],
        )
    if spec.code is not None:
        if await repo.live_match(session, account.id, spec.code) is not None:
            raise MatchCodeInUse(
                f"a live match of account {number} holds code {spec.code}", code=spec.code
            )
        code = spec.code
    else:
        code = code_after(await repo.last_code(session, account.id))
        if len(code) > MAX_CODE_LENGTH:
            raise MatchCodeInUse(f"account {number} has used every code: give one that is free")
    match = Match(
        id=match_id,
        ledger_id=ledger.id,
        account_id=account.id,
        third_party_id=party_id,
        code=code,
        match_date=on,
        created_at=now,
    )
    # Two requests giving the account the same next code: the second's flush fails on the
    # live codes' unique index, and the store runs it again, which then takes the code after.
    await repo.add_match(session, match)
    claimed = [(line.entry_id, line.position) for line in lines]
    if await repo.claim_lines(session, match_id, claimed) != len(claimed):
        raise LineAlreadyMatched("a line was matched by another request meanwhile; read again")
    third_party = lines[0].third_party if party_id is not None else None
    views = tuple(sorted((_view_of(line) for line in lines), key=_line_order))
    return MatchView(match_id, code, number, third_party, on, now, views, decimals=ledger.decimals)


def _line_order(line: LineView) -> tuple[date, uuid.UUID, int]:
    return line.date, line.entry_id, line.position


async def match_exists(session: AsyncSession, match_id: uuid.UUID) -> bool:
    """Tell whether a match with that id exists, live or not (a replay's twin)."""
    return await repo.get_match(session, match_id) is not None


async def find_live_match(
    session: AsyncSession, ledger_code: str, number: str, code: str
) -> uuid.UUID:
    """Return the id of the account's live match with that code, or raise MatchNotFound."""
    _, account = await _account(session, ledger_code, number)
    found = await repo.live_match(session, account.id, code)
    if found is None:
        raise MatchNotFound(f"account {number} has no live match {code}")
    return found.match.id


async def get_match(session: AsyncSession, ledger_code: str, number: str, code: str) -> MatchView:
    """Return the account's live match with that code and its lines."""
    ledger, account = await _account(session, ledger_code, number)
    found = await repo.live_match(session, account.id, code)
    if found is None:
        raise MatchNotFound(f"account {number} has no live match {code}")
    lines = await repo.lines_of_matches(session, [found.match.id])
    return _match_view(found, number, lines.get(found.match.id, []), ledger.decimals)


def _match_view(
    found: repo.MatchRow, number: str, lines: list[repo.LineRow], decimals: int
) -> MatchView:
    match = found.match
    return MatchView(
        id=match.id,
        code=match.code,
        account=number,
        third_party=found.third_party,
        date=match.match_date,
        created_at=match.created_at,
        lines=tuple(_view_of(line) for line in lines),
        decimals=decimals,
    )


async def list_matches(
    session: AsyncSession, ledger_code: str, number: str, *, after: str | None, limit: int
) -> list[MatchView]:
    """Return a page of the account's live matches in code order, with their lines."""
    ledger, account = await _account(session, ledger_code, number)
    found = await repo.live_matches(session, account.id, after=after, limit=limit)
    lines = await repo.lines_of_matches(session, [row.match.id for row in found])
    return [_match_view(row, number, lines.get(row.match.id, []), ledger.decimals) for row in found]


async def unmatch(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    *,
    match_id: uuid.UUID,
    code: str,
    now: datetime,
) -> bool:
    """Unmatch a live match: its lines are open again, its row stays as history.

    Return False, having changed nothing, when the match was unmatched already.
    """
    _, account = await _account(session, ledger_code, number)
    match = await repo.get_match(session, match_id)
    if match is None or match.account_id != account.id:
        raise MatchNotFound(f"account {number} has no match {code}")
    if match.unmatched_at is not None:
        return False
    match.unmatched_at = now
    await session.flush()
    await repo.release_lines(session, match_id)
    return True


async def discard_match(session: AsyncSession, match_id: uuid.UUID) -> None:
    """Remove a match written on the fallback whose replay an admin discarded."""
    await repo.release_lines(session, match_id)
    await repo.delete_match(session, match_id)


async def open_items(
    session: AsyncSession,
    ledger_code: str,
    number: str,
    *,
    third_party: str | None,
    as_of: date | None,
    after: tuple[date, uuid.UUID, int] | None,
    limit: int,
) -> OpenItems:
    """Return a page of the account's validated lines that no match dated by `as_of` holds
    (every match without `as_of`), dated `as_of` or before."""
    ledger, account = await _account(session, ledger_code, number)
    party_id = None
    if third_party is not None:
        party_id = (await party_service.find_party(session, ledger, third_party)).id
    rows = await repo.open_items(
        session,
        ledger.id,
        account.id,
        third_party_id=party_id,
        as_of=as_of,
        after=after,
        limit=limit,
    )
    return OpenItems(number, ledger.decimals, [_view_of(row) for row in rows])


async def aged_balance(
    session: AsyncSession, ledger_code: str, kind: AgedKind, as_of: date
) -> AgedBalance:
    """Return the open items of each customer or supplier as of a day, by age band.

    An item is a line on the third party's collective account dated `as_of` or before that
    no match dated by then holds; its age is the days from its due date (`due_date`) to
    `as_of`. Amounts are what the party owes (a customer: debit − credit) or is owed (a
    supplier: credit − debit).
    """
    ledger = await ledger_service.get_ledger(session, ledger_code)
    sign = 1 if kind == "customer" else -1
    parties: dict[uuid.UUID, AgedParty] = {}
    for row in await repo.aged_rows(session, ledger.id, kind, as_of):
        party = parties.get(row.third_party_id)
        if party is None:
            party = parties[row.third_party_id] = AgedParty(
                code=row.code,
                name=row.name,
                account=row.account,
                payment_terms_days=row.payment_terms_days,
                buckets=dict.fromkeys(BUCKETS, 0),
            )
        due = due_date(kind, row.amount, row.date, row.payment_terms_days)
        party.buckets[bucket_of((as_of - due).days)] += sign * row.amount
    ordered = sorted(parties.values(), key=lambda p: p.code)
    return AgedBalance(kind=kind, as_of=as_of, decimals=ledger.decimals, parties=ordered)
