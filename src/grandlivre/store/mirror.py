"""The mirror: copies what PostgreSQL committed into the SQLite fallback, incrementally.

Rows are not copied by id ("greater than the last one copied" misses a transaction that took a
lower id and committed later) but by transaction id: a trigger stamps every written row with
its transaction's id, and each round copies the rows stamped below the oldest transaction still
running when the round's snapshot was taken. Everything below that line has finished, so
nothing can appear there later; what lies above is copied by a later round. Updates (a renamed
account, a revoked key) are stamped too and copied like inserts; deletions are recorded by a
trigger and applied.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Table,
    Uuid,
    delete,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from grandlivre.db import rollup
from grandlivre.db.dialect import among
from grandlivre.db.tables import (
    Account,
    ApiKey,
    Deletion,
    Entry,
    EntryLine,
    FiscalPeriod,
    FiscalYear,
    IdempotencyKey,
    Journal,
    Ledger,
    Match,
    MatchedLine,
    MirrorState,
    ThirdParty,
)
from grandlivre.store.engine import SQLITE_BEGIN
from grandlivre.store.operations import EntryStatus

# Parents before children, so that every row finds what it refers to.
MIRRORED_TABLES: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[misc]
    for model in (
        Ledger,
        FiscalYear,
        FiscalPeriod,
        Journal,
        Account,
        ThirdParty,
        ApiKey,
        Entry,
        EntryLine,
        Match,
        MatchedLine,
        IdempotencyKey,
    )
)
# Unique keys other than the primary key: a local row that holds one under another id (written
# on the fallback, then resolved differently on PostgreSQL) gives way to PostgreSQL's row.
NATURAL_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "ledgers": (("code",),),
    "fiscal_years": (("ledger_id", "year"),),
    "fiscal_periods": (("ledger_id", "month"),),
    "accounts": (("ledger_id", "number"),),
    "third_parties": (("ledger_id", "code"),),
    "journals": (("ledger_id", "code"),),
    "api_keys": (("key_hash",),),
    "entries": (("reverses_id",), ("ledger_id", "seq"), ("journal_id", "fiscal_year", "number")),
    "matches": (("account_id", "code"),),
}
# Natural keys that hold among live rows only (a partial unique index): the column whose value
# takes a row out of them. A match's code is unique among the live matches of its account.
RETIRED_BY: dict[str, str] = {"matches": "unmatched_at"}
# References that a row giving way releases (sets null) rather than points at PostgreSQL's row:
# the lines of a local match that lost its code are not lines of the match that won it.
RELEASED: frozenset[tuple[str, str]] = frozenset({("matched_lines", "match_id")})
BATCH = 5000
STATE_ID = 1
DEFAULT_CHUNK_ROWS = 5000
# The order of a pass: lines travel with their entry (see `_entries_chunk`); deletions last.
PASS_ORDER: tuple[Table, ...] = (
    *(t for t in MIRRORED_TABLES if t.name != "entry_lines"),
    Deletion.__table__,  # type: ignore[arg-type]
)
_BY_NAME: dict[str, Table] = {t.name: t for t in (*MIRRORED_TABLES, *PASS_ORDER)}
_MIRRORED_BY_NAME: dict[str, Table] = {t.name: t for t in MIRRORED_TABLES}


@dataclass(frozen=True)
class SyncResult:
    """What one round copied, and how far the mirror now reaches."""

    rows: int
    deletions: int
    watermark: int
    synced_at: datetime | None
    # The pass (every row below `watermark`) ended in this round; False: a later round goes on.
    done: bool = True
    first_copy_completed: bool = False
    table: str | None = None


@dataclass(frozen=True)
class Progress:
    """Whether the mirror ever completed a full copy of its PostgreSQL, and how far it got."""

    complete: bool
    complete_at: datetime | None
    rows_copied: int
    rows_estimate: int | None


async def read_state(conn: AsyncConnection) -> MirrorState | None:
    """Return the mirror's position, if it ever synced."""
    result = await conn.execute(select(MirrorState.__table__).where(MirrorState.id == STATE_ID))
    row = result.mappings().first()
    return MirrorState(**row) if row else None


