"""The peer Grand Livre is measured against: a minimal FastAPI + asyncpg entry handler.

What a competent user writes to insert the same rows, with none of Grand Livre's checks
(balance, active accounts, idempotency, auth, rate limits, metrics): an asyncpg pool made in
the lifespan, the ledger's journals and accounts cached at start-up, one transaction per
request, `executemany` for the lines, 201 with the new id. Served the way Grand Livre is:

    PEER_DATABASE_URL=postgresql://... uvicorn bench.peer:app --workers 2 --http httptools
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import asyncpg
import uuid6
from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel

DSN = os.environ.get("PEER_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LEDGER = os.environ.get("PEER_LEDGER", "main")
# asyncpg's default pool size (Grand Livre keeps DB_POOL_SIZE, 20, plus a burst overflow).
POOL_SIZE = int(os.environ.get("PEER_POOL_SIZE", "10"))

INSERT_ENTRY = """
    INSERT INTO entries (id, ledger_id, journal_id, entry_date, document_date, label,
                         reference, status, origin, created_at, validated_at)
    VALUES ($1, $2, $3, $4, $4, $5, $6, 'posted', 'primary', $7, $7)
"""
INSERT_LINE = """
    INSERT INTO entry_lines (entry_id, position, account_id, amount, label)
    VALUES ($1, $2, $3, $4, $5)
"""


class LineIn(BaseModel):
    """A line: an account and a debit or a credit, as decimal strings."""

    account: str
    debit: Decimal | None = None
    credit: Decimal | None = None
    label: str | None = None


class EntryIn(BaseModel):
    """The entry as Grand Livre takes it (DESIGN §6)."""

    journal: str
    date: date
    label: str
    reference: str | None = None
    lines: list[LineIn]


@dataclass(frozen=True)
class Books:
    """What the handler looks up once: the ledger, its journals and accounts by code."""

    ledger_id: uuid.UUID
    scale: int
    journals: dict[str, uuid.UUID]
    accounts: dict[str, uuid.UUID]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the pool and cache the chart for the life of the worker."""
    pool = await asyncpg.create_pool(DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    async with pool.acquire() as conn:
        ledger = await conn.fetchrow("SELECT id, decimals FROM ledgers WHERE code = $1", LEDGER)
        if ledger is None:
            raise RuntimeError(f"no ledger {LEDGER!r}: run `grandlivre seed` on {DSN} first")
        journals = await conn.fetch("SELECT code, id FROM journals WHERE ledger_id = $1", ledger[0])
        accounts = await conn.fetch(
            "SELECT number, id FROM accounts WHERE ledger_id = $1", ledger[0]
        )
    app.state.pool = pool
    app.state.books = Books(
        ledger_id=ledger["id"],
        scale=10 ** ledger["decimals"],
        journals={row["code"]: row["id"] for row in journals},
        accounts={row["number"]: row["id"] for row in accounts},
    )
    try:
        yield
    finally:
        await pool.close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, bool]:
    """Answer while the worker serves."""
    return {"ok": True}


@app.post("/api/v1/ledgers/{ledger}/entries", status_code=201)
async def post_entry(ledger: str, entry: EntryIn, request: Request) -> dict[str, str]:
    """Insert the entry and its lines in one transaction; no rule is checked."""
    books: Books = request.app.state.books
    if ledger != LEDGER:
        raise HTTPException(404, f"no ledger {ledger!r}")
    entry_id = uuid.UUID(bytes=uuid6.uuid7().bytes)
    lines = [
        (
            entry_id,
            position,
            books.accounts[line.account],
            int((line.debit if line.debit is not None else -(line.credit or 0)) * books.scale),
            line.label,
        )
        for position, line in enumerate(entry.lines)
    ]
    pool: asyncpg.Pool = request.app.state.pool
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            INSERT_ENTRY,
            entry_id,
            books.ledger_id,
            books.journals[entry.journal],
            entry.date,
            entry.label,
            entry.reference,
            datetime.now(UTC),
        )
        await conn.executemany(INSERT_LINE, lines)
    return {"id": str(entry_id)}
