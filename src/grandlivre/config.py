"""Settings: every environment variable Grand Livre reads, its default and its meaning.

Configuration comes from the environment only (a `.env` file in the working directory is read
if present). `grandlivre config` prints the effective values with secrets masked.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Effective configuration of one Grand Livre process."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite+aiosqlite:///./dev.db",
        description="Primary database: PostgreSQL (postgresql+asyncpg://...) or SQLite "
        "(sqlite+aiosqlite:///path).",
    )
    fallback_database_url: str = Field(
        default="sqlite+aiosqlite:///./fallback.db",
        description="SQLite file kept as a mirror of PostgreSQL and used when it is unreachable.",
    )
    fallback_writes: Literal["accept", "reject"] = Field(
        default="accept",
        description="In fallback, `accept` journals writes for replay; `reject` answers 503.",
    )
    probe_interval: float = Field(
        default=1.0, gt=0, description="Seconds between PostgreSQL probes (fractions allowed)."
    )
    probe_timeout: float = Field(
        default=1.0, gt=0, description="Seconds a probe waits for PostgreSQL to answer."
    )
    probe_failures: int = Field(
        default=2, ge=1, description="Failed probes in a row that switch primary to fallback."
    )
    probe_successes: int = Field(
        default=3, ge=1, description="Good probes in a row that start the replay (recovering)."
    )
    replay_batch: int = Field(default=200, ge=1, description="Journal rows replayed per batch.")
    mirror_chunk_rows: int = Field(
        default=5000,
        ge=1,
        description="Rows the mirror copies from PostgreSQL per chunk (one SQLite transaction; "
        "the first copy of a large database goes in many, resumable after a restart).",
    )
    host: str = Field(default="127.0.0.1", description="Interface `grandlivre serve` binds.")
    port: int = Field(default=8000, ge=1, le=65535, description="Port `grandlivre serve` binds.")
    workers: int = Field(default=1, ge=1, le=64, description="Worker processes of `serve`.")
    log_level: str = Field(default="INFO", description="Minimum log level.")
    log_format: Literal["json", "console"] = Field(
        default="json", description="`json`: one object per line; `console`: for humans."
    )
    seed_ledger: str = Field(
        default="main", description="Code of the ledger seeded with the PCG at start-up."
    )
    seed_fiscal_year_start: date | None = Field(
        default=None,
        description="First day of the seeded ledger's first fiscal year (YYYY-MM-DD); it runs "
        "12 months. Unset: the calendar year in which the ledger is seeded.",
    )
    migrate_on_start: bool = Field(
        default=True, description="Apply Alembic migrations and seed when the app starts."
    )
    db_pool_size: int = Field(
        default=20,
        ge=1,
        description="PostgreSQL connections each process keeps open (size it to the requests it "
        "serves at once: a connection opened beyond it is closed after use).",
    )
    db_pool_overflow: int = Field(
        default=10,
        ge=0,
        description="PostgreSQL connections a process may open beyond DB_POOL_SIZE in a burst.",
    )
    db_connect_timeout: float = Field(
        default=2.0, gt=0, description="Seconds to wait for a PostgreSQL connection."
    )
    db_command_timeout: float = Field(
        default=5.0, gt=0, description="Seconds a PostgreSQL statement may run."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=15000, ge=0, description="Milliseconds SQLite waits on a locked database."
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted, in bytes."
    )
    max_import_bytes: int = Field(
        default=67_108_864,
        ge=1024,
        description="Largest file an import (FEC, CSV) accepts as its body, in bytes.",
    )
    max_header_bytes: int = Field(
        default=16_384,
        ge=1024,
        description="Largest request head (request line and header fields) accepted, in bytes; "
        "larger gets 431.",
    )
    max_header_line_bytes: int = Field(
        default=8192,
        ge=1024,
        description="Longest request line or header line accepted, in bytes; longer gets 431.",
    )

    rate_limit: str = Field(
        default="600/minute",
        description="Requests allowed per API key (limits syntax: `600/minute`, `10/second`).",
    )
    rate_limit_anonymous: str = Field(
        default="60/minute",
        description="Requests allowed per client IP without a valid API key.",
    )
    rate_limit_burst_threshold: int = Field(
        default=20,
        ge=1,
        description="429s to one client within one window that raise a `rate_limit_burst` event.",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for limits shared by every process and replica (redis://host:6379/0). "
        "Unset: per-process limits in memory.",
    )
    redis_timeout: float = Field(
        default=0.5, gt=0, description="Seconds a Redis call may take before the local fallback."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated IPs/CIDRs whose X-Forwarded-For is believed.",
    )
    cors_origins: str = Field(
        default="", description="Comma-separated origins allowed by CORS; empty: CORS off."
    )

    @field_validator("log_level")
    @classmethod
    def _upper_level(cls, value: str) -> str:
        return value.upper()

    @staticmethod
    def split_list(value: str) -> list[str]:
        """Split a comma-separated setting into its non-empty items."""
        return [item.strip() for item in value.split(",") if item.strip()]

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the primary database is SQLite (embedded mode)."""
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    """Return the process-wide settings read from the environment."""
    return Settings()
