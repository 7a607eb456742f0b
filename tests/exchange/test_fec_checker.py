"""The FEC checker itself: a valid FEC passes, and each rule catches a file that breaks only it.

Every mutation below asserts the exact (line, rule) pairs reported, so that no rule can pass by
reporting nothing, or by reporting something else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.exchange.fec_checker import (
    FEC_COLUMNS,
    FecProblem,
    assert_valid_fec,
    check_fec,
    parse_fec,
)

SIREN = "123456789"
FILENAME = f"{SIREN}FEC20261231.txt"
YEAR_START = date(2026, 1, 1)
YEAR_END = date(2026, 12, 31)
CRLF = "\r\n"

JOURNALS = {
    "AC": "Achats",
    "AN": "À-nouveaux",
    "BQ": "Banque Société Générale",
    "OD": "Opérations diverses",
    "VT": "Ventes",
}
ACCOUNTS = {
    "101300": "Capital souscrit - appelé, versé",
    "401000": "Fournisseurs",
    "411000": "Clients",
    "445660": "TVA déductible sur autres biens et services",
    "445710": "TVA collectée",
    "512000": "Banque",
    "607000": "Achats de marchandises",
    "707000": "Ventes de marchandises",
    "758000": "Produits divers de gestion courante",
}
PARTIES = {"401000": ("MARTIN", "Martin Frères"), "411000": ("DUPONT", "Dupont & Fils")}


def fec_row(
    account: str,
    label: str,
    debit: str,
    credit: str,
    *,
    journal: str,
    number: int | str,
    day: str,
    piece: str,
    valid: str,
    piece_date: str | None = None,
    party: tuple[str, str] = ("", ""),
    letter: tuple[str, str] = ("", ""),
    currency: tuple[str, str] = ("", ""),
) -> dict[str, str]:
    """One line as the export writes it: labels from the books, amounts with a comma."""
    values = (
        journal,
        JOURNALS[journal],
        str(number),
        day,
        account,
        ACCOUNTS[account],
        *party,
        piece,
        piece_date or day,
        label,
        debit,
        credit,
        *letter,
        valid,
        *currency,
    )
    return dict(zip(FEC_COLUMNS, values, strict=True))


def write_fec(
    rows: Iterable[dict[str, str]],
    *,
    separator: str = "|",
    newline: str = CRLF,
    encoding: str = "iso-8859-15",
    final_newline: bool = True,
) -> bytes:
    """The file the export writes: the header, then a line per row, one separator, one ending."""
    lines = [separator.join(FEC_COLUMNS)]
    lines += [separator.join(row[column] for column in FEC_COLUMNS) for row in rows]
    return (newline.join(lines) + (newline if final_newline else "")).encode(encoding)


DUPONT = ("DUPONT", "Dupont & Fils")
SMITH = ("SMITH", "Smith Ltd")
USD_650 = ("650,00", "USD")
LETTER_A = ("A", "20260220")
AN_1: dict[str, Any] = {"journal": "AN", "number": 1, "day": "20260101", "piece": "AN1"}
AN_1 |= {"valid": "20260105"}
VT_1: dict[str, Any] = {"journal": "VT", "number": 1, "day": "20260115", "piece": "F2026-001"}
VT_1 |= {"piece_date": "20260114", "valid": "20260205"}
VT_2: dict[str, Any] = {"journal": "VT", "number": 2, "day": "20260131", "piece": "F2026-002"}
VT_2 |= {"valid": "20260205"}
BQ_1: dict[str, Any] = {"journal": "BQ", "number": 1, "day": "20260220", "piece": "VIR-0220"}
BQ_1 |= {"valid": "20260221"}
# Line 1 is the header; SAMPLE[i] is on line i + 2. Lines 2, 3, 6, 8, 9, 10 and 11 are not ASCII.
SAMPLE: tuple[dict[str, str], ...] = (
    # 2-3: AN 1
    fec_row("512000", "Écriture d'à-nouveaux", "1000,00", "0,00", **AN_1),
    fec_row("101300", "Écriture d'à-nouveaux", "0,00", "1000,00", **AN_1),
    # 4-6: VT 1, its customer line matched (A) with the payment BQ 1
    fec_row(
        "411000", "Facture F2026-001", "1200,00", "0,00", **VT_1, party=DUPONT, letter=LETTER_A
    ),
    fec_row("707000", "Ventes de marchandises", "0,00", "1000,00", **VT_1),
    fec_row("445710", "TVA collectée", "0,00", "200,00", **VT_1),
    # 7-9: VT 2, in dollars on the customer line
    fec_row("411000", "Facture F2026-002", "600,00", "0,00", **VT_2, party=SMITH, currency=USD_650),
    fec_row("707000", "Ventes export, 500 € HT", "0,00", "500,00", **VT_2),
    fec_row("445710", "TVA collectée", "0,00", "100,00", **VT_2),
    # 10-11: BQ 1
    fec_row("512000", "Règlement F2026-001", "1200,00", "0,00", **BQ_1),
    fec_row(
        "411000", "Règlement F2026-001", "0,00", "1200,00", **BQ_1, party=DUPONT, letter=LETTER_A
    ),
)
NOT_ASCII_LINES = (2, 3, 6, 8, 9, 10, 11)


@dataclass
class Fec:
    """A FEC file as text lines, each with its own ending, for the mutations to edit."""

    lines: list[str]
    endings: list[str]
    filename: str = FILENAME
    written_in: str = "iso-8859-15"
    read_as: str = "iso-8859-15"
    siren: str | None = SIREN
    prefix: bytes = b""
    options: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, rows: Sequence[dict[str, str]] = SAMPLE, newline: str = CRLF) -> Fec:
        text = write_fec(rows, newline=newline).decode("iso-8859-15")
        lines = text.split(newline)[:-1]
        return cls(lines, [newline] * len(lines))

    def content(self) -> bytes:
        text = "".join(line + ending for line, ending in zip(self.lines, self.endings, strict=True))
        return self.prefix + text.encode(self.written_in)

    def check(self) -> list[FecProblem]:
        return check_fec(
            self.filename,
            self.content(),
            year_start=self.options.get("year_start", YEAR_START),
            year_end=self.options.get("year_end", YEAR_END),
            siren=self.siren,
            encoding=self.read_as,
        )

    def problems(self) -> list[tuple[int, str]]:
        return [(problem.line, problem.rule) for problem in self.check()]

    def configure(self, **attributes: Any) -> None:
        for name, value in attributes.items():
            setattr(self, name, value)

    def set(self, lines: int | Iterable[int], column: str, value: str) -> None:
        """Set a field of a line (or of several), the line being numbered as in the file."""
        for line in [lines] if isinstance(lines, int) else lines:
            fields = self.lines[line - 1].split("|")
            fields[FEC_COLUMNS.index(column)] = value
            self.lines[line - 1] = "|".join(fields)

    def set_line(self, line: int, text: str) -> None:
        self.lines[line - 1] = text

    def end(self, line: int, ending: str) -> None:
        self.endings[line - 1] = ending

    def insert(self, line: int, text: str) -> None:
        """Insert a line so that it becomes line `line`."""
        self.lines.insert(line - 1, text)
        self.endings.insert(line - 1, self.endings[0])

    def reorder(self, order: Sequence[int]) -> None:
        """Keep the lines numbered in `order`, in that order."""
        self.lines = [self.lines[line - 1] for line in order]
        self.endings = [self.endings[line - 1] for line in order]


def line_of(row: dict[str, str]) -> str:
    return "|".join(row[column] for column in FEC_COLUMNS)


def at(rule: str, *lines: int) -> list[tuple[int, str]]:
    return [(line, rule) for line in lines]


def header_with(**renamed: str) -> str:
    return "|".join(renamed.get(name, name) for name in FEC_COLUMNS)


Mutation = Callable[[Fec], object]
# The OD entry appended by some mutations, and the VT 1 line of zero inserted by another.
OD_1: dict[str, Any] = {
    "journal": "OD",
    "number": 1,
    "day": "20260301",
    "piece": "OD1",
    "valid": "20260301",
}
OD_SINGLE = fec_row("512000", "Virement interne", "10,00", "10,00", **OD_1)
VT_ZERO = fec_row("445710", "TVA collectée", "0,00", "0,00", **VT_1)

MUTATIONS = [
    # The file's name
    pytest.param(
        lambda f: f.configure(filename=f"{SIREN}FEC20261231.csv"), at("file-name", 0), id="ext"
    ),
    pytest.param(
        lambda f: f.configure(filename=f"{SIREN}fec20261231.txt"), at("file-name", 0), id="fec"
    ),
    pytest.param(
        lambda f: f.configure(filename="12345678FEC20261231.txt"), at("file-name", 0), id="siren8"
    ),
    pytest.param(
        lambda f: f.configure(filename=f"dir/{FILENAME}"), at("file-name", 0), id="with-path"
    ),
    pytest.param(
        lambda f: f.configure(filename=f"{SIREN}FEC20251231.txt"), at("file-date", 0), id="date"
    ),
    pytest.param(lambda f: f.configure(siren="987654321"), at("file-siren", 0), id="siren"),
    # Encoding
    pytest.param(lambda f: f.configure(prefix=b"\xef\xbb\xbf"), at("encoding", 1), id="bom"),
    pytest.param(
        lambda f: f.configure(prefix=b"\xef\xbb\xbf", written_in="utf-8", read_as="utf-8"),
        at("encoding", 1),
        id="bom-utf8",
    ),
    pytest.param(
        lambda f: f.configure(written_in="utf-8"),
        at("encoding", *NOT_ASCII_LINES),
        id="utf8-read-as-latin9",
    ),
    pytest.param(
        lambda f: f.configure(read_as="utf-8"),
        at("encoding", *NOT_ASCII_LINES),
        id="latin9-read-as-utf8",
    ),
    pytest.param(
        lambda f: f.set(5, "EcritureLib", "Ventes \x85"), at("encoding", 5), id="latin9-c1"
    ),
    # Characters, separators, line endings
    pytest.param(
        lambda f: f.set(5, "EcritureLib", "Ventes\x00"), at("control-character", 5), id="nul"
    ),
    pytest.param(
        lambda f: f.set(5, "EcritureLib", "Ventes\tde"), at("control-character", 5), id="tab"
    ),
    pytest.param(
        lambda f: f.set_line(5, f.lines[4].replace("|", "\t")), at("separator", 5), id="tab-line"
    ),
    pytest.param(
        lambda f: f.set_line(1, f.lines[0].replace("|", ";")), at("separator", 1), id="semicolon"
    ),
    pytest.param(lambda f: f.end(6, "\n"), at("line-ending", 6), id="lf-in-crlf"),
    pytest.param(lambda f: f.end(1, "\n"), at("line-ending", *range(2, 12)), id="header-lf"),
    pytest.param(
        lambda f: (f.configure(endings=["\n"] * len(f.lines)), f.end(3, CRLF)),
        at("line-ending", 3),
        id="crlf-in-lf",
    ),
    pytest.param(
        lambda f: f.set(5, "EcritureLib", "Ventes\rde"), at("line-ending", 5), id="lone-cr"
    ),
    pytest.param(lambda f: f.insert(6, ""), at("empty-line", 6), id="empty"),
    pytest.param(lambda f: f.insert(2, ""), at("empty-line", 2), id="empty-after-header"),
    pytest.param(lambda f: f.insert(12, ""), at("empty-line", 12), id="empty-at-end"),
    # Header
    pytest.param(
        lambda f: f.set_line(1, header_with(Idevise="IDevise")), at("header", 1), id="case"
    ),
    pytest.param(
        lambda f: f.set_line(1, header_with(Debit="Montant", Credit="Sens")),
        at("header", 1),
        id="montant-sens",
    ),
    pytest.param(
        lambda f: f.set_line(1, header_with(Debit="Credit", Credit="Debit")),
        at("header", 1),
        id="order",
    ),
    pytest.param(
        lambda f: f.set_line(1, "|".join(FEC_COLUMNS[:-1])), at("header", 1), id="17-columns"
    ),
    pytest.param(lambda f: f.set_line(1, f.lines[0] + "|"), at("header", 1), id="19-columns"),
    # Field count (a broken line leaves its entry's balance unchecked)
    pytest.param(
        lambda f: f.set_line(5, f.lines[4].rsplit("|", 1)[0]), at("field-count", 5), id="17"
    ),
    pytest.param(
        lambda f: f.set_line(2, f.lines[1].rsplit("|", 1)[0]), at("field-count", 2), id="first-17"
    ),
    pytest.param(
        lambda f: f.set(5, "EcritureLib", "Ventes | export"), at("field-count", 5), id="19"
    ),
    pytest.param(
        lambda f: f.set(5, "EcritureLib", "Ventes\r\nexport"), at("field-count", 5, 6), id="break"
    ),
    # Dates
    pytest.param(
        lambda f: f.set(range(4, 7), "EcritureDate", "2026-01-15"),
        at("date-format", 4, 5, 6),
        id="iso-date",
    ),
    pytest.param(
        lambda f: f.set(range(4, 7), "ValidDate", "2026025"),
        at("date-format", 4, 5, 6),
        id="7-digits",
    ),
    pytest.param(lambda f: f.set(4, "PieceDate", "20260230"), at("date-format", 4), id="feb-30"),
    pytest.param(lambda f: f.set(4, "DateLet", "20261320"), at("date-format", 4), id="month-13"),
    pytest.param(lambda f: f.set(11, "DateLet", "00000220"), at("date-format", 11), id="year-0"),
    # Amounts
    pytest.param(lambda f: f.set(4, "Debit", "1200.00"), at("amount-format", 4), id="point"),
    pytest.param(lambda f: f.set(4, "Debit", "1 200,00"), at("amount-format", 4), id="space"),
    pytest.param(lambda f: f.set(4, "Debit", "1.200,00"), at("amount-format", 4), id="thousands"),
    pytest.param(lambda f: f.set(4, "Debit", "-1200,00"), at("amount-format", 4), id="negative"),
    pytest.param(lambda f: f.set(5, "Credit", "1000"), at("amount-format", 5), id="no-decimals"),
    pytest.param(lambda f: f.set(5, "Credit", "1000,0"), at("amount-format", 5), id="1-decimal"),
    pytest.param(lambda f: f.set(5, "Credit", "1000,000"), at("amount-format", 5), id="3-decimals"),
    pytest.param(lambda f: f.set(5, "Credit", "1000,00 "), at("amount-format", 5), id="trailing"),
    pytest.param(lambda f: f.set(7, "Montantdevise", "650.00"), at("amount-format", 7), id="dev."),
    pytest.param(lambda f: f.set(7, "Montantdevise", "650,123"), at("amount-format", 7), id="dev3"),
    pytest.param(lambda f: f.set(7, "Montantdevise", "+650"), at("amount-format", 7), id="dev+"),
    # Mandatory fields
    pytest.param(lambda f: f.set(5, "CompteLib", ""), at("mandatory-field", 5), id="CompteLib"),
    pytest.param(lambda f: f.set(5, "JournalLib", "  "), at("mandatory-field", 5), id="blank"),
    pytest.param(lambda f: f.set(4, "PieceRef", ""), at("mandatory-field", 4), id="PieceRef"),
    pytest.param(lambda f: f.set(4, "PieceDate", ""), at("mandatory-field", 4), id="PieceDate"),
    pytest.param(lambda f: f.set(5, "EcritureLib", ""), at("mandatory-field", 5), id="Lib"),
    pytest.param(lambda f: f.set(5, "Debit", ""), at("mandatory-field", 5), id="Debit"),
    pytest.param(lambda f: f.set(4, "Credit", ""), at("mandatory-field", 4), id="Credit"),
    pytest.param(lambda f: f.set(5, "CompteNum", ""), at("mandatory-field", 5), id="CompteNum"),
    pytest.param(lambda f: f.set(4, "EcritureDate", ""), at("mandatory-field", 4), id="Date"),
    pytest.param(lambda f: f.set(6, "ValidDate", ""), at("mandatory-field", 6), id="ValidDate"),
    # Paired fields, currency
    pytest.param(lambda f: f.set(4, "CompAuxLib", ""), at("paired-field", 4), id="CompAuxLib"),
    pytest.param(lambda f: f.set(11, "CompAuxNum", ""), at("paired-field", 11), id="CompAuxNum"),
    pytest.param(lambda f: f.set(4, "DateLet", ""), at("paired-field", 4), id="DateLet"),
    pytest.param(lambda f: f.set(11, "EcritureLet", ""), at("paired-field", 11), id="EcritureLet"),
    pytest.param(lambda f: f.set(7, "Idevise", ""), at("paired-field", 7), id="Idevise"),
    pytest.param(lambda f: f.set(7, "Montantdevise", ""), at("paired-field", 7), id="Montant"),
    pytest.param(lambda f: f.set(7, "Idevise", "usd"), at("currency-code", 7), id="lowercase"),
    pytest.param(lambda f: f.set(7, "Idevise", "US"), at("currency-code", 7), id="2-letters"),
    pytest.param(lambda f: f.set(7, "Idevise", "US$"), at("currency-code", 7), id="symbol"),
    # Accounts, entry numbers
    pytest.param(lambda f: f.set(5, "CompteNum", "70"), at("account-number", 5), id="short"),
    pytest.param(lambda f: f.set(5, "CompteNum", "907000"), at("account-number", 5), id="class9"),
    pytest.param(lambda f: f.set(5, "CompteNum", "007000"), at("account-number", 5), id="class0"),
    pytest.param(lambda f: f.set(5, "CompteNum", "7070A0"), at("account-number", 5), id="letter"),
    pytest.param(lambda f: f.set(5, "CompteNum", "707 000"), at("account-number", 5), id="space"),
    pytest.param(
        lambda f: f.set(range(4, 7), "EcritureNum", "01"), at("entry-number", 4, 5, 6), id="01"
    ),
    # Lines, entries
    pytest.param(
        lambda f: (f.set(4, "Debit", "1300,00"), f.set(4, "Credit", "100,00")),
        at("line-side", 4),
        id="both-sides",
    ),
    pytest.param(lambda f: f.insert(7, line_of(VT_ZERO)), at("line-side", 7), id="zero-line"),
    pytest.param(
        lambda f: f.set(5, "Credit", "999,99"), at("unbalanced-entry", 4), id="unbalanced"
    ),
    pytest.param(
        lambda f: f.insert(12, line_of(OD_SINGLE)),
        [(12, "line-side"), (12, "single-line-entry")],
        id="single-line",
    ),
    pytest.param(
        lambda f: f.set(5, "EcritureDate", "20260116"), at("entry-dates-differ", 5), id="date"
    ),
    pytest.param(
        lambda f: f.set(6, "ValidDate", "20260206"), at("entry-dates-differ", 6), id="ValidDate"
    ),
    pytest.param(
        lambda f: f.set(6, "PieceDate", "20260113"), at("entry-dates-differ", 6), id="PieceDate"
    ),
    pytest.param(
        # VT 2 numbered 1 again: one entry VT 1 of two dates and two piece dates.
        lambda f: f.set(range(7, 10), "EcritureNum", "1"),
        at("entry-dates-differ", 7, 7),
        id="number-reused",
    ),
    pytest.param(lambda f: f.reorder([1, 2, *range(4, 12), 3]), at("entry-split", 11), id="split"),
    pytest.param(
        lambda f: f.reorder([1, 2, 10, 3, *range(4, 10), 11]),
        at("entry-split", 4, 11),
        id="split-twice",
    ),
    pytest.param(
        lambda f: f.reorder([1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11]), at("entry-order", 7), id="order"
    ),
    pytest.param(
        lambda f: f.set(range(7, 10), "EcritureNum", "3"), at("entry-number-gap", 7), id="gap"
    ),
    pytest.param(
        lambda f: f.set(range(2, 4), "EcritureNum", "3"), at("entry-number-gap", 2), id="no-1-2"
    ),
    # Dates within the year, validation
    pytest.param(
        lambda f: f.set(range(2, 4), "EcritureDate", "20251231"),
        at("date-out-of-year", 2, 3),
        id="before",
    ),
    pytest.param(
        lambda f: (
            f.set(range(10, 12), "EcritureDate", "20270101"),
            f.set(range(10, 12), "ValidDate", "20270102"),
        ),
        at("date-out-of-year", 10, 11),
        id="after",
    ),
    pytest.param(
        lambda f: f.set(range(4, 7), "ValidDate", "20260114"),
        at("validation-before-entry", 4, 5, 6),
        id="validated-before",
    ),
    # The file as a whole
    pytest.param(lambda f: f.reorder([1]), at("empty-file", 0), id="header-only"),
]


def test_the_sample_is_valid_and_reads_back() -> None:
    fec = Fec.of()
    assert fec.check() == []
    assert parse_fec(fec.content()) == list(SAMPLE)
    content = fec.content()
    assert content.startswith(b"JournalCode|JournalLib|EcritureNum|")
    assert b"\xc9criture d'\xe0-nouveaux" in content  # ISO-8859-15, not UTF-8
    assert b"500 \xa4 HT" in content  # the euro sign is 0xA4 in ISO-8859-15
    assert [n for n, line in enumerate(fec.lines, 1) if not line.isascii()] == [*NOT_ASCII_LINES]


@pytest.mark.parametrize(
    ("options", "encoding"),
    [
        pytest.param({}, "iso-8859-15", id="crlf"),
        pytest.param({"newline": "\n"}, "iso-8859-15", id="lf"),
        pytest.param({"final_newline": False}, "iso-8859-15", id="no-final-newline"),
        pytest.param({"separator": "\t"}, "iso-8859-15", id="tab"),
        pytest.param({"encoding": "utf-8"}, "utf-8", id="utf-8"),
        pytest.param({"encoding": "utf-8", "separator": "\t", "newline": "\n"}, "utf-8", id="all"),
    ],
)
def test_the_sample_is_valid_in_every_form_the_export_offers(
    options: dict[str, Any], encoding: str
) -> None:
    content = write_fec(SAMPLE, **options)
    year = {"year_start": YEAR_START, "year_end": YEAR_END, "siren": SIREN}
    assert check_fec(FILENAME, content, encoding=encoding, **year) == []
    assert assert_valid_fec(FILENAME, content, encoding=encoding, **year) == list(SAMPLE)


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda f: f.configure(siren=None), id="no-siren-asked"),
        pytest.param(lambda f: f.set(7, "Montantdevise", "650"), id="devise-no-decimals"),
        pytest.param(lambda f: f.set(7, "Montantdevise", "-650,5"), id="devise-negative"),
        pytest.param(lambda f: f.set(5, "CompteNum", "707"), id="3-digit-account"),
        pytest.param(lambda f: f.set(5, "CompteNum", "80100000000"), id="class-8-account"),
        pytest.param(lambda f: f.set(6, "PieceRef", "F2026-001bis"), id="piece-ref-varies"),
        pytest.param(lambda f: f.set(range(4, 7), "ValidDate", "20270115"), id="validated-later"),
        pytest.param(lambda f: f.set(4, "DateLet", "20260101"), id="matched-before-dated"),
        pytest.param(lambda f: f.set(range(4, 7), "PieceDate", "20260301"), id="piece-after"),
        pytest.param(
            lambda f: f.reorder([1, 4, 5, 6, 10, 11, 2, 3, 7, 8, 9]), id="journals-interleaved"
        ),
        pytest.param(
            lambda f: f.configure(
                filename=f"{SIREN}FEC20260630.txt",
                options={"year_start": date(2025, 7, 1), "year_end": date(2026, 6, 30)},
            ),
            id="year-not-calendar",
        ),
    ],
)
def test_what_the_rules_allow_is_not_reported(mutation: Mutation) -> None:
    fec = Fec.of()
    mutation(fec)
    assert fec.check() == []


@pytest.mark.parametrize(("mutation", "expected"), MUTATIONS)
def test_a_file_breaking_one_rule_is_reported_under_that_rule(
    mutation: Mutation, expected: list[tuple[int, str]]
) -> None:
    fec = Fec.of()
    mutation(fec)
    assert fec.problems() == expected


def test_every_problem_is_reported_in_file_order() -> None:
    fec = Fec.of()
    fec.configure(filename=f"{SIREN}FEC20251231.txt")
    fec.set(9, "Credit", "100.00")
    fec.set(5, "Credit", "999,99")
    fec.set(2, "CompteNum", "1O13")
    fec.set(7, "Idevise", "usd")
    fec.end(10, "\n")
    assert fec.problems() == [
        (0, "file-date"),
        (2, "account-number"),
        (4, "unbalanced-entry"),
        (7, "currency-code"),
        (9, "amount-format"),
        (10, "line-ending"),
    ]


@pytest.mark.parametrize(
    ("mutation", "rule", "words"),
    [
        (lambda f: f.set(4, "Debit", "1200.00"), "amount-format", ["Debit", "'1200.00'"]),
        (lambda f: f.set(7, "Montantdevise", "6.5"), "amount-format", ["Montantdevise", "'6.5'"]),
        (lambda f: f.set(4, "PieceDate", "20260230"), "date-format", ["PieceDate", "'20260230'"]),
        (lambda f: f.set(5, "CompteLib", ""), "mandatory-field", ["CompteLib"]),
        (lambda f: f.set(4, "CompAuxLib", ""), "paired-field", ["CompAuxNum", "'DUPONT'"]),
        (lambda f: f.set(5, "CompteNum", "907000"), "account-number", ["CompteNum", "'907000'"]),
        (lambda f: f.set(5, "Credit", "999,99"), "unbalanced-entry", ["1200,00", "1199,99"]),
        (
            lambda f: f.set(6, "ValidDate", "20260206"),
            "entry-dates-differ",
            ["ValidDate", "line 4"],
        ),
        (lambda f: f.set(range(7, 10), "EcritureNum", "4"), "entry-number-gap", ["2..3", "'VT'"]),
        (lambda f: f.set_line(1, header_with(Idevise="IDevise")), "header", ["'IDevise'"]),
        (lambda f: f.end(6, "\n"), "line-ending", ["LF", "CRLF"]),
    ],
)
def test_a_problem_names_the_field_and_the_value(
    mutation: Mutation, rule: str, words: list[str]
) -> None:
    fec = Fec.of()
    mutation(fec)
    (problem,) = fec.check()
    assert problem.rule == rule
    for word in words:
        assert word in problem.message


def test_assert_valid_fec_lists_the_first_50_problems() -> None:
    rows = [
        fec_row(
            account, "Virement", debit, credit, **OD_1 | {"number": number, "piece": f"OD{number}"}
        )
        for number in range(1, 31)
        for account, debit, credit in (("512000", "1,00", "0,00"), ("758000", "0,00", "1,00"))
    ]
    content = write_fec(rows)
    year = {"year_start": YEAR_START, "year_end": YEAR_END}
    assert assert_valid_fec(FILENAME, content, **year) == rows
    broken = content.replace(b"|Banque|", b"||")
    with pytest.raises(AssertionError) as raised:
        assert_valid_fec(FILENAME, broken, siren=SIREN, **year)
    message = str(raised.value)
    assert message.startswith(f"{FILENAME}: 30 FEC problem(s)\n  line 2 [mandatory-field]")
    assert "line 60 [mandatory-field] CompteLib is empty" in message
    broken = broken.replace(b"|Virement|", b"||")
    with pytest.raises(AssertionError) as raised:
        assert_valid_fec(FILENAME, broken, **year)
    message = str(raised.value)
    assert "90 FEC problem(s)" in message
    assert message.count("[mandatory-field]") == 50
    assert message.endswith("\n  ... and 40 more")


@pytest.mark.parametrize(
    "mutation",
    [
        pytest.param(lambda f: f.set_line(1, header_with(Idevise="IDevise")), id="header"),
        pytest.param(lambda f: f.set_line(1, f.lines[0].replace("|", ";")), id="separator"),
        pytest.param(lambda f: f.set(5, "EcritureLib", "Ventes | export"), id="field-count"),
        pytest.param(lambda f: f.configure(read_as="utf-8"), id="encoding"),
    ],
)
def test_parse_fec_refuses_an_unreadable_file(mutation: Mutation) -> None:
    fec = Fec.of()
    mutation(fec)
    with pytest.raises(AssertionError, match="unreadable FEC"):
        parse_fec(fec.content(), fec.read_as)


def test_wrong_arguments_are_refused() -> None:
    content = write_fec(SAMPLE)
    with pytest.raises(ValueError, match="SIREN"):
        check_fec(FILENAME, content, year_start=YEAR_START, year_end=YEAR_END, siren="12345678")
    with pytest.raises(ValueError, match="after it ends"):
        check_fec(FILENAME, content, year_start=YEAR_END, year_end=YEAR_START)
    with pytest.raises(ValueError, match="latin-1"):
        check_fec(FILENAME, content, year_start=YEAR_START, year_end=YEAR_END, encoding="latin-1")


def test_an_empty_file_has_no_header_and_no_data() -> None:
    problems = check_fec(FILENAME, b"", year_start=YEAR_START, year_end=YEAR_END)
    assert [(p.line, p.rule) for p in problems] == [(0, "empty-file"), (1, "header")]


# Random books, as the export would write them.

LABELS = (
    "Ventes de marchandises",
    "Écriture d'à-nouveaux",
    "Règlement fournisseur",
    "Facture n° 12, œuvre d'art",
    "Achat 500 € TTC",
    "Virement",
)
PROPERTY = settings(deadline=None, max_examples=100)


def amount(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


@st.composite
def entry_rows(draw: st.DrawFn, journal: str, number: int) -> list[dict[str, str]]:
    """A balanced entry of 2 to 6 lines, none of zero, dated in the year."""
    size = draw(st.integers(2, 6))
    debit_lines = draw(st.integers(1, size - 1))
    credit_lines = size - debit_lines
    debits = draw(st.lists(st.integers(1, 10**10), min_size=debit_lines, max_size=debit_lines))
    if sum(debits) < credit_lines:
        debits[0] += credit_lines
    total = sum(debits)
    cuts: list[int] = []
    if credit_lines > 1:
        cuts = sorted(
            draw(
                st.sets(
                    st.integers(1, total - 1), min_size=credit_lines - 1, max_size=credit_lines - 1
                )
            )
        )
    credits = [high - low for low, high in zip([0, *cuts], [*cuts, total], strict=True)]
    sides = draw(
        st.permutations([(cents, True) for cents in debits] + [(c, False) for c in credits])
    )
    day = draw(st.dates(YEAR_START, YEAR_END))
    valid = day + timedelta(days=draw(st.integers(0, 60)))
    label = draw(st.sampled_from(LABELS))
    rows = []
    for cents, is_debit in sides:
        account = draw(st.sampled_from(sorted(ACCOUNTS)))
        party = PARTIES.get(account, ("", ""))
        matched = party != ("", "") and draw(st.booleans())
        in_dollars = draw(st.booleans())
        sign = "" if is_debit else "-"
        rows.append(
            fec_row(
                account,
                label,
                amount(cents) if is_debit else "0,00",
                "0,00" if is_debit else amount(cents),
                journal=journal,
                number=number,
                day=f"{day:%Y%m%d}",
                piece=f"{journal}{number}",
                valid=f"{valid:%Y%m%d}",
                party=party,
                letter=("AB", f"{valid:%Y%m%d}") if matched else ("", ""),
                currency=(sign + amount(cents * 11 // 10), "USD") if in_dollars else ("", ""),
            )
        )
    return rows


@st.composite
def books(draw: st.DrawFn) -> list[list[dict[str, str]]]:
    """Entries of 1 to 4 journals, 1 to 4 each, journals interleaved, each numbered 1..n."""
    journals = draw(
        st.lists(st.sampled_from(sorted(JOURNALS)), min_size=1, max_size=4, unique=True)
    )
    counts = {journal: draw(st.integers(1, 4)) for journal in journals}
    order = draw(st.permutations([j for j in journals for _ in range(counts[j])]))
    numbers = dict.fromkeys(journals, 0)
    entries = []
    for journal in order:
        numbers[journal] += 1
        entries.append(draw(entry_rows(journal, numbers[journal])))
    return entries


FORMS = st.fixed_dictionaries(
    {
        "separator": st.sampled_from(["|", "\t"]),
        "newline": st.sampled_from([CRLF, "\n"]),
        "encoding": st.sampled_from(["iso-8859-15", "utf-8"]),
        "final_newline": st.booleans(),
    }
)


def flatten(entries: list[list[dict[str, str]]]) -> tuple[list[dict[str, str]], list[int]]:
    """The rows in file order, and for each the file line of its entry's first line."""
    rows: list[dict[str, str]] = []
    firsts: list[int] = []
    for entry in entries:
        first = len(rows) + 2
        rows += entry
        firsts += [first] * len(entry)
    return rows, firsts


