"""Bring books in: a FEC into a ledger with no entries, all of it or nothing.

A company arriving from other software brings its FEC. Every line is checked as the API
checks what it is sent (text, accounts, third parties, balance, open fiscal years and months);
journals, accounts and third parties the chart lacks are opened from the file's labels; then
every entry is posted in one transaction, validated on its ValidDate. If any line breaks a rule,
the file is refused whole, every offending line listed by its number.

Entry ids follow the file (a run of UUIDv7 from one the service gave the import), so that the
sealer, which numbers entries of one transaction in id order, numbers each journal in the
order of its EcritureNum: an export of the imported year gives back the file it came from.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.entry import service as entry_service
from grandlivre.errors import DomainError, EntriesRefused, ImportRefused, LedgerNotEmpty
from grandlivre.exchange import repository as repo
from grandlivre.exchange.csv_layout import CsvEntry, CsvFile
from grandlivre.exchange.fec_import import FecEntryIn, FecFile, FecLineIn, LineProblem
from grandlivre.exchange.service import PARIS
from grandlivre.ledger import service as ledger_service
from grandlivre.lettering import service as lettering_service
from grandlivre.party import service as party_service
from grandlivre.schemas import clean_text

ACCOUNT_NUMBER = re.compile(r"[1-8][0-9]{1,19}")
JOURNAL_CODE = re.compile(r"[A-Z0-9]{1,8}")
PARTY_CODE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,19}")
LETTER_CODE = re.compile(r"[A-Z]{1,8}")
# The 62 low bits of a UUIDv7 are random: the import's ids count up from the one the service
# gave it, in the order of the file, and stay UUIDv7 (version and variant bits untouched).
_RANDOM_BITS = (1 << 62) - 1
MAX_LISTED = 1000
# Entries checked and written at a time, inside the import's one transaction.
CHUNK = 1000


@dataclass(frozen=True)
class ImportReport:
    """What an import wrote, or would write (`dry_run`)."""

    entries: int
    lines: int
    journals_created: list[str]
    accounts_created: list[str]
    third_parties_created: list[str]
    collective_marked: list[str]
    matches: int = 0


def entry_ids(first: uuid.UUID, count: int) -> list[uuid.UUID]:
    """Return `count` ids in increasing order from the UUIDv7 `first`: first, first + 1, ...

    Another id could only fall among them if it shared their millisecond and the high random
    bits and its 62 low random bits landed within `count` of theirs. Should the count not fit
    above the random bits, it starts from them cleared instead (a 1 in 2**42 chance for a
    million entries).
    """
    base = first.int
    if (base & _RANDOM_BITS) + count > _RANDOM_BITS:
        base &= ~_RANDOM_BITS
    return [uuid.UUID(int=base + index) for index in range(count)]


def refuse(problems: Sequence[LineProblem]) -> ImportRefused:
    """Build the refusal that lists every problem by line, in file order."""
    ordered = sorted(problems, key=lambda p: p.line)
    first = ordered[0]
    return ImportRefused(
        f"{len(ordered)} problem(s) in the file, nothing was imported (first: line "
        f"{first.line}, {first.reason})",
        problems=[{"line": p.line, "reason": p.reason} for p in ordered[:MAX_LISTED]],
        count=len(ordered),
    )


def _text(value: str, max_length: int, line: int, name: str, problems: list[LineProblem]) -> str:
    try:
        return clean_text(value, max_length)
    except ValueError as exc:
        problems.append(LineProblem(line, f"{name}: {exc}"))
        return value


def _order(entries: list[FecEntryIn]) -> list[FecEntryIn]:
    """Entries by journal, each journal's by EcritureNum when they are all numbers (else as
    the file gives them): the order the sealer will number them in."""
    numeric = all(e.number.isdigit() for e in entries)
    return sorted(
        entries,
        key=lambda e: (e.journal, int(e.number) if numeric else 0),
    )


async def import_fec(
    session: AsyncSession,
    ledger_code: str,
    parsed: FecFile,
    *,
    first_id: uuid.UUID,
    now: datetime,
    origin: str = entry_service.ORIGIN_PRIMARY,
    status: str = entry_service.POSTED,
) -> ImportReport:
    """Import a parsed FEC into an empty ledger; raise ImportRefused listing every problem."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    if await repo.has_entries(session, ledger.id):
        raise LedgerNotEmpty(
            f"ledger {ledger.code!r} has entries already: a FEC is imported into a ledger with none"
        )
    # The lines the parser could not read are left out of their entries; what the rest name
    # (journals, accounts, third parties) is checked all the same, so that one answer lists
    # every line at fault. The balance of entries is checked once every line could be read.
    problems: list[LineProblem] = list(parsed.problems)
    entries = _order(parsed.entries)

    journals = {j.code for j in await repo.journals(session, ledger.id)}
    journals_created: list[str] = []
    for entry in entries:
        if entry.journal in journals:
            continue
        journals.add(entry.journal)
        if not JOURNAL_CODE.fullmatch(entry.journal):
            problems.append(
                LineProblem(
                    entry.first_line,
                    f"JournalCode {entry.journal!r} is not a journal code: 1 to 8 capitals or "
                    "digits",
                )
            )
            continue
        name = _text(entry.journal_name, 100, entry.first_line, "JournalLib", problems)
        await ledger_service.create_journal(
            session,
            ledger,
            entry.journal,
            name,
            journal_id=ledger_service.chart_journal_id(ledger.id, entry.journal),
            now=now,
        )
        journals_created.append(entry.journal)

    accounts = await repo.accounts_by_number(session, ledger.id)
    accounts_created: list[str] = []
    collective_marked: list[str] = []
    parties = await repo.parties_by_code(session, ledger.id)
    parties_created: list[str] = []
    for entry in entries:
        for line in entry.lines:
            if line.account not in accounts:
                if not ACCOUNT_NUMBER.fullmatch(line.account):
                    problems.append(
                        LineProblem(
                            line.line,
                            f"CompteNum {line.account!r} is not a PCG account number: 2 to 20 "
                            "digits, the first 1 to 8",
                        )
                    )
                    accounts[line.account] = False
                    continue
                name = _text(line.account_name, 200, line.line, "CompteLib", problems)
                created = await ledger_service.create_account(
                    session,
                    ledger,
                    line.account,
                    name,
                    account_id=ledger_service.chart_account_id(ledger.id, line.account),
                    now=now,
                )
                accounts[line.account] = created.collective
                accounts_created.append(line.account)
            if line.party_code is None:
                continue
            known = parties.get(line.party_code)
            if known is not None:
                if known != line.account:
                    problems.append(
                        LineProblem(
                            line.line,
                            f"third party {line.party_code!r} is under account {known}, not "
                            f"{line.account}",
                        )
                    )
                continue
            parties[line.party_code] = line.account
            if not PARTY_CODE.fullmatch(line.party_code):
                problems.append(
                    LineProblem(
                        line.line,
                        f"CompAuxNum {line.party_code!r} is not a third-party code: capitals, "
                        "digits, `.`, `_` and `-`, 1 to 20",
                    )
                )
                continue
            if not accounts[line.account]:
                if not line.account.startswith(ledger_service.MAY_BE_COLLECTIVE):
                    problems.append(
                        LineProblem(
                            line.line,
                            f"account {line.account} names a third party but cannot be "
                            "collective: only 401, 411 and 42x to 46x accounts can",
                        )
                    )
                    continue
                await ledger_service.update_account(
                    session, ledger, line.account, name=None, active=None, collective=True
                )
                accounts[line.account] = True
                collective_marked.append(line.account)
            assert line.party_name is not None  # paired with the code by the parser
            name = _text(line.party_name, 200, line.line, "CompAuxLib", problems)
            kind: party_service.Kind = (
                "customer"
                if line.account.startswith("411")
                else "supplier"
                if line.account.startswith("401")
                else "other"
            )
            await party_service.create_party(
                session,
                ledger.code,
                party_service.PartySpec(
                    code=line.party_code, name=name, kind=kind, account=line.account
                ),
                now=now,
            )
            parties_created.append(line.party_code)

    for entry in entries:
        _draft(entry, problems)  # its text, checked before any entry is
    if problems:
        raise refuse(problems)
    ids = entry_ids(first_id, len(entries))

    def postings(span: range) -> list[entry_service.Posting]:
        return [entry_service.Posting(ids[k], _draft(entries[k], [])) for k in span]

    def validated(span: range) -> list[datetime]:
        return [
            datetime.combine(entries[k].valid_date, time(), PARIS).astimezone(UTC) for k in span
        ]

    await _post_all(
        session,
        ledger.code,
        postings,
        [entry.first_line for entry in entries],
        now=now,
        origin=origin,
        status=status,
        validated=validated,
    )
    matches = await _letter(session, ledger.code, entries, ids, first_id=first_id, now=now)
    return ImportReport(
        entries=len(entries),
        lines=sum(len(e.lines) for e in entries),
        journals_created=journals_created,
        accounts_created=accounts_created,
        third_parties_created=parties_created,
        collective_marked=collective_marked,
        matches=matches,
    )