def progress_of(state: MirrorState | None) -> Progress:
    """Tell from the state row whether the mirror is a complete copy."""
    if state is None:
        return Progress(complete=False, complete_at=None, rows_copied=0, rows_estimate=None)
    return Progress(
        complete=state.complete_at is not None,
        complete_at=state.complete_at,
        rows_copied=int(state.first_copy_rows or 0),
        rows_estimate=state.first_copy_estimate,
    )


@dataclass
class _Pass:
    low: int
    horizon: int
    table: int
    key: list[Any] | None
    complete_at: datetime | None
    first_rows: int
    estimate: int | None


async def sync_once(
    primary: AsyncEngine,
    fallback: AsyncEngine,
    now: datetime,
    *,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> SyncResult:
    """Copy into SQLite at most `chunk_rows` rows PostgreSQL committed since the last pass.

    A pass copies the rows stamped in [watermark, horizon), table by table, keyset-paginated
    on (txid, primary key); its position is saved with each chunk, in the chunk's transaction,
    so that a restarted process goes on where the last one stopped.
    """
    chunk_rows = max(1, chunk_rows)
    async with fallback.connect() as local:
        state = await read_state(local)
        async with primary.connect() as remote:
            await remote.execution_options(isolation_level="REPEATABLE READ")
            async with remote.begin():
                xmin, source = (
                    await remote.execute(
                        text(
                            "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                            "(SELECT system_identifier::text FROM pg_control_system()) "
                            "|| '/' || current_database()"
                        )
                    )
                ).one()
                run = await _resume(remote, state, source, int(xmin))
                copied: dict[str, list[dict[str, Any]]] = {}
                deleted: list[dict[str, Any]] = []
                budget = chunk_rows
                table_name: str | None = None
                while run.table < len(PASS_ORDER) and budget > 0:
                    table = PASS_ORDER[run.table]
                    table_name = table.name
                    if table.name == "entries":
                        rows, lines, exhausted = await _entries_chunk(
                            remote, run, budget, fits_one=budget == chunk_rows
                        )
                        copied.setdefault("entry_lines", []).extend(lines)
                        taken = len(rows) + len(lines)
                    else:
                        rows = await _chunk(remote, table, run, budget)
                        exhausted = len(rows) < budget
                        taken = len(rows)
                    if table is Deletion.__table__:
                        deleted.extend(rows)
                    else:
                        copied.setdefault(table.name, []).extend(rows)
                    if rows:
                        run.key = _key_of(table, rows[-1])
                    if exhausted:
                        run.table += 1
                        run.key = None
                        budget -= taken
                    elif not rows:
                        budget = 0  # the next entry does not fit in what is left of this round
                    else:
                        budget -= taken
                parents = await _missing_parents(remote, local, copied)
        for name, rows in parents.items():
            copied.setdefault(name, []).extend(rows)
    done = run.table >= len(PASS_ORDER)
    rows_copied = sum(len(rows) for rows in copied.values())
    first_completed = done and run.complete_at is None
    if run.complete_at is None:
        run.first_rows += rows_copied + len(deleted)
    if first_completed:
        run.complete_at = now
    async with fallback.connect() as local:
        await local.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        async with local.begin():
            await local.execute(text("PRAGMA defer_foreign_keys = ON"))
            # The fallback's day totals hold its sealed entries: those sealed on PostgreSQL and
            # new here are folded in with this chunk, in its transaction (db/rollup.py).
            entry_rows = copied.get("entries", [])
            gone = [row["row_id"] for row in deleted if row["table_name"] == "entries"]
            counted = await _sealed_here(local, [row["id"] for row in entry_rows] + gone)
            sealed = {row["id"] for row in entry_rows if row["seq"] is not None}
            await rollup.fold(local, counted - sealed, sign=-1)
            await _drop_draft_lines(local, entry_rows)
            for table in MIRRORED_TABLES:
                await _upsert(local, table, copied.get(table.name, []))
            for row in deleted:
                target = _MIRRORED_BY_NAME.get(row["table_name"])
                if target is None:
                    continue
                if target.name == "entries":  # a deleted draft: its lines go with it
                    await local.execute(
                        delete(EntryLine).where(EntryLine.entry_id == row["row_id"])
                    )
                await local.execute(delete(target).where(target.c.id == row["row_id"]))
            await rollup.fold(local, sealed - counted)
            await _save_state(local, source, run, done=done, now=now)
    return SyncResult(
        rows=rows_copied,
        deletions=len(deleted),
        watermark=run.horizon if done else run.low,
        synced_at=now if done else None,
        done=done,
        first_copy_completed=first_completed,
        table=table_name,
    )


async def _resume(
    remote: AsyncConnection, state: MirrorState | None, source: str, xmin: int
) -> _Pass:
    """Go on with the pass under way, or start the next one (the first, for a new source)."""
    fresh = state is None or state.source != source
    if state is not None and not fresh and state.pass_horizon is not None:
        names = [t.name for t in PASS_ORDER]
        return _Pass(
            low=state.watermark,
            horizon=state.pass_horizon,
            table=names.index(state.pass_table) if state.pass_table in names else 0,
            key=json.loads(state.pass_key) if state.pass_key else None,
            complete_at=state.complete_at,
            first_rows=int(state.first_copy_rows or 0),
            estimate=state.first_copy_estimate,
        )
    complete_at = None if fresh or state is None else state.complete_at
    return _Pass(
        low=0 if fresh or state is None else state.watermark,
        horizon=xmin,
        table=0,
        key=None,
        complete_at=complete_at,
        first_rows=0 if fresh or state is None else int(state.first_copy_rows or 0),
        estimate=await _estimate(remote) if complete_at is None else state.first_copy_estimate,  # type: ignore[union-attr]
    )


async def _estimate(remote: AsyncConnection) -> int | None:
    """PostgreSQL's own estimate of the rows a first copy copies (None if it has none).

    The planner's count where the table was analysed, else the statistics' live tuples (kept
    up to date on every commit), never a count(*) over the books.
    """
    total = (
        await remote.execute(
            text(
                "SELECT sum(CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint "
                "ELSE s.n_live_tup END)::bigint "
                "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
                "WHERE c.oid = ANY(SELECT to_regclass(name) "
                "FROM unnest(CAST(:names AS text[])) name)"
            ),
            {"names": [t.name for t in MIRRORED_TABLES]},
        )
    ).scalar()
    return int(total) if total else None


def _pk(table: Table) -> list[Any]:
    return list(table.primary_key.columns)


def _key_of(table: Table, row: dict[str, Any]) -> list[Any]:
    """The position after `row`, as JSON: [txid, *primary key]."""
    return [row["txid"], *(_plain(row[c.name]) for c in _pk(table))]


def _plain(value: Any) -> Any:
    return value if isinstance(value, int | str) or value is None else str(value)


def _typed_key(table: Table, values: Sequence[Any]) -> list[Any]:
    """A primary key read back from JSON, with its uuids as uuids."""
    return [
        uuid.UUID(v) if isinstance(c.type, Uuid) and isinstance(v, str) else v
        for c, v in zip(_pk(table), values, strict=True)
    ]


async def _chunk(
    conn: AsyncConnection, table: Table, run: _Pass, limit: int
) -> list[dict[str, Any]]:
    """The next `limit` rows of the pass after its key, in (txid NULLS FIRST, primary key) order.

    Each condition is a range on an index ((txid, id) for entries): no OR, so PostgreSQL reads
    from the key onwards instead of sorting every row above it. Rows written before the stamping
    trigger existed carry no txid and come first, in the first pass only.
    """
    pk = _pk(table)
    txid, *values = run.key if run.key is not None else (None,)
    rows: list[dict[str, Any]] = []
    if run.low == 0 and txid is None:
        unstamped = select(table).where(table.c.txid.is_(None))
        if values:
            unstamped = unstamped.where(tuple_(*pk) > tuple_(*_typed_key(table, values)))
        rows = _dicts(await conn.execute(unstamped.order_by(*pk).limit(limit)))
        if len(rows) == limit:
            return rows
    stamped = select(table).where(table.c.txid >= run.low, table.c.txid < run.horizon)
    if txid is not None:
        stamped = stamped.where(
            tuple_(table.c.txid, *pk) > tuple_(txid, *_typed_key(table, values))
        )
    rows += _dicts(await conn.execute(stamped.order_by(table.c.txid, *pk).limit(limit - len(rows))))
    return rows


def _dicts(result: Any) -> list[dict[str, Any]]:
    """The rows of `result` as plain dicts (quicker than going through RowMapping)."""
    keys = list(result.keys())
    return [dict(zip(keys, row, strict=True)) for row in result]


async def _entries_chunk(
    conn: AsyncConnection, run: _Pass, budget: int, *, fits_one: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
    """Entries of the window with their lines, as many as `budget` rows hold.

    Lines go with their entry. Sealing re-stamps an entry with a later txid than its lines':
    copied by their own txid, lines could arrive before their entry does. Lines never change
    once written, so copying those of every entry copied copies each of them, and none too
    early. An entry with more lines than a whole chunk is copied alone (`fits_one`).
    """
    entries = Entry.__table__
    lines = EntryLine.__table__
    # A balanced entry has two lines at least: no more than a third of the budget can fit.
    limit = budget // 3 + 1
    candidates = await _chunk(conn, entries, run, limit)  # type: ignore[arg-type]
    if not candidates:
        return [], [], True
    counts: dict[Any, int] = dict(
        (
            await conn.execute(
                select(lines.c.entry_id, func.count())
                .where(among(lines.c.entry_id, [row["id"] for row in candidates], "postgresql"))
                .group_by(lines.c.entry_id)
            )
        ).all()
    )
    taken: list[dict[str, Any]] = []
    used = 0
    for row in candidates:
        cost = 1 + int(counts.get(row["id"], 0))
        if used + cost > budget and (taken or not fits_one):
            break
        taken.append(row)
        used += cost
    exhausted = len(candidates) < limit and len(taken) == len(candidates)
    return taken, await _lines_of(conn, [row["id"] for row in taken]), exhausted


async def _lines_of(conn: AsyncConnection, entry_ids: Sequence[Any]) -> list[dict[str, Any]]:
    if not entry_ids:
        return []
    lines = EntryLine.__table__
    result = await conn.execute(
        select(lines)
        .where(among(lines.c.entry_id, list(entry_ids), "postgresql"))
        .order_by(lines.c.entry_id, lines.c.position)
    )
    return _dicts(result)


async def _missing_parents(
    remote: AsyncConnection, local: AsyncConnection, copied: dict[str, list[dict[str, Any]]]
) -> dict[str, list[dict[str, Any]]]:
    """The rows the chunk refers to that neither it nor SQLite holds, fetched from PostgreSQL.

    A chunk commits on its own: a reversal copied before the entry it reverses (which its
    reversal re-stamped later), or a line of an account renamed since the pass began, would
    otherwise refer to a row SQLite does not have yet.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    pending = copied
    for _ in range(5):  # parents of parents: entries -> journals -> ledgers at most
        wanted: dict[str, set[Any]] = {}
        for name, rows in pending.items():
            table = _BY_NAME[name]
            for fk in table.foreign_keys:
                parent = fk.column.table.name
                if parent == "entry_lines":  # a matched line's: lines travel with their entry
                    if fk.parent.name != "entry_id":
                        continue
                    parent = "entries"
                ids = {row[fk.parent.name] for row in rows} - {None}
                if ids:
                    wanted.setdefault(parent, set()).update(ids)
        fetched: dict[str, list[dict[str, Any]]] = {}
        for name, ids in wanted.items():
            target = _BY_NAME[name]
            have = {row["id"] for row in copied.get(name, [])} | {
                row["id"] for row in found.get(name, [])
            }
            ids -= have
            if not ids:
                continue
            present = {
                value
                for (value,) in (
                    await local.execute(select(target.c.id).where(target.c.id.in_(list(ids))))
                ).all()
            }
            ids -= present
            if not ids:
                continue
            result = await remote.execute(
                select(target).where(among(target.c.id, ids, remote.dialect.name))
            )
            rows = [dict(row) for row in result.mappings()]
            fetched.setdefault(name, []).extend(rows)
            if name == "entries" and rows:
                fetched.setdefault("entry_lines", []).extend(
                    await _lines_of(remote, [row["id"] for row in rows])
                )
        if not fetched:
            break
        for name, rows in fetched.items():
            found.setdefault(name, []).extend(rows)
        pending = fetched
    return found


async def _drop_draft_lines(local: AsyncConnection, entry_rows: Sequence[dict[str, Any]]) -> None:
    """Delete the local lines of copied entries that are, or were here, drafts.

    A draft's lines are replaced when it is edited, and an edit may leave fewer of them: the
    lines copied with it are its lines, all of them. Other entries' lines never change.
    """
    ids = [row["id"] for row in entry_rows]
    if not ids:
        return
    entries = Entry.__table__
    drafts = {row["id"] for row in entry_rows if row["status"] == EntryStatus.draft}
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        result = await local.execute(
            select(entries.c.id).where(
                entries.c.id.in_(chunk), entries.c.status == EntryStatus.draft
            )
        )
        drafts.update(value for (value,) in result.all())
    listed = list(drafts)
    for start in range(0, len(listed), BATCH):
        await local.execute(
            delete(EntryLine).where(EntryLine.entry_id.in_(listed[start : start + BATCH]))
        )


async def _sealed_here(local: AsyncConnection, ids: Sequence[Any]) -> set[Any]:
    """Which of these entries the fallback holds sealed, hence counted in its day totals."""
    entries = Entry.__table__
    found: set[Any] = set()
    for start in range(0, len(ids), BATCH):
        chunk = list(ids[start : start + BATCH])
        result = await local.execute(
            select(entries.c.id).where(entries.c.id.in_(chunk), entries.c.seq.is_not(None))
        )
        found.update(value for (value,) in result.all())
    return found


async def _upsert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    # One statement, executed many times by the driver (executemany): a multi-row VALUES
    # would be compiled anew for every chunk, with a bind per column and row.
    statement = sqlite_insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=keys,
        set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
    )
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        try:
            async with conn.begin_nested():
                await conn.execute(statement, chunk)
        except IntegrityError:
            # Rare: a row written on the fallback holds a unique key under another id.
            await _clear_natural_conflicts(conn, table, chunk)
            await conn.execute(statement, chunk)


async def _clear_natural_conflicts(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Make way for PostgreSQL's rows where a local row holds the same unique key.

    The local row was written on the fallback and its replay resolved otherwise (a conflict,
    or the same account opened on both sides). What refers to it locally is pointed at
    PostgreSQL's row, which stands for the same thing (the same account number, the same
    ledger code); a local reversal that lost its race is removed with its lines.
    """
    retired = RETIRED_BY.get(table.name)
    for row in rows:
        if retired is not None and row[retired] is not None:
            continue
        for natural in NATURAL_KEYS.get(table.name, ()):
            if any(row[column] is None for column in natural):
                continue
            live = [table.c[retired].is_(None)] if retired is not None else []
            clash = await conn.execute(
                select(table.c.id).where(
                    *(table.c[column] == row[column] for column in natural),
                    table.c.id != row["id"],
                    *live,
                )
            )
            await _make_way(conn, table, [local_id for (local_id,) in clash.all()], row["id"])


async def _make_way(
    conn: AsyncConnection, table: Table, local_ids: Sequence[Any], new_id: Any
) -> None:
    """Remove local rows in the way of PostgreSQL's row `new_id`, keeping references whole."""
    for local_id in local_ids:
        if table.name == "entries":
            await rollup.fold(conn, await _sealed_here(conn, [local_id]), sign=-1)
            await conn.execute(delete(MatchedLine).where(MatchedLine.entry_id == local_id))
            await conn.execute(delete(EntryLine).where(EntryLine.entry_id == local_id))
        else:
            if table.name == "accounts":
                await rollup.move_account(conn, local_id, new_id)
            for referring in MIRRORED_TABLES:
                for fk in referring.foreign_keys:
                    if fk.column.table is table:
                        released = (referring.name, fk.parent.name) in RELEASED
                        await conn.execute(
                            update(referring)
                            .where(fk.parent == local_id)
                            .values({fk.parent.name: None if released else new_id})
                        )
        await conn.execute(delete(table).where(table.c.id == local_id))


async def _save_state(
    conn: AsyncConnection, source: str, run: _Pass, *, done: bool, now: datetime
) -> None:
    values: dict[str, Any] = {
        "source": source,
        "complete_at": run.complete_at,
        "first_copy_rows": run.first_rows,
        "first_copy_estimate": run.estimate,
    }
    if done:
        values.update(
            watermark=run.horizon, synced_at=now, pass_horizon=None, pass_table=None, pass_key=None
        )
    else:
        values.update(
            watermark=run.low,
            pass_horizon=run.horizon,
            pass_table=PASS_ORDER[run.table].name,
            pass_key=json.dumps(run.key) if run.key is not None else None,
        )
    # A first round that stops half-way leaves synced_at as it was (None: never caught up).
    statement = sqlite_insert(MirrorState).values(id=STATE_ID, **values)
    statement = statement.on_conflict_do_update(index_elements=["id"], set_=values)
    await conn.execute(statement)
