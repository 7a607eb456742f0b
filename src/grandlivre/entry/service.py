"""Rules of double entry: what may be posted, and how a posted entry is corrected."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from grandlivre.db.tables import Entry, Ledger
from grandlivre.entry import repository as repo
from grandlivre.errors import (
    AlreadyReversed,
    ClosingEntry,
    DomainError,
    DraftsRefused,
    EntriesRefused,
    EntryImmutable,
    EntryIsDraft,
    EntryNotFound,
    InactiveAccount,
    InvalidAmount,
    InvalidReversalDate,
    LedgerNotFound,
    NotCollective,
    ReversalOfReversal,
    ThirdPartyMismatch,
    ThirdPartyRequired,
    UnbalancedEntry,
    UnknownAccount,
    UnknownJournal,
    UnknownThirdParty,
    ValidationFailed,
)
from grandlivre.fiscal import service as fiscal_service
from grandlivre.ledger import repository as ledger_repo
from grandlivre.ledger import service as ledger_service
from grandlivre.money import AmountError, format_amount, parse_amount

POSTED = "posted"
DRAFT = "draft"
ORIGIN_PRIMARY = "primary"


def draft_to_json(draft: EntryDraft) -> dict[str, Any]:
    """Serialise a draft for the replay journal (its document date only when given, as rows
    were written before it existed)."""
    form: dict[str, Any] = {
        "journal": draft.journal,
        "date": draft.date.isoformat(),
        "label": draft.label,
        "reference": draft.reference,
        "lines": [_line_json(line) for line in draft.lines],
    }
    if draft.document_date is not None:
        form["document_date"] = draft.document_date.isoformat()
    if draft.is_draft:
        form["status"] = DRAFT
    return form


def draft_from_json(data: dict[str, Any]) -> EntryDraft:
    """Rebuild a draft from the replay journal."""
    return EntryDraft(
        journal=data["journal"],
        date=date.fromisoformat(data["date"]),
        label=data["label"],
        reference=data["reference"],
        lines=[LineDraft(**line) for line in data["lines"]],
        document_date=(
            date.fromisoformat(data["document_date"]) if data.get("document_date") else None
        ),
        is_draft=_is_draft(data.get("status")),
    )


def _is_draft(value: Any) -> bool:
    if value not in (None, DRAFT):
        raise ValueError(f"status is {value!r}, not absent or {DRAFT!r}")
    return bool(value == DRAFT)


@dataclass(frozen=True)
class LineDraft:
    """A line as a client sent it: exactly one of debit and credit, as decimal strings."""

    account: str
    debit: str | None = None
    credit: str | None = None
    label: str | None = None
    third_party: str | None = None  # the code of its third party, on a collective account


@dataclass(frozen=True)
class EntryDraft:
    """An entry as a client sent it, before any rule was checked."""

    journal: str
    date: date
    label: str
    lines: Sequence[LineDraft]
    reference: str | None = None
    document_date: dt.date | None = None  # the accounting date when not given
    is_draft: bool = False  # kept as a draft (brouillard) rather than posted


@dataclass(frozen=True)
class DraftChanges:
    """What a PATCH of a draft changes: the fields in `given`, to their values here (a merge
    patch: `reference` and `document_date` given as None go back to none and the date)."""

    given: frozenset[str]
    journal: str | None = None
    date: dt.date | None = None
    document_date: dt.date | None = None
    label: str | None = None
    reference: str | None = None
    lines: Sequence[LineDraft] | None = None

    FIELDS = ("journal", "date", "document_date", "label", "reference", "lines")

    def applied_to(self, draft: EntryDraft) -> EntryDraft:
        """Return the draft with these changes made."""
        return replace(draft, **{name: getattr(self, name) for name in self.given})

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form: the given fields only."""
        form: dict[str, Any] = {}
        for name in self.given:
            value = getattr(self, name)
            if name == "lines":
                value = [_line_json(line) for line in value]
            elif isinstance(value, dt.date):
                value = value.isoformat()
            form[name] = value
        return form

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DraftChanges:
        """Rebuild from the journaled form."""
        unknown = data.keys() - set(cls.FIELDS)
        if unknown:
            raise ValueError(f"unknown fields {sorted(unknown)}")
        values: dict[str, Any] = dict(data)
        for name in ("date", "document_date"):
            if values.get(name) is not None:
                values[name] = date.fromisoformat(values[name])
        if "lines" in values:
            values["lines"] = [LineDraft(**line) for line in values["lines"]]
        return cls(given=frozenset(data), **values)


