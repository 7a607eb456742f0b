"""Day totals per account over sealed entries: folding entries in and out.

The trial balance of a million entries is a sum over three million lines; over the day totals
it is a sum over a row per account and day. `account_day_totals` holds exactly the lines of
the entries that have a `seq` (sealed), so a report adds the totals of its range to the lines of
the entries still unsealed, in one statement, and never counts an entry twice or misses one:
whoever gives an entry its seq folds it in in the same transaction.

- On the database of record (PostgreSQL, or SQLite embedded) that is the sealer.
- In the SQLite fallback, the mirror: it copies an entry sealed on PostgreSQL together with its
  lines, and folds it in the chunk's own transaction (the fallback keeps its own totals).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Table, Uuid, case, delete, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite

from grandlivre.db.dialect import Executor, among, dialect_name
from grandlivre.db.tables import AccountDayTotal, Entry, EntryLine

_TOTALS = cast(Table, AccountDayTotal.__table__)
_LINES = cast(Table, EntryLine.__table__)
_ENTRIES = cast(Table, Entry.__table__)


async def fold(executor: Executor, entry_ids: Collection[uuid.UUID], *, sign: int = 1) -> None:
    """Add (sign 1) or take out (sign -1) the lines of these entries from the day totals.

    Run in the transaction that seals the entries (or copies them sealed, or removes them), so
    that readers see an entry either in the totals or among the unsealed, never both.
    """
    if not entry_ids:
        return
    dialect = dialect_name(executor)
    amount = _LINES.c.amount
    summed = (
        select(
            _LINES.c.account_id,
            _ENTRIES.c.entry_date,
            literal(sign) * func.sum(case((amount > 0, amount), else_=0)),
            literal(sign) * func.sum(case((amount < 0, -amount), else_=0)),
            literal(sign) * func.count(),
        )
        .select_from(_LINES.join(_ENTRIES, _ENTRIES.c.id == _LINES.c.entry_id))
        .where(among(_ENTRIES.c.id, entry_ids, dialect))
        .group_by(_LINES.c.account_id, _ENTRIES.c.entry_date)
    )
    await _add_into_totals(executor, summed)
    if sign < 0:
        await executor.execute(delete(_TOTALS).where(_TOTALS.c.lines <= 0))


async def move_account(executor: Executor, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    """Move an account's day totals onto another account (the mirror's make-way)."""
    moved = select(
        literal(to_id, Uuid), _TOTALS.c.day, _TOTALS.c.debit, _TOTALS.c.credit, _TOTALS.c.lines
    ).where(_TOTALS.c.account_id == from_id)
    await _add_into_totals(executor, moved)
    await executor.execute(delete(_TOTALS).where(_TOTALS.c.account_id == from_id))


async def _add_into_totals(executor: Executor, rows: Any) -> None:
    """Add rows of (account_id, day, debit, credit, lines) to the day totals, summing on a clash."""
    insert = postgresql.insert if dialect_name(executor) == "postgresql" else sqlite.insert
    statement = insert(_TOTALS).from_select(["account_id", "day", "debit", "credit", "lines"], rows)
    statement = statement.on_conflict_do_update(
        index_elements=["account_id", "day"],
        set_={
            name: _TOTALS.c[name] + statement.excluded[name]
            for name in ("debit", "credit", "lines")
        },
    )
    await executor.execute(statement)
