"""HTTP routes of the balance sheet and the income statement, in JSON, CSV or XLSX."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BeforeValidator, Field

from grandlivre.auth.deps import Viewer
from grandlivre.deps import StoreDep
from grandlivre.money import format_amount
from grandlivre.schemas import FIRST_YEAR, LAST_YEAR, PROBLEM_RESPONSES, query_int
from grandlivre.statement import layout, service
from grandlivre.statement.repository import Year
from grandlivre.statement.schemas import (
    ActifLineRead,
    ActifRead,
    ActifSectionRead,
    ActifTotalRead,
    AmountLineRead,
    AmountSectionRead,
    AmountTotalRead,
    BalanceSheetRead,
    IncomeSectionRead,
    IncomeStatementRead,
    PassifRead,
    ResultRead,
    YearRead,
)
from grandlivre.statement.service import Figures, Heading, StatementSection
from grandlivre.tabular import TABULAR_RESPONSES, Cell, Column, ReportFormat, Sheet, render

router = APIRouter(
    prefix="/api/v1/ledgers", tags=["reports"], responses=PROBLEM_RESPONSES, dependencies=[Viewer]
)

FiscalYearQuery = Annotated[
    int,
    Field(ge=FIRST_YEAR, le=LAST_YEAR),
    BeforeValidator(query_int),
    Query(description="The fiscal year's name: the calendar year in which it ends."),
]


class _Amounts:
    """Formats minor units of the ledger's currency, as strings (JSON) or Decimals (sheets)."""

    def __init__(self, decimals: int) -> None:
        self.decimals = decimals

    def text(self, minor: int) -> str:
        return format_amount(minor, self.decimals)

    def maybe(self, minor: int | None) -> str | None:
        return None if minor is None else self.text(minor)

    def cell(self, minor: int | None) -> Decimal | None:
        return None if minor is None else Decimal(self.text(minor))


def _year(year: Year) -> YearRead:
    status: Literal["open", "closed"] = "closed" if year.status == "closed" else "open"
    return YearRead(year=year.year, start=year.start, end=year.end, status=status)


def _previous(heading: Heading) -> YearRead | None:
    return None if heading.previous is None else _year(heading.previous)


def _actif_total(figures: Figures, fmt: _Amounts) -> ActifTotalRead:
    return ActifTotalRead(
        gross=fmt.text(figures.gross),
        depreciation=fmt.text(figures.less),
        net=fmt.text(figures.net),
        previous_net=fmt.maybe(figures.previous),
    )


def _amount_total(figures: Figures, fmt: _Amounts) -> AmountTotalRead:
    return AmountTotalRead(amount=fmt.text(figures.net), previous=fmt.maybe(figures.previous))


def _amount_lines(section: StatementSection, fmt: _Amounts) -> list[AmountLineRead]:
    return [
        AmountLineRead(
            code=line.code,
            label=line.label,
            accounts=list(line.accounts),
            amount=fmt.text(line.figures.net),
            previous=fmt.maybe(line.figures.previous),
        )
        for line in section.lines
    ]


def _columns(heading: Heading, *first: Column) -> tuple[Column, ...]:
    before = f"Exercice {heading.previous.year}" if heading.previous else "Exercice précédent"
    return (
        *first,
        Column(f"Exercice {heading.year.year}", "amount"),
        Column(before, "amount"),
    )


def _sheet_row(side: str, code: str, label: str, figures: Figures, fmt: _Amounts) -> Sequence[Cell]:
    on_actif = side == "Actif"
    return (
        side,
        code,
        label,
        fmt.cell(figures.gross) if on_actif else None,
        fmt.cell(figures.less) if on_actif else None,
        fmt.cell(figures.net),
        fmt.cell(figures.previous),
    )


def _balance_sheet_rows(sheet: service.BalanceSheet, fmt: _Amounts) -> list[Sequence[Cell]]:
    """One row per line, then each section's subtotal and each side's total; the year's
    column is the net on the actif, the amount on the passif."""
    rows: list[Sequence[Cell]] = []
    parts: tuple[tuple[str, list[StatementSection], Figures], ...] = (
        ("Actif", sheet.actif, sheet.actif_total),
        ("Passif", sheet.passif, sheet.passif_total),
    )
    for side, sections, total in parts:
        for section in sections:
            for line in section.lines:
                rows.append(_sheet_row(side, line.code, line.label, line.figures, fmt))
            rows.append(
                _sheet_row(side, section.code, f"Total {section.label}", section.total, fmt)
            )
        rows.append(_sheet_row(side, side.upper(), f"Total {side.lower()}", total, fmt))
    return rows


