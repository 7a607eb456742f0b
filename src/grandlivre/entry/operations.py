"""The replayable writes of entries: post and reverse (see grandlivre/store/operations.py)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self

from fastapi import status
from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.entry import service
from grandlivre.entry.schemas import EntryRead
from grandlivre.idempotency import service as idempotency
from grandlivre.idempotency.service import Outcome
from grandlivre.store import AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec


@dataclass(frozen=True)
class IdempotencyArgs:
    """The Idempotency-Key of a write: where it is unique, the key, and the request's hash."""

    scope: str
    key: str
    fingerprint: str

    def to_json(self) -> dict[str, str]:
        """Return the journaled form."""
        return {"scope": self.scope, "key": self.key, "fingerprint": self.fingerprint}

    @classmethod
    def from_json(cls, data: Any) -> IdempotencyArgs | None:
        """Rebuild from the journaled form (null when the request had no key)."""
        if data is None:
            return None
        return cls(
            scope=codec.text(data["scope"]),
            key=codec.text(data["key"]),
            fingerprint=codec.text(data["fingerprint"]),
        )


def idempotency_args(
    ledger: str, key: str | None, method: str, path: str, payload: Any
) -> IdempotencyArgs | None:
    """Return the idempotency arguments of a request, or None without a key."""
    if key is None:
        return None
    return IdempotencyArgs(
        scope=f"ledger:{ledger}",
        key=key,
        fingerprint=idempotency.fingerprint(method, path, payload),
    )


async def _once(
    session: AsyncSession,
    key: IdempotencyArgs | None,
    now: datetime,
    ctx: OpContext,
    post: Callable[[bool], Awaitable[service.EntryView | None]],
) -> Outcome:
    """Run `post` at most once per Idempotency-Key and render its response.

    A replay without a key has nobody to answer: it skips reading the entry back.
    """

    async def action() -> tuple[int, dict[str, Any]]:
        view = await post(True)
        assert view is not None
        return status.HTTP_201_CREATED, EntryRead.of(view).model_dump(mode="json")

    if key is None:
        if ctx.replaying:
            await post(False)
            return Outcome(status.HTTP_201_CREATED, {}, replayed=False)
        code, body = await action()
        return Outcome(code, body, replayed=False)
    outcome = await idempotency.run_once(
        session,
        scope=key.scope,
        key=key.key,
        request_fingerprint=key.fingerprint,
        now=now,
        action=action,
    )
    if ctx.replaying and outcome.replayed:
        # The key was answered on PostgreSQL meanwhile: the client's one write is there.
        raise AlreadyApplied(key.key)
    return outcome


async def _post(
    session: AsyncSession,
    ctx: OpContext,
    *,
    ledger: str,
    postings: list[service.Posting],
    now: datetime,
    key: IdempotencyArgs | None,
    render: Callable[[list[service.EntryView]], dict[str, Any]],
    batch: bool = False,
) -> Outcome:
    """Post entries at most once per Idempotency-Key: one query reads what every rule needs
    (and the stored answer to the key), one statement writes entries, lines and answer."""
    context = await service.load_context(
        session,
        ledger,
        postings,
        idempotency=(key.scope, key.key) if key else None,
        look_for_ids=ctx.replaying,
    )
    if ctx.replaying and context.existing:
        raise AlreadyApplied(postings[0].entry_id)
    if key is not None and context.stored is not None:
        if ctx.replaying:
            # The key was answered on PostgreSQL meanwhile: the client's one write is there.
            raise AlreadyApplied(key.key)
        stored = context.stored
        return idempotency.answer_stored(
            key.fingerprint,
            fingerprint=stored.fingerprint,
            status_code=stored.status_code,
            body=stored.body,
        )
    checked = service.check_postings(
        context, postings, now=now, status=ctx.entry_status, origin=ctx.origin, batch=batch
    )
    if ctx.replaying and key is None:
        # Nobody waits for this answer: write without rendering it.
        await service.write_postings(session, checked)
        return Outcome(status.HTTP_201_CREATED, {}, replayed=False)
    body = render([c.view for c in checked])
    row = None
    if key is not None:
        row = idempotency.stored_row(
            scope=key.scope,
            key=key.key,
            fingerprint=key.fingerprint,
            status_code=status.HTTP_201_CREATED,
            body=body,
            now=now,
        )
    await service.write_postings(session, checked, idempotency_row=row)
    return Outcome(status.HTTP_201_CREATED, body, replayed=False)


class _EntryWrite(Operation[Outcome]):
    """What posting and reversing share: an answer that may replay a stored one."""

    def wrote_nothing(self, result: Outcome) -> bool:
        """A response replayed from its Idempotency-Key wrote nothing."""
        return result.replayed

    async def _discard(
        self, session: AsyncSession, entry_id: uuid.UUID, key: IdempotencyArgs | None
    ) -> None:
        await service.discard_entry(session, entry_id)
        if key is not None:
            await idempotency.forget(session, key.scope, key.key)


