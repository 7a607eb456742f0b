"""The application factory: the composition root that wires domains, store and operations."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from grandlivre.auth.api import router as keys_router
from grandlivre.auth.deps import Guard
from grandlivre.clock import Clock, IdFactory, SystemClock, UUID7Factory
from grandlivre.config import Settings, get_settings
from grandlivre.db.migrate import upgrade_to_head
from grandlivre.entry.api import router as entry_router
from grandlivre.errors import register_problem_handlers
from grandlivre.ledger import service as ledger_service
from grandlivre.ledger.api import router as ledger_router
from grandlivre.ops import health, metrics
from grandlivre.ops.body_limit import BodyLimitMiddleware
from grandlivre.ops.client_ip import parse_networks
from grandlivre.ops.http import ObservabilityMiddleware
from grandlivre.ops.logging import configure_logging
from grandlivre.ops.ratelimit import RateLimiter, parse_limit
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
    trusted = parse_networks(Settings.split_list(settings.trusted_proxies))
    limiter = RateLimiter(
        settings.redis_url,
        timeout=settings.redis_timeout,
        burst_threshold=settings.rate_limit_burst_threshold,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(create_engine(settings.database_url, settings))
        app.state.store = store
        if settings.migrate_on_start:
            await prepare_database(store, settings, ids, clock)
        metrics.set_database_mode(_mode(store))
        log.info("started", database=store.engine.dialect.name, rate_limits=limiter.backend)
        try:
            yield
        finally:
            await limiter.close()
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
    app.state.guard = Guard(
        limiter,
        key_limit=parse_limit(settings.rate_limit),
        anonymous_limit=parse_limit(settings.rate_limit_anonymous),
        trusted_proxies=trusted,
    )

    def describe() -> dict[str, Any]:
        store: Store = app.state.store
        return {
            "ok": True,
            "fallback": False,
            "mode": _mode(store),
            "database": store.engine.dialect.name,
            "rate_limit_backend": limiter.backend,
        }

    async def seeded() -> bool:
        store: Store = app.state.store
        return await store.read(lambda s: ledger_service.is_seeded(s, settings.seed_ledger))

    probes = health.Probes(
        describe=describe,
        ping=lambda: app.state.store.ping(),
        readiness={"seed": seeded},
    )
    register_problem_handlers(app)
    app.include_router(health.build_router(probes))
    app.include_router(ledger_router)
    app.include_router(entry_router)
    app.include_router(report_router)
    app.include_router(keys_router)
    origins = Settings.split_list(settings.cors_origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "RateLimit", "RateLimit-Policy", "Retry-After"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ObservabilityMiddleware, trusted_proxies=trusted)
    app.add_middleware(RequestIdMiddleware)
    return app


def _mode(store: Store) -> str:
    return "embedded" if store.is_sqlite else "primary"