def _line_json(line: LineDraft) -> dict[str, Any]:
    form = {
        "account": line.account,
        "debit": line.debit,
        "credit": line.credit,
        "label": line.label,
    }
    if line.third_party is not None:  # only when given, as rows were written before it existed
        form["third_party"] = line.third_party
    return form


@dataclass(frozen=True)
class LineView:
    """A posted line: signed minor units, debit positive."""

    account: str
    amount: int
    label: str | None
    third_party: str | None = None


@dataclass(frozen=True)
class EntryView:
    """An entry as read back."""

    id: uuid.UUID
    ledger: str
    decimals: int
    journal: str
    date: date
    document_date: dt.date
    label: str
    reference: str | None
    status: str
    origin: str
    created_at: datetime
    validated_at: datetime | None
    reverses: uuid.UUID | None
    reversed_by: uuid.UUID | None
    fiscal_year: int
    seq: int | None = None
    number: int | None = None
    hash: str | None = None
    lines: list[LineView] = field(default_factory=list)
    role: str | None = None


@dataclass(frozen=True)
class EntryFilter:
    """Filters of the entry list."""

    date_from: date | None = None
    date_to: date | None = None
    journal: str | None = None
    account: str | None = None
    status: str | None = None


def signed_amounts(lines: Sequence[LineDraft], decimals: int) -> list[int]:
    """Turn each line's debit or credit into signed minor units, refusing inexact amounts."""
    amounts: list[int] = []
    for index, line in enumerate(lines):
        if (line.debit is None) == (line.credit is None):
            raise ValidationFailed(f"line {index}: give exactly one of debit and credit")
        text = line.debit if line.debit is not None else line.credit
        assert text is not None
        try:
            minor = parse_amount(text, decimals)
        except AmountError as exc:
            raise InvalidAmount(f"line {index}: {exc}", line=index) from exc
        amounts.append(minor if line.debit is not None else -minor)
    return amounts


def check_balanced(amounts: Sequence[int], decimals: int) -> None:
    """Refuse an entry whose lines do not sum to zero or that has fewer than two lines."""
    if len(amounts) < 2:
        raise ValidationFailed("an entry needs at least two lines")
    debit = sum(a for a in amounts if a > 0)
    credit = -sum(a for a in amounts if a < 0)
    if debit != credit:
        raise UnbalancedEntry(
            f"debits ({format_amount(debit, decimals)}) and credits "
            f"({format_amount(credit, decimals)}) differ by "
            f"{format_amount(debit - credit, decimals)}",
            debit=format_amount(debit, decimals),
            credit=format_amount(credit, decimals),
            difference=format_amount(debit - credit, decimals),
        )


@dataclass(frozen=True)
class Posting:
    """An entry to post: its id (given before any store is touched), what the client sent,
    the entry it reverses, and whether deactivated accounts may be used (by a reversal)."""

    entry_id: uuid.UUID
    draft: EntryDraft
    reverses: uuid.UUID | None = None
    allow_inactive: bool = False
    # What a closing writes: `closing` (zeroing classes 6 and 7) or `opening` (the
    # à-nouveaux); those entries may go into locked periods of the year closed or opened.
    role: str | None = None


@dataclass(frozen=True)
class Checked:
    """A posting that passed every rule: the view to answer with and the rows to insert."""

    view: EntryView
    entry_row: dict[str, Any]
    line_rows: list[dict[str, Any]]


