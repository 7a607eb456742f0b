"""The sealer: gives committed entries their seq, number and hash, in commit order (DESIGN §4).

One sealer per ledger at a time takes the entries that are certainly committed and not sealed
yet, oldest commit first, in batches, and gives each

    seq      its gapless position in the ledger (1, 2, 3, ...), in commit order;
    number   its gapless position in its journal and fiscal year (the one its date fell in
             when it was posted): the FEC's EcritureNum;
    hash     SHA-256 over its canonical form and the hash of the entry before it (seq - 1),
             the first one chaining from 64 zeros. The canonical form (docs/audit.md) covers
             every field the FEC exports; `seal_version` says which form an entry was sealed
             with (1 before the document date, validation instant and third parties were in).

Recomputing the chain from the first entry (`verify_chain`) proves that no sealed entry, line
or seal was altered, inserted or removed but at the very end. Entries written on the SQLite
fallback stay unsealed until their replay reaches PostgreSQL and they are sealed there.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db import rollup
from grandlivre.db.tables import Entry, FiscalYear, Ledger
from grandlivre.entry import repository as repo
from grandlivre.fiscal import repository as fiscal_repo
from grandlivre.ledger import repository as ledger_repo
from grandlivre.ledger import service as ledger_service
from grandlivre.store import Store

GENESIS = "0" * 64
BATCH = 500
SEAL_VERSION = 2  # the canonical form new seals cover (docs/audit.md)


def fiscal_year(entry: Entry) -> int:
    """Return the fiscal year an entry is numbered in: the one its date fell in when posted."""
    if entry.fiscal_year is None:
        # Every write path sets it (on PostgreSQL, a trigger); an entry without one is a bug.
        raise RuntimeError(f"entry {entry.id} has no fiscal year")
    return entry.fiscal_year


def year_of(day: date, years: Sequence[FiscalYear]) -> int | None:
    """Return the name of the fiscal year among `years` that covers `day`, if one does."""
    for year in years:
        if year.start_date <= day <= year.end_date:
            return year.year
    return None


def instant_text(value: datetime) -> str:
    """Write an instant as the API does: UTC, ISO 8601, `Z`, microseconds unless zero."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z"


@dataclass(frozen=True)
class CanonicalEntry:
    """What the hash of a sealed entry covers, besides the hash of the entry before it."""

    ledger: str
    seq: int
    journal: str
    number: int
    date: date
    label: str
    reference: str | None
    # (account number, signed minor units, label, third-party code)
    lines: tuple[tuple[str, int, str | None, str | None], ...]
    reverses: uuid.UUID | None
    fiscal_year: int
    document_date: dt.date
    validated_at: datetime | None
    version: int = SEAL_VERSION

    def encode(self, previous: str) -> bytes:
        """Return the bytes that are hashed: compact JSON with sorted keys, in UTF-8."""
        body: dict[str, Any] = {
            "ledger": self.ledger,
            "seq": self.seq,
            "journal": self.journal,
            "number": self.number,
            "date": self.date.isoformat(),
            "label": self.label,
            "reference": self.reference,
            "lines": [list(line[:3]) for line in self.lines],
            "reverses": str(self.reverses) if self.reverses is not None else None,
            "previous": previous,
        }
        if self.version >= 2:
            body |= {
                "v": self.version,
                "fiscal_year": self.fiscal_year,
                "document_date": self.document_date.isoformat(),
                "validated_at": (
                    instant_text(self.validated_at) if self.validated_at is not None else None
                ),
                "lines": [list(line) for line in self.lines],
            }
        text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return text.encode("utf-8")

    def digest(self, previous: str) -> str:
        """Return the hex SHA-256 of this entry chained to the hash of the one before it."""
        return hashlib.sha256(self.encode(previous)).hexdigest()


class ChainVerdict(NamedTuple):
    """What verifying a ledger's chain found."""

    ok: bool
    checked: int
    first_broken_seq: int | None


async def seal_pending(
    session: AsyncSession, *, now: datetime, limit: int = BATCH, wait: bool = False
) -> int:
    """Seal a batch of committed entries in every ledger that has some; return how many.

    The store runs this on the primary database only (never on the fallback), again while
    it seals something. A ledger another sealer holds is skipped, or waited for with `wait`.
    """
    sealed = 0
    for ledger_id in await repo.ledgers_with_unsealed(session):
        ledger = await ledger_repo.get_ledger_by_id(session, ledger_id)
        if ledger is not None:
            sealed += await seal_ledger(session, ledger, now=now, limit=limit, wait=wait)
    return sealed


