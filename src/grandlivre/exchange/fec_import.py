"""Read a FEC file into entries, or say every line that breaks a rule.

The reverse of exchange/fec.py, and as strict as the file the law describes: the 18 columns in
order, `|` or tab, dates AAAAMMJJ, amounts with a comma. Nothing is guessed: a line that does
not say one thing clearly is reported by its number, with its reason, and the file is refused
whole (by the service) if any is.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from datetime import date

from grandlivre.exchange.fec import FEC_COLUMNS, Encoding

MANDATORY = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "ValidDate",
)
PAIRS = (("CompAuxNum", "CompAuxLib"), ("EcritureLet", "DateLet"))
_DATE = re.compile(r"[0-9]{8}")
MAX_PROBLEMS = 1000


@dataclass(frozen=True)
class LineProblem:
    """A line of the file (1 is the header; 0 the file as a whole) and what is wrong with it."""

    line: int
    reason: str


@dataclass(frozen=True, slots=True)
class FecLineIn:
    """A data line, its fields read."""

    line: int
    account: str
    account_name: str
    party_code: str | None
    party_name: str | None
    label: str
    debit: str | None  # a decimal string with a point, as a posted line takes it
    credit: str | None
    letter: str | None
    letter_date: date | None


@dataclass(slots=True)
class FecEntryIn:
    """The lines that share a JournalCode and an EcritureNum."""

    first_line: int
    journal: str
    journal_name: str
    number: str
    date: date
    piece_ref: str
    piece_date: dt.date
    valid_date: dt.date
    lines: list[FecLineIn] = field(default_factory=list)


@dataclass
class FecFile:
    """What a file holds: its entries in the order they appear, and its problems."""

    entries: list[FecEntryIn]
    problems: list[LineProblem]


def _day(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def read_amount(text: str, decimals: int) -> str | None:
    """Return "1234.56" for "1234,56"; None when it is not an amount of the currency."""
    pattern = r"[0-9]{1,15}" + (rf"(,[0-9]{{1,{decimals}}})?" if decimals else "")
    if not re.fullmatch(pattern, text):
        return None
    return text.replace(",", ".")


def _is_zero(amount: str) -> bool:
    return not amount.replace(".", "").strip("0")


def decode(content: bytes, encoding: Encoding) -> tuple[str | None, LineProblem | None]:
    """Decode the file, a UTF-8 byte order mark allowed in UTF-8."""
    try:
        if encoding == "utf-8":
            return content.decode("utf-8").removeprefix("\ufeff"), None
        text = content.decode("iso-8859-15")
    except UnicodeDecodeError as exc:
        return None, LineProblem(0, f"the file is not {encoding} text (byte {exc.start})")
    if any("\x80" <= ch <= "\x9f" for ch in text):
        return None, LineProblem(0, "the file holds bytes 0x80-0x9F, which ISO-8859-15 lacks")
    return text, None


def _lines(text: str) -> list[str]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


def _read_line(
    number: int,
    values: dict[str, str],
    decimals: int,
    problems: list[LineProblem],
    shared: dict[str, str],
) -> tuple[FecLineIn, dict[str, date], str, str, str] | None:
    found = len(problems)
    for name in MANDATORY:
        if not values[name].strip():
            problems.append(LineProblem(number, f"{name} is empty: it is mandatory"))
    for first, second in PAIRS:
        if bool(values[first]) != bool(values[second]):
            given, missing = (first, second) if values[first] else (second, first)
            problems.append(LineProblem(number, f"{given} is given without {missing}"))
    if values["Montantdevise"] or values["Idevise"]:
        problems.append(
            LineProblem(number, "Montantdevise/Idevise: a ledger keeps one currency only")
        )
    days: dict[str, date] = {}
    for name in ("EcritureDate", "PieceDate", "ValidDate", "DateLet"):
        if not values[name]:
            continue
        day = _day(values[name])
        if day is None:
            problems.append(LineProblem(number, f"{name} {values[name]!r} is not a date AAAAMMJJ"))
        else:
            days[name] = day
    sides: dict[str, str | None] = {}
    for name in ("Debit", "Credit"):
        if not values[name]:
            continue
        amount = read_amount(values[name], decimals)
        if amount is None:
            problems.append(
                LineProblem(
                    number,
                    f"{name} {values[name]!r} is not an amount: digits, then a comma and at "
                    f"most {decimals} decimals, no sign, no thousands separator",
                )
            )
        else:
            sides[name] = None if _is_zero(amount) else amount
    if len(sides) == 2 and (sides["Debit"] is None) == (sides["Credit"] is None):
        problems.append(
            LineProblem(number, "exactly one of Debit and Credit must be non-zero on a line")
        )
    if len(problems) > found:
        return None
    # An account, a third party, a journal repeat on many lines: one string for each.
    line = FecLineIn(
        line=number,
        account=shared.setdefault(values["CompteNum"], values["CompteNum"]),
        account_name=shared.setdefault(values["CompteLib"], values["CompteLib"]),
        party_code=shared.setdefault(values["CompAuxNum"], values["CompAuxNum"]) or None,
        party_name=shared.setdefault(values["CompAuxLib"], values["CompAuxLib"]) or None,
        label=values["EcritureLib"],
        debit=sides["Debit"],
        credit=sides["Credit"],
        letter=values["EcritureLet"] or None,
        letter_date=days.get("DateLet"),
    )
    journal = shared.setdefault(values["JournalCode"], values["JournalCode"])
    return line, days, journal, values["JournalLib"], values["EcritureNum"]


def parse_fec(text: str, *, decimals: int) -> FecFile:
    """Read the text of a FEC file; every line that breaks a rule is in `problems`."""
    problems: list[LineProblem] = []
    lines = _lines(text)
    if not lines:
        return FecFile([], [LineProblem(0, "the file is empty")])
    head = lines[0]
    sep = "|" if "|" in head else "\t" if "\t" in head else None
    if sep is None:
        return FecFile([], [LineProblem(1, "the header is split by neither | nor tab")])
    if tuple(head.split(sep)) != FEC_COLUMNS:
        return FecFile(
            [],
            [
                LineProblem(
                    1, "the header is not the 18 FEC columns in order: " + sep.join(FEC_COLUMNS)
                )
            ],
        )
    entries: dict[tuple[str, str], FecEntryIn] = {}
    shared: dict[str, str] = {}
    for number, raw in enumerate(lines[1:], start=2):
        if len(problems) >= MAX_PROBLEMS:
            break
        fields = raw.split(sep)
        if len(fields) != len(FEC_COLUMNS):
            problems.append(
                LineProblem(number, f"{len(fields)} fields where the FEC has {len(FEC_COLUMNS)}")
            )
            continue
        values = dict(zip(FEC_COLUMNS, fields, strict=True))
        read = _read_line(number, values, decimals, problems, shared)
        if read is None:
            continue
        line, days, journal, journal_name, num = read
        entry = entries.get((journal, num))
        if entry is None:
            entries[(journal, num)] = FecEntryIn(
                first_line=number,
                journal=journal,
                journal_name=journal_name,
                number=num,
                date=days["EcritureDate"],
                piece_ref=fields[FEC_COLUMNS.index("PieceRef")],
                piece_date=days["PieceDate"],
                valid_date=days["ValidDate"],
                lines=[line],
            )
            continue
        for name, mine, theirs in (
            ("EcritureDate", days["EcritureDate"], entry.date),
            ("ValidDate", days["ValidDate"], entry.valid_date),
            ("PieceDate", days["PieceDate"], entry.piece_date),
            ("PieceRef", fields[FEC_COLUMNS.index("PieceRef")], entry.piece_ref),
            ("JournalLib", journal_name, entry.journal_name),
        ):
            if mine != theirs:
                problems.append(
                    LineProblem(
                        number,
                        f"{name} differs from the one of line {entry.first_line}, the first "
                        f"of entry {journal} {num}: an entry has one",
                    )
                )
                break
        else:
            entry.lines.append(line)
    if not entries and not problems:
        problems.append(LineProblem(0, "the file has no entry line"))
    return FecFile(list(entries.values()), problems)
