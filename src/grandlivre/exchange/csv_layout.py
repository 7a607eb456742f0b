"""Entries as CSV, one row per line, in the layout a French spreadsheet opens: what the entries
export writes and the CSV import reads.

`;` between fields, a header naming the columns below in this order, UTF-8 (with a byte order
mark on export, optional on import), amounts with a comma, dates DD/MM/YYYY (YYYY-MM-DD is read
too: both are unambiguous). The `entry` column groups rows into entries: rows that share it are
the lines of one entry, and agree on its journal, dates, label and reference.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from grandlivre.exchange.fec_import import LineProblem, read_amount

COLUMNS: tuple[str, ...] = (
    "entry",
    "journal",
    "date",
    "document_date",
    "label",
    "reference",
    "account",
    "third_party",
    "line_label",
    "debit",
    "credit",
)
ENTRY_FIELDS = ("journal", "date", "document_date", "label", "reference")
_FRENCH_DATE = re.compile(r"([0-9]{2})/([0-9]{2})/([0-9]{4})")
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
MAX_KEY = 100


@dataclass(frozen=True)
class CsvLine:
    """A row: one line of an entry."""

    line: int
    account: str
    third_party: str | None
    label: str | None
    debit: str | None
    credit: str | None


@dataclass
class CsvEntry:
    """The rows that share an `entry` key."""

    key: str
    first_line: int
    journal: str
    date: dt.date
    document_date: dt.date | None
    label: str
    reference: str | None
    lines: list[CsvLine] = field(default_factory=list)


@dataclass
class CsvFile:
    """The entries of a file in the order they first appear, and its problems."""

    entries: list[CsvEntry]
    problems: list[LineProblem]


def read_date(text: str) -> date | None:
    """Read DD/MM/YYYY or YYYY-MM-DD; None for anything else."""
    found = _FRENCH_DATE.fullmatch(text)
    try:
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        found = _ISO_DATE.fullmatch(text)
        if found:
            return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None
    return None


def parse_csv(text: str, *, decimals: int) -> CsvFile:
    """Read the text of an entries CSV; every row that breaks a rule is in `problems`."""
    problems: list[LineProblem] = []
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""), delimiter=";"))
    if not rows:
        return CsvFile([], [LineProblem(0, "the file is empty")])
    if tuple(rows[0]) != COLUMNS:
        return CsvFile(
            [], [LineProblem(1, "the header is not the columns " + ";".join(COLUMNS) + " in order")]
        )
    entries: dict[str, CsvEntry] = {}
    for number, row in enumerate(rows[1:], start=2):
        if len(row) != len(COLUMNS):
            problems.append(
                LineProblem(number, f"{len(row)} fields where the layout has {len(COLUMNS)}")
            )
            continue
        values = dict(zip(COLUMNS, row, strict=True))
        found = len(problems)
        for name in ("entry", "journal", "date", "label", "account"):
            if not values[name].strip():
                problems.append(LineProblem(number, f"{name} is empty: it is mandatory"))
        if len(values["entry"]) > MAX_KEY:
            problems.append(LineProblem(number, f"entry is longer than {MAX_KEY} characters"))
        days: dict[str, date | None] = {}
        for name in ("date", "document_date"):
            days[name] = None
            if values[name]:
                days[name] = read_date(values[name])
                if days[name] is None:
                    problems.append(
                        LineProblem(
                            number,
                            f"{name} {values[name]!r} is not a date DD/MM/YYYY or YYYY-MM-DD",
                        )
                    )
        sides: dict[str, str | None] = {}
        for name in ("debit", "credit"):
            sides[name] = None
            if values[name]:
                sides[name] = read_amount(values[name], decimals)
                if sides[name] is None:
                    problems.append(
                        LineProblem(
                            number,
                            f"{name} {values[name]!r} is not an amount: digits, then a comma and "
                            f"at most {decimals} decimals, no sign, no thousands separator",
                        )
                    )
        if (values["debit"] and values["credit"]) or not (values["debit"] or values["credit"]):
            problems.append(LineProblem(number, "give exactly one of debit and credit"))
        if len(problems) > found:
            continue
        line = CsvLine(
            line=number,
            account=values["account"],
            third_party=values["third_party"] or None,
            label=values["line_label"] or None,
            debit=sides["debit"],
            credit=sides["credit"],
        )
        day = days["date"]
        assert day is not None
        entry = entries.get(values["entry"])
        if entry is None:
            entries[values["entry"]] = CsvEntry(
                key=values["entry"],
                first_line=number,
                journal=values["journal"],
                date=day,
                document_date=days["document_date"],
                label=values["label"],
                reference=values["reference"] or None,
                lines=[line],
            )
            continue
        mine = (
            values["journal"],
            day,
            days["document_date"],
            values["label"],
            values["reference"] or None,
        )
        theirs = (entry.journal, entry.date, entry.document_date, entry.label, entry.reference)
        differing = [n for n, a, b in zip(ENTRY_FIELDS, mine, theirs, strict=True) if a != b]
        if differing:
            problems.append(
                LineProblem(
                    number,
                    f"{', '.join(differing)} differ from line {entry.first_line}, the first of "
                    f"entry {entry.key!r}: the lines of an entry agree on them",
                )
            )
            continue
        entry.lines.append(line)
    if not entries and not problems:
        problems.append(LineProblem(0, "the file has no entry line"))
    return CsvFile(list(entries.values()), problems)


def _csv_date(day: date | None) -> str:
    return day.strftime("%d/%m/%Y") if day is not None else ""


def write_rows(rows: Iterable[tuple[str, ...]]) -> str:
    """Write rows of the layout (no header)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue()


def header() -> str:
    """The byte order mark and the header row."""
    return "\ufeff" + write_rows([COLUMNS])


def french_amount(decimal_string: str | None) -> str:
    """Write "1234.56" as "1234,56"."""
    return (decimal_string or "").replace(".", ",")


def export_date(day: date | None) -> str:
    """Write a date DD/MM/YYYY."""
    return _csv_date(day)