@router.get(
    "/{ledger}/reports/balance-sheet",
    response_model=BalanceSheetRead,
    responses=TABULAR_RESPONSES,
)
async def get_balance_sheet(
    ledger: str, fiscal_year: FiscalYearQuery, store: StoreDep, fmt: ReportFormat
) -> BalanceSheetRead | Response:
    """The balance sheet (bilan) of a fiscal year in the PCG's layout, with the previous
    year's net; actif and passif totals are equal (docs/statements.md)."""
    sheet = await store.read(lambda s: service.balance_sheet(s, ledger, fiscal_year))
    amounts = _Amounts(sheet.heading.decimals)
    if fmt != "json":
        columns = _columns(
            sheet.heading,
            Column("Partie"),
            Column("Code"),
            Column("Libellé"),
            Column("Brut", "amount"),
            Column("Amortissements et dépréciations", "amount"),
        )
        table = Sheet(f"Bilan {fiscal_year}", columns, _balance_sheet_rows(sheet, amounts))
        return render(table, fmt, f"bilan-{ledger}-{fiscal_year}")
    return BalanceSheetRead(
        ledger=sheet.heading.ledger,
        fiscal_year=_year(sheet.heading.year),
        previous=_previous(sheet.heading),
        actif=ActifRead(
            sections=[
                ActifSectionRead(
                    code=section.code,
                    label=section.label,
                    lines=[
                        ActifLineRead(
                            code=line.code,
                            label=line.label,
                            accounts=list(line.accounts),
                            gross=amounts.text(line.figures.gross),
                            depreciation=amounts.text(line.figures.less),
                            net=amounts.text(line.figures.net),
                            previous_net=amounts.maybe(line.figures.previous),
                        )
                        for line in section.lines
                    ],
                    total=_actif_total(section.total, amounts),
                )
                for section in sheet.actif
            ],
            total=_actif_total(sheet.actif_total, amounts),
        ),
        passif=PassifRead(
            sections=[
                AmountSectionRead(
                    code=section.code,
                    label=section.label,
                    lines=_amount_lines(section, amounts),
                    total=_amount_total(section.total, amounts),
                )
                for section in sheet.passif
            ],
            total=_amount_total(sheet.passif_total, amounts),
        ),
    )


def _income_section(section: StatementSection, fmt: _Amounts) -> IncomeSectionRead:
    assert section.kind is not None  # every section of the income statement has one
    return IncomeSectionRead(
        code=section.code,
        label=section.label,
        kind=section.kind,
        lines=_amount_lines(section, fmt),
        total=_amount_total(section.total, fmt),
    )


def _income_rows(statement: service.IncomeStatement, fmt: _Amounts) -> list[Sequence[Cell]]:
    rows: list[Sequence[Cell]] = []

    def row(code: str, label: str, figures: Figures) -> Sequence[Cell]:
        return (code, label, fmt.cell(figures.net), fmt.cell(figures.previous))

    results = {r.code: r for r in statement.results}
    for section in statement.sections:
        rows.extend(row(line.code, line.label, line.figures) for line in section.lines)
        rows.append(row(section.code, f"Total {section.label}", section.total))
        for result in layout.RESULTS:
            if result.after == section.code:
                found = results[result.code]
                rows.append(row(found.code, found.label, found.figures))
    return rows


@router.get(
    "/{ledger}/reports/income-statement",
    response_model=IncomeStatementRead,
    responses=TABULAR_RESPONSES,
)
async def get_income_statement(
    ledger: str, fiscal_year: FiscalYearQuery, store: StoreDep, fmt: ReportFormat
) -> IncomeStatementRead | Response:
    """The income statement (compte de résultat) of a fiscal year in the PCG's layout, with
    the previous year's amounts; its result is the balance sheet's (docs/statements.md)."""
    statement = await store.read(lambda s: service.income_statement(s, ledger, fiscal_year))
    amounts = _Amounts(statement.heading.decimals)
    if fmt != "json":
        columns = _columns(statement.heading, Column("Code"), Column("Libellé"))
        table = Sheet(
            f"Compte de résultat {fiscal_year}", columns, _income_rows(statement, amounts)
        )
        return render(table, fmt, f"compte-de-resultat-{ledger}-{fiscal_year}")
    results = [
        ResultRead(
            code=r.code,
            label=r.label,
            amount=amounts.text(r.figures.net),
            previous=amounts.maybe(r.figures.previous),
        )
        for r in statement.results
    ]
    return IncomeStatementRead(
        ledger=statement.heading.ledger,
        fiscal_year=_year(statement.heading.year),
        previous=_previous(statement.heading),
        sections=[_income_section(section, amounts) for section in statement.sections],
        results=results,
        result=next(r for r in results if r.code == layout.NET_RESULT),
    )