@dataclass(frozen=True)
class PostEntry(_EntryWrite):
    """Post a balanced entry with the id the service gave it."""

    name: ClassVar[str] = "entry.post"

    ledger: str
    entry_id: uuid.UUID
    draft: service.EntryDraft
    now: datetime
    idempotency: IdempotencyArgs | None = None

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Outcome:
        """Post the entry, once per Idempotency-Key: one query to read, one to write."""
        return await _post(
            session,
            ctx,
            ledger=self.ledger,
            postings=[service.Posting(self.entry_id, self.draft)],
            now=self.now,
            key=self.idempotency,
            render=lambda views: EntryRead.of(views[0]).model_dump(mode="json"),
        )

    async def discard_local(self, session: AsyncSession) -> None:
        """Remove the entry from the fallback, and its key with it."""
        await self._discard(session, self.entry_id, self.idempotency)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "entry_id": str(self.entry_id),
            "draft": service.draft_to_json(self.draft),
            "now": codec.iso(self.now),
            "idempotency": self.idempotency.to_json() if self.idempotency else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            entry_id=codec.an_id(data["entry_id"]),
            draft=service.draft_from_json(data["draft"]),
            now=codec.instant(data["now"]),
            idempotency=IdempotencyArgs.from_json(data.get("idempotency")),
        )


@dataclass(frozen=True)
class ReverseEntry(_EntryWrite):
    """Post the reversal of an entry, with the id the service gave the reversal."""

    name: ClassVar[str] = "entry.reverse"

    ledger: str
    entry_id: uuid.UUID
    reversal_id: uuid.UUID
    now: datetime
    on: date | None = None
    label: str | None = None
    idempotency: IdempotencyArgs | None = None

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Outcome:
        """Reverse the entry, once per Idempotency-Key."""
        if ctx.replaying and await service.entry_exists(session, self.reversal_id):
            raise AlreadyApplied(self.reversal_id)
        return await _once(
            session,
            self.idempotency,
            self.now,
            ctx,
            lambda read_back: service.reverse_entry(
                session,
                self.ledger,
                self.entry_id,
                reversal_id=self.reversal_id,
                now=self.now,
                on=self.on,
                label=self.label,
                status=ctx.entry_status,
                origin=ctx.origin,
                read_back=read_back,
            ),
        )

    async def discard_local(self, session: AsyncSession) -> None:
        """Remove the reversal from the fallback, and its key with it."""
        await self._discard(session, self.reversal_id, self.idempotency)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "entry_id": str(self.entry_id),
            "reversal_id": str(self.reversal_id),
            "date": codec.iso_or_none(self.on),
            "label": self.label,
            "now": codec.iso(self.now),
            "idempotency": self.idempotency.to_json() if self.idempotency else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            entry_id=codec.an_id(data["entry_id"]),
            reversal_id=codec.an_id(data["reversal_id"]),
            on=codec.day_or_none(data["date"]),
            label=codec.text_or_none(data["label"]),
            now=codec.instant(data["now"]),
            idempotency=IdempotencyArgs.from_json(data.get("idempotency")),
        )


@dataclass(frozen=True)
class PostEntries(_EntryWrite):
    """Post up to MAX_BATCH entries, all or none, each with the id the service gave it."""

    name: ClassVar[str] = "entry.post_batch"

    ledger: str
    postings: tuple[tuple[uuid.UUID, service.EntryDraft], ...]
    now: datetime
    idempotency: IdempotencyArgs | None = None

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Outcome:
        """Post every entry or none, once per Idempotency-Key."""
        return await _post(
            session,
            ctx,
            ledger=self.ledger,
            postings=[service.Posting(entry_id, draft) for entry_id, draft in self.postings],
            now=self.now,
            key=self.idempotency,
            render=lambda views: {
                "items": [EntryRead.of(view).model_dump(mode="json") for view in views]
            },
            batch=True,
        )

    async def discard_local(self, session: AsyncSession) -> None:
        """Remove the entries from the fallback, and the key with them."""
        for entry_id, _ in self.postings:
            await service.discard_entry(session, entry_id)
        if self.idempotency is not None:
            await idempotency.forget(session, self.idempotency.scope, self.idempotency.key)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "entries": [
                {"entry_id": str(entry_id), "draft": service.draft_to_json(draft)}
                for entry_id, draft in self.postings
            ],
            "now": codec.iso(self.now),
            "idempotency": self.idempotency.to_json() if self.idempotency else None,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            postings=tuple(
                (codec.an_id(item["entry_id"]), service.draft_from_json(item["draft"]))
                for item in data["entries"]
            ),
            now=codec.instant(data["now"]),
            idempotency=IdempotencyArgs.from_json(data.get("idempotency")),
        )


OPERATIONS = (PostEntry, PostEntries, ReverseEntry)