async def load_context(
    session: AsyncSession,
    ledger_code: str,
    postings: Sequence[Posting],
    *,
    idempotency: tuple[str, str] | None = None,
    look_for_ids: bool = False,
) -> repo.PostingContext:
    """Read in one round trip what posting `postings` checks; raise LedgerNotFound."""
    context = await repo.posting_context(
        session,
        ledger_code,
        journals={p.draft.journal for p in postings},
        accounts={line.account for p in postings for line in p.draft.lines},
        parties={x.third_party for p in postings for x in p.draft.lines if x.third_party},
        dates={p.draft.date for p in postings},
        idempotency=idempotency,
        entry_ids=[p.entry_id for p in postings] if look_for_ids else (),
    )
    if context is None:
        raise LedgerNotFound(f"no ledger with code {ledger_code!r}")
    return context


def check_posting(
    context: repo.PostingContext,
    posting: Posting,
    *,
    now: datetime,
    status: str,
    origin: str,
) -> Checked:
    """Check every rule of double entry against the context; raise the first one broken."""
    draft = posting.draft
    amounts = balanced_amounts(draft.lines, context.decimals)
    journal_id = context.journals.get(draft.journal)
    if journal_id is None:
        raise UnknownJournal(f"no journal {draft.journal!r} in ledger {context.code!r}")
    missing = sorted({line.account for line in draft.lines} - context.accounts.keys())
    if missing:
        raise UnknownAccount(
            f"no account {', '.join(missing)} in ledger {context.code!r}", accounts=missing
        )
    inactive = sorted(
        {line.account for line in draft.lines if not context.accounts[line.account][1]}
    )
    if inactive and not posting.allow_inactive:
        raise InactiveAccount(
            f"account {', '.join(inactive)} is inactive; reactivate it or use another",
            accounts=inactive,
        )
    parties = check_third_parties(context, draft.lines)
    locked = set() if posting.role is not None else context.locked
    fiscal_year = fiscal_service.place(draft.date, context.years, locked)
    view = entry_view(
        posting,
        amounts,
        ledger=context.code,
        decimals=context.decimals,
        fiscal_year=fiscal_year,
        now=now,
        status=status,
        origin=origin,
    )
    entry_row = {
        "id": posting.entry_id,
        "ledger_id": context.ledger_id,
        "journal_id": journal_id,
        "entry_date": draft.date,
        "fiscal_year": fiscal_year,
        "document_date": view.document_date,
        "label": draft.label,
        "reference": draft.reference,
        "status": view.status,
        "origin": origin,
        "created_at": now,
        "validated_at": view.validated_at,
        "reverses_id": posting.reverses,
        "role": posting.role,
    }
    line_rows = [
        {
            "entry_id": posting.entry_id,
            "position": position,
            "account_id": context.accounts[line.account][0],
            "amount": amount,
            "label": line.label,
            "third_party_id": party,
        }
        for position, (line, amount, party) in enumerate(
            zip(draft.lines, amounts, parties, strict=True)
        )
    ]
    return Checked(view, entry_row, line_rows)


def check_third_parties(
    context: repo.PostingContext, lines: Sequence[LineDraft]
) -> list[uuid.UUID | None]:
    """Check the third parties the lines name; return each line's third-party id.

    A third party is named on a collective account only, the one it is an auxiliary account
    of; where the ledger requires it, every line on a collective account names one.
    """
    unknown = sorted({x.third_party for x in lines if x.third_party} - context.parties.keys())
    if unknown:
        raise UnknownThirdParty(
            f"no third party {', '.join(unknown)} in ledger {context.code!r}",
            third_parties=unknown,
        )
    found: list[uuid.UUID | None] = []
    for index, line in enumerate(lines):
        collective = line.account in context.collective
        if line.third_party is None:
            if collective and context.third_party_required:
                raise ThirdPartyRequired(
                    f"line {index}: account {line.account} is collective and the ledger "
                    "requires its lines to name their third party",
                    line=index,
                )
            found.append(None)
            continue
        if not collective:
            raise NotCollective(
                f"line {index}: account {line.account} is not collective; only a line on "
                "a collective account (411, 401, ...) names a third party",
                line=index,
                account=line.account,
            )
        party, account = context.parties[line.third_party]
        if account != context.accounts[line.account][0]:
            raise ThirdPartyMismatch(
                f"line {index}: third party {line.third_party} is an auxiliary account of "
                f"another account than {line.account}",
                line=index,
            )
        found.append(party)
    return found


