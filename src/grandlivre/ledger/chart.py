"""The reference chart (PCG) and default journals shipped in `grandlivre/data`."""

from __future__ import annotations

import csv
import io
from functools import cache
from importlib import resources


def _read_csv(name: str) -> tuple[tuple[str, str], ...]:
    text = resources.files("grandlivre.data").joinpath(name).read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    key = "number" if "number" in (reader.fieldnames or ()) else "code"
    return tuple((row[key], row["name"]) for row in reader)


@cache
def pcg_accounts() -> tuple[tuple[str, str], ...]:
    """Return the PCG chart as (number, official name) pairs, in number order."""
    return _read_csv("pcg.csv")


@cache
def default_journals() -> tuple[tuple[str, str], ...]:
    """Return the journals every new ledger starts with, as (code, name) pairs."""
    return _read_csv("journals.csv")
