"""Run a write at most once per Idempotency-Key, in the same transaction as the write."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.db.tables import IdempotencyKey
from grandlivre.errors import IdempotencyKeyReused
from grandlivre.idempotency import repository as repo


@dataclass(frozen=True)
class Outcome:
    """The response to give: the fresh one, or the stored one when `replayed`."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


def fingerprint(method: str, path: str, body: Any) -> str:
    """Hash what makes two requests the same request: method, path and parsed body."""
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def forget(session: AsyncSession, scope: str, key: str) -> None:
    """Forget the response to a key, so that the key may be used afresh."""
    await repo.remove(session, scope, key)


def answer_stored(
    request_fingerprint: str, *, fingerprint: str, status_code: int, body: str
) -> Outcome:
    """Replay a stored response to a retry of the same request; refuse another request."""
    if fingerprint != request_fingerprint:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request; use a new key"
        )
    return Outcome(status_code, json.loads(body), replayed=True)


def stored_row(
    *, scope: str, key: str, fingerprint: str, status_code: int, body: dict[str, Any], now: datetime
) -> dict[str, Any]:
    """Return the row that stores a response, for an insert in the write's own statement."""
    return {
        "scope": scope,
        "key": key,
        "fingerprint": fingerprint,
        "status_code": status_code,
        "response_body": json.dumps(body, separators=(",", ":")),
        "created_at": now,
    }


async def store_rows(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Store responses built by `stored_row` in one statement (IntegrityError if any key is
    stored already)."""
    await repo.add_rows(session, rows)


async def run_once(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    request_fingerprint: str,
    now: datetime,
    action: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
) -> Outcome:
    """Run `action` unless `key` was used before; then replay its response or refuse.

    The key row is written in the write's own transaction, so either both are committed or
    neither is; a request that failed leaves no key behind and may be retried with it. Two
    concurrent first uses collide on the primary key: the store runs the loser again, and it
    then finds the winner's response here.
    """
    stored = await repo.get(session, scope, key)
    if stored is not None:
        return answer_stored(
            request_fingerprint,
            fingerprint=stored.fingerprint,
            status_code=stored.status_code,
            body=stored.response_body,
        )
    status_code, body = await action()
    await repo.add(
        session,
        IdempotencyKey(
            scope=scope,
            key=key,
            fingerprint=request_fingerprint,
            status_code=status_code,
            response_body=json.dumps(body, separators=(",", ":")),
            created_at=now,
        ),
    )
    return Outcome(status_code, body, replayed=False)
