"""Which database a session runs on, for the few statements written per dialect."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ARRAY, Uuid, any_, bindparam
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.types import TypeEngine

Executor = AsyncSession | AsyncConnection


def dialect_name(executor: Executor) -> str:
    """The name of the dialect a session or connection runs on."""
    if isinstance(executor, AsyncSession):
        return executor.get_bind().dialect.name
    return executor.dialect.name


def is_postgresql(executor: Executor) -> bool:
    """Tell whether the session runs on PostgreSQL (where the fixed-text statements apply)."""
    return dialect_name(executor) == "postgresql"


def among(
    column: Any, values: Iterable[Any], dialect: str, type_: TypeEngine[Any] | None = None
) -> Any:
    """`column` is one of `values`: one array parameter on PostgreSQL, an IN list on SQLite.

    An IN list renders one placeholder per value, so each length is another statement text,
    and PostgreSQL statements are prepared and cached per connection by text: a list whose
    length varies (the sealer's batches, a page's entries) filled every pooled connection's
    cache with a statement per length, the resident memory that grew over a soak
    (docs/performance.md). `= ANY($1)` is one statement whatever the length.
    """
    if dialect == "postgresql":
        return column == any_(bindparam(None, list(values), type_=ARRAY(type_ or Uuid())))
    return column.in_(list(values))
