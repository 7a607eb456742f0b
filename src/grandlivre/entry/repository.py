"""Queries on entries and their lines."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    text,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from grandlivre.db.dialect import among, dialect_name, is_postgresql
from grandlivre.db.tables import (
    Account,
    Entry,
    EntryLine,
    FiscalPeriod,
    FiscalYear,
    IdempotencyKey,
    Journal,
    Ledger,
    ThirdParty,
)
from grandlivre.fiscal.repository import YearSpan
from grandlivre.store import EntryStatus

_ENTRIES = cast(Table, Entry.__table__)
_LINES = cast(Table, EntryLine.__table__)
_KEYS = cast(Table, IdempotencyKey.__table__)

# Bound parameters one statement may carry (asyncpg and SQLite allow 32767).
MAX_PARAMETERS = 30_000

# First key of the advisory locks that elect a ledger's sealer (the second is the ledger's);
# an arbitrary constant, apart from the migration lock, which takes a single bigint key.
SEALER_LOCK_CLASS = 0x5EA1


@dataclass(frozen=True)
class LineRow:
    """A line as read back, with its account number."""

    entry_id: uuid.UUID
    position: int
    account: str
    amount: int
    label: str | None
    third_party: str | None = None


@dataclass(frozen=True)
class StoredResponse:
    """The response stored for an Idempotency-Key."""

    fingerprint: str
    status_code: int
    body: str


@dataclass
class PostingContext:
    """What posting into a ledger needs to know, read in one query.

    The ledger, the journals, accounts and third parties the entries name (missing ones are
    absent), the response stored for the request's Idempotency-Key, which of the entry ids
    exist, the fiscal years that the entries' dates reach and which of their months are locked.
    """

    ledger_id: uuid.UUID
    code: str
    decimals: int
    journals: dict[str, uuid.UUID]
    accounts: dict[str, tuple[uuid.UUID, bool]]
    stored: StoredResponse | None
    existing: set[uuid.UUID]
    years: list[YearSpan] = field(default_factory=list)
    locked: set[date] = field(default_factory=set)
    # Third parties by code: (their id, the id of their collective account).
    parties: dict[str, tuple[uuid.UUID, uuid.UUID]] = field(default_factory=dict)
    collective: set[str] = field(default_factory=set)  # numbers of the collective accounts
    third_party_required: bool = False


def _row(
    kind: str,
    *,
    ref: Any = None,
    name: Any = None,
    flag: Any = None,
    num: Any = None,
    body: Any = None,
) -> Any:
    return select(
        literal(kind, String).label("kind"),
        (ref if ref is not None else null()).cast(Uuid).label("ref"),
        (name if name is not None else null()).cast(String).label("name"),
        (flag if flag is not None else null()).cast(Boolean).label("flag"),
        (num if num is not None else null()).cast(Integer).label("num"),
        (body if body is not None else null()).cast(Text).label("body"),
    )


@functools.cache
def _posting_context_query(with_key: bool, with_ids: bool) -> Any:
    # Built once per shape, with bound parameters, so that SQLAlchemy compiles it once.
    code = bindparam("code", type_=String)
    ledger = select(Ledger.id).where(Ledger.code == code).scalar_subquery()
    parts = [
        _row(
            "ledger",
            ref=Ledger.id,
            name=Ledger.code,
            flag=Ledger.third_party_required,
            num=Ledger.decimals,
        ).where(Ledger.code == code),
        _row("journal", ref=Journal.id, name=Journal.code).where(
            Journal.ledger_id == ledger, Journal.code.in_(bindparam("journals", expanding=True))
        ),
        _row(
            "account",
            ref=Account.id,
            name=Account.number,
            flag=Account.active,
            num=Account.collective.cast(Integer),
        ).where(
            Account.ledger_id == ledger,
            Account.number.in_(bindparam("accounts", expanding=True)),
        ),
        _row(
            "party",
            ref=ThirdParty.id,
            name=ThirdParty.code,
            body=ThirdParty.account_id.cast(String),
        ).where(
            ThirdParty.ledger_id == ledger,
            ThirdParty.code.in_(bindparam("parties", expanding=True)),
        ),
    ]
    parts.append(
        _row(
            "year",
            ref=FiscalYear.id,
            name=FiscalYear.status,
            num=FiscalYear.year,
            body=FiscalYear.start_date.cast(String) + " " + FiscalYear.end_date.cast(String),
        ).where(
            FiscalYear.ledger_id == ledger,
            FiscalYear.end_date >= bindparam("first_day", type_=Date),
            FiscalYear.start_date <= bindparam("last_day", type_=Date),
        )
    )
    parts.append(
        _row("locked", body=FiscalPeriod.month.cast(String)).where(
            FiscalPeriod.ledger_id == ledger,
            FiscalPeriod.month.in_(bindparam("months", expanding=True, type_=Date)),
            FiscalPeriod.locked_at.is_not(None),
        )
    )
    if with_key:
        parts.append(
            _row(
                "stored",
                name=IdempotencyKey.fingerprint,
                num=IdempotencyKey.status_code,
                body=IdempotencyKey.response_body,
            ).where(
                IdempotencyKey.scope == bindparam("scope"), IdempotencyKey.key == bindparam("key")
            )
        )
    if with_ids:
        parts.append(
            _row("entry", ref=Entry.id).where(Entry.id.in_(bindparam("ids", expanding=True)))
        )
    return union_all(*parts)


# The same rows as `_posting_context_query`, for every shape at once: no Idempotency-Key
# binds NULLs (no row matches), no entry id an empty array.
_POSTING_CONTEXT_POSTGRESQL = """
WITH ledger AS (SELECT id, code, decimals, third_party_required FROM ledgers WHERE code = $1)
SELECT 'ledger', id, code, third_party_required, decimals, NULL::text FROM ledger
UNION ALL
SELECT 'journal', j.id, j.code, NULL, NULL, NULL FROM journals j JOIN ledger ON j.ledger_id = ledger.id
WHERE j.code = ANY($2::varchar[])
UNION ALL
SELECT 'account', a.id, a.number, a.active, a.collective::int, NULL FROM accounts a JOIN ledger ON a.ledger_id = ledger.id
WHERE a.number = ANY($3::varchar[])
UNION ALL
SELECT 'party', t.id, t.code, NULL, NULL, t.account_id::text FROM third_parties t JOIN ledger ON t.ledger_id = ledger.id
WHERE t.code = ANY($10::varchar[])
UNION ALL
SELECT 'stored', NULL, k.fingerprint, NULL, k.status_code, k.response_body FROM idempotency_keys k
WHERE k.scope = $4::varchar AND k.key = $5::varchar
UNION ALL
SELECT 'entry', e.id, NULL, NULL, NULL, NULL FROM entries e WHERE e.id = ANY($6::uuid[])
UNION ALL
SELECT 'year', y.id, y.status, NULL, y.year, y.start_date::text || ' ' || y.end_date::text
FROM fiscal_years y JOIN ledger ON y.ledger_id = ledger.id
WHERE y.end_date >= $7::date AND y.start_date <= $8::date
UNION ALL
SELECT 'locked', NULL, NULL, NULL, NULL, p.month::text FROM fiscal_periods p JOIN ledger ON p.ledger_id = ledger.id
WHERE p.month = ANY($9::date[]) AND p.locked_at IS NOT NULL
"""  # noqa: E501


async def posting_context(
    session: AsyncSession,
    ledger_code: str,
    *,
    journals: Iterable[str],
    accounts: Iterable[str],
    dates: Iterable[date],
    parties: Iterable[str] = (),
    idempotency: tuple[str, str] | None = None,
    entry_ids: Iterable[uuid.UUID] = (),
) -> PostingContext | None:
    """Read everything a posting checks in one round trip; None when the ledger is unknown."""
    wanted = sorted(set(entry_ids))
    days = set(dates)
    months = sorted({day.replace(day=1) for day in days})
    params: dict[str, Any] = {
        "code": ledger_code,
        "journals": sorted(set(journals)),
        "accounts": sorted(set(accounts)),
        "parties": sorted(set(parties)),
        "first_day": min(days),
        "last_day": max(days),
        "months": months,
    }
    if idempotency is not None:
        params["scope"], params["key"] = idempotency
    if wanted:
        params["ids"] = wanted
    conn = await session.connection()
    if is_postgresql(session):
        # Fixed text, arrays for the lists: prepared once per connection, nothing compiled
        # or expanded per request (docs/performance.md).
        rows = await conn.exec_driver_sql(
            _POSTING_CONTEXT_POSTGRESQL,
            (
                ledger_code,
                params["journals"],
                params["accounts"],
                *(idempotency if idempotency is not None else (None, None)),
                wanted,
                params["first_day"],
                params["last_day"],
                months,
                params["parties"],
            ),
        )
    else:
        query = _posting_context_query(idempotency is not None, bool(wanted))
        # On the session's connection: Core statements need none of the ORM's execution
        # machinery (a tenth of the posting's CPU under load, docs/performance.md).
        rows = await conn.execute(query, params)
    found: PostingContext | None = None
    rest: list[tuple[Any, ...]] = []
    for row in rows:
        kind, ref, name, flag, num, body = cast(tuple[Any, ...], row)
        if kind == "ledger":
            found = PostingContext(ref, name, num, {}, {}, None, set())
            found.third_party_required = bool(flag)
        else:
            rest.append((kind, ref, name, flag, num, body))
    if found is None:
        return None
    for kind, ref, name, flag, num, body in rest:
        if kind == "journal":
            found.journals[name] = ref
        elif kind == "account":
            found.accounts[name] = (ref, bool(flag))
            if num:
                found.collective.add(name)
        elif kind == "party":
            found.parties[name] = (ref, uuid.UUID(body))
        elif kind == "year":
            start, end = body.split(" ")
            found.years.append(
                YearSpan(num, date.fromisoformat(start), date.fromisoformat(end), name)
            )
        elif kind == "locked":
            found.locked.add(date.fromisoformat(body))
        elif kind == "stored":
            found.stored = StoredResponse(name, num, body)
        else:
            found.existing.add(ref)
    return found


# PostgreSQL: one statement of fixed text for any number of entries, whose columns travel as
# arrays. asyncpg prepares it once per connection and SQLAlchemy compiles nothing: a
# multi-row VALUES was compiled anew for each request (15 % of a worker's CPU under load,
# docs/performance.md), and had to be split at the drivers' limit of bound parameters.
_ENTRY_COLUMNS = (
    "id",
    "ledger_id",
    "journal_id",
    "entry_date",
    "fiscal_year",
    "document_date",
    "label",
    "reference",
    "status",
    "origin",
    "created_at",
    "validated_at",
    "reverses_id",
    "role",
)
_ENTRY_TYPES = (
    "uuid", "uuid", "uuid", "date", "int2", "date", "varchar", "varchar", "varchar", "varchar",
    "timestamptz", "timestamptz", "uuid", "varchar",
)  # fmt: skip
_LINE_COLUMNS = ("entry_id", "position", "account_id", "amount", "label", "third_party_id")
_LINE_TYPES = ("uuid", "int2", "uuid", "int8", "varchar", "uuid")
_KEY_COLUMNS = ("scope", "key", "fingerprint", "status_code", "response_body", "created_at")
_KEY_TYPES = ("varchar", "varchar", "varchar", "int4", "text", "timestamptz")


def _unnest(columns: Sequence[str], types: Sequence[str], first: int) -> str:
    arrays = ", ".join(f"${first + n}::{kind}[]" for n, kind in enumerate(types))
    # Built once at import from the constants above: no input reaches the text.
    return f"({', '.join(columns)}) SELECT * FROM unnest({arrays})"  # noqa: S608


def _insert_statement(with_key: bool) -> str:
    entries = _unnest(_ENTRY_COLUMNS, _ENTRY_TYPES, 1)
    lines = _unnest(_LINE_COLUMNS, _LINE_TYPES, 1 + len(_ENTRY_COLUMNS))
    ctes = [f"new_entries AS (INSERT INTO entries {entries})"]
    if with_key:
        first = 1 + len(_ENTRY_COLUMNS) + len(_LINE_COLUMNS)
        values = ", ".join(f"${first + n}::{kind}" for n, kind in enumerate(_KEY_TYPES))
        columns = ", ".join(_KEY_COLUMNS)
        keys = f"INSERT INTO idempotency_keys ({columns}) VALUES ({values})"  # noqa: S608
        ctes.append(f"new_key AS ({keys})")
    return f"WITH {', '.join(ctes)} INSERT INTO entry_lines {lines}"


_INSERT_POSTGRESQL = {with_key: _insert_statement(with_key) for with_key in (False, True)}


async def insert_entries(
    session: AsyncSession,
    entries: Sequence[dict[str, Any]],
    lines: Sequence[dict[str, Any]],
    idempotency: dict[str, Any] | None = None,
) -> None:
    """Insert entries, their lines and the response to an Idempotency-Key, in one statement
    on PostgreSQL (data-modifying CTEs over arrays), in two or three on SQLite.

    A concurrent twin (same entry id, same key, a reversal of the same entry) makes this raise
    IntegrityError; the store then runs the unit again, which sees the winner.
    """
    if not entries:
        return
    conn = await session.connection()
    if is_postgresql(session):
        if entries[0].keys() != set(_ENTRY_COLUMNS) or lines[0].keys() != set(_LINE_COLUMNS):
            raise ValueError("insert_entries: rows do not have the columns the statement binds")
        arguments: list[Any] = [[row[c] for row in entries] for c in _ENTRY_COLUMNS]
        arguments += [[row[c] for row in lines] for c in _LINE_COLUMNS]
        if idempotency is not None:
            arguments += [idempotency[c] for c in _KEY_COLUMNS]
        await conn.exec_driver_sql(_INSERT_POSTGRESQL[idempotency is not None], tuple(arguments))
        return
    # Core inserts on the tables: the ORM's bulk path costs more Python per row than the
    # round trip it saves (py-spy, docs/performance.md). SQLite has no data-modifying CTE:
    # one statement per table, its rows as an executemany (the driver's own loop, one call
    # into its thread); a multi-row VALUES costs SQLAlchemy a compile per bound parameter,
    # most of an import's time on SQLite.
    for table, rows in ((_ENTRIES, entries), (_LINES, lines)):
        await conn.execute(insert(table), list(rows))
    if idempotency is not None:
        await conn.execute(insert(_KEYS).values(idempotency))


# A whole posting in one statement, for an autocommit connection: it checks what the posting
# context would (the ledger and its currency's decimals, the journal, every account known and
# active, the Idempotency-Key not answered yet) and writes the entry, its lines and the stored
# answer only if all of that holds. It returns whether it wrote; when it did not, nothing was
# written and the caller posts in a transaction, which tells why. The fiscal year given (from a
# hint) is checked by the trigger of migration 0009, with the period: a wrong one, a closed
# year or a locked month makes the statement fail, and the transaction path answer.
_POST_AT_ONCE_POSTGRESQL = """
WITH ledger AS (
    SELECT id, third_party_required FROM ledgers WHERE code = $1::varchar AND decimals = $2::int2
), journal AS (
    SELECT j.id FROM journals j JOIN ledger ON j.ledger_id = ledger.id WHERE j.code = $3::varchar
), line AS (
    SELECT w.position, a.id AS account_id, w.amount, w.label, a.collective
    FROM unnest($11::varchar[], $12::int8[], $13::varchar[])
        WITH ORDINALITY AS w(number, amount, label, position)
    JOIN accounts a ON a.number = w.number AND a.active
    JOIN ledger ON a.ledger_id = ledger.id
), ok AS (
    SELECT (SELECT count(*) FROM line) = cardinality($11::varchar[])
        AND EXISTS (SELECT FROM journal)
        AND NOT (
            (SELECT third_party_required FROM ledger) AND EXISTS (SELECT FROM line WHERE collective)
        )
        AND NOT EXISTS (
            SELECT FROM idempotency_keys k WHERE k.scope = $14::varchar AND k.key = $15::varchar
        ) AS ok
), new_entry AS (
    INSERT INTO entries (id, ledger_id, journal_id, entry_date, fiscal_year, document_date,
                         label, reference, status, origin, created_at, validated_at,
                         reverses_id)
    SELECT $4::uuid, ledger.id, journal.id, $5::date, $19::int2, $20::date, $6::varchar,
           $7::varchar, $8::varchar, $9::varchar, $10::timestamptz, $10::timestamptz, NULL
    FROM ledger, journal, ok WHERE ok.ok
), new_lines AS (
    INSERT INTO entry_lines (entry_id, position, account_id, amount, label)
    SELECT $4::uuid, (line.position - 1)::int2, line.account_id, line.amount, line.label
    FROM line, ok WHERE ok.ok
), new_key AS (
    INSERT INTO idempotency_keys (scope, key, fingerprint, status_code, response_body,
                                  created_at)
    SELECT $14::varchar, $15::varchar, $16::varchar, $17::int4, $18::text, $10::timestamptz
    FROM ok WHERE ok.ok AND $14::varchar IS NOT NULL
)
SELECT ok FROM ok
"""


async def post_at_once(
    conn: AsyncConnection,
    entry: dict[str, Any],
    lines: Sequence[tuple[str, int, str | None]],
    idempotency: dict[str, Any] | None,
) -> bool:
    """Post one entry in one statement on PostgreSQL, if every check of the posting context
    passes; return whether it did. `entry` names the ledger by `ledger` (its code) with its
    `decimals` and the journal by `journal` (its code); `lines` are (account number, signed
    minor units, label)."""
    key = idempotency or {}
    rows = await conn.exec_driver_sql(
        _POST_AT_ONCE_POSTGRESQL,
        (
            entry["ledger"],
            entry["decimals"],
            entry["journal"],
            entry["id"],
            entry["entry_date"],
            entry["label"],
            entry["reference"],
            entry["status"],
            entry["origin"],
            entry["created_at"],
            [number for number, _, _ in lines],
            [amount for _, amount, _ in lines],
            [label for _, _, label in lines],
            *(key.get(c) for c in _KEY_COLUMNS[:5]),
            entry["fiscal_year"],
            entry["document_date"],
        ),
    )
    return bool(rows.scalar_one())


async def get_entry(
    session: AsyncSession, ledger_id: uuid.UUID, entry_id: uuid.UUID
) -> Entry | None:
    """Return the entry of the ledger with that id, if any."""
    result = await session.execute(
        select(Entry).where(Entry.ledger_id == ledger_id, Entry.id == entry_id)
    )
    return result.scalar_one_or_none()


async def entries_by_ids(
    session: AsyncSession, ledger_id: uuid.UUID, entry_ids: Sequence[uuid.UUID]
) -> Sequence[Entry]:
    """Return the ledger's entries among these ids, in (date, id) order."""
    result = await session.execute(
        select(Entry)
        .where(Entry.ledger_id == ledger_id, among(Entry.id, entry_ids, dialect_name(session)))
        .order_by(Entry.entry_date, Entry.id)
    )
    return result.scalars().all()


