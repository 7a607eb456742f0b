"""Pydantic models of the statements as the API answers them: amounts are decimal strings."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

Amount = str
PreviousAmount = Amount | None


class YearRead(BaseModel):
    """The fiscal year a column is of."""

    year: int
    start: date
    end: date
    status: Literal["open", "closed"]


class StatementHeading(BaseModel):
    """What the statement is of; `previous` is null for the ledger's first fiscal year (every
    `previous` and `previous_net` amount is then null)."""

    ledger: str
    fiscal_year: YearRead
    previous: YearRead | None


class ActifLineRead(BaseModel):
    """A line of the actif: gross (brut), amortissements et dépréciations, net, for the year,
    and the previous year's net."""

    code: str = Field(examples=["AI-CORP"])
    label: str = Field(examples=["Immobilisations corporelles"])
    accounts: list[str] = Field(description="The accounts that make up the line this year.")
    gross: Amount
    depreciation: Amount
    net: Amount
    previous_net: PreviousAmount


class ActifTotalRead(BaseModel):
    """A subtotal or the total of the actif."""

    gross: Amount
    depreciation: Amount
    net: Amount
    previous_net: PreviousAmount


class ActifSectionRead(BaseModel):
    """A section of the actif, its lines and its subtotal."""

    code: str
    label: str
    lines: list[ActifLineRead]
    total: ActifTotalRead


class ActifRead(BaseModel):
    """The actif of the balance sheet."""

    sections: list[ActifSectionRead]
    total: ActifTotalRead


class AmountLineRead(BaseModel):
    """A line of the passif or of the income statement: the year's amount and the previous
    year's."""

    code: str = Field(examples=["DT-FOURNISSEURS"])
    label: str = Field(examples=["Dettes fournisseurs et comptes rattachés"])
    accounts: list[str] = Field(description="The accounts that make up the line this year.")
    amount: Amount
    previous: PreviousAmount


class AmountTotalRead(BaseModel):
    """A subtotal or a total: the year's amount and the previous year's."""

    amount: Amount
    previous: PreviousAmount


class AmountSectionRead(BaseModel):
    """A section of the passif or of the income statement, its lines and its subtotal."""

    code: str
    label: str
    lines: list[AmountLineRead]
    total: AmountTotalRead


class PassifRead(BaseModel):
    """The passif of the balance sheet."""

    sections: list[AmountSectionRead]
    total: AmountTotalRead


class BalanceSheetRead(StatementHeading):
    """The balance sheet (bilan) of a fiscal year in the PCG's layout; the totals of actif
    (net) and passif are equal."""

    actif: ActifRead
    passif: PassifRead


class IncomeSectionRead(AmountSectionRead):
    """A section of the income statement: produits (credit-positive) or charges
    (debit-positive)."""

    kind: Literal["produits", "charges"]


class ResultRead(BaseModel):
    """A subtotal of the income statement (résultat d'exploitation, ..., bénéfice ou perte)."""

    code: str = Field(examples=["RESULTAT"])
    label: str = Field(examples=["Bénéfice ou perte"])
    amount: Amount
    previous: PreviousAmount


class IncomeStatementRead(StatementHeading):
    """The income statement (compte de résultat) of a fiscal year in the PCG's layout; its
    `result` equals the balance sheet's résultat de l'exercice."""

    sections: list[IncomeSectionRead]
    results: list[ResultRead] = Field(
        description="The subtotals in reading order: RESULTAT-EXPLOITATION, "
        "RESULTAT-FINANCIER, RESULTAT-COURANT, RESULTAT-EXCEPTIONNEL, TOTAL-PRODUITS, "
        "TOTAL-CHARGES, RESULTAT."
    )
    result: ResultRead = Field(description="Bénéfice (positive) ou perte (negative).")
