"""Apply Alembic migrations, from the CLI or at start-up, on either dialect."""

from __future__ import annotations

import asyncio
import fcntl
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import grandlivre

# Arbitrary constant naming the advisory lock that serialises migrations across processes.
_MIGRATION_LOCK_ID = 7_302_114_001


def migrations_dir() -> Path:
    """Locate the Alembic scripts: inside the wheel, or at the root of a source checkout."""
    package_dir = Path(grandlivre.__file__).resolve().parent
    bundled = package_dir / "_migrations"
    if bundled.is_dir():
        return bundled
    return package_dir.parent.parent / "migrations"


def alembic_config() -> Config:
    """Build the Alembic configuration without needing an alembic.ini on disk."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


# Alembic keeps the migration it runs in module globals (`alembic.context`, `alembic.op`): two
# upgrades interleaved on one event loop (two stores of a process, one starting while the other
# recovers) would run each other's operations. One at a time per loop; the advisory lock or
# the file lock below serialises processes, on one database.
_UPGRADES: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


def _one_upgrade_at_a_time() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _UPGRADES.get(loop)
    if lock is None:
        lock = _UPGRADES[loop] = asyncio.Lock()
    return lock


async def upgrade_to_head(engine: AsyncEngine) -> None:
    """Bring the database behind `engine` to the newest schema; safe from many processes, and
    from many upgrades at once in one."""
    async with _one_upgrade_at_a_time():
        with _sqlite_file_lock(engine):
            async with engine.connect() as conn:
                await conn.run_sync(_upgrade)


def _upgrade(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _MIGRATION_LOCK_ID})
        connection.commit()
    try:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
        connection.commit()
    finally:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _MIGRATION_LOCK_ID})
            connection.commit()


@contextmanager
def _sqlite_file_lock(engine: AsyncEngine) -> Iterator[None]:
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(f"{database}.migrate.lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