async def seal_now(store: Store, *, within: float = 10.0) -> int:
    """Seal every entry committed so far, in every ledger; return how many (tests, the CLI).

    It waits for a sealer at work elsewhere rather than skip its ledger, and for entries that
    are committed but not yet sealable (a transaction anywhere on the server that began before
    they committed holds the horizon back), so that on return nothing committed before the
    call is left unsealed, unless `within` seconds pass. On the fallback it does nothing.
    """
    total = 0
    deadline = time.monotonic() + within
    while True:
        sealed = await store.on_primary(lambda s: seal_pending(s, now=store.clock.now(), wait=True))
        if sealed:
            total += sealed
            continue
        waiting = await store.on_primary(repo.ledgers_with_unsealed)
        if not waiting or time.monotonic() > deadline:
            return total
        await asyncio.sleep(0.02)


async def seal_ledger(
    session: AsyncSession, ledger: Ledger, *, now: datetime, limit: int, wait: bool = False
) -> int:
    """Seal up to `limit` of the ledger's committed entries, unless another sealer holds it."""
    if not await repo.lock_sealer(session, ledger.id, wait=wait):
        return 0
    entries = await repo.sealable_entries(session, ledger.id, limit)
    if not entries:
        return 0
    last = await repo.last_seal(session, ledger.id)
    seq, previous = (last.seq, last.hash) if last is not None else (0, GENESIS)
    numbers = await repo.last_numbers(session, {(e.journal_id, fiscal_year(e)) for e in entries})
    canonical = await _canonical(session, ledger, entries)
    seals: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        year = fiscal_year(entry)
        number = numbers[entry.journal_id, year] = numbers.get((entry.journal_id, year), 0) + 1
        previous = replace(canonical[entry.id], seq=seq, number=number).digest(previous)
        seals.append(
            {
                "id": entry.id,
                "seq": seq,
                "fiscal_year": year,
                "number": number,
                "hash": previous,
                "sealed_at": now,
                "seal_version": SEAL_VERSION,
            }
        )
    await repo.seal_entries(session, seals)
    # Sealed entries leave the unsealed part of every report for the day totals, at once.
    await rollup.fold(session, [seal["id"] for seal in seals])
    return len(seals)


async def verify_chain(
    session: AsyncSession, ledger_code: str, *, page: int = BATCH
) -> ChainVerdict:
    """Recompute the ledger's chain from its first entry; report the first seq that breaks it.

    An entry breaks the chain when its seq is not the next one, its fiscal year not the one
    its date falls in, its number not the next one of its journal and fiscal year, or its
    hash not that of its canonical form chained to the hash of the entry before it.
    """
    ledger = await ledger_service.get_ledger(session, ledger_code)
    years = await fiscal_repo.list_years(session, ledger.id)
    checked, expected_seq, previous = 0, 1, GENESIS
    numbers: dict[tuple[uuid.UUID, int | None], int] = {}
    while True:
        entries = await repo.sealed_entries(session, ledger.id, after_seq=checked, limit=page)
        if not entries:
            return ChainVerdict(ok=True, checked=checked, first_broken_seq=None)
        canonical = await _canonical(session, ledger, entries)
        for entry in entries:
            year = year_of(entry.entry_date, years)
            number = numbers[entry.journal_id, year] = numbers.get((entry.journal_id, year), 0) + 1
            form = replace(
                canonical[entry.id],
                seq=expected_seq,
                number=number,
                version=entry.seal_version or 1,
            )
            intact = (
                year is not None
                and entry.seq == expected_seq
                and entry.number == number
                and entry.fiscal_year == year
                and entry.hash == form.digest(previous)
            )
            checked += 1
            if not intact:
                return ChainVerdict(ok=False, checked=checked, first_broken_seq=expected_seq)
            assert entry.hash is not None
            previous = entry.hash
            expected_seq += 1


async def _canonical(
    session: AsyncSession, ledger: Ledger, entries: Sequence[Entry]
) -> dict[uuid.UUID, CanonicalEntry]:
    """Return the canonical form of each entry, its seq and number left at zero."""
    ids = [e.id for e in entries]
    journals = await repo.journal_codes(session, (e.journal_id for e in entries))
    lines: dict[uuid.UUID, list[tuple[str, int, str | None, str | None]]] = {
        entry_id: [] for entry_id in ids
    }
    for row in await repo.lines_of(session, ids):
        lines[row.entry_id].append((row.account, row.amount, row.label, row.third_party))
    return {
        e.id: CanonicalEntry(
            ledger=ledger.code,
            seq=0,
            journal=journals[e.journal_id],
            number=0,
            date=e.entry_date,
            label=e.label,
            reference=e.reference,
            lines=tuple(lines[e.id]),
            reverses=e.reverses_id,
            fiscal_year=fiscal_year(e),
            document_date=e.document_date or e.entry_date,
            validated_at=e.validated_at,
        )
        for e in entries
    }
