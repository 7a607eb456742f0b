"""The application factory: the composition root that wires domains, store and operations."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from grandlivre.auth import api as keys_api
from grandlivre.auth import operations as auth_operations
from grandlivre.auth import service as auth_service
from grandlivre.auth.deps import Guard
from grandlivre.clock import Clock, IdFactory, SystemClock, UUID7Factory
from grandlivre.closing import api as closing_api
from grandlivre.closing import operations as closing_operations
from grandlivre.config import Settings, get_settings
from grandlivre.console import pages as console_pages
from grandlivre.console.headers import ConsoleSecurityMiddleware
from grandlivre.db.migrate import upgrade_to_head
from grandlivre.entry import api as entry_api
from grandlivre.entry import operations as entry_operations
from grandlivre.entry import sealer
from grandlivre.entry.fast_post import FastPostMiddleware
from grandlivre.errors import PROBLEM_JSON, register_problem_handlers
from grandlivre.exchange import api as exchange_api
from grandlivre.exchange import operations as exchange_operations
from grandlivre.fiscal import api as fiscal_api
from grandlivre.fiscal import operations as fiscal_operations
from grandlivre.fiscal import service as fiscal_service
from grandlivre.ledger import api as ledger_api
from grandlivre.ledger import operations as ledger_operations
from grandlivre.ledger import service as ledger_service
from grandlivre.lettering import api as lettering_api
from grandlivre.lettering import operations as lettering_operations
from grandlivre.ops import health, metrics
from grandlivre.ops.body_limit import BodyLimitMiddleware
from grandlivre.ops.client_ip import parse_networks
from grandlivre.ops.content_type import JsonOnlyMiddleware
from grandlivre.ops.http import ObservabilityMiddleware
from grandlivre.ops.logging import configure_logging
from grandlivre.ops.ratelimit import RateLimiter, parse_limit
from grandlivre.ops.request_id import RequestIdMiddleware
from grandlivre.ops.strict import refuse_unknown_query
from grandlivre.party import api as party_api
from grandlivre.party import operations as party_operations
from grandlivre.replay import api as replay_api
from grandlivre.report.api import router as report_router
from grandlivre.statement import api as statement_api
from grandlivre.store import Registry, Store, StoreConfig, registry
from grandlivre.store.engine import create_engine

log = structlog.get_logger("grandlivre.app")


def operations() -> Registry:
    """Every replayable write, by its journaled name."""
    return registry(
        *ledger_operations.OPERATIONS,
        *fiscal_operations.OPERATIONS,
        *entry_operations.OPERATIONS,
        *closing_operations.OPERATIONS,
        *party_operations.OPERATIONS,
        *exchange_operations.OPERATIONS,
        *lettering_operations.OPERATIONS,
        *auth_operations.OPERATIONS,
    )


def preparer(settings: Settings, clock: Clock) -> Callable[[AsyncEngine], Awaitable[None]]:
    """Return what makes a database ready: migrations, then the seeded ledger. Idempotent."""

    async def prepare(engine: AsyncEngine) -> None:
        await upgrade_to_head(engine)
        spec = ledger_service.LedgerSpec(code=settings.seed_ledger, name="Grand Livre")

        async def seed(session: AsyncSession) -> bool:
            now = clock.now()
            ledger = await ledger_service.ensure_ledger(session, spec, now=now)
            if ledger is not None:
                start = settings.seed_fiscal_year_start
                await fiscal_service.open_first_year(
                    session, ledger, start=start, end=None, now=now
                )
            return ledger is not None

        created = await Store(engine).write(seed)
        log.info("seed_checked", ledger=spec.code, created=created, database=engine.dialect.name)

    return prepare


def sealing(clock: Clock) -> Callable[[AsyncSession], Awaitable[int]]:
    """Return the unit of work the store runs every probe interval to seal new entries."""

    async def seal(session: AsyncSession) -> int:
        return await sealer.seal_pending(session, now=clock.now())

    return seal


def build_store(
    settings: Settings, *, clock: Clock, ids: IdFactory, announce: bool = True
) -> Store:
    """Build the store: PostgreSQL with its SQLite fallback, or embedded SQLite alone."""
    primary = create_engine(settings.database_url, settings)
    fallback = None
    if not settings.is_sqlite:
        fallback = create_engine(settings.fallback_database_url, settings)
    return Store(
        primary,
        fallback,
        config=StoreConfig(
            probe_interval=settings.probe_interval,
            probe_timeout=settings.probe_timeout,
            probe_failures=settings.probe_failures,
            probe_successes=settings.probe_successes,
            replay_batch=settings.replay_batch,
            fallback_writes=settings.fallback_writes,
            mirror_chunk_rows=settings.mirror_chunk_rows,
        ),
        operations=operations(),
        clock=clock,
        ids=ids,
        periodic=[sealing(clock)],
        announce=announce,
    )


def install_openapi(app: FastAPI) -> None:
    """Make the OpenAPI document say that every 4xx and 5xx answer is a problem+json `Problem`.

    FastAPI puts a response model under `application/json` whatever media type it is given, and
    adds its own 422 shape; a problem is served as `application/problem+json` only.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                summary=app.summary,
                description=app.description,
                routes=app.routes,
            )
            problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
            for operations in schema.get("paths", {}).values():
                for operation in operations.values():
                    for status, response in operation.get("responses", {}).items():
                        if status[0] in "45":
                            response["content"] = {PROBLEM_JSON: problem}
            components = schema.get("components", {}).get("schemas", {})
            for unused in ("HTTPValidationError", "ValidationError"):
                components.pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


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

    history = metrics.TrafficHistory()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = build_store(settings, clock=clock, ids=ids)
        app.state.store = store
        prepare = preparer(settings, clock)
        await store.open(prepare if settings.migrate_on_start else None, recover=prepare)
        app.state.guard.keys = auth_service.KeyCache(store.signals)
        await limiter.probe()
        log.info("started", mode=store.mode.value, rate_limits=limiter.backend)
        sampling = asyncio.create_task(history.run(clock.now), name="traffic-history")
        try:
            yield
        finally:
            sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampling
            await limiter.close()
            await store.close()

    app = FastAPI(
        title="Grand Livre",
        version="0.1.0",
        summary="Double-entry bookkeeping on the French chart of accounts (PCG).",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unknown_query)],
    )
    app.state.settings = settings
    app.state.traffic_history = history
    app.state.clock = clock
    app.state.ids = ids
    app.state.guard = Guard(
        limiter,
        key_limit=parse_limit(settings.rate_limit),
        anonymous_limit=parse_limit(settings.rate_limit_anonymous),
        trusted_proxies=trusted,
    )

    async def describe() -> dict[str, Any]:
        store: Store = app.state.store
        return {"ok": True, **await store.describe(), "rate_limit_backend": limiter.backend}

    async def seeded() -> bool:
        store: Store = app.state.store
        return await store.read(
            lambda s: ledger_service.is_seeded(s, settings.seed_ledger), partial_ok=True
        )

    probes = health.Probes(
        describe=describe,
        ping=lambda: app.state.store.ping(),
        publish=lambda: app.state.store.publish_metrics(),
        readiness={"seed": seeded},
        history=history,
    )
    install_openapi(app)
    register_problem_handlers(app)
    app.include_router(health.build_router(probes))
    app.include_router(ledger_api.router)
    app.include_router(fiscal_api.router)
    app.include_router(closing_api.router)
    app.include_router(entry_api.router)
    app.include_router(party_api.router)
    app.include_router(lettering_api.router)
    app.include_router(report_router)
    app.include_router(statement_api.router)
    app.include_router(exchange_api.router)
    app.include_router(keys_api.router)
    app.include_router(keys_api.me_router)
    app.include_router(replay_api.router)
    # The console last: its pages are not API routes and never shadow one.
    app.include_router(console_pages.router)
    app.mount("/static", console_pages.ASSETS)
    origins = Settings.split_list(settings.cors_origins)
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID", "RateLimit", "RateLimit-Policy", "Retry-After"],
        )
    # Innermost: the body it reads has passed the size, duplicate-member and JSON checks.
    app.add_middleware(FastPostMiddleware, api=app)
    app.add_middleware(JsonOnlyMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        max_file_bytes=settings.max_import_bytes,
    )
    app.add_middleware(ObservabilityMiddleware, trusted_proxies=trusted)
    app.add_middleware(RequestIdMiddleware)
    # Outermost: it replaces the API's CSP on the console's HTML pages, whoever set it.
    app.add_middleware(ConsoleSecurityMiddleware)
    return app
