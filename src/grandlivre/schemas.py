"""Pydantic building blocks shared by the routers: strict values, input models, pages, problems.

The edge refuses what it would have to guess (docs/api.md, "What is accepted"):

- a date is `YYYY-MM-DD` and nothing else, in a body, a query or a path (`invalid-date`);
- a boolean is a JSON boolean, or `true`/`false` in a query; an integer in a query is digits;
- free text (names, labels, references) is refused when it holds a control character (TAB, LF
  and CR included), a line or paragraph separator, a bidirectional override, or nothing visible
  at all (`invalid-text`): each would corrupt a tab-separated FEC or a report. Accepted text is
  stripped of surrounding spaces and put in Unicode NFC form;
- a field that may be left out is not for that reason nullable: `null` is accepted only where
  the schema says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema
from stdnum.fr import siren as fr_siren

T = TypeVar("T")

# -- dates ----------------------------------------------------------------------------------

FIRST_YEAR, LAST_YEAR = 1900, 2999
# The shape the schema states: a year of the range, a month, a day of at most 31. Whether the
# day exists in that month (2026-02-30) is the calendar's to say, and `format: date`'s.
DATE_PATTERN = r"^(19|2[0-9])[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def describe_value(value: Any) -> str:
    """Name a refused JSON value in a message: its kind for non-strings, else the value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the JSON boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the JSON number {value}"
    if isinstance(value, dict):
        return "a JSON object"
    if isinstance(value, list):
        return "a JSON array"
    text = str(value)
    return repr(text[:40] + ("…" if len(text) > 40 else ""))


def _strict_day(value: Any) -> Any:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value  # built in Python, not parsed from a client
    if isinstance(value, str) and _DATE.fullmatch(value):
        try:
            parsed = date.fromisoformat(value)
        except ValueError:
            raise PydanticCustomError(
                "invalid_date", "{value} is not a day of the calendar", {"value": repr(value)}
            ) from None
        if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
            raise PydanticCustomError(
                "invalid_date",
                "dates must lie between {first} and {last} (got {value})",
                {"first": FIRST_YEAR, "last": LAST_YEAR, "value": repr(value)},
            )
        return parsed
    raise PydanticCustomError(
        "invalid_date",
        'dates are YYYY-MM-DD, such as "2026-11-23" (got {value})',
        {"value": describe_value(value)},
    )


_DATE_SCHEMA = {
    "type": "string",
    "format": "date",
    "pattern": DATE_PATTERN,
    "description": f"A day as YYYY-MM-DD, between {FIRST_YEAR} and {LAST_YEAR}.",
    "examples": ["2026-11-23"],
}

Day = Annotated[date, BeforeValidator(_strict_day), WithJsonSchema(_DATE_SCHEMA)]
"""A calendar day, given as YYYY-MM-DD and nothing else."""


# -- free text ------------------------------------------------------------------------------

# Characters that would break a tab-separated export, a CSV line or the reading order of a
# report: C0 and C1 controls (TAB, LF, CR included) and DEL, the line and paragraph separators,
# and the bidirectional embeddings, overrides and isolates.
_FORBIDDEN = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# What shows nothing: white space and the zero-width characters. Text made only of these is
# empty to a reader.
_INVISIBLE = r"\s\u200b-\u200d\u2060\ufeff"
TEXT_PATTERN = f"^[^{_FORBIDDEN}]*[^{_FORBIDDEN}{_INVISIBLE}][^{_FORBIDDEN}]*$"
_FORBIDDEN_CHAR = re.compile(f"[{_FORBIDDEN}]")
_VISIBLE_CHAR = re.compile(f"[^{_FORBIDDEN}{_INVISIBLE}]")


def _char_name(char: str) -> str:
    return f"U+{ord(char):04X} ({unicodedata.name(char, 'control character')})"


def _text_checker(max_length: int) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "string_type", "expected a string, got {value}", {"value": describe_value(value)}
            )
        # Checked on the text as sent, so that the schema's pattern and bounds say exactly
        # what is accepted; only then are surrounding spaces stripped and the text composed.
        if not value:
            raise PydanticCustomError("string_too_short", "text may not be empty")
        bad = _FORBIDDEN_CHAR.search(value)
        if bad is not None:
            raise PydanticCustomError(
                "invalid_text",
                "text may not contain {char}, at position {position}",
                {"char": _char_name(bad.group()), "position": bad.start()},
            )
        if not _VISIBLE_CHAR.search(value):
            raise PydanticCustomError("invalid_text", "text must have a visible character")
        if len(value) > max_length:
            raise PydanticCustomError(
                "string_too_long",
                "text may have at most {max_length} characters (got {length})",
                {"max_length": max_length, "length": len(value)},
            )
        text = unicodedata.normalize("NFC", value.strip())
        if len(text) > max_length:  # a few characters decompose under NFC
            raise PydanticCustomError(
                "string_too_long",
                "text may have at most {max_length} characters once composed (got {length})",
                {"max_length": max_length, "length": len(text)},
            )
        return text

    return check


def clean_text(value: str, max_length: int) -> str:
    """Check text read from a file as a field of the API is checked; return it stripped and
    composed (NFC), or raise ValueError saying what is wrong."""
    try:
        text: str = _text_checker(max_length)(value)
    except PydanticCustomError as exc:
        raise ValueError(exc.message()) from None
    return text