def balanced_amounts(lines: Sequence[LineDraft], decimals: int) -> list[int]:
    """Return the lines' signed minor units if they are exact and balance (raise otherwise):
    the rules that need nothing from the database."""
    amounts = signed_amounts(lines, decimals)
    check_balanced(amounts, decimals)
    return amounts


def entry_view(
    posting: Posting,
    amounts: Sequence[int],
    *,
    ledger: str,
    decimals: int,
    fiscal_year: int,
    now: datetime,
    status: str,
    origin: str,
) -> EntryView:
    """The entry as it will read once posted."""
    draft = posting.draft
    return EntryView(
        id=posting.entry_id,
        ledger=ledger,
        decimals=decimals,
        journal=draft.journal,
        date=draft.date,
        document_date=draft.document_date or draft.date,
        label=draft.label,
        reference=draft.reference,
        status=DRAFT if draft.is_draft else status,
        origin=origin,
        created_at=now,
        # Posted final, it is permanent from the moment it is posted; a draft when validated.
        validated_at=None if draft.is_draft else now,
        reverses=posting.reverses,
        reversed_by=None,
        fiscal_year=fiscal_year,
        lines=[
            LineView(line.account, amount, line.label, line.third_party)
            for line, amount in zip(draft.lines, amounts, strict=True)
        ],
    )


def checked_view(
    posting: Posting,
    *,
    ledger: str,
    decimals: int,
    fiscal_year: int,
    now: datetime,
    status: str,
    origin: str,
) -> EntryView:
    """The entry as it will read once posted, if its amounts are exact and balance: the rules
    that need nothing from the database (raise the first one broken)."""
    return entry_view(
        posting,
        balanced_amounts(posting.draft.lines, decimals),
        ledger=ledger,
        decimals=decimals,
        fiscal_year=fiscal_year,
        now=now,
        status=status,
        origin=origin,
    )


def check_postings(
    context: repo.PostingContext,
    postings: Sequence[Posting],
    *,
    now: datetime,
    status: str,
    origin: str,
    batch: bool = False,
) -> list[Checked]:
    """Check every posting. A single one raises its problem; a batch raises EntriesRefused,
    naming each refused posting by its index, so that it is posted whole or not at all."""
    if not batch:
        return [check_posting(context, postings[0], now=now, status=status, origin=origin)]
    checked: list[Checked] = []
    refused: list[dict[str, Any]] = []
    for index, posting in enumerate(postings):
        try:
            checked.append(check_posting(context, posting, now=now, status=status, origin=origin))
        except DomainError as exc:
            refused.append(
                {"index": index, "type": exc.type, "title": exc.title, "detail": exc.detail}
                | exc.extra
            )
    if refused:
        raise EntriesRefused(
            f"{len(refused)} of the {len(postings)} entries break a rule; none was posted "
            f"(first: entry {refused[0]['index']}, {refused[0]['detail']})",
            entries=refused,
        )
    return checked


async def write_postings(
    session: AsyncSession,
    checked: Sequence[Checked],
    *,
    idempotency_row: dict[str, Any] | None = None,
) -> None:
    """Insert checked postings (and the response to their Idempotency-Key) in one go."""
    await repo.insert_entries(
        session,
        [c.entry_row for c in checked],
        [row for c in checked for row in c.line_rows],
        idempotency_row,
    )


async def post_at_once(
    conn: AsyncConnection, view: EntryView, *, idempotency_row: dict[str, Any] | None
) -> bool:
    """Post an entry that passed `checked_view` in one statement on PostgreSQL (autocommit),
    which checks the rest of the rules; return whether it did (see repo.post_at_once)."""
    entry = {
        "ledger": view.ledger,
        "decimals": view.decimals,
        "journal": view.journal,
        "id": view.id,
        "entry_date": view.date,
        "fiscal_year": view.fiscal_year,
        "document_date": view.document_date,
        "label": view.label,
        "reference": view.reference,
        "status": view.status,
        "origin": view.origin,
        "created_at": view.created_at,
    }
    lines = [(line.account, line.amount, line.label) for line in view.lines]
    return await repo.post_at_once(conn, entry, lines, idempotency_row)