async def get_entry_by_id(session: AsyncSession, entry_id: uuid.UUID) -> Entry | None:
    """Return the entry with that id in any ledger, if any."""
    return await session.get(Entry, entry_id)


async def delete_entry(session: AsyncSession, entry_id: uuid.UUID) -> None:
    """Delete an entry and its lines."""
    await session.execute(delete(EntryLine).where(EntryLine.entry_id == entry_id))
    await session.execute(delete(Entry).where(Entry.id == entry_id))


async def update_draft(
    session: AsyncSession,
    entry_id: uuid.UUID,
    values: dict[str, Any],
    lines: Sequence[dict[str, Any]],
) -> bool:
    """Rewrite a draft and replace its lines; False if it is no longer a draft.

    The update only matches while the row is a draft, so a validation that committed meanwhile
    wins; a concurrent edit waits on the row lock, then rewrites it in turn.
    """
    result = await session.execute(
        update(Entry)
        .where(Entry.id == entry_id, Entry.status == EntryStatus.draft)
        .values(values)
        .returning(Entry.id)
    )
    if result.first() is None:
        return False
    await session.execute(delete(EntryLine).where(EntryLine.entry_id == entry_id))
    await session.execute(insert(_LINES).values(list(lines)))
    return True


async def delete_draft(session: AsyncSession, entry_id: uuid.UUID) -> bool:
    """Delete a draft and its lines; False if it is no longer a draft (or gone)."""
    result = await session.execute(
        select(Entry.id)
        .where(Entry.id == entry_id, Entry.status == EntryStatus.draft)
        .with_for_update()
    )
    if result.first() is None:
        return False
    await delete_entry(session, entry_id)
    return True


