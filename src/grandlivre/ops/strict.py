"""Refuse what a route would otherwise ignore: unknown or repeated query parameters, an Accept
it cannot serve.

A client that sends `entries?reference=F-1` believes it filtered; one that sends `limit=5&limit=50`
cannot know which was read. Both are refused, with a problem naming the parameters, rather than
answered as if they had not been sent. Runs as an application-wide dependency, so it sees the
route that matched and the parameters it declares.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute

from grandlivre.errors import NotAcceptable

PROBLEM_MEDIA_TYPE = "application/problem+json"

_declared: dict[int, frozenset[str]] = {}
_offered: dict[int, frozenset[str]] = {}


def declared_query_parameters(route: APIRoute) -> frozenset[str]:
    """Return the names of the query parameters a route declares (cached per route)."""
    found = _declared.get(id(route))
    if found is None:
        names: set[str] = set()
        pending: list[Dependant] = [route.dependant]
        while pending:
            dependant = pending.pop()
            names.update(param.alias for param in dependant.query_params)
            pending.extend(dependant.dependencies)
        found = _declared[id(route)] = frozenset(names)
    return found


def offered_media_types(route: APIRoute) -> frozenset[str]:
    """Return the media types a route answers with (its response class and documented ones)."""
    found = _offered.get(id(route))
    if found is None:
        types = {PROBLEM_MEDIA_TYPE}
        response_class = route.response_class
        if isinstance(response_class, DefaultPlaceholder):
            response_class = response_class.value
        media_type = getattr(response_class, "media_type", None)
        if isinstance(media_type, str):
            types.add(media_type)
        for response in route.responses.values():
            types.update(response.get("content", {}).keys())
        found = _offered[id(route)] = frozenset(types)
    return found


def accept_ranges(accept: str) -> list[tuple[str, float]] | None:
    """Parse an Accept header into (media range, q); None when it is malformed."""
    ranges: list[tuple[str, float]] = []
    for item in accept.split(","):
        if not item.strip():
            continue
        media, *params = (part.strip() for part in item.split(";"))
        kind, slash, sub = media.lower().partition("/")
        if not slash or not kind or not sub or (kind == "*" and sub != "*"):
            return None
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    return None
                if not 0 <= q <= 1:
                    return None
        ranges.append((f"{kind}/{sub}", q))
    return ranges


def is_acceptable(accept: str | None, offered: frozenset[str]) -> bool:
    """Tell whether an Accept header admits one of the offered media types."""
    if accept is None or not accept.strip():
        return True
    ranges = accept_ranges(accept)
    if ranges is None:
        return False
    for media, q in ranges:
        if q <= 0:
            continue
        kind, _, sub = media.partition("/")
        for offer in offered:
            offer_kind, _, offer_sub = offer.partition("/")
            if (kind == "*" or kind == offer_kind) and (sub == "*" or sub == offer_sub):
                return True
    return False


async def refuse_unknown_query(request: Request) -> None:
    """422 for a query parameter the route does not declare or one given twice; 406 for an
    Accept header none of the route's media types satisfies."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    accept = request.headers.get("accept")
    if accept is not None and not is_acceptable(accept, offered_media_types(route)):
        raise NotAcceptable(
            f"this route answers {', '.join(sorted(offered_media_types(route)))}; "
            f"the Accept header ({accept[:100]!r}) admits none of them"
        )
    items = request.query_params.multi_items()
    if not items:
        return
    allowed = declared_query_parameters(route)
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, value in items:
        if name not in allowed:
            known = ", ".join(sorted(allowed)) or "none"
            errors.append(
                {
                    "type": "extra_forbidden",
                    "loc": ("query", name),
                    "msg": f"unknown query parameter (this route takes: {known})",
                    "input": value,
                }
            )
        elif name in seen:
            errors.append(
                {
                    "type": "duplicate_parameter",
                    "loc": ("query", name),
                    "msg": "given more than once; give it once",
                    "input": value,
                }
            )
        seen.add(name)
    if errors:
        raise RequestValidationError(errors)
