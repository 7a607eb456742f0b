"""Pydantic models of the entry routes: what a client sends and what it reads back."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    Field,
    SerializerFunctionWrapHandler,
    WithJsonSchema,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from grandlivre.entry import service
from grandlivre.money import format_amount
from grandlivre.party.schemas import PartyCode
from grandlivre.schemas import Day, Label, NotNull, Reference, WriteModel, describe_value
from grandlivre.store import EntryStatus, Origin

MAX_LINES = 1000

AMOUNT_PATTERN = r"^[0-9]{1,16}(\.[0-9]{1,12})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
ACCOUNT_PATTERN = r"^[1-8][0-9]{1,19}$"
JOURNAL_PATTERN = r"^[A-Z0-9]{1,8}$"


def _amount_string(value: Any) -> Any:
    if value is None:
        return value
    if not isinstance(value, str):
        raise PydanticCustomError(
            "invalid_amount",
            'amounts are decimal strings such as "120.00", not {value}',
            {"value": describe_value(value)},
        )
    if not _AMOUNT.fullmatch(value):
        raise PydanticCustomError(
            "invalid_amount",
            'amounts are positive decimal strings such as "120.00" (got {value})',
            {"value": describe_value(value)},
        )
    return value


AmountText = Annotated[
    str | None,
    BeforeValidator(_amount_string),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": AMOUNT_PATTERN,
                    "description": "A positive decimal string, exact in the ledger's currency.",
                    "examples": ["120.00"],
                },
                {"type": "null"},
            ]
        }
    ),
]

AccountRef = Annotated[str, Field(pattern=ACCOUNT_PATTERN, examples=["411000"])]
JournalRef = Annotated[str, Field(pattern=JOURNAL_PATTERN, examples=["VE"])]


class LineCreate(WriteModel):
    """A line: an account and exactly one of debit and credit."""

    account: AccountRef
    debit: AmountText = None
    credit: AmountText = None
    label: Label | None = None
    third_party: PartyCode | None = Field(
        default=None,
        description="The code of the line's third party (its auxiliary account), on a "
        "collective account only; required there when the ledger says so. Null or left out: "
        "none.",
    )

    @staticmethod
    def schema_rules(schema: dict[str, Any]) -> None:
        """Exactly one of debit and credit carries an amount; the other is absent or null."""
        schema["oneOf"] = [
            {"required": ["debit"], "properties": {"debit": {"type": "string"}}},
            {"required": ["credit"], "properties": {"credit": {"type": "string"}}},
        ]

    @model_validator(mode="after")
    def _one_side(self) -> LineCreate:
        if (self.debit is None) == (self.credit is None):
            raise PydanticCustomError("invalid_line", "give exactly one of debit and credit")
        return self


class EntryCreate(WriteModel):
    """A balanced journal entry."""

    journal: JournalRef
    date: Day
    document_date: Annotated[Day | None, NotNull()] = Field(
        default=None,
        description="The date of the document behind the entry, an invoice's say (the FEC's "
        "PieceDate). Left out: the entry's `date`.",
    )
    label: Label = Field(examples=["Facture F-2026-001"])
    reference: Reference | None = Field(default=None, examples=["F-2026-001"])
    lines: list[LineCreate] = Field(min_length=2, max_length=MAX_LINES)
    status: Annotated[Literal["draft", "validated"], NotNull()] = Field(
        default="validated",
        description="`validated` (the default) posts the entry for good; `draft` keeps it as "
        "a draft (brouillard): checked by the same rules, editable and deletable, outside the "
        "books until validated, neither numbered nor chained. Read back, a validated entry "
        "is `posted` (or `pending_replay` on the fallback).",
    )

    @model_serializer(mode="wrap")
    def _as_before_drafts(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # The Idempotency-Key fingerprint hashes this form: a request without `status` keeps
        # the fingerprint it had before drafts existed, so a retry across an upgrade replays.
        form: dict[str, Any] = handler(self)
        if form.get("status") == "validated":
            del form["status"]
        return form

    def to_draft(self) -> service.EntryDraft:
        """Turn the payload into the service's draft."""
        return service.EntryDraft(
            journal=self.journal,
            date=self.date,
            label=self.label,
            reference=self.reference,
            document_date=self.document_date,
            lines=line_drafts(self.lines),
            is_draft=self.status == "draft",
        )


def line_drafts(lines: list[LineCreate]) -> list[service.LineDraft]:
    """Turn the payload's lines into the service's."""
    return [
        service.LineDraft(
            account=line.account,
            debit=line.debit,
            credit=line.credit,
            label=line.label,
            third_party=line.third_party,
        )
        for line in lines
    ]