async def validate_drafts(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID], *, status: str, now: datetime
) -> int:
    """Make drafts permanent, validated at `now`; return how many were still drafts (one
    that a validation committed meanwhile is not validated again).

    A draft's fiscal year was set when it was written (a year's bounds never change).
    """
    validated = 0
    for start in range(0, len(entry_ids), MAX_PARAMETERS):
        result = await session.execute(
            update(Entry)
            .where(
                among(Entry.id, entry_ids[start : start + MAX_PARAMETERS], dialect_name(session)),
                Entry.status == EntryStatus.draft,
            )
            .values(status=status, validated_at=now)
            .returning(Entry.id)
        )
        validated += len(result.all())
    return validated


async def drafts_up_to(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    date_to: date,
    journal_id: uuid.UUID | None,
    limit: int,
) -> tuple[list[uuid.UUID], int]:
    """Return the ids of up to `limit` drafts dated up to `date_to`, in (date, id) order, and
    how many such drafts there are in all."""
    where = [
        Entry.ledger_id == ledger_id,
        Entry.status == EntryStatus.draft,
        Entry.entry_date <= date_to,
    ]
    if journal_id is not None:
        where.append(Entry.journal_id == journal_id)
    ids = await session.execute(
        select(Entry.id).where(*where).order_by(Entry.entry_date, Entry.id).limit(limit)
    )
    total = await session.execute(select(func.count()).select_from(Entry).where(*where))
    return list(ids.scalars()), int(total.scalar_one())


