"""The Fichier des Écritures Comptables as article A47 A-1 of the Livre des procédures fiscales
writes it: the 18 columns in order, a header line, `|` or tab between fields, dates AAAAMMJJ,
comma decimals without thousands separator, ISO-8859-15 unless UTF-8 is asked.

Pure: rows in, bytes out. What goes in each column is decided in exchange/service.py.
"""

from __future__ import annotations

import codecs
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

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
Separator = Literal["pipe", "tab"]
Encoding = Literal["iso-8859-15", "utf-8"]
_SEPARATORS: dict[Separator, str] = {"pipe": "|", "tab": "\t"}
# What ISO-8859-15 lacks that French text often holds, written as the nearest it has; anything
# else is stripped of its accents (NFKD), and what is left unwritable becomes "?".
_NEAREST = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2013": "-",
        "\u2014": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u202f": " ",
    }
)
LINE_END = "\r\n"


@dataclass(frozen=True)
class FecFormat:
    """How the file is written: its separator and its encoding."""

    separator: Separator = "pipe"
    encoding: Encoding = "iso-8859-15"

    @property
    def sep(self) -> str:
        """The separator character."""
        return _SEPARATORS[self.separator]


def fec_filename(siren: str, closing_date: date) -> str:
    """Return the name the law gives the file: <SIREN>FEC<AAAAMMJJ>.txt."""
    return f"{siren}FEC{fec_date(closing_date)}.txt"


def fec_date(day: date) -> str:
    """Write a date AAAAMMJJ."""
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def fec_amount(minor: int, decimals: int) -> str:
    """Write a non-negative amount of minor units with a comma and no thousands separator."""
    whole, frac = divmod(minor, 10**decimals)
    return f"{whole},{frac:0{decimals}d}" if decimals else str(whole)


def _nearest(error: UnicodeError) -> tuple[str, int]:
    """Write what ISO-8859-15 lacks as its nearest (a codec error handler: only the characters
    the codec cannot write come here, so a file of plain French text never does)."""
    assert isinstance(error, UnicodeEncodeError)
    out = []
    for char in error.object[error.start : error.end]:
        near = char.translate(_NEAREST)
        if near != char:
            out.append(near)
            continue
        bare = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        out.append(bare if bare and bare.isascii() else "?")
    return "".join(out), error.end


codecs.register_error("grandlivre-fec-nearest", _nearest)


def field(text: str, fmt: FecFormat) -> str:
    """A text field as the file may hold it: the separator, which would shift every column
    after it, written as "/"."""
    return text.replace(fmt.sep, "/") if fmt.sep in text else text


def header(fmt: FecFormat) -> bytes:
    """Return the header line."""
    return (fmt.sep.join(FEC_COLUMNS) + LINE_END).encode(fmt.encoding)


def encode_rows(rows: Sequence[Sequence[str]], fmt: FecFormat) -> bytes:
    """Write data lines of 18 fields each, their text fields already made `field`s."""
    sep = fmt.sep
    text = "".join([sep.join(row) + LINE_END for row in rows])
    return text.encode(fmt.encoding, errors="grandlivre-fec-nearest")
