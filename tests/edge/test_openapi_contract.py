"""The OpenAPI document states what the edge enforces, so a client generated from it is right.

Read from a fresh app's `openapi()`: the one-side rule of a line, the currency list, the shape
of dates and text, the bounds of `limit` and the problem answers of every operation. Where the
document gives a pattern, it is checked against the values the API refuses and takes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from grandlivre.app import create_app
from tests.conftest import make_settings

PROBLEM_JSON = "application/problem+json"
METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
DATE_PARAMETERS = {"from", "to", "as_of"}
TEXT_FIELDS = [
    ("EntryCreate", "label"),
    ("EntryCreate", "reference"),
    ("LineCreate", "label"),
    ("ReversalCreate", "label"),
    ("AccountCreate", "name"),
    ("AccountUpdate", "name"),
    ("JournalCreate", "name"),
    ("LedgerCreate", "name"),
    ("LedgerUpdate", "name"),
    ("KeyCreate", "name"),
]


@pytest.fixture(scope="module")
def document() -> Iterator[dict[str, Any]]:
    """The OpenAPI document of a fresh app (its lifespan is not run: no database is opened)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        # create_app configures logging, replacing the root handlers: put them back.
        yield create_app(make_settings("sqlite+aiosqlite:///:memory:")).openapi()
    finally:
        root.handlers = handlers
        root.setLevel(level)


def component(document: dict[str, Any], name: str) -> dict[str, Any]:
    schema: dict[str, Any] = document["components"]["schemas"][name]
    return schema


def resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return component(document, ref.removeprefix("#/components/schemas/"))
    return schema


def non_null(document: dict[str, Any], schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a schema other than null (itself when it has no anyOf)."""
    schema = resolve(document, schema)
    options = schema.get("anyOf", [schema])
    return [resolve(document, o) for o in options if o != {"type": "null"}]


def only_alternative(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    options = non_null(document, schema)
    assert len(options) == 1, schema
    return options[0]


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def matches(pattern: str, value: str) -> bool:
    return re.search(pattern, value) is not None


def test_a_line_states_exactly_one_of_debit_and_credit(document: dict[str, Any]) -> None:
    line = component(document, "LineCreate")
    assert "oneOf" in line, line
    schema = line
    assert jsonschema_rs.is_valid(schema, {"account": "411000", "debit": "1.00"})
    assert jsonschema_rs.is_valid(schema, {"account": "411000", "credit": "1.00", "debit": None})
    assert not jsonschema_rs.is_valid(
        schema, {"account": "411000", "debit": "1.00", "credit": "1.00"}
    )
    assert not jsonschema_rs.is_valid(schema, {"account": "411000"})
    assert not jsonschema_rs.is_valid(schema, {"account": "411000", "debit": None, "credit": None})


def test_currency_is_an_enum_of_the_known_codes(document: dict[str, Any]) -> None:
    currency = only_alternative(
        document, component(document, "LedgerCreate")["properties"]["currency"]
    )
    assert "EUR" in currency["enum"]
    assert "VDM" not in currency["enum"]
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in currency["enum"])


def assert_states_a_day(schema: dict[str, Any], where: str) -> None:
    assert schema.get("format") == "date", where
    pattern = schema.get("pattern")
    assert isinstance(pattern, str), where
    for good in ("2026-11-23", "1900-01-01", "2999-12-31"):
        assert matches(pattern, good), (where, good)
    for bad in ("0", "1764547200", "2026-1-5", "20261123", "2026-11-23T00:00:00", "1899-12-31",
                "3000-01-01", "2026-13-01", "2026-11-32"):  # fmt: skip
        assert not matches(pattern, bad), (where, bad)


@pytest.mark.parametrize(("model", "field"), [("EntryCreate", "date"), ("ReversalCreate", "date")])
def test_date_fields_state_format_and_pattern(
    document: dict[str, Any], model: str, field: str
) -> None:
    schema = only_alternative(document, component(document, model)["properties"][field])
    assert_states_a_day(schema, f"{model}.{field}")


def test_date_query_parameters_state_format_and_pattern(document: dict[str, Any]) -> None:
    seen = set()
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] in DATE_PARAMETERS:
                where = f"{method.upper()} {path} ?{parameter['name']}"
                assert_states_a_day(only_alternative(document, parameter["schema"]), where)
                seen.add((path, parameter["name"]))
    assert seen >= {
        ("/api/v1/ledgers/{ledger}/entries", "from"),
        ("/api/v1/ledgers/{ledger}/entries", "to"),
        ("/api/v1/ledgers/{ledger}/trial-balance", "from"),
        ("/api/v1/ledgers/{ledger}/trial-balance", "to"),
        ("/api/v1/ledgers/{ledger}/accounts/{number}/ledger", "from"),
        ("/api/v1/ledgers/{ledger}/accounts/{number}/ledger", "to"),
        ("/api/v1/ledgers/{ledger}/accounts/{number}/balance", "as_of"),
    }


@pytest.mark.parametrize(("model", "field"), TEXT_FIELDS, ids=[f"{m}.{f}" for m, f in TEXT_FIELDS])
def test_text_fields_state_the_text_pattern(
    document: dict[str, Any], model: str, field: str
) -> None:
    schema = only_alternative(document, component(document, model)["properties"][field])
    assert schema.get("type") == "string"
    assert schema.get("minLength") == 1
    pattern = schema.get("pattern")
    assert isinstance(pattern, str), schema
    for good in ("Facture F-2026-001", "Café", "  x  ", "\u200bx"):
        assert matches(pattern, good), good
    for bad in ("", "   ", "\u200b", "\ufeff", " \u200b ", "a\tb", "a\nb", "a\rb", "a\x01b",
                "a\x7fb", "a\x85b", "a\u202eb", "a\u2066b", "a\u2028b", "a\u2029b"):  # fmt: skip
        assert not matches(pattern, bad), repr(bad)


def test_limit_is_bounded_from_1_to_500(document: dict[str, Any]) -> None:
    limited = []
    for path, method, operation in operations(document):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "query" and parameter["name"] == "limit":
                schema = only_alternative(document, parameter["schema"])
                where = f"{method.upper()} {path}"
                assert schema.get("type") == "integer", where
                assert (schema.get("minimum"), schema.get("maximum")) == (1, 500), where
                limited.append(path)
    assert "/api/v1/ledgers/{ledger}/entries" in limited
    assert len(limited) >= 6, limited


# 431 included: `grandlivre serve` answers it on any route for a request line over 8 KiB, which a
# long array in the query reaches.
@pytest.mark.parametrize("status", ["422", "406", "431"])
def test_every_operation_documents_its_problems_as_problem_json(
    document: dict[str, Any], status: str
) -> None:
    missing = [
        f"{method.upper()} {path}"
        for path, method, operation in operations(document)
        if PROBLEM_JSON not in operation["responses"].get(status, {}).get("content", {})
    ]
    assert missing == []


@pytest.mark.parametrize("status", ["422", "406", "431"])
def test_the_problem_json_answers_carry_the_problem_schema(
    document: dict[str, Any], status: str
) -> None:
    # Problems are served as application/problem+json: that is where a generated client looks
    # for their shape.
    problem = component(document, "Problem")
    missing = []
    for path, method, operation in operations(document):
        media = operation["responses"].get(status, {}).get("content", {}).get(PROBLEM_JSON, {})
        schema = media.get("schema")
        if schema is None or resolve(document, schema) != problem:
            missing.append(f"{method.upper()} {path}")
    assert missing == [], f"{len(missing)} operations: {status} {PROBLEM_JSON} has no schema"
