"""Query parameters shared by the routers: pages, date ranges, strictly typed."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query
from pydantic import BeforeValidator, Field

from grandlivre.errors import InvalidDateRange
from grandlivre.pagination import CURSOR_PATTERN, MAX_LIMIT
from grandlivre.schemas import Day, QueryFlag, query_int

Limit = Annotated[
    int,
    Field(ge=1, le=MAX_LIMIT),
    BeforeValidator(query_int),
    Query(description="Items per page."),
]
Cursor = Annotated[
    str | None,
    Query(
        pattern=CURSOR_PATTERN,
        description="The `next_cursor` of the page before. A cursor of another list, or one "
        "this service did not issue, is refused (422 `invalid-cursor`).",
    ),
]
DateFrom = Annotated[
    Day | None,
    Query(alias="from", description="First day, inclusive (YYYY-MM-DD); not after `to`."),
]
DateTo = Annotated[
    Day | None,
    Query(alias="to", description="Last day, inclusive (YYYY-MM-DD); not before `from`."),
]

IncludeDrafts = Annotated[
    QueryFlag,
    Query(
        description="Count drafts too (`true` or `false`, the default): a draft is outside "
        "the books until validated."
    ),
]


def check_range(date_from: date | None, date_to: date | None) -> None:
    """Refuse a range whose start is after its end."""
    if date_from is not None and date_to is not None and date_from > date_to:
        raise InvalidDateRange(f"from ({date_from}) is after to ({date_to})")
