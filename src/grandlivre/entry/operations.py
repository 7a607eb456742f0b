"""The replayable writes of entries: post and reverse (see grandlivre/store/operations.py)."""

from __future__ import annotations

import uuid
from abc import abstractmethod
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar, Self

from fastapi import status
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from grandlivre.entry import service
from grandlivre.entry.schemas import EntryRead
from grandlivre.errors import DomainError
from grandlivre.fiscal.repository import YearSpan
from grandlivre.idempotency import service as idempotency
from grandlivre.idempotency.service import Outcome
from grandlivre.store import LIVE, AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec


class LedgerDecimals:
    """The currency decimals of the ledgers this process posted into, by code.

    A hint for the one-statement posting (`PostEntry.apply_at_once`), which needs them to read
    the amounts before it reaches the database, and checks them there: a wrong or stale hint
    makes it post the usual way, never post wrong. Learnt from every posting's context.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._by_code: dict[str, int] = {}

    def get(self, code: str) -> int | None:
        """The decimals last seen for the ledger, if any."""
        return self._by_code.get(code)

    def learn(self, code: str, decimals: int) -> None:
        """Remember a ledger's decimals (forgetting all the others past LIMIT ledgers)."""
        if code not in self._by_code and len(self._by_code) >= self.LIMIT:
            self._by_code.clear()
        self._by_code[code] = decimals


LEDGER_DECIMALS = LedgerDecimals()


class FiscalYearBounds:
    """The bounds of the fiscal years this process saw postings reach, by ledger code.

    The other hint of the one-statement posting: its answer names the entry's fiscal year
    before the database is reached. Bounds never change once a year exists, and the trigger
    that checks the period checks the year given too, so a missing hint only sends the
    posting the usual way, which learns it.
    """

    LIMIT = 4096

    def __init__(self) -> None:
        self._by_code: dict[str, tuple[YearSpan, ...]] = {}

    def year_of(self, code: str, day: date) -> int | None:
        """The name of the ledger's fiscal year known to cover `day`, if any."""
        for span in self._by_code.get(code, ()):
            if span.start <= day <= span.end:
                return span.year
        return None

    def learn(self, code: str, years: Sequence[YearSpan]) -> None:
        """Remember fiscal years of a ledger (forgetting all ledgers past LIMIT of them)."""
        if not years:
            return
        if code not in self._by_code and len(self._by_code) >= self.LIMIT:
            self._by_code.clear()
        known = {span.year: span for span in self._by_code.get(code, ())}
        known.update((span.year, span) for span in years)
        self._by_code[code] = tuple(known.values())


FISCAL_YEARS = FiscalYearBounds()


@dataclass(frozen=True)
class IdempotencyArgs:
    """The Idempotency-Key of a write: where it is unique, the key, and the request's hash."""

    scope: str
    key: str
    fingerprint: str

    def to_json(self) -> dict[str, str]:
        """Return the journaled form."""
        return {"scope": self.scope, "key": self.key, "fingerprint": self.fingerprint}

    def created(self, body: dict[str, Any], now: datetime) -> dict[str, Any]:
        """The row that stores a 201 with `body` as this key's answer, to insert with the write."""
        return idempotency.stored_row(
            scope=self.scope,
            key=self.key,
            fingerprint=self.fingerprint,
            status_code=status.HTTP_201_CREATED,
            body=body,
            now=now,
        )

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
    LEDGER_DECIMALS.learn(context.code, context.decimals)
    FISCAL_YEARS.learn(context.code, context.years)
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
    row = key.created(body, now) if key is not None else None
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


