"""Change signals: when may a process trust what it cached of rarely changing rows?

What rarely changes (API keys) may be cached in-process only while every change, made by any
process of any replica, reaches the cache. On PostgreSQL a write that changes such rows runs
`pg_notify(CHANNEL, topic)` in its own transaction; PostgreSQL delivers it to every listening
connection when, and only if, that transaction commits. Each process keeps one listening
connection: a notification, or the loss of the connection (notifications may have been missed),
moves the generation on, and a cached value of an older generation is not used. While the
listener is not connected (SQLite, fallback, PostgreSQL away) nothing may be cached at all.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import asyncpg
import structlog
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.dialect import is_postgresql

CHANNEL = "grandlivre_changes"

log = structlog.get_logger("grandlivre.store")


ANNOUNCED = "grandlivre_changes_announced"


async def announce(session: AsyncSession, topic: str) -> None:
    """Tell every process that rows of `topic` changed, when this transaction commits.

    Other processes learn it from PostgreSQL's notification; this one from the store, which
    moves its own generation on as soon as the transaction has committed (`ANNOUNCED`).
    """
    session.info[ANNOUNCED] = True
    if is_postgresql(session):
        await session.execute(
            text("SELECT pg_notify(:channel, :topic)"), {"channel": CHANNEL, "topic": topic}
        )


class ChangeSignals:
    """This process's view of the change notifications: a generation, and whether it listens."""

    def __init__(self, url: URL | None = None, *, timeout: float = 1.0) -> None:
        self.generation = 0
        self._url = url
        self._timeout = timeout
        self._conn: Any = None

    @property
    def listening(self) -> bool:
        """Tell whether every change made from now on will reach this process."""
        return self._conn is not None and not self._conn.is_closed()

    def trusts(self, generation: int) -> bool:
        """Tell whether a value cached at `generation` may be used now."""
        return self.listening and generation == self.generation

    async def ensure_listening(self) -> None:
        """Connect the listener if it is not (called from the probe loop); never raises."""
        if self._url is None or self.listening:
            return
        self._forget()
        try:
            dsn = self._url.set(drivername="postgresql").render_as_string(hide_password=False)
            conn = await asyncpg.connect(dsn, timeout=self._timeout)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.debug("change_listener_unavailable", error=f"{type(exc).__name__}: {exc}"[:200])
            return
        try:
            conn.add_termination_listener(self._on_lost)
            await conn.add_listener(CHANNEL, self._on_change)
        except BaseException as exc:
            # PostgreSQL went away (or the probe was cancelled) between the connect and the
            # LISTEN: the connection is nobody's, so it is ended here, not left to the GC.
            conn.terminate()
            if not isinstance(exc, OSError | asyncpg.PostgresError | asyncpg.InterfaceError):
                raise
            log.debug("change_listener_unavailable", error=f"{type(exc).__name__}: {exc}"[:200])
            return
        # Whatever changed while nobody listened is unknown: start from a new generation.
        self.generation += 1
        self._conn = conn

    async def close(self) -> None:
        """Stop listening."""
        conn, self._conn = self._conn, None
        self.generation += 1
        if conn is not None:
            try:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(conn.close(), self._timeout)
            finally:
                if not conn.is_closed():
                    conn.terminate()  # a close that timed out or was cancelled

    def changed_here(self) -> None:
        """A transaction of this process that announced a change has committed."""
        self.generation += 1

    def lost(self) -> None:
        """Stop trusting caches: PostgreSQL is no longer the database of record here."""
        self._forget()

    def _forget(self) -> None:
        self.generation += 1
        conn, self._conn = self._conn, None
        if conn is not None and not conn.is_closed():
            conn.terminate()

    def _on_change(self, *_: Any) -> None:
        self.generation += 1

    def _on_lost(self, *_: Any) -> None:
        self.generation += 1
        self._conn = None
