"""Pydantic models of the closing routes."""

from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, Field

from grandlivre.closing import service
from grandlivre.closing.repository import Balance
from grandlivre.money import format_amount


class ClosingLine(BaseModel):
    """A line of a closing or opening entry; the unused side is null."""

    account: str
    third_party: str | None
    debit: str | None
    credit: str | None


class ClosingEntryRead(BaseModel):
    """An entry a closing writes: its id (null in a dry run, or when there is nothing to
    carry), journal, date and lines."""

    id: uuid.UUID | None
    journal: str
    date: date
    lines: list[ClosingLine]


class ClosingRead(BaseModel):
    """What closing a fiscal year does (`dry_run`: would do)."""

    fiscal_year: int
    dry_run: bool
    result: str = Field(
        description="Classes 7 minus 6: a profit (to 120000) if positive, a "
        "loss (to 129000) if negative."
    )
    closing: ClosingEntryRead = Field(description="Zeroes classes 6 and 7 into the result.")
    opening_fiscal_year: int = Field(
        description="The year the opening goes into (created if it was not open yet)."
    )
    opening: ClosingEntryRead = Field(
        description="The à-nouveaux: every other account's "
        "balance, per third party on collective accounts."
    )

    @classmethod
    def of(
        cls,
        plan: service.ClosingPlan,
        *,
        dry_run: bool,
        closing_id: uuid.UUID | None = None,
        opening_id: uuid.UUID | None = None,
    ) -> ClosingRead:
        """Build from the service's plan."""

        def lines(balances: list[Balance]) -> list[ClosingLine]:
            return [
                ClosingLine(
                    account=b.account,
                    third_party=b.third_party,
                    debit=format_amount(b.amount, plan.decimals) if b.amount > 0 else None,
                    credit=format_amount(-b.amount, plan.decimals) if b.amount < 0 else None,
                )
                for b in balances
            ]

        return cls(
            fiscal_year=plan.year,
            dry_run=dry_run,
            result=format_amount(plan.result, plan.decimals),
            closing=ClosingEntryRead(
                id=closing_id if plan.closing else None,
                journal=service.CLOSING_JOURNAL,
                date=plan.closing_date,
                lines=lines(plan.closing),
            ),
            opening_fiscal_year=plan.opening_year,
            opening=ClosingEntryRead(
                id=opening_id if plan.opening else None,
                journal=service.OPENING_JOURNAL,
                date=plan.opening_date,
                lines=lines(plan.opening),
            ),
        )


class ReopenRead(BaseModel):
    """What reopening a fiscal year did."""

    fiscal_year: int
    reversals: list[uuid.UUID] = Field(
        description="The reversals of the opening and closing entries, in that order."
    )
