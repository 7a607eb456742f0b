"""The test suite's own FEC checker: every FEC export the tests make goes through it.

The FEC (Fichier des Écritures Comptables) is defined by article A47 A-1 of the Livre des
procédures fiscales; the structural rules below are those of the DGFiP's "Test Compta Demat"
tester, the others those an auditor applies on top. `check_fec` reports every problem it finds,
sorted by line (0 = the file as a whole, 1 = the header), each under one of these rule slugs:

File name (line 0)
    file-name                the name is not `<SIREN 9 digits>FEC<AAAAMMJJ>.txt`.
    file-date                the name's AAAAMMJJ is not the closing date of the year (year_end).
    file-siren               the name's SIREN is not the one given (siren=...).
Reading the file
    encoding                 a byte order mark; bytes that are not text in the encoding
                             (invalid UTF-8; 0x80-0x9F, unassigned in ISO-8859-15); or, in
                             ISO-8859-15, a line whose non-ASCII bytes all form valid UTF-8 (a
                             UTF-8 file declared ISO-8859-15: "Ã©" for "é").
    control-character        a control character (C0, DEL, C1) in a line, other than the
                             separator: a tab in a `|` file is one.
    separator                the header has neither `|` nor tab, or a line is split by the
                             other separator than the header's (that line is then read with
                             its own, and checked).
    line-ending              a line ends with CRLF in an LF file or the reverse (the header's
                             ending sets the style), or a carriage return stands alone in a line.
    empty-line               an empty line (the last line may end with a line terminator; an
                             empty line after it is an empty line).
    header                   the first line is not exactly the 18 column names, in order.
    field-count              a data line has not exactly 18 fields (a field holding the
                             separator or a line break shows up here).
Fields of a line
    mandatory-field          JournalCode, JournalLib, EcritureNum, EcritureDate, CompteNum,
                             CompteLib, PieceRef, PieceDate, EcritureLib, Debit, Credit or
                             ValidDate is empty (or blank).
    date-format              EcritureDate, PieceDate, DateLet or ValidDate is not AAAAMMJJ or
                             not a calendar date.
    amount-format            Debit or Credit is not `^[0-9]+,[0-9]{2}$`, Montantdevise not
                             `^-?[0-9]+(,[0-9]{1,2})?$` (no `.`, no thousands separator, no space).
    paired-field             one of CompAuxNum/CompAuxLib, EcritureLet/DateLet,
                             Montantdevise/Idevise is given without the other.
    currency-code            Idevise is given and is not 3 capital letters.
    account-number           CompteNum is not digits only, at least 3, the first 1 to 8.
    entry-number             EcritureNum is not a positive integer without leading zeros.
    line-side                Debit and Credit are both non-zero, or both zero.
    date-out-of-year         EcritureDate is before year_start or after year_end.
    validation-before-entry  ValidDate is before EcritureDate.
Entries (the lines sharing JournalCode and EcritureNum), reported at the line named
    single-line-entry        an entry of a single line (its first line).
    unbalanced-entry         an entry's debits and credits differ, summed in Decimal (its first
                             line; not checked when one of its amounts or lines is unreadable).
    entry-dates-differ       EcritureDate, ValidDate or PieceDate is not the same on every line
                             of an entry (the first line that differs, once per entry and field).
    entry-split              an entry's lines are not contiguous (the first line of each later
                             run of its lines).
    entry-order              an entry comes after an entry of higher EcritureNum of its journal
                             (its first line).
    entry-number-gap         a journal's EcritureNum are not exactly 1..n: the numbers missing
                             are reported at the first line of the entry after the gap.
File (line 0)
    empty-file               the file has no data line.

Deliberately not checked: ValidDate after the year's end, PieceDate after ValidDate and DateLet
before EcritureDate are all legal; PieceRef may differ between the lines of an entry; the SIREN's
check digit is not verified (the DGFiP tester does not either). The Montant/Sens variant of the
header, which the DGFiP accepts instead of Debit/Credit, is refused: our export never writes it.
The file name is taken as given: a directory in front of it is a file-name problem. The UTF-8
test of ISO-8859-15 lines is a heuristic: a line whose only non-ASCII characters pair up as
UTF-8 does (say a label "Ã©" on an otherwise ASCII line) would be reported, French text never.
A line with the wrong number of fields is left out of the field checks; it still counts as a line
of the entry its JournalCode and EcritureNum (fields 1 and 3) name, whose balance then goes
unchecked, so that one broken line is one problem.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

FEC_COLUMNS: tuple[str, ...] = (
    "JournalCode",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteNum",
    "CompteLib",
    "CompAuxNum",
    "CompAuxLib",
    "PieceRef",
    "PieceDate",
    "EcritureLib",
    "Debit",
    "Credit",
    "EcritureLet",
    "DateLet",
    "ValidDate",
    "Montantdevise",
    "Idevise",
)
# The header the DGFiP also accepts, with one signed amount and its direction: never ours.
_MONTANT_SENS_COLUMNS = tuple(
    {"Debit": "Montant", "Credit": "Sens"}.get(name, name) for name in FEC_COLUMNS
)
MANDATORY_COLUMNS: tuple[str, ...] = (
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
    # The DGFiP asks for it on validated entries; every exported entry is validated.
    "ValidDate",
)
DATE_COLUMNS: tuple[str, ...] = ("EcritureDate", "PieceDate", "DateLet", "ValidDate")
PAIRED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("CompAuxNum", "CompAuxLib"),
    ("EcritureLet", "DateLet"),
    ("Montantdevise", "Idevise"),
)
# The dates that are the same on every line of an entry (PieceRef may legitimately vary).
ENTRY_DATE_COLUMNS: tuple[str, ...] = ("EcritureDate", "ValidDate", "PieceDate")

# [0-9], never \d: \d also matches the digits of other scripts.
_FILE_NAME = re.compile(r"([0-9]{9})FEC([0-9]{8})\.txt")
_SIREN = re.compile(r"[0-9]{9}")
_DATE = re.compile(r"[0-9]{8}")
# The DGFiP allows 0 to 2 decimals; our export always writes 2 for Debit and Credit.
_DEBIT_CREDIT = re.compile(r"[0-9]+,[0-9]{2}")
_MONTANT_DEVISE = re.compile(r"-?[0-9]+(,[0-9]{1,2})?")
_ACCOUNT = re.compile(r"[1-8][0-9]{2,}")
_ENTRY_NUMBER = re.compile(r"[1-9][0-9]*")
_DIGITS = re.compile(r"[0-9]+")
_CURRENCY = re.compile(r"[A-Z]{3}")
_UNASSIGNED_LATIN9 = re.compile(rb"[\x80-\x9f]")
_C1 = re.compile("[\x80-\x9f]")
_CONTROL = frozenset(chr(code) for code in (*range(0x20), *range(0x7F, 0xA0)))
_UTF8_BOM = codecs.BOM_UTF8
_SEPARATORS = ("|", "\t")
_STRUCTURE_RULES = frozenset({"encoding", "separator", "header", "field-count"})


@dataclass(frozen=True)
class FecProblem:
    """One thing wrong with a FEC: where (line 1 is the header, 0 the file), which rule, what."""

    line: int
    rule: str
    message: str


@dataclass
class _Lexed:
    """A FEC cut into lines and fields, with the problems found on the way."""

    problems: list[FecProblem] = field(default_factory=list)
    separator: str | None = None
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    broken: list[tuple[int, list[str]]] = field(default_factory=list)
    data_lines: int = 0


@dataclass
class _Entry:
    journal: str
    number: str
    lines: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    unreadable_lines: int = 0

    @property
    def first_line(self) -> int:
        return self.lines[0][0]

    @property
    def name(self) -> str:
        return f"entry JournalCode {self.journal!r} EcritureNum {self.number!r}"


def _codec(encoding: str) -> str:
    name = codecs.lookup(encoding).name
    if name not in ("iso8859-15", "utf-8"):
        raise ValueError(f"a FEC is ISO-8859-15 or UTF-8, not {encoding!r}")
    return name


def _parse_date(value: str) -> date | None:
    if not _DATE.fullmatch(value):
        return None
    try:
        return date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        return None


def _parse_amount(value: str) -> Decimal | None:
    """Debit or Credit as a Decimal, or None when it is not written as the export writes it."""
    return Decimal(value.replace(",", ".")) if _DEBIT_CREDIT.fullmatch(value) else None


def _filled(value: str) -> bool:
    return bool(value.strip())


def _show(amount: Decimal) -> str:
    return f"{amount:.2f}".replace(".", ",")


def _check_file_name(filename: str, year_end: date, siren: str | None) -> Iterable[FecProblem]:
    named = _FILE_NAME.fullmatch(filename)
    if named is None:
        yield FecProblem(
            0, "file-name", f"file name {filename!r} is not <SIREN 9 digits>FEC<AAAAMMJJ>.txt"
        )
        return
    closing = year_end.strftime("%Y%m%d")
    if named[2] != closing:
        yield FecProblem(
            0,
            "file-date",
            f"file name {filename!r} has the date {named[2]!r}, not the year's closing {closing}",
        )
    if siren is not None and named[1] != siren:
        yield FecProblem(
            0, "file-siren", f"file name {filename!r} has the SIREN {named[1]!r}, not {siren!r}"
        )


def _decode(number: int, raw: bytes, codec: str, problems: list[FecProblem]) -> str:
    """The text of one line; bytes that are not text are reported and become U+FFFD."""
    if codec == "utf-8":
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                FecProblem(
                    number,
                    "encoding",
                    f"byte 0x{raw[exc.start]:02X} at column {exc.start + 1} is not valid UTF-8",
                )
            )
            return raw.decode("utf-8", errors="replace")
    unassigned = _UNASSIGNED_LATIN9.search(raw)
    if unassigned is not None:
        problems.append(
            FecProblem(
                number,
                "encoding",
                f"byte 0x{raw[unassigned.start()]:02X} at column {unassigned.start() + 1} is "
                "not a character of ISO-8859-15 (0x80-0x9F are unassigned): a UTF-8 file?",
            )
        )
        return _C1.sub("\ufffd", raw.decode("iso8859-15"))
    if not raw.isascii():
        try:
            as_utf8 = raw.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            sample = next(char for char in as_utf8 if not char.isascii())
            misread = sample.encode("utf-8").decode("iso8859-15")
            problems.append(
                FecProblem(
                    number,
                    "encoding",
                    f"the line's non-ASCII bytes all form valid UTF-8 ({sample!r} in UTF-8, "
                    f"{misread!r} in ISO-8859-15): the file looks UTF-8, not ISO-8859-15",
                )
            )
    return raw.decode("iso8859-15")


def _detect_separator(header: str) -> str | None:
    present = [separator for separator in _SEPARATORS if separator in header]
    if len(present) < 2:
        return present[0] if present else None
    for separator in present:
        if len(header.split(separator)) == len(FEC_COLUMNS):
            return separator
    return max(present, key=header.count)


def _check_header(names: list[str]) -> Iterable[FecProblem]:
    if tuple(names) == FEC_COLUMNS:
        return
    if tuple(names) == _MONTANT_SENS_COLUMNS:
        yield FecProblem(
            1,
            "header",
            "the header is the Montant/Sens variant; this checker (like our export) only takes "
            "Debit/Credit",
        )
    elif len(names) != len(FEC_COLUMNS):
        yield FecProblem(
            1, "header", f"the header has {len(names)} columns, not the 18 of the FEC: {names!r}"
        )
    else:
        position, name, expected = next(
            (index, name, expected)
            for index, (name, expected) in enumerate(zip(names, FEC_COLUMNS, strict=True), 1)
            if name != expected
        )
        yield FecProblem(
            1, "header", f"header column {position} is {name!r}, expected {expected!r}"
        )


def _check_controls(number: int, text: str, separator: str | None) -> Iterable[FecProblem]:
    allowed = {"\r", separator}  # a lone CR is reported as a line ending
    control = next((char for char in text if char in _CONTROL and char not in allowed), None)
    if control is not None:
        column = text.index(control) + 1
        yield FecProblem(
            number,
            "control-character",
            f"control character {control!r} at column {column} of the line",
        )


def _split_lines(content: bytes, problems: list[FecProblem]) -> list[tuple[int, bytes]]:
    """The numbered lines without their terminators, all of one style (the header's)."""
    segments = content.split(b"\n")
    terminated_at_end = segments[-1] == b""
    if terminated_at_end:
        segments.pop()
    lines: list[tuple[int, bytes]] = []
    style: str | None = None
    for index, raw in enumerate(segments):
        number = index + 1
        if index < len(segments) - 1 or terminated_at_end:
            ending = "CRLF" if raw.endswith(b"\r") else "LF"
            raw = raw.removesuffix(b"\r")
            style = style or ending
            if ending != style:
                problems.append(
                    FecProblem(
                        number,
                        "line-ending",
                        f"the line ends with {ending}, the file's lines with {style}",
                    )
                )
        lines.append((number, raw))
    return lines


def _read_header(text: str, lexed: _Lexed) -> None:
    lexed.separator = _detect_separator(text)
    if lexed.separator is None:
        if text == "":
            lexed.problems.append(FecProblem(1, "header", "the first line is empty: no header"))
        else:
            lexed.problems.append(
                FecProblem(
                    1, "separator", f"the header has neither '|' nor tab in it: {text[:80]!r}"
                )
            )
        return
    lexed.problems.extend(_check_controls(1, text, lexed.separator))
    lexed.problems.extend(_check_header(text.split(lexed.separator)))


def _read_data_line(number: int, text: str, separator: str, lexed: _Lexed) -> None:
    fields = text.split(separator)
    other = "\t" if separator == "|" else "|"
    if len(fields) != len(FEC_COLUMNS) and len(text.split(other)) == len(FEC_COLUMNS):
        # Reported, then read with its own separator, so that its fields are checked too.
        lexed.problems.append(
            FecProblem(
                number,
                "separator",
                f"the line is separated by {other!r}, the header by {separator!r}",
            )
        )
        separator, fields = other, text.split(other)
    lexed.problems.extend(_check_controls(number, text, separator))
    if len(fields) == len(FEC_COLUMNS):
        lexed.rows.append((number, dict(zip(FEC_COLUMNS, fields, strict=True))))
        return
    lexed.broken.append((number, fields))
    lexed.problems.append(
        FecProblem(
            number,
            "field-count",
            f"the line has {len(fields)} fields, not 18 (a field holding {separator!r} or a line "
            "break?)",
        )
    )


def _lex(content: bytes, encoding: str) -> _Lexed:
    """Cut the file into lines and fields: encoding, line endings, separator, header, counts."""
    codec = _codec(encoding)
    lexed = _Lexed()
    if content.startswith(_UTF8_BOM):
        # The export writes no byte order mark, in UTF-8 no more than in ISO-8859-15 (where it
        # would read "ï»¿" before the header): none is tolerated.
        lexed.problems.append(
            FecProblem(1, "encoding", "the file starts with a UTF-8 byte order mark (EF BB BF)")
        )
        content = content[len(_UTF8_BOM) :]
    lines = _split_lines(content, lexed.problems)
    if not lines:
        lexed.problems.append(FecProblem(1, "header", "the file is empty: no header"))
    for number, raw in lines:
        text = _decode(number, raw, codec, lexed.problems)
        if "\r" in text:
            column = text.index("\r") + 1
            lexed.problems.append(
                FecProblem(number, "line-ending", f"a carriage return alone at column {column}")
            )
        if number == 1:
            _read_header(text, lexed)
        elif text == "":
            lexed.problems.append(FecProblem(number, "empty-line", "an empty line"))
        else:
            lexed.data_lines += 1
            if lexed.separator is not None:
                _read_data_line(number, text, lexed.separator, lexed)
    return lexed


def _check_fields(number: int, row: dict[str, str]) -> Iterable[FecProblem]:
    """Each field on its own: filled when mandatory, well written."""
    for column in MANDATORY_COLUMNS:
        if not _filled(row[column]):
            yield FecProblem(number, "mandatory-field", f"{column} is empty ({row[column]!r})")
    for column in DATE_COLUMNS:
        if _filled(row[column]) and _parse_date(row[column]) is None:
            yield FecProblem(
                number,
                "date-format",
                f"{column} {row[column]!r} is not a calendar date written AAAAMMJJ",
            )
    for column in ("Debit", "Credit"):
        if _filled(row[column]) and _parse_amount(row[column]) is None:
            yield FecProblem(
                number,
                "amount-format",
                f"{column} {row[column]!r} is not digits, ',' and 2 decimals (e.g. 1200,00)",
            )
    devise = row["Montantdevise"]
    if _filled(devise) and not _MONTANT_DEVISE.fullmatch(devise):
        yield FecProblem(
            number,
            "amount-format",
            f"Montantdevise {devise!r} is not an optional '-', digits and up to 2 decimals "
            "after ','",
        )
    for first, second in PAIRED_COLUMNS:
        if _filled(row[first]) != _filled(row[second]):
            given, missing = (first, second) if _filled(row[first]) else (second, first)
            yield FecProblem(
                number, "paired-field", f"{given} {row[given]!r} is given without {missing}"
            )
    currency = row["Idevise"]
    if _filled(currency) and not _CURRENCY.fullmatch(currency):
        yield FecProblem(
            number, "currency-code", f"Idevise {currency!r} is not 3 capital letters (ISO 4217)"
        )
    account = row["CompteNum"]
    if _filled(account) and not _ACCOUNT.fullmatch(account):
        yield FecProblem(
            number,
            "account-number",
            f"CompteNum {account!r} is not 3 or more digits starting with a class 1 to 8",
        )
    entry_number = row["EcritureNum"]
    if _filled(entry_number) and not _ENTRY_NUMBER.fullmatch(entry_number):
        yield FecProblem(
            number,
            "entry-number",
            f"EcritureNum {entry_number!r} is not a positive integer without leading zeros",
        )


def _check_line(
    number: int, row: dict[str, str], year_start: date, year_end: date
) -> Iterable[FecProblem]:
    """The fields of a line together: one side, the dates in the year and in order."""
    debit, credit = _parse_amount(row["Debit"]), _parse_amount(row["Credit"])
    if debit is not None and credit is not None and (debit != 0) == (credit != 0):
        both = "both non-zero" if debit else "both zero"
        yield FecProblem(
            number,
            "line-side",
            f"Debit {row['Debit']!r} and Credit {row['Credit']!r} are {both}: exactly one must be",
        )
    written = _parse_date(row["EcritureDate"])
    if written is not None and not year_start <= written <= year_end:
        yield FecProblem(
            number,
            "date-out-of-year",
            f"EcritureDate {row['EcritureDate']!r} is outside the year {year_start:%Y%m%d}"
            f"-{year_end:%Y%m%d}",
        )
    validated = _parse_date(row["ValidDate"])
    if written is not None and validated is not None and validated < written:
        yield FecProblem(
            number,
            "validation-before-entry",
            f"ValidDate {row['ValidDate']!r} is before EcritureDate {row['EcritureDate']!r}",
        )


def _group_entries(lexed: _Lexed) -> tuple[list[_Entry], list[FecProblem]]:
    """The entries in the order they first appear, and where one's lines are not contiguous."""
    entries: dict[tuple[str, str], _Entry] = {}
    problems: list[FecProblem] = []
    previous: tuple[str, str] | None = None
    for number, row in lexed.rows:
        key = (row["JournalCode"], row["EcritureNum"])
        entry = entries.get(key)
        if entry is None:
            entry = entries[key] = _Entry(*key)
        elif key != previous:
            problems.append(
                FecProblem(
                    number,
                    "entry-split",
                    f"{entry.name} started at line {entry.first_line}, was interrupted after "
                    f"line {entry.lines[-1][0]} and goes on here",
                )
            )
        entry.lines.append((number, row))
        previous = key
    for _number, fields in lexed.broken:
        if len(fields) >= 3 and (fields[0], fields[2]) in entries:
            entries[fields[0], fields[2]].unreadable_lines += 1
    return list(entries.values()), problems


def _check_entry(entry: _Entry) -> Iterable[FecProblem]:
    """An entry on its own: two lines or more, balanced, one date of each kind."""
    if len(entry.lines) + entry.unreadable_lines < 2:
        yield FecProblem(entry.first_line, "single-line-entry", f"{entry.name} has a single line")
    debits = [_parse_amount(row["Debit"]) for _, row in entry.lines]
    credits = [_parse_amount(row["Credit"]) for _, row in entry.lines]
    if entry.unreadable_lines == 0 and None not in debits and None not in credits:
        debit = sum((amount for amount in debits if amount is not None), Decimal(0))
        credit = sum((amount for amount in credits if amount is not None), Decimal(0))
        if debit != credit:
            yield FecProblem(
                entry.first_line,
                "unbalanced-entry",
                f"{entry.name} does not balance: Debit {_show(debit)}, Credit {_show(credit)}",
            )
    for column in ENTRY_DATE_COLUMNS:
        dated = [(number, row[column]) for number, row in entry.lines if _parse_date(row[column])]
        differing = next(((n, value) for n, value in dated if value != dated[0][1]), None)
        if differing is not None:
            yield FecProblem(
                differing[0],
                "entry-dates-differ",
                f"{column} {differing[1]!r} differs from {dated[0][1]!r} on line {dated[0][0]} "
                f"of the same {entry.name}",
            )


def _check_numbering(entries: list[_Entry]) -> Iterable[FecProblem]:
    """Per journal, EcritureNum runs 1..n with no gap, entries in increasing order."""
    journals: dict[str, list[tuple[int, _Entry]]] = {}
    for entry in entries:
        # Leading zeros are reported as entry-number; the value still counts here.
        if _DIGITS.fullmatch(entry.number) and int(entry.number) > 0:
            journals.setdefault(entry.journal, []).append((int(entry.number), entry))
    for journal, numbered in journals.items():
        highest = 0
        for value, entry in numbered:
            if value < highest:
                yield FecProblem(
                    entry.first_line,
                    "entry-order",
                    f"{entry.name} comes after EcritureNum {highest} of journal {journal!r}",
                )
            highest = max(highest, value)
        expected = 1
        for value, entry in sorted(numbered, key=lambda item: item[0]):
            if value > expected:
                missing = str(expected) if value == expected + 1 else f"{expected}..{value - 1}"
                yield FecProblem(
                    entry.first_line,
                    "entry-number-gap",
                    f"journal {journal!r} has no EcritureNum {missing} before {value}",
                )
            expected = max(expected, value + 1)


def check_fec(
    filename: str,
    content: bytes,
    *,
    year_start: date,
    year_end: date,
    siren: str | None = None,
    encoding: str = "iso-8859-15",
) -> list[FecProblem]:
    """Every problem of a FEC file, sorted by line (0 for the file as a whole, 1 the header)."""
    if year_start > year_end:
        raise ValueError(f"the year starts ({year_start}) after it ends ({year_end})")
    if siren is not None and not _SIREN.fullmatch(siren):
        raise ValueError(f"a SIREN is 9 digits, not {siren!r}")
    problems = list(_check_file_name(filename, year_end, siren))
    lexed = _lex(content, encoding)
    problems.extend(lexed.problems)
    for number, row in lexed.rows:
        problems.extend(_check_fields(number, row))
        problems.extend(_check_line(number, row, year_start, year_end))
    entries, split = _group_entries(lexed)
    problems.extend(split)
    for entry in entries:
        problems.extend(_check_entry(entry))
    problems.extend(_check_numbering(entries))
    if lexed.data_lines == 0:
        problems.append(FecProblem(0, "empty-file", "the file has no data line"))
    return sorted(problems, key=lambda problem: problem.line)


def parse_fec(content: bytes, encoding: str = "iso-8859-15") -> list[dict[str, str]]:
    """The data lines as dicts keyed by the 18 column names (raises AssertionError if unreadable).

    Unreadable: bytes that are not text in the encoding, no separator, a header that is not the
    18 names, or a data line that has not 18 fields. Empty lines are skipped.
    """
    lexed = _lex(content, encoding)
    unreadable = [problem for problem in lexed.problems if problem.rule in _STRUCTURE_RULES]
    if unreadable:
        raise AssertionError(
            "unreadable FEC:\n" + "\n".join(_describe(problem) for problem in unreadable[:50])
        )
    return [row for _, row in lexed.rows]


def _describe(problem: FecProblem) -> str:
    return f"  line {problem.line} [{problem.rule}] {problem.message}"


def assert_valid_fec(
    filename: str,
    content: bytes,
    *,
    year_start: date,
    year_end: date,
    siren: str | None = None,
    encoding: str = "iso-8859-15",
) -> list[dict[str, str]]:
    """check_fec, then AssertionError listing every problem (first 50) if any; returns the rows."""
    problems = check_fec(
        filename,
        content,
        year_start=year_start,
        year_end=year_end,
        siren=siren,
        encoding=encoding,
    )
    if problems:
        shown = "\n".join(_describe(problem) for problem in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        raise AssertionError(f"{filename}: {len(problems)} FEC problem(s)\n{shown}{more}")
    return parse_fec(content, encoding)