def text_type(max_length: int, description: str) -> Any:
    """Build the annotated type of a free-text field of at most `max_length` characters."""
    return Annotated[
        str,
        BeforeValidator(_text_checker(max_length)),
        WithJsonSchema(
            {
                "type": "string",
                "minLength": 1,
                "maxLength": max_length,
                "pattern": TEXT_PATTERN,
                "description": description,
            }
        ),
    ]


Name = text_type(200, "A name: visible text, no control or bidirectional characters.")
ShortName = text_type(100, "A short name: visible text, no control or bidirectional characters.")
Label = text_type(500, "A label: visible text, no control or bidirectional characters.")
Reference = text_type(100, "A document reference: visible text, no control characters.")
Reason = text_type(500, "Why: visible text, no control or bidirectional characters.")


# -- strict scalars -------------------------------------------------------------------------


def _json_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    raise PydanticCustomError(
        "bool_type", "expected true or false, got {value}", {"value": describe_value(value)}
    )


def _not_null(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError(
            "null_refused", "null is not accepted here; leave the field out instead"
        )
    return value


StrictFlag = Annotated[bool, BeforeValidator(_json_bool)]
"""A JSON boolean: `"no"`, `0` or `"false"` are refused, not read as false."""


class NotNull:
    """Refuse an explicit null in a field that may be left out (`X | None = None`).

    Left out, the field takes its default (which is not validated); sent as null, it is
    refused, and the schema says so: the field's type loses its `null` alternative.
    """

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_before_validator_function(_not_null, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        json_schema = handler(schema)
        alternatives = json_schema.get("anyOf")
        if isinstance(alternatives, list):
            kept = [a for a in alternatives if a != {"type": "null"}]
            if len(kept) == 1:
                rest = {k: v for k, v in json_schema.items() if k != "anyOf"}
                return {**kept[0], **rest}
        return json_schema


def _query_bool(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise PydanticCustomError(
        "bool_parsing", "expected true or false, got {value}", {"value": describe_value(value)}
    )


QueryFlag = Annotated[bool, BeforeValidator(_query_bool), WithJsonSchema({"type": "boolean"})]
"""A query boolean: exactly `true` or `false`."""


def query_int(value: Any) -> Any:
    """Read a query integer from digits only (no sign, spaces, `1_0` or `10.0`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"(0|[1-9][0-9]{0,17})", value):
        return int(value)
    raise PydanticCustomError(
        "int_parsing", "expected digits, such as 50, got {value}", {"value": describe_value(value)}
    )


QueryInt = Annotated[int, BeforeValidator(query_int)]
"""A query integer: digits only. With bounds, put them before the validator:
`Annotated[int, Field(ge=1), BeforeValidator(query_int)]`, so the schema states them."""


# -- models ---------------------------------------------------------------------------------


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _admits_null(schema: dict[str, Any]) -> bool:
    alternatives = schema.get("anyOf", [])
    return schema.get("type") == "null" or any(a == {"type": "null"} for a in alternatives)


def _write_model_schema(schema: dict[str, Any], cls: type[Any]) -> None:
    # A field that may be left out but not sent as null has no `default: null` to show.
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None and not _admits_null(prop):
            del prop["default"]
    rules = getattr(cls, "schema_rules", None)
    if callable(rules):
        rules(schema)


class WriteModel(BaseModel):
    """A request body: unknown fields are refused rather than silently dropped.

    A subclass states what its fields cannot say in a `schema_rules(schema)` static method
    (`oneOf`, `anyOf` across fields), so that the OpenAPI document holds every rule.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=_write_model_schema)

    @model_validator(mode="before")
    @classmethod
    def _refuse_nul(cls, data: Any) -> Any:
        # PostgreSQL text cannot hold NUL; refuse it here rather than fail at the database.
        if _has_nul(data):
            raise PydanticCustomError("nul_character", "NUL characters are not accepted")
        return data


class Page(BaseModel, Generic[T]):
    """One page of a list; `next_cursor` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    type: str = Field(examples=["unbalanced-entry"])
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[dict[str, Any]] | None = None


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """Document problem+json answers for the given statuses."""
    return {
        status: {"model": Problem, "content": {"application/problem+json": {}}}
        for status in statuses
    }


# What any guarded route may answer, whatever it does: the request itself is wrong (400, 406,
# 413, 415, 422, and 431 from `grandlivre serve` for a request line or head over its limits), the
# key (401, 403), the rate limit (429) or no database can serve it (503).
PROBLEM_RESPONSES = problem_responses(400, 401, 403, 404, 406, 409, 413, 415, 422, 429, 431, 503)


SIREN_PATTERN = r"^[0-9]{9}$"


def _siren(value: str | None) -> str | None:
    if value is not None and not fr_siren.is_valid(value):
        raise PydanticCustomError(
            "invalid_siren", "{value} is not a SIREN: its check digit is wrong", {"value": value}
        )
    return value


Siren = Annotated[
    str,
    Field(
        pattern=SIREN_PATTERN,
        examples=["732829320"],
        description="The 9 digits of a French SIREN, no spaces; its Luhn check digit is checked.",
    ),
    AfterValidator(_siren),
]