class _PostingWrite(_EntryWrite):
    """What posting one entry and posting a batch share: one query to read what the rules
    need, one statement to write, and a replay that posts a run of them into one ledger as
    one posting."""

    batch: ClassVar[bool]
    ledger: str
    now: datetime
    idempotency: IdempotencyArgs | None

    @abstractmethod
    def to_post(self) -> list[service.Posting]:
        """Return the entries to post, in order."""

    @abstractmethod
    def render(self, views: list[service.EntryView]) -> dict[str, Any]:
        """Return the response body to the posted entries."""

    async def apply(self, session: AsyncSession, ctx: OpContext) -> Outcome:
        """Post the entries, once per Idempotency-Key: one query to read, one to write."""
        return await _post(
            session,
            ctx,
            ledger=self.ledger,
            postings=self.to_post(),
            now=self.now,
            key=self.idempotency,
            render=self.render,
            batch=self.batch,
        )

    def replay_group(self) -> Hashable | None:
        """Consecutive postings into one ledger replay as one posting."""
        return ("entry.post", self.ledger)

    @classmethod
    async def apply_together(
        cls, session: AsyncSession, ctx: OpContext, ops: Sequence[Operation[Any]]
    ) -> None:
        """Replay postings into one ledger as one: one query reads what the rules of all of
        them need, each is checked as its own request was, one statement writes them all."""
        posts = [op for op in ops if isinstance(op, _PostingWrite)]
        if not ctx.replaying or len(posts) != len(ops) or len({p.ledger for p in posts}) > 1:
            await super().apply_together(session, ctx, ops)
            return
        await _replay_posts(session, ctx, posts)


async def _replay_posts(
    session: AsyncSession, ctx: OpContext, posts: Sequence[_PostingWrite]
) -> None:
    """Replay postings into one ledger in one read and one write (two with several keys).

    What the replay of one posting tells apart (an entry id already on PostgreSQL, a key
    answered there meanwhile, a rule broken) makes this raise AlreadyApplied, IntegrityError
    (a key inserted twice) or the rule's DomainError; the store then replays them one by one.
    """
    each = [op.to_post() for op in posts]
    context = await service.load_context(
        session, posts[0].ledger, [p for postings in each for p in postings], look_for_ids=True
    )
    if context.existing:
        raise AlreadyApplied(min(context.existing))
    checked: list[service.Checked] = []
    keys: list[dict[str, Any]] = []
    for op, postings in zip(posts, each, strict=True):
        mine = service.check_postings(
            context,
            postings,
            now=op.now,
            status=ctx.entry_status,
            origin=ctx.origin,
            batch=op.batch,
        )
        checked.extend(mine)
        if op.idempotency is not None:
            keys.append(op.idempotency.created(op.render([c.view for c in mine]), op.now))
    await service.write_postings(session, checked, idempotency_row=keys[0] if keys else None)
    await idempotency.store_rows(session, keys[1:])


@dataclass(frozen=True)
class PostEntry(_PostingWrite):
    """Post a balanced entry with the id the service gave it."""

    name: ClassVar[str] = "entry.post"
    batch: ClassVar[bool] = False
    at_once: ClassVar[bool] = True

    ledger: str
    entry_id: uuid.UUID
    draft: service.EntryDraft
    now: datetime
    idempotency: IdempotencyArgs | None = None

    def to_post(self) -> list[service.Posting]:
        """Return the one entry."""
        return [service.Posting(self.entry_id, self.draft)]

    def render(self, views: list[service.EntryView]) -> dict[str, Any]:
        """Return the entry, as a single posting answers it."""
        return EntryRead.of(views[0]).model_dump(mode="json")

    async def apply_at_once(self, conn: AsyncConnection) -> Outcome | None:
        """Post in one statement when the ledger's decimals and the fiscal year of the date are
        known here and the entry's amounts are exact and balance; the statement and its
        trigger check the rest (see `apply_at_once`)."""
        decimals = LEDGER_DECIMALS.get(self.ledger)
        fiscal_year = FISCAL_YEARS.year_of(self.ledger, self.draft.date)
        if decimals is None or fiscal_year is None or self.draft.is_draft:
            return None
        if any(line.third_party is not None for line in self.draft.lines):
            return None  # the statement does not look third parties up: `apply` does
        try:
            view = service.checked_view(
                service.Posting(self.entry_id, self.draft),
                ledger=self.ledger,
                decimals=decimals,
                fiscal_year=fiscal_year,
                now=self.now,
                status=LIVE.entry_status,
                origin=LIVE.origin,
            )
        except DomainError:
            return None  # `apply` refuses it, in the order of its own rules
        body = self.render([view])
        key = self.idempotency
        row = key.created(body, self.now) if key is not None else None
        if not await service.post_at_once(conn, view, idempotency_row=row):
            return None
        return Outcome(status.HTTP_201_CREATED, body, replayed=False)

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
class PostEntries(_PostingWrite):
    """Post up to MAX_BATCH entries, all or none, each with the id the service gave it."""

    name: ClassVar[str] = "entry.post_batch"
    batch: ClassVar[bool] = True

    ledger: str
    postings: tuple[tuple[uuid.UUID, service.EntryDraft], ...]
    now: datetime
    idempotency: IdempotencyArgs | None = None

    def to_post(self) -> list[service.Posting]:
        """Return every entry of the batch, in order."""
        return [service.Posting(entry_id, draft) for entry_id, draft in self.postings]

    def render(self, views: list[service.EntryView]) -> dict[str, Any]:
        """Return the entries, as a batch posting answers them."""
        return {"items": [EntryRead.of(view).model_dump(mode="json") for view in views]}

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


