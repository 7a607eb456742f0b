"""One unit of work on one engine: a session, a transaction, a commit. Nothing else commits.

A unit of work is a function of a session, re-runnable: the store runs it on whichever database
is in charge, again after a lost race on a unique key, and again on the fallback when the
primary dies under it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from grandlivre.store.engine import SQLITE_BEGIN
from grandlivre.store.signals import ANNOUNCED

T = TypeVar("T")

UnitOfWork = Callable[[AsyncSession], Awaitable[T]]


async def run(
    engine: AsyncEngine,
    fn: UnitOfWork[T],
    *,
    write: bool,
    announced: Callable[[], None] | None = None,
) -> T:
    """Run `fn` in a transaction on `engine`: committed if `write`, else rolled back.

    `announced` is called after the commit of a unit that changed what in-process caches hold
    (it marked its session ANNOUNCED), so that they drop it at once in this process.
    """
    async with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            await conn.execution_options(**{SQLITE_BEGIN: "IMMEDIATE" if write else "DEFERRED"})
        async with AsyncSession(bind=conn, expire_on_commit=False) as session:
            if not write:
                # Autobegun; closing the session rolls it back.
                return await fn(session)
            async with session.begin():
                result = await fn(session)
            if session.info.pop(ANNOUNCED, False) and announced is not None:
                announced()
            return result


async def run_retrying(
    engine: AsyncEngine, fn: UnitOfWork[T], *, announced: Callable[[], None] | None = None
) -> T:
    """Run a write; after a lost race on a unique key, run it once more to see the winner."""
    try:
        return await run(engine, fn, write=True, announced=announced)
    except IntegrityError:
        return await run(engine, fn, write=True, announced=announced)


async def run_at_once(
    engine: AsyncEngine, fn: Callable[[AsyncConnection], Awaitable[T | None]]
) -> T | None:
    """Run `fn`'s one statement on an autocommit connection of `engine` (committed when it
    returns, atomic as every statement is); None when it settled nothing, or lost a race on a
    unique key (its statement then wrote nothing: the caller's transaction sees the winner).
    """
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            return await fn(conn)
        except IntegrityError:
            return None