async def _post_all(
    session: AsyncSession,
    ledger_code: str,
    postings: Callable[[range], list[entry_service.Posting]],
    first_lines: list[int],
    *,
    now: datetime,
    origin: str,
    status: str,
    validated: Callable[[range], list[datetime]] | None = None,
) -> None:
    """Check every posting as a batch would and write it, `CHUNK` entries at a time inside
    the import's one transaction, so that memory holds one chunk's rows whatever the size of
    the file (`postings` builds those of a span of the file's entries). Once a chunk is
    refused, the rest are still checked, so that the refusal names every entry at fault by
    the line it starts on, but none is written; the refusal rolls back what was."""
    problems: list[LineProblem] = []
    for start in range(0, len(first_lines), CHUNK):
        span = range(start, min(start + CHUNK, len(first_lines)))
        chunk = postings(span)
        context = await entry_service.load_context(session, ledger_code, chunk)
        try:
            checked = entry_service.check_postings(
                context, chunk, now=now, status=status, origin=origin, batch=True
            )
        except EntriesRefused as exc:
            problems += [
                LineProblem(first_lines[start + item["index"]], item["detail"])
                for item in exc.extra["entries"]
            ]
            continue
        if problems:
            continue
        if validated is not None:
            for item, instant in zip(checked, validated(span), strict=True):
                item.entry_row["validated_at"] = instant
        await entry_service.write_postings(session, checked)
    if problems:
        raise refuse(problems)


