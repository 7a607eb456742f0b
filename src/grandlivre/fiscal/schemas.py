"""Pydantic models of the fiscal-year and period routes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from grandlivre.fiscal.service import FiscalYearView, PeriodView
from grandlivre.money import format_amount
from grandlivre.schemas import WriteModel

FIRST_YEAR, LAST_YEAR = 1901, 2999
# A month of the years dates may take (1900 to 2999).
PERIOD_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])$"


def _json_integer(value: Any) -> Any:
    # A JSON integer, 2027 or 2027.0 (the same number to JSON Schema); never "2027" or true.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise PydanticCustomError("int_type", "expected a JSON integer, such as 2027")


YearName = Annotated[
    int,
    Field(ge=FIRST_YEAR, le=LAST_YEAR, examples=[2027]),
    BeforeValidator(_json_integer),
]


class FiscalYearCreate(WriteModel):
    """The next fiscal year to open, named by the calendar year in which it ends.

    It runs the 12 months after the ledger's last year; naming it guards against opening two
    by a repeated request (the second gets `fiscal-year-exists`).
    """

    year: YearName


class PeriodRead(BaseModel):
    """A month of a fiscal year; a locked one takes no new entries."""

    period: str = Field(pattern=PERIOD_PATTERN, examples=["2026-03"], description="YYYY-MM.")
    fiscal_year: int
    locked: bool
    locked_at: datetime | None

    @classmethod
    def of(cls, year: int, view: PeriodView) -> PeriodRead:
        """Build from a view."""
        return cls(
            period=f"{view.month:%Y-%m}",
            fiscal_year=year,
            locked=view.locked_at is not None,
            locked_at=view.locked_at,
        )


class YearSealRead(BaseModel):
    """A closed year's seal: what an auditor keeps outside the database (docs/audit.md)."""

    entries: int = Field(description="Validated entries numbered in the year.")
    debit: str = Field(description="Their total debit.")
    credit: str = Field(description="Their total credit (equal to the debit).")
    sealed: int = Field(description="How many of them are sealed yet (all, soon after closing).")
    last_seq: int | None = Field(description="The seq of the year's last sealed entry.")
    last_hash: str | None = Field(description="Its hash: the chain up to it proves the year.")


class FiscalYearRead(BaseModel):
    """A fiscal year with its periods."""

    year: int = Field(description="The calendar year in which it ends.")
    start: date
    end: date
    status: Literal["open", "closed"]
    closed_at: datetime | None
    periods: list[PeriodRead]
    seal: YearSealRead | None = Field(default=None, description="A closed year's seal.")

    @classmethod
    def of(cls, view: FiscalYearView) -> FiscalYearRead:
        """Build from a view."""
        seal = None
        if view.seal is not None:
            seal = YearSealRead(
                entries=view.seal.entries,
                debit=format_amount(view.seal.debit, view.decimals),
                credit=format_amount(view.seal.credit, view.decimals),
                sealed=view.seal.sealed,
                last_seq=view.seal.last_seq,
                last_hash=view.seal.last_hash,
            )
        return cls(
            year=view.year,
            start=view.start,
            end=view.end,
            status="open" if view.status == "open" else "closed",
            closed_at=view.closed_at,
            periods=[PeriodRead.of(view.year, p) for p in view.periods],
            seal=seal,
        )
