"""The application factory: middleware, routers and the lifespan that opens the store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from grandlivre.clock import Clock, IdFactory, SystemClock, UUID7Factory
from grandlivre.config import Settings, get_settings
from grandlivre.db.migrate import upgrade_to_head
from grandlivre.entry.api import router as entry_router
from grandlivre.errors import register_problem_handlers
from grandlivre.ledger import service as ledger_service
from grandlivre.ledger.api import router as ledger_router
from grandlivre.ops.body_limit import BodyLimitMiddleware
from grandlivre.ops.logging import configure_logging
from grandlivre.ops.request_id import RequestIdMiddleware
from grandlivre.report.api import router as report_router
from grandlivre.store import Store
from grandlivre.store.engine import create_engine

log = structlog.get_logger("grandlivre.app")


async def prepare_database(store: Store, settings: Settings, ids: IdFactory, clock: Clock) -> None:
    """Apply migrations and seed the default ledger; both are idempotent."""
    await upgrade_to_head(store.engine)
    spec = ledger_service.LedgerSpec(code=settings.seed_ledger, name="Grand Livre")
    created = await store.write(
        lambda s: ledger_service.ensure_ledger(s, spec, ids=ids, clock=clock)
    )
    log.info("seed_checked", ledger=spec.code, created=created)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    ids: IdFactory | None = None,
) -> FastAPI:
    """Build a Grand Livre application."""
    settings = settings or get_settings()
    clock = clock or SystemClock()
    ids = ids or UUID7Factory()
    configure_logging(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(create_engine(settings.database_url, settings))
        app.state.store = store
        if settings.migrate_on_start:
            await prepare_database(store, settings, ids, clock)
        log.info("started", database=store.engine.dialect.name)
        try:
            yield
        finally:
            await store.dispose()

    app = FastAPI(
        title="Grand Livre",
        version="0.1.0",
        summary="Double-entry bookkeeping on the French chart of accounts (PCG).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.ids = ids
    register_problem_handlers(app)
    app.include_router(ledger_router)
    app.include_router(entry_router)
    app.include_router(report_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