async def journal_codes(
    session: AsyncSession, journal_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, str]:
    """Return journal codes by id."""
    result = await session.execute(
        select(Journal.id, Journal.code).where(
            among(Journal.id, set(journal_ids), dialect_name(session))
        )
    )
    return {row.id: row.code for row in result}


async def lines_of(session: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> list[LineRow]:
    """Return the lines of the entries, in entry and position order."""
    result = await session.execute(
        select(
            EntryLine.entry_id,
            EntryLine.position,
            Account.number,
            EntryLine.amount,
            EntryLine.label,
            ThirdParty.code,
        )
        .join(Account, Account.id == EntryLine.account_id)
        .outerjoin(ThirdParty, ThirdParty.id == EntryLine.third_party_id)
        .where(among(EntryLine.entry_id, entry_ids, dialect_name(session)))
        .order_by(EntryLine.entry_id, EntryLine.position)
    )
    return [LineRow(r.entry_id, r.position, r.number, r.amount, r.label, r.code) for r in result]


async def reversals_of(
    session: AsyncSession, entry_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """Return, for each entry that has been reversed, the id of its reversal."""
    result = await session.execute(
        select(Entry.reverses_id, Entry.id).where(
            among(Entry.reverses_id, entry_ids, dialect_name(session))
        )
    )
    return {row.reverses_id: row.id for row in result}


async def list_entries(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    *,
    date_from: date | None,
    date_to: date | None,
    journal_id: uuid.UUID | None,
    account_id: uuid.UUID | None,
    status: str | None = None,
    after: tuple[date, uuid.UUID] | None,
    limit: int,
) -> Sequence[Entry]:
    """Return a page of entries in (date, id) order, filtered."""
    query = (
        select(Entry)
        .where(Entry.ledger_id == ledger_id)
        .order_by(Entry.entry_date, Entry.id)
        .limit(limit)
    )
    if date_from is not None:
        query = query.where(Entry.entry_date >= date_from)
    if date_to is not None:
        query = query.where(Entry.entry_date <= date_to)
    if journal_id is not None:
        query = query.where(Entry.journal_id == journal_id)
    if status is not None:
        query = query.where(Entry.status == status)
    if account_id is not None:
        query = query.where(
            exists().where(EntryLine.entry_id == Entry.id, EntryLine.account_id == account_id)
        )
    if after is not None:
        query = query.where(tuple_(Entry.entry_date, Entry.id) > tuple_(*after))
    return (await session.execute(query)).scalars().all()


# -- sealing (see entry/sealer.py) ------------------------------------------------------------


@dataclass(frozen=True)
class LastSeal:
    """The newest sealed entry of a ledger: where its chain goes on."""

    seq: int
    hash: str


# What the sealer has yet to seal: validated entries without a seq (drafts are never sealed), as
# the partial index ix_entries_unsealed holds them. The status is written into the statement,
# not bound: PostgreSQL only matches a partial index to a predicate it can read.
_SEALER_WORK = (Entry.seq.is_(None), Entry.status != literal_column("'draft'"))


async def lock_sealer(session: AsyncSession, ledger_id: uuid.UUID, *, wait: bool) -> bool:
    """Become the ledger's sealer until this transaction ends; False if another one is.

    On PostgreSQL a transaction-level advisory lock elects one sealer among every process and
    replica; `wait` queues behind the current one instead of giving up. On SQLite the write
    transaction (BEGIN IMMEDIATE) already shuts out every other writer, other sealers too.
    """
    if not is_postgresql(session):
        return True
    if wait:
        await session.execute(
            text("SELECT pg_advisory_xact_lock(:lock_class, hashtext(:ledger))"),
            {"lock_class": SEALER_LOCK_CLASS, "ledger": str(ledger_id)},
        )
        return True
    result = await session.execute(
        text("SELECT pg_try_advisory_xact_lock(:lock_class, hashtext(:ledger))"),
        {"lock_class": SEALER_LOCK_CLASS, "ledger": str(ledger_id)},
    )
    return bool(result.scalar_one())


async def ledgers_with_unsealed(session: AsyncSession) -> list[uuid.UUID]:
    """Return the ids of the ledgers that hold entries not sealed yet."""
    # One look-up per ledger in the (ledger_id, seq) index, where unsealed entries sit
    # together, rather than a scan of every entry: this runs every probe interval.
    unsealed = exists().where(Entry.ledger_id == Ledger.id, *_SEALER_WORK)
    result = await session.execute(select(Ledger.id).where(unsealed))
    return list(result.scalars())


async def sealable_entries(
    session: AsyncSession, ledger_id: uuid.UUID, limit: int
) -> Sequence[Entry]:
    """Return up to `limit` unsealed entries that are certainly committed, in commit order.

    PostgreSQL: only entries stamped with a transaction id below the oldest transaction still
    running (the xmin of this statement's snapshot). Every transaction below that line has
    ended, and any transaction yet to write gets a larger id, so no entry can ever appear
    below it later: once sealed in (txid, id) order, nothing committed afterwards sorts
    before. For transactions that overlapped, txid order stands in for their commit order.

    SQLite: the caller holds the write lock (BEGIN IMMEDIATE), so every entry it sees is
    committed and none is being written. Writers take turns, and each new row gets a rowid
    above every row in the table, so rowid order is the order entries were committed in
    (entries are never deleted where the sealer runs; a rolled-back rowid is simply reused).
    `created_at` would not do: it is taken before the write waits for the lock.
    """
    query = select(Entry).where(Entry.ledger_id == ledger_id, *_SEALER_WORK).limit(limit)
    if is_postgresql(session):
        horizon = literal_column(
            "pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger
        )
        query = query.where(
            # Rows written before the stamping trigger existed carry no txid: oldest of all.
            or_(Entry.txid.is_(None), Entry.txid < horizon)
        ).order_by(Entry.txid.asc().nulls_first(), Entry.id)
    else:
        query = query.order_by(text("entries.rowid"))
    return (await session.execute(query)).scalars().all()


async def last_seal(session: AsyncSession, ledger_id: uuid.UUID) -> LastSeal | None:
    """Return the seq and hash of the ledger's newest sealed entry, if any."""
    result = await session.execute(
        select(Entry.seq, Entry.hash)
        .where(Entry.ledger_id == ledger_id, Entry.seq.is_not(None))
        .order_by(Entry.seq.desc())
        .limit(1)
    )
    row = result.first()
    if row is None or row.seq is None or row.hash is None:
        return None
    return LastSeal(row.seq, row.hash)


async def last_numbers(
    session: AsyncSession, keys: Iterable[tuple[uuid.UUID, int]]
) -> dict[tuple[uuid.UUID, int], int]:
    """Return the highest number given so far in each (journal id, fiscal year) asked for."""
    wanted = set(keys)
    if not wanted:
        return {}
    dialect = dialect_name(session)
    result = await session.execute(
        select(Entry.journal_id, Entry.fiscal_year, func.max(Entry.number))
        .where(
            among(Entry.journal_id, {journal for journal, _ in wanted}, dialect),
            among(Entry.fiscal_year, {year for _, year in wanted}, dialect, SmallInteger()),
        )
        .group_by(Entry.journal_id, Entry.fiscal_year)
    )
    last: dict[tuple[uuid.UUID, int], int] = {}
    for journal_id, year, number in result:
        if year is not None and number is not None and (journal_id, year) in wanted:
            last[journal_id, year] = number
    return last


# One statement for a whole batch of seals on PostgreSQL, its columns as arrays.
_SEAL_POSTGRESQL = """
UPDATE entries SET seq = s.seq, fiscal_year = s.fiscal_year, number = s.number, hash = s.hash,
       sealed_at = s.sealed_at, seal_version = s.seal_version
FROM unnest($1::uuid[], $2::int8[], $3::int2[], $4::int4[], $5::varchar[], $6::timestamptz[],
            $7::int2[])
     AS s(id, seq, fiscal_year, number, hash, sealed_at, seal_version)
WHERE entries.id = s.id
"""
_SEAL_COLUMNS = ("id", "seq", "fiscal_year", "number", "hash", "sealed_at", "seal_version")


async def seal_entries(session: AsyncSession, seals: Sequence[dict[str, Any]]) -> None:
    """Write the seal columns of entries, one dict per entry with its `id`."""
    if not seals:
        return
    if is_postgresql(session):
        conn = await session.connection()
        arrays = tuple([seal[column] for seal in seals] for column in _SEAL_COLUMNS)
        await conn.exec_driver_sql(_SEAL_POSTGRESQL, arrays)
        return
    await session.execute(update(Entry), list(seals))


async def sealed_entries(
    session: AsyncSession, ledger_id: uuid.UUID, *, after_seq: int, limit: int
) -> Sequence[Entry]:
    """Return up to `limit` sealed entries of the ledger after `after_seq`, in seq order."""
    result = await session.execute(
        select(Entry)
        .where(Entry.ledger_id == ledger_id, Entry.seq > after_seq)
        .order_by(Entry.seq)
        .limit(limit)
    )
    return result.scalars().all()