class DraftUpdate(WriteModel):
    """Changes to a draft, as a JSON merge patch: the fields sent replace theirs (`lines`
    replaces every line), the others stay. `reference` sent as null clears it;
    `document_date` sent as null goes back to the entry's date. The draft as changed must pass
    every rule a posting does."""

    journal: Annotated[JournalRef | None, NotNull()] = None
    date: Annotated[Day | None, NotNull()] = None
    document_date: Day | None = None
    label: Annotated[Label | None, NotNull()] = None
    reference: Reference | None = None
    lines: Annotated[list[LineCreate] | None, NotNull()] = Field(
        default=None, min_length=2, max_length=MAX_LINES
    )

    @staticmethod
    def schema_rules(schema: dict[str, Any]) -> None:
        """At least one field is changed."""
        schema["minProperties"] = 1

    @model_validator(mode="after")
    def _some_change(self) -> DraftUpdate:
        if not self.model_fields_set:
            raise PydanticCustomError("empty_patch", "send at least one field to change")
        return self

    def to_changes(self) -> service.DraftChanges:
        """Turn the payload into the service's changes."""
        given = frozenset(self.model_fields_set)
        return service.DraftChanges(
            given=given,
            journal=self.journal,
            date=self.date,
            document_date=self.document_date,
            label=self.label,
            reference=self.reference,
            lines=line_drafts(self.lines) if self.lines is not None else None,
        )


MAX_VALIDATE = 10_000


class DraftsValidate(WriteModel):
    """Which drafts to validate: every one dated up to `date_to`, in one journal or all."""

    date_to: Day = Field(description="Drafts dated up to this day, inclusive.")
    journal: Annotated[JournalRef | None, NotNull()] = Field(
        default=None, description="Only this journal's drafts; left out, every journal's."
    )


class DraftsValidated(BaseModel):
    """What a validation of drafts up to a date did."""

    validated: list[uuid.UUID] = Field(
        description=f"The drafts validated, in date order (at most {MAX_VALIDATE:,} a call)."
    )
    remaining: int = Field(
        description="Drafts up to the date still to validate: call again while it is not 0."
    )


MAX_BATCH = 1000


class EntriesCreate(WriteModel):
    """Up to 1,000 entries posted together: all of them, or none."""

    entries: list[EntryCreate] = Field(min_length=1, max_length=MAX_BATCH)


class ReversalCreate(WriteModel):
    """Options of a reversal: its date (default: the original's) and label (default: "Extourne
    de" and the original's). Leave a field out for its default; null is refused."""

    date: Annotated[Day | None, NotNull()] = None
    label: Annotated[Label | None, NotNull()] = None


class LineRead(BaseModel):
    """A posted line; the unused side is null."""

    account: str
    debit: str | None
    credit: str | None
    label: str | None
    third_party: str | None = Field(description="The code of its third party, if any.")


class EntryRead(BaseModel):
    """An entry as posted."""

    id: uuid.UUID
    ledger: str
    journal: str
    date: date
    document_date: dt.date = Field(description="The date of the document behind it (PieceDate).")
    label: str
    reference: str | None
    lines: list[LineRead]
    status: EntryStatus
    origin: Origin
    created_at: datetime
    validated_at: datetime | None = Field(
        description="When it became permanent (the FEC's ValidDate): when it was posted, or "
        "for a draft when it was validated; null while a draft."
    )
    reverses: uuid.UUID | None
    reversed_by: uuid.UUID | None
    fiscal_year: int = Field(
        description="The fiscal year its date falls in (named by the calendar year in which "
        "the fiscal year ends), which `number` counts in."
    )
    seq: int | None = Field(
        description="Gapless position in the ledger, in commit order; null until sealed."
    )
    number: int | None = Field(
        description="Gapless number in its journal and fiscal year (the FEC's EcritureNum), "
        "in the order entries were validated; null until sealed, and always for a draft."
    )
    hash: str | None = Field(
        description="SHA-256 of the entry chained to the one before it; null until sealed."
    )
    role: Literal["closing", "opening"] | None = Field(
        default=None,
        description="What a fiscal year's closing wrote: `closing` (zeroing classes 6 and 7) "
        "or `opening` (the à-nouveaux), or a reopening's reversal of one; null otherwise.",
    )

    @classmethod
    def of(cls, view: service.EntryView) -> EntryRead:
        """Build from the service's view."""
        return cls(
            id=view.id,
            ledger=view.ledger,
            journal=view.journal,
            date=view.date,
            document_date=view.document_date,
            label=view.label,
            reference=view.reference,
            lines=[
                LineRead(
                    account=line.account,
                    debit=format_amount(line.amount, view.decimals) if line.amount > 0 else None,
                    credit=format_amount(-line.amount, view.decimals) if line.amount < 0 else None,
                    label=line.label,
                    third_party=line.third_party,
                )
                for line in view.lines
            ],
            status=EntryStatus(view.status),
            origin=Origin(view.origin),
            created_at=view.created_at,
            validated_at=view.validated_at,
            reverses=view.reverses,
            reversed_by=view.reversed_by,
            fiscal_year=view.fiscal_year,
            seq=view.seq,
            number=view.number,
            hash=view.hash,
            role=view.role,
        )


class EntriesRead(BaseModel):
    """The entries of a batch as posted, in the order they were sent."""

    items: list[EntryRead]


class AuditRead(BaseModel):
    """What verifying a ledger's audit chain found (docs/audit.md)."""

    ok: bool = Field(description="True when every sealed entry verifies.")
    checked: int = Field(description="Sealed entries checked, the first broken one included.")
    first_broken: int | None = Field(
        description="The seq of the first entry that does not verify, if any."
    )


class ChainRead(BaseModel):
    """What verifying a ledger's audit chain found."""

    ok: bool = Field(description="True when every sealed entry verifies.")
    checked: int = Field(description="Sealed entries checked, the first broken one included.")
    first_broken_seq: int | None = Field(description="The first seq that fails, if any.")