async def import_csv(
    session: AsyncSession,
    ledger_code: str,
    parsed: CsvFile,
    *,
    first_id: uuid.UUID,
    now: datetime,
    origin: str = entry_service.ORIGIN_PRIMARY,
    status: str = entry_service.POSTED,
) -> ImportReport:
    """Post the entries of a parsed CSV, all or none; raise ImportRefused listing every row at
    fault."""
    ledger = await ledger_service.get_ledger(session, ledger_code)
    problems: list[LineProblem] = list(parsed.problems)
    entries = parsed.entries
    for entry in entries:
        _csv_draft(entry, problems)  # its text, checked before any entry is
    if problems:
        raise refuse(problems)
    ids = entry_ids(first_id, len(entries))

    def postings(span: range) -> list[entry_service.Posting]:
        return [entry_service.Posting(ids[k], _csv_draft(entries[k], [])) for k in span]

    await _post_all(
        session,
        ledger.code,
        postings,
        [entry.first_line for entry in entries],
        now=now,
        origin=origin,
        status=status,
    )
    return ImportReport(
        entries=len(entries),
        lines=sum(len(e.lines) for e in entries),
        journals_created=[],
        accounts_created=[],
        third_parties_created=[],
        collective_marked=[],
    )


async def _letter(
    session: AsyncSession,
    ledger_code: str,
    entries: list[FecEntryIn],
    ids: list[uuid.UUID],
    *,
    first_id: uuid.UUID,
    now: datetime,
) -> int:
    """Match the lines the file letters alike on an account (EcritureLet, DateLet), once they
    are posted; raise ImportRefused naming the lines of every match that breaks a rule."""
    groups: dict[tuple[str, str], list[tuple[FecLineIn, lettering_service.LineKey]]] = {}
    for entry, entry_id in zip(entries, ids, strict=True):
        for position, line in enumerate(entry.lines):
            if line.letter is not None:
                key = lettering_service.LineKey(entry_id, position)
                groups.setdefault((line.account, line.letter), []).append((line, key))
    problems: list[LineProblem] = []
    for (account, code), lines in groups.items():
        first = lines[0][0].line
        if not LETTER_CODE.fullmatch(code):
            problems.append(
                LineProblem(first, f"EcritureLet {code!r} is not a lettering code: 1 to 8 capitals")
            )
            continue
        dates = {line.letter_date for line, _ in lines}
        if len(dates) != 1:
            problems.append(
                LineProblem(first, f"the lines lettered {code} on {account} give several DateLet")
            )
            continue
        spec = lettering_service.MatchSpec(
            lines=tuple(key for _, key in lines), on=dates.pop(), code=code
        )
        try:
            await lettering_service.match_lines(
                session,
                ledger_code,
                account,
                match_id=uuid.uuid5(first_id, f"match:{account}:{code}"),
                spec=spec,
                now=now,
            )
        except DomainError as exc:
            problems.append(LineProblem(first, f"lettering {code} on {account}: {exc.detail}"))
    if problems:
        raise refuse(problems)
    return len(groups)


