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

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, and_, delete, or_, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from grandlivre.db.tables import (
    Account,
    ApiKey,
    Deletion,
    Entry,
    EntryLine,
    IdempotencyKey,
    Journal,
    Ledger,
    MirrorState,
)
from grandlivre.store.engine import SQLITE_BEGIN

# Parents before children, so that every row finds what it refers to.
MIRRORED_TABLES: tuple[Table, ...] = tuple(
    model.__table__  # type: ignore[misc]
    for model in (Ledger, Journal, Account, ApiKey, Entry, EntryLine, IdempotencyKey)
)
# Unique keys other than the primary key: a local row that holds one under another id (written
# on the fallback, then resolved differently on PostgreSQL) gives way to PostgreSQL's row.
NATURAL_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "ledgers": (("code",),),
    "accounts": (("ledger_id", "number"),),
    "journals": (("ledger_id", "code"),),
    "api_keys": (("key_hash",),),
    "entries": (("reverses_id",), ("ledger_id", "seq"), ("journal_id", "fiscal_year", "number")),
}
BATCH = 500
STATE_ID = 1


@dataclass(frozen=True)
class SyncResult:
    """What one round copied, and how far the mirror now reaches."""

    rows: int
    deletions: int
    watermark: int
    synced_at: datetime


async def read_state(conn: AsyncConnection) -> MirrorState | None:
    """Return the mirror's position, if it ever synced."""
    result = await conn.execute(select(MirrorState.__table__).where(MirrorState.id == STATE_ID))
    row = result.mappings().first()
    return MirrorState(**row) if row else None


async def sync_once(primary: AsyncEngine, fallback: AsyncEngine, now: datetime) -> SyncResult:
    """Copy into SQLite every row PostgreSQL committed since the last round."""
    async with fallback.connect() as local:
        state = await read_state(local)
    async with primary.connect() as remote:
        await remote.execution_options(isolation_level="REPEATABLE READ")
        async with remote.begin():
            horizon, source = (
                await remote.execute(
                    text(
                        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint, "
                        "(SELECT system_identifier::text FROM pg_control_system()) "
                        "|| '/' || current_database()"
                    )
                )
            ).one()
            low = state.watermark if state is not None and state.source == source else 0
            copied = {t.name: await _changed_rows(remote, t, low, horizon) for t in MIRRORED_TABLES}
            deleted = await _changed_rows(remote, Deletion.__table__, low, horizon)  # type: ignore[arg-type]
    async with fallback.connect() as local:
        await local.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"})
        async with local.begin():
            await local.execute(text("PRAGMA defer_foreign_keys = ON"))
            for table in MIRRORED_TABLES:
                await _upsert(local, table, copied[table.name])
            by_name = {t.name: t for t in MIRRORED_TABLES}
            for row in deleted:
                target = by_name.get(row["table_name"])
                if target is not None:
                    await local.execute(delete(target).where(target.c.id == row["row_id"]))
            await _save_state(local, source, int(horizon), now)
    return SyncResult(
        rows=sum(len(rows) for rows in copied.values()),
        deletions=len(deleted),
        watermark=int(horizon),
        synced_at=now,
    )


def _window(table: Table, low: int, horizon: int) -> Any:
    window = and_(table.c.txid >= low, table.c.txid < horizon)
    if low == 0:
        # Rows written before the stamping trigger existed carry no txid.
        window = or_(window, table.c.txid.is_(None))
    return window


async def _changed_rows(
    conn: AsyncConnection, table: Table, low: int, horizon: int
) -> list[dict[str, Any]]:
    if table.name == "entry_lines":
        # Lines go with their entry. Sealing re-stamps an entry with a later txid than its
        # lines': copied by their own txid, lines could arrive before their entry does (a
        # foreign key the round cannot satisfy). Lines never change once written, so copying
        # those of every entry copied in the round copies each of them, and none too early.
        entries = Entry.__table__
        query = (
            select(table)
            .join(entries, entries.c.id == table.c.entry_id)
            .where(_window(entries, low, horizon))  # type: ignore[arg-type]
            .order_by(table.c.entry_id, table.c.position)
        )
    else:
        query = select(table).where(_window(table, low, horizon)).order_by(table.c.txid)
    result = await conn.execute(query)
    return [dict(row) for row in result.mappings()]


async def _upsert(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    keys = [column.name for column in table.primary_key.columns]
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        statement = sqlite_insert(table).values(chunk)
        statement = statement.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
        )
        try:
            async with conn.begin_nested():
                await conn.execute(statement)
        except IntegrityError:
            # Rare: a row written on the fallback holds a unique key under another id.
            await _clear_natural_conflicts(conn, table, chunk)
            await conn.execute(statement)


async def _clear_natural_conflicts(
    conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Make way for PostgreSQL's rows where a local row holds the same unique key.

    The local row was written on the fallback and its replay resolved otherwise (a conflict,
    or the same account opened on both sides). What refers to it locally is pointed at
    PostgreSQL's row, which stands for the same thing (the same account number, the same
    ledger code); a local reversal that lost its race is removed with its lines.
    """
    for row in rows:
        for natural in NATURAL_KEYS.get(table.name, ()):
            if any(row[column] is None for column in natural):
                continue
            clash = await conn.execute(
                select(table.c.id).where(
                    *(table.c[column] == row[column] for column in natural),
                    table.c.id != row["id"],
                )
            )
            await _make_way(conn, table, [local_id for (local_id,) in clash.all()], row["id"])


async def _make_way(
    conn: AsyncConnection, table: Table, local_ids: Sequence[Any], new_id: Any
) -> None:
    """Remove local rows in the way of PostgreSQL's row `new_id`, keeping references whole."""
    for local_id in local_ids:
        if table.name == "entries":
            await conn.execute(delete(EntryLine).where(EntryLine.entry_id == local_id))
        else:
            for referring in MIRRORED_TABLES:
                for fk in referring.foreign_keys:
                    if fk.column.table is table:
                        await conn.execute(
                            update(referring)
                            .where(fk.parent == local_id)
                            .values({fk.parent.name: new_id})
                        )
        await conn.execute(delete(table).where(table.c.id == local_id))


async def _save_state(conn: AsyncConnection, source: str, watermark: int, now: datetime) -> None:
    statement = sqlite_insert(MirrorState).values(
        id=STATE_ID, source=source, watermark=watermark, synced_at=now
    )
    statement = statement.on_conflict_do_update(
        index_elements=["id"],
        set_={"source": source, "watermark": watermark, "synced_at": now},
    )
    await conn.execute(statement)