async def post_entry(
    session: AsyncSession,
    ledger_code: str,
    draft: EntryDraft,
    *,
    entry_id: uuid.UUID,
    now: datetime,
    reverses: uuid.UUID | None = None,
    status: str = POSTED,
    origin: str = ORIGIN_PRIMARY,
    read_back: bool = True,
    allow_inactive: bool = False,
    role: str | None = None,
) -> EntryView | None:
    """Check every rule of double entry and record the entry; return it as it now stands.

    The answer is built from what was written, not read back: an entry is immutable, and
    nothing but this transaction wrote it.
    """
    posting = Posting(entry_id, draft, reverses=reverses, allow_inactive=allow_inactive, role=role)
    context = await load_context(session, ledger_code, [posting])
    checked = check_posting(context, posting, now=now, status=status, origin=origin)
    await write_postings(session, [checked])
    return checked.view if read_back else None


async def get_entry(session: AsyncSession, ledger_code: str, entry_id: uuid.UUID) -> EntryView:
    """Return one entry or raise EntryNotFound."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    entry = await repo.get_entry(session, ledger.id, entry_id)
    if entry is None:
        raise EntryNotFound(f"no entry {entry_id} in ledger {ledger.code!r}")
    return (await _views(session, ledger, [entry]))[0]


async def list_entries(
    session: AsyncSession,
    ledger_code: str,
    filters: EntryFilter,
    *,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> list[EntryView]:
    """Return a page of entries in date order; unknown journal or account filters match none."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    journal_id = account_id = None
    if filters.journal is not None:
        journal = await ledger_repo.get_journal(session, ledger.id, filters.journal)
        if journal is None:
            return []
        journal_id = journal.id
    if filters.account is not None:
        account = await ledger_repo.get_account(session, ledger.id, filters.account)
        if account is None:
            return []
        account_id = account.id
    entries = await repo.list_entries(
        session,
        ledger.id,
        date_from=filters.date_from,
        date_to=filters.date_to,
        journal_id=journal_id,
        account_id=account_id,
        status=filters.status,
        after=after,
        limit=limit,
    )
    return await _views(session, ledger, entries)


async def reverse_entry(
    session: AsyncSession,
    ledger_code: str,
    entry_id: uuid.UUID,
    *,
    reversal_id: uuid.UUID,
    now: datetime,
    on: date | None = None,
    label: str | None = None,
    status: str = POSTED,
    origin: str = ORIGIN_PRIMARY,
    read_back: bool = True,
    by_reopening: bool = False,
) -> EntryView | None:
    """Post the mirror image of an entry, linked to it; an entry is reversed at most once.

    A closing's own entries are reversed only by reopening the year (`by_reopening`).
    """
    original = await get_entry(session, ledger_code, entry_id)
    if original.role is not None and not by_reopening:
        raise ClosingEntry(
            f"entry {entry_id} was written by the closing of fiscal year {original.fiscal_year}"
            f"; reopen the year (POST .../fiscal-years/{original.fiscal_year}/reopen) instead"
        )
    if original.reverses is not None:
        raise ReversalOfReversal(
            f"entry {entry_id} is itself the reversal of {original.reverses}; "
            "post a new entry instead"
        )
    if original.status == DRAFT:
        raise EntryIsDraft(
            f"entry {entry_id} is a draft, outside the books: edit it (PATCH) or delete it"
        )
    if original.reversed_by is not None:
        raise AlreadyReversed(
            f"entry {entry_id} was reversed already by {original.reversed_by}",
            reversed_by=str(original.reversed_by),
        )
    if on is not None and on < original.date:
        raise InvalidReversalDate(
            f"a reversal cannot be dated {on}, before the entry it reverses ({original.date})"
        )
    draft = EntryDraft(
        journal=original.journal,
        date=on or original.date,
        label=label or f"Extourne de {original.label}"[:500],
        reference=original.reference,
        lines=line_drafts(original.lines, original.decimals, sign=-1),
    )
    # A concurrent reversal makes the unique index on reverses_id fail; the store runs the
    # unit again, and the check above then answers AlreadyReversed.
    return await post_entry(
        session,
        ledger_code,
        draft,
        entry_id=reversal_id,
        now=now,
        reverses=entry_id,
        status=status,
        origin=origin,
        read_back=read_back,
        # Deactivating an account stops new postings, not the correction of old ones.
        allow_inactive=True,
        # A closing's entries are reversed by a reopening, which keeps their role.
        role=original.role,
    )


