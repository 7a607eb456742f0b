"""The store: runs units of work on the active database and is the only place that commits.

A unit of work is a coroutine function of a session, re-runnable: the store may run it again
(after a lost race on a unique key, for example), so it must not have side effects outside the
session.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from grandlivre.store.engine import SQLITE_BEGIN

T = TypeVar("T")

UnitOfWork = Callable[[AsyncSession], Awaitable[T]]


class Store:
    """Runs units of work against one database engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.is_sqlite = engine.dialect.name == "sqlite"
        # SQLite has one writer at a time; queueing writers of this process here is cheaper
        # than having them spin on the file lock.
        self._write_lock = asyncio.Lock() if self.is_sqlite else None

    async def write(self, fn: UnitOfWork[T], *, retry_on_conflict: bool = True) -> T:
        """Run `fn` in a read-write transaction and commit it.

        An IntegrityError (a concurrent request took the same unique key first) runs `fn` once
        more, so that it can see what the other request wrote and answer accordingly.
        """
        try:
            return await self._run(fn, write=True)
        except IntegrityError:
            if not retry_on_conflict:
                raise
            return await self._run(fn, write=True)

    async def read(self, fn: UnitOfWork[T]) -> T:
        """Run `fn` in a read-only transaction (rolled back at the end)."""
        return await self._run(fn, write=False)

    async def ping(self) -> None:
        """Run a trivial query; raise if the database does not answer."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()

    async def _run(self, fn: UnitOfWork[T], *, write: bool) -> T:
        if self._write_lock is not None and write:
            async with self._write_lock:
                return await self._run_in_transaction(fn, write=write)
        return await self._run_in_transaction(fn, write=write)

    async def _run_in_transaction(self, fn: UnitOfWork[T], *, write: bool) -> T:
        async with self.engine.connect() as conn:
            if self.is_sqlite:
                await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE" if write else "DEFERRED"})
            async with AsyncSession(bind=conn, expire_on_commit=False) as session:
                if not write:
                    # Autobegun; closing the session rolls it back.
                    return await fn(session)
                async with session.begin():
                    return await fn(session)
