"""The balance sheet and the income statement of a fiscal year, with the year before's column.

Which entries count (docs/statements.md): the validated entries (drafts never) dated in the
year, its opening entry (the à-nouveaux, journal AN) included, which is how the balances of
the years before come in; the closing entry that zeroes classes 6 and 7 into 120/129 (role
`closing`) is left out, so that a closed year still shows its income statement and its result
is not counted twice. When the year before is not closed there is no opening entry: the
balances of classes 1 to 5 then go back to the first day after the last closed year (or the
books' first day), and the result of those earlier, never closed, years (their classes 6 and 7)
stands in the passif as "Résultats antérieurs en instance d'affectation".

Totals are equal by construction: every account with a balance lands in exactly one line
(layout.py), what the layout does not place goes to the catch-all line of its sign, and the
result is classes 7 − 6. The actif's net minus the passif is then the sum of every balance over
whole entries, less the closings' lines, each closing being balanced: zero.

Round trips, for a year and its previous one: the ledger (1), its fiscal years (1), one
trial-balance query per span of dates read (income statement: 1 or 2, the year and the one
before; balance sheet: 2, or 3 when the years before the previous one were not closed either,
1 for a ledger's first year), and the closed years' closing lines (1, none when no year read is
closed). So 3 to 5 for the income statement, 3 to 6 for the balance sheet.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from grandlivre.errors import FiscalYearNotFound
from grandlivre.fiscal import service as fiscal_service
from grandlivre.ledger import service as ledger_service
from grandlivre.statement import layout
from grandlivre.statement import repository as repo
from grandlivre.statement.layout import Kind, Placement, Section
from grandlivre.statement.repository import Year

BALANCE_SHEET_CLASSES = "12345"
INCOME_STATEMENT_CLASSES = "67"


@dataclass(frozen=True)
class Figures:
    """A line or a total, in minor units: the year's gross and less (amortissements et
    dépréciations, actif only; zero elsewhere) and the previous year's net (None when the
    ledger has no previous year)."""

    gross: int
    less: int
    previous: int | None

    @property
    def net(self) -> int:
        """Gross less amortissements and dépréciations (the amount, off the actif)."""
        return self.gross - self.less


@dataclass(frozen=True)
class StatementLine:
    """A line of a statement and the accounts that make it up in the year."""

    code: str
    label: str
    accounts: tuple[str, ...]
    figures: Figures


@dataclass(frozen=True)
class StatementSection:
    """A section of a statement, its lines and their subtotal."""

    code: str
    label: str
    kind: Kind | None
    lines: list[StatementLine]
    total: Figures


@dataclass(frozen=True)
class Heading:
    """What a statement is of: the ledger, its currency's decimals, the year and the one
    before (None for the ledger's first year)."""

    ledger: str
    decimals: int
    year: Year
    previous: Year | None


@dataclass(frozen=True)
class BalanceSheet:
    """The bilan: actif and passif sections, and their totals (always equal)."""

    heading: Heading
    actif: list[StatementSection]
    actif_total: Figures
    passif: list[StatementSection]
    passif_total: Figures


@dataclass(frozen=True)
class IncomeStatement:
    """The compte de résultat: its sections and its subtotals, ending with the result."""

    heading: Heading
    sections: list[StatementSection]
    results: list[StatementLine]


# -- reading the books ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Books:
    """What a statement of one year reads: debit-positive balances by account number."""

    sheet: dict[str, int]  # every class but 6 and 7, up to the year's end
    income: dict[str, int]  # classes 6 and 7, the year's own
    prior: dict[str, int]  # classes 6 and 7 of the earlier years never closed


def _is_income(number: str) -> bool:
    return number[:1] in INCOME_STATEMENT_CLASSES


def _first_day_read(years: Sequence[Year], index: int) -> date:
    """Return the first day a balance sheet of years[index] reads: the year's start when the
    year before is closed (its opening entry carries every balance), else that of the year
    before, and so on back."""
    while index > 0 and years[index - 1].status != fiscal_service.CLOSED:
        index -= 1
    return years[index].start


def _merged(parts: Iterable[dict[str, int]]) -> dict[str, int]:
    merged: dict[str, int] = defaultdict(int)
    for part in parts:
        for number, amount in part.items():
            merged[number] += amount
    return merged


async def _read_books(
    session: AsyncSession,
    ledger_id: uuid.UUID,
    years: Sequence[Year],
    wanted: Sequence[int],
    *,
    with_sheet: bool,
) -> list[_Books]:
    """Read the books of the years at the `wanted` indexes (consecutive, in order).

    The dates read are cut into spans at each year's start (and, for a balance sheet, at the
    first day it reads); each span is one trial-balance query, shared by the years that read
    it. The closing entries' lines are then taken out of the span they are dated in.
    """
    cuts = {years[i].start for i in wanted}
    if with_sheet:
        cuts |= {_first_day_read(years, i) for i in wanted}
    last = years[wanted[-1]].end
    starts = sorted(cuts)
    ends = [following - timedelta(days=1) for following in starts[1:]] + [last]
    spans = list(zip(starts, ends, strict=True))
    balances = [await repo.balances_between(session, ledger_id, a, b) for a, b in spans]
    closed = [
        y.end for y in years if y.status == fiscal_service.CLOSED and starts[0] <= y.end <= last
    ]
    for number, day, amount in await repo.closing_lines(session, ledger_id, closed):
        span = next(k for k, (a, b) in enumerate(spans) if a <= day <= b)
        balances[span][number] = balances[span].get(number, 0) - amount

    def within(first: date, end: date) -> dict[str, int]:
        return _merged(
            part for (a, b), part in zip(spans, balances, strict=True) if first <= a and b <= end
        )

    books = []
    for i in wanted:
        year = years[i]
        own = within(year.start, year.end)
        before = (
            within(_first_day_read(years, i), year.start - timedelta(days=1)) if with_sheet else {}
        )
        books.append(
            _Books(
                sheet={n: v for n, v in _merged([before, own]).items() if not _is_income(n)},
                income={n: v for n, v in own.items() if _is_income(n)},
                prior={n: v for n, v in before.items() if _is_income(n)},
            )
        )
    return books


async def _heading(
    session: AsyncSession, ledger_code: str, year: int
) -> tuple[uuid.UUID, Heading, list[Year]]:
    ledger = await ledger_service.get_ledger(session, ledger_code)
    years = await repo.years_through(session, ledger.id, year)
    if not years or years[-1].year != year:
        raise FiscalYearNotFound(f"ledger {ledger.code!r} has no fiscal year {year}")
    previous = years[-2] if len(years) > 1 else None
    return ledger.id, Heading(ledger.code, ledger.decimals, years[-1], previous), years


# -- placing the balances -------------------------------------------------------------------


@dataclass
class _Placed:
    """The amounts of one line of one year, as they are added up."""

    gross: int = 0
    less: int = 0
    accounts: list[str] = field(default_factory=list)

    @property
    def net(self) -> int:
        return self.gross - self.less


def _add(placed: dict[str, _Placed], where: Placement, numbers: list[str], balance: int) -> None:
    """Add a debit-positive balance to a line, in the line's own sign: debit-positive on the
    actif (less credit-positive), credit-positive on the passif."""
    line = placed[where.line]
    line.accounts.extend(numbers)
    if where.line not in layout.ACTIF_LINES:
        line.gross -= balance
    elif where.column == "less":
        line.less -= balance
    else:
        line.gross += balance


def _other(balance: int) -> Placement:
    return Placement(layout.ACTIF_OTHER if balance > 0 else layout.PASSIF_OTHER, "gross")


def _place_sheet(books: _Books) -> dict[str, _Placed]:
    placed: dict[str, _Placed] = defaultdict(_Placed)
    off_sheet, off_accounts = 0, []
    for number, balance in sorted(books.sheet.items()):
        if not balance:
            continue
        if number[:1] not in BALANCE_SHEET_CLASSES:
            # Classes 8 and beyond (engagements hors bilan) balance among themselves; what
            # they do not (an entry mixing them with the books) shows as one net amount.
            off_sheet += balance
            off_accounts.append(number)
            continue
        where = layout.place(layout.SHEET_INDEX, number, balance) or _other(balance)
        _add(placed, where, [number], balance)
    if off_sheet:
        _add(placed, _other(off_sheet), off_accounts, off_sheet)
    _add(placed, Placement(layout.RESULT, "gross"), [], sum(books.income.values()))
    _add(placed, Placement(layout.PRIOR_RESULTS, "gross"), [], sum(books.prior.values()))
    return placed


_INCOME_KIND: dict[str, Kind | None] = {
    line.code: section.kind for section in layout.INCOME_STATEMENT for line in section.lines
}


def _place_income(books: _Books) -> dict[str, _Placed]:
    placed: dict[str, _Placed] = defaultdict(_Placed)
    for number, balance in sorted(books.income.items()):
        if not balance:
            continue
        where = layout.place(layout.INCOME_INDEX, number, balance)
        assert where is not None  # the roots 6 and 7 take every account of the two classes
        line = placed[where.line]
        line.accounts.append(number)
        line.gross += -balance if _INCOME_KIND[where.line] == "produits" else balance
    return placed


def _sections(
    sections: tuple[Section, ...],
    year: dict[str, _Placed],
    previous: dict[str, _Placed] | None,
) -> list[StatementSection]:
    built = []
    for section in sections:
        lines = []
        for line in section.lines:
            own = year.get(line.code, _Placed())
            before = None if previous is None else previous.get(line.code, _Placed()).net
            lines.append(
                StatementLine(
                    line.code,
                    line.label,
                    tuple(own.accounts),
                    Figures(own.gross, own.less, before),
                )
            )
        built.append(
            StatementSection(
                section.code,
                section.label,
                section.kind,
                lines,
                _total([line.figures for line in lines], previous is not None),
            )
        )
    return built


def _total(figures: Sequence[Figures], has_previous: bool) -> Figures:
    return Figures(
        sum(f.gross for f in figures),
        sum(f.less for f in figures),
        sum(f.previous or 0 for f in figures) if has_previous else None,
    )


# -- the statements -------------------------------------------------------------------------


async def balance_sheet(session: AsyncSession, ledger_code: str, year: int) -> BalanceSheet:
    """Return the balance sheet of the fiscal year, with the previous year's net."""
    ledger_id, heading, years = await _heading(session, ledger_code, year)
    wanted = [len(years) - 2, len(years) - 1] if heading.previous else [len(years) - 1]
    books = await _read_books(session, ledger_id, years, wanted, with_sheet=True)
    placed = [_place_sheet(b) for b in books]
    previous = placed[0] if heading.previous else None
    actif = _sections(layout.ACTIF, placed[-1], previous)
    passif = _sections(layout.PASSIF, placed[-1], previous)
    return BalanceSheet(
        heading=heading,
        actif=actif,
        actif_total=_total([s.total for s in actif], previous is not None),
        passif=passif,
        passif_total=_total([s.total for s in passif], previous is not None),
    )


async def income_statement(session: AsyncSession, ledger_code: str, year: int) -> IncomeStatement:
    """Return the income statement of the fiscal year, with the previous year's amounts."""
    ledger_id, heading, years = await _heading(session, ledger_code, year)
    wanted = [len(years) - 2, len(years) - 1] if heading.previous else [len(years) - 1]
    books = await _read_books(session, ledger_id, years, wanted, with_sheet=False)
    placed = [_place_income(b) for b in books]
    previous = placed[0] if heading.previous else None
    sections = _sections(layout.INCOME_STATEMENT, placed[-1], previous)
    totals = {s.code: s.total for s in sections}
    results = []
    for result in layout.RESULTS:
        amount = sum(totals[c].net for c in result.added) - sum(totals[c].net for c in result.taken)
        before = None
        if previous is not None:
            before = sum(totals[c].previous or 0 for c in result.added) - sum(
                totals[c].previous or 0 for c in result.taken
            )
        results.append(StatementLine(result.code, result.label, (), Figures(amount, 0, before)))
    return IncomeStatement(heading=heading, sections=sections, results=results)
