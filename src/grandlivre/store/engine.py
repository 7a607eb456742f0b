"""Engines for both dialects, with the connection settings each one needs."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from grandlivre.config import Settings

# Execution option a write unit of work sets so that SQLite takes its write lock at BEGIN:
# a deferred transaction that upgrades to a writer can fail with SQLITE_BUSY at once, whatever
# the busy timeout, whereas BEGIN IMMEDIATE waits for the lock.
SQLITE_BEGIN = "grandlivre_sqlite_begin"

# A pooled PostgreSQL connection idle for longer than this is pinged before it is used.
IDLE_PING_SECONDS = 1.0
_IDLE_SINCE = "grandlivre_idle_since"


def is_sqlite_url(url: str) -> bool:
    """Tell whether a database URL points at SQLite."""
    return url.startswith("sqlite")


def create_engine(url: str, settings: Settings) -> AsyncEngine:
    """Create an async engine tuned for its dialect."""
    if is_sqlite_url(url):
        return _create_sqlite_engine(url, settings)
    engine = create_async_engine(
        url,
        # Overflow connections are closed when returned: a pool smaller than the requests in
        # flight opens and closes a connection per request (connect, TLS attempt, startup and
        # statement preparation again), 4 % of a worker under wrk before it was sized up.
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_overflow,
        # No ping at every checkout (a round trip per request, 7 % of a worker under load):
        # only a connection that sat idle is pinged, see `_ping_when_idle`.
        pool_pre_ping=False,
        pool_timeout=settings.db_connect_timeout,
        connect_args={
            "timeout": settings.db_connect_timeout,
            "command_timeout": settings.db_command_timeout,
            "server_settings": {"application_name": "grandlivre"},
        },
    )
    _ping_when_idle(engine)
    return engine


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only when it sat idle for IDLE_PING_SECONDS.

    Without a ping, a connection that PostgreSQL dropped while the pool held it (a restart too
    quick for the probes to notice) would fail a request over to the fallback instead of being
    replaced. A connection back in use within the second cannot have missed much: a restart
    while requests flow fails those in flight anyway, and the first failure invalidates the
    whole pool. A failed ping raises DisconnectionError, on which the pool opens a fresh
    connection (SQLAlchemy's documented custom pessimistic disconnect handling).
    """
    dialect = engine.sync_engine.dialect

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi: DBAPIConnection | None, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(
        dbapi: DBAPIConnection, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
    ) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None or time.monotonic() - since < IDLE_PING_SECONDS:
            return
        try:
            dialect.do_ping(dbapi)
        except Exception as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc


def _create_sqlite_engine(url: str, settings: Settings) -> AsyncEngine:
    engine = create_async_engine(url, connect_args={"isolation_level": None})
    busy_timeout = int(settings.sqlite_busy_timeout_ms)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor: Any = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine
