"""Pydantic models of the third-party routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field, model_validator
from pydantic_core import PydanticCustomError
from stdnum.eu import vat as eu_vat

from grandlivre.party import service
from grandlivre.schemas import Name, NotNull, Siren, WriteModel

CODE_PATTERN = r"^[A-Z0-9][A-Z0-9._-]{0,19}$"
VAT_PATTERN = r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$"


def _vat(value: str | None) -> str | None:
    if value is not None and not eu_vat.is_valid(value):
        raise PydanticCustomError(
            "invalid_vat_number",
            "{value} is not a valid EU VAT number (country prefix, then the number with its "
            "check digits, no spaces)",
            {"value": value},
        )
    return value


PartyCode = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        examples=["DUPONT"],
        description="The auxiliary account's code (the FEC's CompAuxNum): capitals, digits, "
        "`.`, `_` and `-`, 1 to 20.",
    ),
]
VatNumber = Annotated[
    str,
    Field(
        pattern=VAT_PATTERN,
        examples=["FR44732829320"],
        description="An EU VAT number: its country prefix and number, no spaces; its check "
        "digits are checked. A French one holds the SIREN, which must then agree.",
    ),
    AfterValidator(_vat),
]
Kind = Literal["customer", "supplier", "other"]


def _json_integer(value: Any) -> Any:
    # A JSON integer, 30 or 30.0 (the same number to JSON Schema); never "30" or true.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("int_type", "expected a JSON integer, such as 30")


PaymentTerms = Annotated[
    int,
    Field(
        ge=0,
        le=365,
        examples=[30],
        description="Days from an invoice's date to its due date, 0 to 365 (the aged balance "
        "ages open items from it); 30 when left out, the Code de commerce's default "
        "(L441-10).",
    ),
    BeforeValidator(_json_integer),
]


def _agree(siren: str | None, vat_number: str | None) -> None:
    if siren and vat_number and vat_number.startswith("FR") and vat_number[4:] != siren:
        raise PydanticCustomError(
            "vat_siren_mismatch",
            "the French VAT number {vat} does not hold the SIREN {siren}",
            {"vat": vat_number, "siren": siren},
        )


class ThirdPartyCreate(WriteModel):
    """A customer, supplier or other third party, under a collective account."""

    code: PartyCode
    name: Name = Field(examples=["Dupont SARL"], description="The FEC's CompAuxLib.")
    kind: Kind
    account: Annotated[str | None, NotNull()] = Field(
        default=None,
        pattern=r"^[1-8][0-9]{1,19}$",
        description="The collective account it is an auxiliary account of. Left out: 411000 "
        "for a customer, 401000 for a supplier; an `other` third party must name one.",
    )
    siren: Annotated[Siren | None, NotNull()] = None
    vat_number: Annotated[VatNumber | None, NotNull()] = None
    payment_terms_days: PaymentTerms = service.DEFAULT_PAYMENT_TERMS_DAYS

    @model_validator(mode="after")
    def _rules(self) -> ThirdPartyCreate:
        if self.kind == "other" and self.account is None:
            raise PydanticCustomError(
                "missing_account", "an `other` third party names its collective account"
            )
        _agree(self.siren, self.vat_number)
        return self

    @staticmethod
    def schema_rules(schema: dict[str, Any]) -> None:
        """An `other` third party names its account."""
        schema["if"] = {"properties": {"kind": {"const": "other"}}}
        schema["then"] = {"required": ["account"]}

    def to_spec(self) -> service.PartySpec:
        """Turn the payload into the service's spec."""
        return service.PartySpec(
            code=self.code,
            name=self.name,
            kind=self.kind,
            account=self.account,
            siren=self.siren,
            vat_number=self.vat_number,
            payment_terms_days=self.payment_terms_days,
        )


class ThirdPartyUpdate(WriteModel):
    """Changes to a third party: the fields sent replace theirs; `siren` or `vat_number`
    sent as null clears it. Its code, kind and account do not change."""

    name: Annotated[Name | None, NotNull()] = None
    siren: Siren | None = None
    vat_number: VatNumber | None = None
    payment_terms_days: Annotated[PaymentTerms | None, NotNull()] = None

    @staticmethod
    def schema_rules(schema: dict[str, Any]) -> None:
        """At least one field."""
        schema["minProperties"] = 1

    @model_validator(mode="after")
    def _something(self) -> ThirdPartyUpdate:
        if not self.model_fields_set:
            raise PydanticCustomError(
                "missing", "give name, siren, vat_number, payment_terms_days or several"
            )
        _agree(self.siren, self.vat_number)
        return self

    def to_changes(self) -> service.PartyChanges:
        """Turn the payload into the service's changes."""
        return service.PartyChanges(
            given=frozenset(self.model_fields_set),
            name=self.name,
            siren=self.siren,
            vat_number=self.vat_number,
            payment_terms_days=self.payment_terms_days,
        )


class ThirdPartyRead(BaseModel):
    """A third party."""

    code: str
    name: str
    kind: Kind
    account: str = Field(description="The collective account it is an auxiliary account of.")
    siren: str | None
    vat_number: str | None
    payment_terms_days: int = Field(description="Days from an invoice's date to its due date.")
    created_at: datetime

    @classmethod
    def of(cls, view: service.PartyView) -> ThirdPartyRead:
        """Build from the service's view."""
        return cls(
            code=view.code,
            name=view.name,
            kind=view.kind,
            account=view.account,
            siren=view.siren,
            vat_number=view.vat_number,
            payment_terms_days=view.payment_terms_days,
            created_at=view.created_at,
        )


class ThirdPartyBalanceRead(BaseModel):
    """Totals of one third party's lines up to a date."""

    third_party: str
    name: str
    account: str
    as_of: date | None = None
    debit: str
    credit: str
    balance: str