def _view_body(view: service.EntryView) -> dict[str, Any]:
    return EntryRead.of(view).model_dump(mode="json")


@dataclass(frozen=True)
class UpdateDraft(Operation[dict[str, Any]]):
    """Change a draft (a merge patch of its fields); answer it as it now stands."""

    name: ClassVar[str] = "entry.update_draft"

    ledger: str
    entry_id: uuid.UUID
    changes: service.DraftChanges
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> dict[str, Any]:
        """Rewrite the draft (replayed again, the same changes give the same draft)."""
        view = await service.update_draft(
            session, self.ledger, self.entry_id, self.changes, now=self.now
        )
        return _view_body(view)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "entry_id": str(self.entry_id),
            "changes": self.changes.to_json(),
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            entry_id=codec.an_id(data["entry_id"]),
            changes=service.DraftChanges.from_json(data["changes"]),
            now=codec.instant(data["now"]),
        )


@dataclass(frozen=True)
class DeleteDraft(Operation[None]):
    """Delete a draft."""

    name: ClassVar[str] = "entry.delete_draft"

    ledger: str
    entry_id: uuid.UUID

    async def apply(self, session: AsyncSession, ctx: OpContext) -> None:
        """Delete the draft; in a replay, one already gone was deleted already."""
        if ctx.replaying and not await service.entry_exists(session, self.entry_id):
            raise AlreadyApplied(self.entry_id)
        await service.delete_draft(session, self.ledger, self.entry_id)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {"ledger": self.ledger, "entry_id": str(self.entry_id)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(ledger=codec.text(data["ledger"]), entry_id=codec.an_id(data["entry_id"]))


@dataclass(frozen=True)
class ValidateEntries(Operation[list[service.EntryView]]):
    """Validate drafts, all or none, at `now` (their ValidDate); answer those validated.

    Entries no longer drafts are left as they stand: validating is idempotent. An entry that
    is not there (in a replay: deleted on PostgreSQL meanwhile) is refused, a conflict in a
    replay; one validated there already was validated by this very operation or by another.
    """

    name: ClassVar[str] = "entry.validate"

    ledger: str
    entry_ids: tuple[uuid.UUID, ...]
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> list[service.EntryView]:
        """Validate those of the entries that are still drafts."""
        validated = await service.validate_entries(
            session, self.ledger, self.entry_ids, now=self.now, status=ctx.entry_status
        )
        if ctx.replaying and not validated:
            raise AlreadyApplied(self.entry_ids[0] if self.entry_ids else self.ledger)
        return validated

    def wrote_nothing(self, result: list[service.EntryView]) -> bool:
        """Entries validated already: nothing to journal."""
        return not result

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "entry_ids": [str(entry_id) for entry_id in self.entry_ids],
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        ids = data["entry_ids"]
        if not isinstance(ids, list):
            raise codec.MalformedOperation(f"entry_ids is not a list: {ids!r}")
        return cls(
            ledger=codec.text(data["ledger"]),
            entry_ids=tuple(codec.an_id(entry_id) for entry_id in ids),
            now=codec.instant(data["now"]),
        )


OPERATIONS = (PostEntry, PostEntries, ReverseEntry, UpdateDraft, DeleteDraft, ValidateEntries)