def draft_of(view: EntryView, *, is_draft: bool) -> EntryDraft:
    """Return what a client would send to post the entry as it stands."""
    return EntryDraft(
        journal=view.journal,
        date=view.date,
        label=view.label,
        reference=view.reference,
        document_date=view.document_date,
        is_draft=is_draft,
        lines=line_drafts(view.lines, view.decimals),
    )


def line_drafts(lines: Sequence[LineView], decimals: int, *, sign: int = 1) -> list[LineDraft]:
    """Return lines as a client would send them, each amount times `sign` (-1: mirrored)."""
    drafts = []
    for line in lines:
        amount = sign * line.amount
        drafts.append(
            LineDraft(
                account=line.account,
                debit=format_amount(amount, decimals) if amount > 0 else None,
                credit=format_amount(-amount, decimals) if amount < 0 else None,
                label=line.label,
                third_party=line.third_party,
            )
        )
    return drafts


async def get_draft(session: AsyncSession, ledger_code: str, entry_id: uuid.UUID) -> EntryView:
    """Return a draft, or raise EntryNotFound or EntryNotDraft."""
    view = await get_entry(session, ledger_code, entry_id)
    if view.status != DRAFT:
        raise _immutable(ledger_code, entry_id)
    return view


def _immutable(ledger_code: str, entry_id: uuid.UUID) -> EntryImmutable:
    return EntryImmutable(
        f"entry {entry_id} is posted and cannot be changed or deleted; "
        f"POST /api/v1/ledgers/{ledger_code}/entries/{entry_id}/reverse to correct it",
        headers={"Allow": "GET"},
    )


async def update_draft(
    session: AsyncSession,
    ledger_code: str,
    entry_id: uuid.UUID,
    changes: DraftChanges,
    *,
    now: datetime,
) -> EntryView:
    """Change a draft; the result must pass every rule a posting does, as a draft."""
    current = await get_draft(session, ledger_code, entry_id)
    edited = changes.applied_to(draft_of(current, is_draft=True))
    # A document date left to its default (the accounting date) follows the date.
    follows = "document_date" not in changes.given and current.document_date == current.date
    if follows and "date" in changes.given:
        edited = replace(edited, document_date=None)
    posting = Posting(entry_id, edited)
    context = await load_context(session, ledger_code, [posting])
    checked = check_posting(context, posting, now=now, status=DRAFT, origin=current.origin)
    row = checked.entry_row
    values = {
        name: row[name]
        for name in (
            "journal_id",
            "entry_date",
            "fiscal_year",
            "document_date",
            "label",
            "reference",
        )
    }
    if not await repo.update_draft(session, entry_id, values, checked.line_rows):
        raise _immutable(ledger_code, entry_id)  # validated meanwhile
    return replace(checked.view, created_at=current.created_at)


async def delete_draft(session: AsyncSession, ledger_code: str, entry_id: uuid.UUID) -> None:
    """Delete a draft (posted entries are never deleted)."""
    await get_draft(session, ledger_code, entry_id)
    if not await repo.delete_draft(session, entry_id):
        raise _immutable(ledger_code, entry_id)  # validated meanwhile