def problems_of(rows: list[dict[str, str]], form: dict[str, Any]) -> list[tuple[int, str]]:
    content = write_fec(rows, **form)
    problems = check_fec(
        FILENAME,
        content,
        year_start=YEAR_START,
        year_end=YEAR_END,
        siren=SIREN,
        encoding=form["encoding"],
    )
    return [(problem.line, problem.rule) for problem in problems]


@PROPERTY
@given(books(), FORMS)
def test_random_valid_books_check_clean(
    entries: list[list[dict[str, str]]], form: dict[str, Any]
) -> None:
    rows, _ = flatten(entries)
    assert problems_of(rows, form) == []
    assert parse_fec(write_fec(rows, **form), form["encoding"]) == rows


@PROPERTY
@given(books(), FORMS, st.data())
def test_swapping_two_digits_of_an_amount_is_caught(
    entries: list[list[dict[str, str]]], form: dict[str, Any], data: st.DataObject
) -> None:
    rows, firsts = flatten(entries)
    # Every line has one non-zero amount; swapping two different digits of it changes it.
    candidates = [
        (index, column)
        for index, row in enumerate(rows)
        for column in ("Debit", "Credit")
        if row[column] != "0,00" and len(set(row[column]) - {","}) > 1
    ]
    assume(candidates)
    index, column = data.draw(st.sampled_from(candidates))
    digits = list(rows[index][column])
    pairs = [
        (i, j)
        for i in range(len(digits))
        for j in range(i + 1, len(digits))
        if "," not in (digits[i], digits[j]) and digits[i] != digits[j]
    ]
    i, j = data.draw(st.sampled_from(pairs))
    digits[i], digits[j] = digits[j], digits[i]
    rows[index] = {**rows[index], column: "".join(digits)}
    assert problems_of(rows, form) == [(firsts[index], "unbalanced-entry")]


@PROPERTY
@given(books(), FORMS, st.data())
def test_deleting_a_line_is_caught(
    entries: list[list[dict[str, str]]], form: dict[str, Any], data: st.DataObject
) -> None:
    rows, firsts = flatten(entries)
    index = data.draw(st.integers(0, len(rows) - 1))
    # The entry keeps its first line number: if its first line goes, its second takes it.
    entry_size = firsts.count(firsts[index])
    expected = [(firsts[index], "unbalanced-entry")]
    if entry_size == 2:
        expected.append((firsts[index], "single-line-entry"))
    del rows[index]
    assert sorted(problems_of(rows, form)) == sorted(expected)
