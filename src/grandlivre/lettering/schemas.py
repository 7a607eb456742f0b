"""Pydantic models of the lettering routes and of the aged balance."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError

from grandlivre.entry.schemas import MAX_LINES
from grandlivre.lettering import service
from grandlivre.money import format_amount
from grandlivre.party.schemas import PartyCode
from grandlivre.schemas import Day, NotNull, WriteModel

MAX_MATCH_LINES = 1000
CODE_PATTERN = r"^[A-Z]{1,8}$"

MatchCode = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        examples=["A"],
        description="The match's code (the FEC's EcritureLet): 1 to 8 capital letters.",
    ),
]


def _json_integer(value: Any) -> Any:
    # A JSON integer, 2 or 2.0 (the same number to JSON Schema); never "2" or true.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("int_type", "expected a JSON integer, such as 0")


class LineRef(WriteModel):
    """A line of an entry: the entry's id and the line's position in it, from 0."""

    entry_id: uuid.UUID
    position: Annotated[int, Field(ge=0, le=MAX_LINES - 1), BeforeValidator(_json_integer)]


class MatchCreate(WriteModel):
    """Lines of the account to match: they sum to zero (an invoice and its payments)."""

    lines: list[LineRef] = Field(
        min_length=2,
        max_length=MAX_MATCH_LINES,
        json_schema_extra={"uniqueItems": True},
        description="2 to 1,000 lines of the account, each named once.",
    )
    third_party: Annotated[PartyCode | None, NotNull()] = Field(
        default=None,
        description="The third party every line names; left out, the lines name one third "
        "party or none, whichever it is.",
    )
    date: Annotated[Day | None, NotNull()] = Field(
        default=None,
        description="The match's date (the FEC's DateLet), not before its latest line; left "
        "out, the date of its latest line.",
    )
    code: Annotated[MatchCode | None, NotNull()] = Field(
        default=None,
        description="A code no live match of the account holds; left out, the one after the "
        "last the account used, in the sequence A, B, ..., Z, AA, AB, ...",
    )

    @model_validator(mode="after")
    def _each_line_once(self) -> MatchCreate:
        seen: set[tuple[uuid.UUID, int]] = set()
        for line in self.lines:
            key = (line.entry_id, line.position)
            if key in seen:
                raise PydanticCustomError(
                    "duplicate_line",
                    "line {entry_id}/{position} is named twice",
                    {"entry_id": str(line.entry_id), "position": line.position},
                )
            seen.add(key)
        return self

    def to_spec(self) -> service.MatchSpec:
        """Turn the payload into the service's spec."""
        return service.MatchSpec(
            lines=tuple(service.LineKey(line.entry_id, line.position) for line in self.lines),
            third_party=self.third_party,
            on=self.date,
            code=self.code,
        )


def _debit(amount: int, decimals: int) -> str | None:
    return format_amount(amount, decimals) if amount > 0 else None


def _credit(amount: int, decimals: int) -> str | None:
    return format_amount(-amount, decimals) if amount < 0 else None


class MatchedLineRead(BaseModel):
    """A line of a match."""

    entry_id: uuid.UUID
    position: int
    date: dt.date
    journal: str
    label: str = Field(description="The line's label, or the entry's when it has none.")
    reference: str | None
    debit: str | None
    credit: str | None

    @classmethod
    def of(cls, view: service.LineView, decimals: int) -> MatchedLineRead:
        """Build from the service's view."""
        return cls(
            entry_id=view.entry_id,
            position=view.position,
            date=view.date,
            journal=view.journal,
            label=view.label,
            reference=view.reference,
            debit=_debit(view.amount, decimals),
            credit=_credit(view.amount, decimals),
        )


class MatchRead(BaseModel):
    """A live match (lettrage) of an account's lines."""

    id: uuid.UUID
    code: str = Field(description="The FEC's EcritureLet, unique among the account's live matches.")
    account: str
    third_party: str | None = Field(description="The third party of its lines, if they name one.")
    date: dt.date = Field(description="The FEC's DateLet.")
    created_at: dt.datetime
    amount: str = Field(description="The total of its debits, equal to that of its credits.")
    lines: list[MatchedLineRead]

    @classmethod
    def of(cls, view: service.MatchView) -> MatchRead:
        """Build from the service's view."""
        debit = sum(line.amount for line in view.lines if line.amount > 0)
        return cls(
            id=view.id,
            code=view.code,
            account=view.account,
            third_party=view.third_party,
            date=view.date,
            created_at=view.created_at,
            amount=format_amount(debit, view.decimals),
            lines=[MatchedLineRead.of(line, view.decimals) for line in view.lines],
        )


class OpenItemRead(BaseModel):
    """A validated line of the account that no match holds (as of the day asked)."""

    entry_id: uuid.UUID
    position: int
    date: dt.date
    journal: str
    label: str = Field(description="The line's label, or the entry's when it has none.")
    reference: str | None
    debit: str | None
    credit: str | None
    third_party: str | None

    @classmethod
    def of(cls, view: service.LineView, decimals: int) -> OpenItemRead:
        """Build from the service's view."""
        return cls(
            entry_id=view.entry_id,
            position=view.position,
            date=view.date,
            journal=view.journal,
            label=view.label,
            reference=view.reference,
            debit=_debit(view.amount, decimals),
            credit=_credit(view.amount, decimals),
            third_party=view.third_party,
        )


class AgedAmounts(BaseModel):
    """Open items by days past their due date, and their total: what is owed, signed."""

    not_due: str = Field(description="Not yet due on `as_of`.")
    days_0_30: str = Field(serialization_alias="0-30", description="0 to 30 days past due.")
    days_31_60: str = Field(serialization_alias="31-60", description="31 to 60 days past due.")
    days_61_90: str = Field(serialization_alias="61-90", description="61 to 90 days past due.")
    over_90: str = Field(description="More than 90 days past due.")
    total: str

    @staticmethod
    def fields_of(buckets: dict[service.Bucket, int], decimals: int) -> dict[str, str]:
        """Return the fields of these bands."""

        def fmt(minor: int) -> str:
            return format_amount(minor, decimals)

        return {
            "not_due": fmt(buckets["not_due"]),
            "days_0_30": fmt(buckets["0-30"]),
            "days_31_60": fmt(buckets["31-60"]),
            "days_61_90": fmt(buckets["61-90"]),
            "over_90": fmt(buckets["over_90"]),
            "total": fmt(sum(buckets.values())),
        }


class AgedParty(BaseModel):
    """Who a row of the aged balance is about."""

    third_party: str
    name: str
    account: str = Field(description="Its collective account.")
    payment_terms_days: int


class AgedPartyRead(AgedAmounts, AgedParty):
    """One customer's or supplier's open items by age (its fields, then its bands)."""


class AgedBalanceRead(BaseModel):
    """The aged balance (balance âgée) of customers or suppliers as of a day."""

    kind: service.AgedKind
    as_of: dt.date
    items: list[AgedPartyRead] = Field(description="Third parties with open items, by code.")
    totals: AgedAmounts

    @classmethod
    def of(cls, report: service.AgedBalance) -> AgedBalanceRead:
        """Build from the service's report."""
        return cls(
            kind=report.kind,
            as_of=report.as_of,
            items=[
                AgedPartyRead(
                    third_party=party.code,
                    name=party.name,
                    account=party.account,
                    payment_terms_days=party.payment_terms_days,
                    **AgedAmounts.fields_of(party.buckets, report.decimals),
                )
                for party in report.parties
            ],
            totals=AgedAmounts(**AgedAmounts.fields_of(report.totals(), report.decimals)),
        )
