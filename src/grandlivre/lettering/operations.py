"""The replayable writes of lettrage: match and unmatch (see grandlivre/store/operations.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Self

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.errors import MatchNotFound
from grandlivre.lettering import service
from grandlivre.store import AlreadyApplied, OpContext, Operation
from grandlivre.store import operations as codec


def _position(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"expected a line position, got {type(value).__name__}")
    return value


def _lines(value: Any) -> tuple[service.LineKey, ...]:
    if not isinstance(value, list):
        raise codec.MalformedOperation(f"lines is not a list: {value!r}")
    return tuple(
        service.LineKey(codec.an_id(line["entry_id"]), _position(line["position"]))
        for line in value
    )


@dataclass(frozen=True)
class MatchLines(Operation[service.MatchView]):
    """Match lines of an account that sum to zero, with the id the service gave the match.

    A code the client left out is the next free one where the match is applied: replayed,
    the match takes the code after the last PostgreSQL knows, which is the fallback's unless
    another replica matched on the account meanwhile. A code given is kept, or the replay is
    a conflict.
    """

    name: ClassVar[str] = "lettering.match"

    ledger: str
    account: str
    match_id: uuid.UUID
    spec: service.MatchSpec
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> service.MatchView:
        """Match the lines; in a replay, a match with this id there already is this one."""
        if ctx.replaying and await service.match_exists(session, self.match_id):
            raise AlreadyApplied(self.match_id)
        return await service.match_lines(
            session, self.ledger, self.account, match_id=self.match_id, spec=self.spec, now=self.now
        )

    async def discard_local(self, session: AsyncSession) -> None:
        """Remove the match from the fallback, its lines open again there."""
        await service.discard_match(session, self.match_id)

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        spec = self.spec
        return {
            "ledger": self.ledger,
            "account": self.account,
            "match_id": str(self.match_id),
            "lines": [line.to_json() for line in spec.lines],
            "third_party": spec.third_party,
            "date": codec.iso_or_none(spec.on),
            "code": spec.code,
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            account=codec.text(data["account"]),
            match_id=codec.an_id(data["match_id"]),
            spec=service.MatchSpec(
                lines=_lines(data["lines"]),
                third_party=codec.text_or_none(data["third_party"]),
                on=codec.day_or_none(data["date"]),
                code=codec.text_or_none(data["code"]),
            ),
            now=codec.instant(data["now"]),
        )


@dataclass(frozen=True)
class UnmatchLines(Operation[None]):
    """Unmatch a match: its lines are open again, the match stays as history.

    It names the match by id, which the route read from its code: replayed, it unmatches that
    very match, whatever code it holds on PostgreSQL and whatever match holds the code there.
    """

    name: ClassVar[str] = "lettering.unmatch"

    ledger: str
    account: str
    match_id: uuid.UUID
    code: str
    now: datetime

    async def apply(self, session: AsyncSession, ctx: OpContext) -> None:
        """Unmatch it; in a replay, one unmatched already was unmatched by this or another."""
        changed = await service.unmatch(
            session,
            self.ledger,
            self.account,
            match_id=self.match_id,
            code=self.code,
            now=self.now,
        )
        if not changed:
            if ctx.replaying:
                raise AlreadyApplied(self.match_id)
            raise MatchNotFound(f"account {self.account} has no live match {self.code}")

    def to_json(self) -> dict[str, Any]:
        """Return the journaled form."""
        return {
            "ledger": self.ledger,
            "account": self.account,
            "match_id": str(self.match_id),
            "code": self.code,
            "now": codec.iso(self.now),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """Rebuild from the journaled form."""
        return cls(
            ledger=codec.text(data["ledger"]),
            account=codec.text(data["account"]),
            match_id=codec.an_id(data["match_id"]),
            code=codec.text(data["code"]),
            now=codec.instant(data["now"]),
        )


OPERATIONS = (MatchLines, UnmatchLines)