async def validate_entries(
    session: AsyncSession,
    ledger_code: str,
    entry_ids: Sequence[uuid.UUID],
    *,
    now: datetime,
    status: str,
) -> list[EntryView]:
    """Validate drafts, all or none: each must pass every rule a posting does, now.

    Return the entries that were drafts, validated (the others are left as they stand). A
    single refusal raises its own problem; among several drafts, DraftsRefused lists each.
    """
    ledger = await ledger_service.get_ledger(session, ledger_code)
    entries = await repo.entries_by_ids(session, ledger.id, entry_ids)
    missing = set(entry_ids) - {entry.id for entry in entries}
    if missing:
        raise EntryNotFound(
            f"no entry {', '.join(sorted(map(str, missing)))} in ledger {ledger.code!r}"
        )
    drafts = [view for view in await _views(session, ledger, entries) if view.status == DRAFT]
    if not drafts:
        return []
    postings = [Posting(view.id, draft_of(view, is_draft=False)) for view in drafts]
    context = await load_context(session, ledger_code, postings)
    try:
        check_postings(
            context, postings, now=now, status=status, origin=ORIGIN_PRIMARY, batch=len(drafts) > 1
        )
    except EntriesRefused as exc:
        refused = [
            {"id": str(drafts[item["index"]].id)} | {k: v for k, v in item.items() if k != "index"}
            for item in exc.extra["entries"]
        ]
        raise DraftsRefused(
            f"{len(refused)} of the {len(drafts)} drafts break a rule; none was validated "
            f"(first: entry {refused[0]['id']}, {refused[0]['detail']})",
            entries=refused,
        ) from exc
    await repo.validate_drafts(session, [view.id for view in drafts], status=status, now=now)
    return [replace(view, status=status, validated_at=now) for view in drafts]


async def find_drafts(
    session: AsyncSession, ledger_code: str, date_to: date, journal: str | None, limit: int
) -> tuple[list[uuid.UUID], int]:
    """Return the ids of up to `limit` drafts dated up to `date_to` (in one journal, or all)
    in date order, and how many there are in all; raise UnknownJournal."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    journal_id = None
    if journal is not None:
        found = await ledger_repo.get_journal(session, ledger.id, journal)
        if found is None:
            raise UnknownJournal(f"no journal {journal!r} in ledger {ledger.code!r}")
        journal_id = found.id
    return await repo.drafts_up_to(session, ledger.id, date_to, journal_id, limit)


async def entry_exists(session: AsyncSession, entry_id: uuid.UUID) -> bool:
    """Tell whether an entry with that id exists, in any ledger."""
    return await repo.get_entry_by_id(session, entry_id) is not None


async def discard_entry(session: AsyncSession, entry_id: uuid.UUID) -> None:
    """Remove an entry written on the fallback whose replay was discarded by an admin."""
    await repo.delete_entry(session, entry_id)


def _fiscal_year(entry: Entry) -> int:
    if entry.fiscal_year is None:
        # Every write path sets it (on PostgreSQL, a trigger); an entry without one is a bug.
        raise RuntimeError(f"entry {entry.id} has no fiscal year")
    return entry.fiscal_year


async def _views(
    session: AsyncSession, ledger: Ledger, entries: Sequence[Entry]
) -> list[EntryView]:
    if not entries:
        return []
    ids = [e.id for e in entries]
    journals = await repo.journal_codes(session, (e.journal_id for e in entries))
    reversals = await repo.reversals_of(session, ids)
    lines: dict[uuid.UUID, list[LineView]] = {entry_id: [] for entry_id in ids}
    for row in await repo.lines_of(session, ids):
        lines[row.entry_id].append(LineView(row.account, row.amount, row.label, row.third_party))
    return [
        EntryView(
            id=e.id,
            ledger=ledger.code,
            decimals=ledger.decimals,
            journal=journals[e.journal_id],
            date=e.entry_date,
            document_date=e.document_date,
            label=e.label,
            reference=e.reference,
            status=e.status,
            origin=e.origin,
            created_at=e.created_at,
            validated_at=e.validated_at,
            reverses=e.reverses_id,
            reversed_by=reversals.get(e.id),
            fiscal_year=_fiscal_year(e),
            seq=e.seq,
            number=e.number,
            hash=e.hash,
            lines=lines[e.id],
            role=e.role,
        )
        for e in entries
    ]