def _csv_draft(entry: CsvEntry, problems: list[LineProblem]) -> entry_service.EntryDraft:
    lines = [
        entry_service.LineDraft(
            account=line.account,
            debit=line.debit,
            credit=line.credit,
            label=None
            if line.label is None
            else _text(line.label, 500, line.line, "line_label", problems),
            third_party=line.third_party,
        )
        for line in entry.lines
    ]
    return entry_service.EntryDraft(
        journal=entry.journal,
        date=entry.date,
        label=_text(entry.label, 500, entry.first_line, "label", problems),
        lines=lines,
        reference=None
        if entry.reference is None
        else _text(entry.reference, 100, entry.first_line, "reference", problems),
        document_date=entry.document_date,
    )


def _draft(entry: FecEntryIn, problems: list[LineProblem]) -> entry_service.EntryDraft:
    label = _text(entry.lines[0].label, 500, entry.first_line, "EcritureLib", problems)
    reference = _text(entry.piece_ref, 100, entry.first_line, "PieceRef", problems)
    lines = []
    for line in entry.lines:
        text = _text(line.label, 500, line.line, "EcritureLib", problems)
        lines.append(
            entry_service.LineDraft(
                account=line.account,
                debit=line.debit,
                credit=line.credit,
                label=None if text == label else text,
                third_party=line.party_code,
            )
        )
    return entry_service.EntryDraft(
        journal=entry.journal,
        date=entry.date,
        label=label,
        lines=lines,
        reference=reference,
        document_date=entry.piece_date,
    )


def report_json(report: ImportReport, *, dry_run: bool) -> dict[str, Any]:
    """Return the report as the API answers it."""
    return {
        "dry_run": dry_run,
        "entries": report.entries,
        "lines": report.lines,
        "journals_created": report.journals_created,
        "accounts_created": report.accounts_created,
        "third_parties_created": report.third_parties_created,
        "collective_marked": report.collective_marked,
        "matches": report.matches,
    }
