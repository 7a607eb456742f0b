"""Pydantic models of the ledger, account and journal routes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from grandlivre.db.tables import Account, Journal, Ledger
from grandlivre.ledger import service
from grandlivre.money import CURRENCY_DECIMALS
from grandlivre.schemas import Day, Name, NotNull, ShortName, Siren, StrictFlag, WriteModel

LEDGER_CODE_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,31}$"
ACCOUNT_NUMBER_PATTERN = r"^[1-8][0-9]{1,19}$"
JOURNAL_CODE_PATTERN = r"^[A-Z0-9]{1,8}$"

LedgerCode = Annotated[str, StringConstraints(pattern=LEDGER_CODE_PATTERN)]
AccountNumber = Annotated[str, StringConstraints(pattern=ACCOUNT_NUMBER_PATTERN)]
JournalCode = Annotated[str, StringConstraints(pattern=JOURNAL_CODE_PATTERN)]


Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Z]{3}$"),
    WithJsonSchema({"type": "string", "enum": sorted(CURRENCY_DECIMALS)}),
]
"""An ISO 4217 currency whose minor units this service knows: the schema lists them; another
three capitals get `unknown-currency` with the list, anything else `validation-error`."""


class LedgerCreate(WriteModel):
    """A new ledger."""

    code: LedgerCode = Field(examples=["acme"])
    name: Name = Field(examples=["ACME SAS"])
    currency: Currency = Field(default="EUR", description="ISO 4217; sets the decimals.")
    chart: Literal["pcg", "empty"] = Field(
        default="pcg", description="`pcg`: the French chart and default journals; `empty`: none."
    )
    fiscal_year_start: Annotated[Day | None, NotNull()] = Field(
        default=None,
        description="First day of the ledger's first fiscal year. Left out: January 1st of "
        "the current year (a calendar year).",
    )
    fiscal_year_end: Annotated[Day | None, NotNull()] = Field(
        default=None,
        description="Last day of the first fiscal year: the last day of a month, 6 to 24 "
        "months after its start (`invalid-fiscal-year` otherwise). Left out: the end of the "
        "twelfth month.",
    )


class LedgerUpdate(WriteModel):
    """Fields of a ledger that may change: give `name`, `third_party_required`, `siren`.

    A field left out is left as it is; null is refused, except for `siren`, which it clears.
    """

    name: Annotated[Name | None, NotNull()] = None
    third_party_required: Annotated[StrictFlag | None, NotNull()] = Field(
        default=None,
        description="Whether every line on a collective account must name its third party "
        "(`third-party-required` otherwise).",
    )
    siren: Siren | None = Field(
        default=None,
        description="The company's SIREN, which names its FEC file; null clears it.",
    )

    @staticmethod
    def schema_rules(schema: dict[str, Any]) -> None:
        """At least one of the fields."""
        schema["minProperties"] = 1

    @model_validator(mode="after")
    def _something(self) -> LedgerUpdate:
        if not self.model_fields_set & {"name", "third_party_required", "siren"}:
            raise PydanticCustomError("missing", "give name, third_party_required or siren")
        return self


class LedgerRead(BaseModel):
    """A ledger."""

    code: str
    name: str
    currency: str
    decimals: int
    created_at: datetime
    third_party_required: bool = Field(
        description="Whether every line on a collective account must name its third party."
    )
    siren: str | None = Field(description="The company's SIREN, which names its FEC file.")

    @classmethod
    def of(cls, row: Ledger) -> LedgerRead:
        """Build from a row."""
        return cls(
            code=row.code,
            name=row.name,
            currency=row.currency,
            decimals=row.decimals,
            created_at=row.created_at,
            third_party_required=bool(row.third_party_required),
            siren=row.siren,
        )


class AccountCreate(WriteModel):
    """A new account; its class is the first digit of its number."""

    number: AccountNumber = Field(examples=["411100"])
    name: Name = Field(examples=["Client Dupont"])


class AccountUpdate(WriteModel):
    """Rename, deactivate or reactivate an account, or mark it collective: give `name`,
    `active`, `collective` or several.

    A field left out is left as it is; null is refused (it would ask to erase it).
    """

    name: Annotated[Name | None, NotNull()] = None
    active: Annotated[StrictFlag | None, NotNull()] = None
    collective: Annotated[StrictFlag | None, NotNull()] = Field(
        default=None,
        description="Mark a 42x to 46x account collective (its lines may then name third "
        "parties) or not; 401 and 411 accounts always are (`invalid-collective`).",
    )

    @staticmethod
    def schema_rules(schema: dict[str, Any]) -> None:
        """At least one of the fields."""
        schema["minProperties"] = 1

    @model_validator(mode="after")
    def _something(self) -> AccountUpdate:
        if self.name is None and self.active is None and self.collective is None:
            raise PydanticCustomError("missing", "give name, active, collective or several")
        return self


class AccountRead(BaseModel):
    """An account of the chart."""

    number: str
    name: str
    class_: int = Field(alias="class", serialization_alias="class")
    active: bool
    collective: bool = Field(
        description="A collective account: its lines may name third parties (auxiliary "
        "accounts), whose balances it sums."
    )

    @classmethod
    def of(cls, row: Account) -> AccountRead:
        """Build from a row."""
        return cls.model_validate(
            {
                "number": row.number,
                "name": row.name,
                "class": service.account_class(row.number),
                "active": row.active,
                "collective": bool(row.collective),
            }
        )


class JournalCreate(WriteModel):
    """A new journal."""

    code: JournalCode = Field(examples=["VE2"])
    name: ShortName = Field(examples=["Ventes export"])


class JournalRead(BaseModel):
    """A journal."""

    code: str
    name: str

    @classmethod
    def of(cls, row: Journal) -> JournalRead:
        """Build from a row."""
        return cls(code=row.code, name=row.name)
