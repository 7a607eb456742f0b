"""FastAPI dependencies shared by every router: the store, the clock, the id factory.

They are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker thread, a
thread hop per dependency per request (5 % of a worker under load, docs/performance.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from grandlivre.clock import Clock, IdFactory
from grandlivre.store import Store


async def get_store(request: Request) -> Store:
    """Return the store of this application."""
    store: Store = request.app.state.store
    return store


async def get_clock(request: Request) -> Clock:
    """Return the clock of this application."""
    clock: Clock = request.app.state.clock
    return clock


async def get_ids(request: Request) -> IdFactory:
    """Return the id factory of this application."""
    ids: IdFactory = request.app.state.ids
    return ids


StoreDep = Annotated[Store, Depends(get_store)]
ClockDep = Annotated[Clock, Depends(get_clock)]
IdsDep = Annotated[IdFactory, Depends(get_ids)]
