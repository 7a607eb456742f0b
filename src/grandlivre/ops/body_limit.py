"""Refuse what cannot be read unambiguously before the application parses it.

- a body larger than MAX_BODY_BYTES (413), declared or streamed;
- a NUL in the path or query (PostgreSQL cannot store it);
- a header that may appear once given twice (`Idempotency-Key`, `Authorization`,
  `Content-Type`): which one would count?
- a JSON body that is not UTF-8, not JSON, nests deeper than MAX_JSON_DEPTH, or names a member
  twice: `{"debit": "1000.00", "debit": "1.00"}` would otherwise post the last one.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grandlivre.errors import MalformedRequest, PayloadTooLarge, problem_response
from grandlivre.ops.content_type import is_file_upload

# Headers whose repetition would make the request ambiguous.
SINGLE_HEADERS = (b"idempotency-key", b"authorization", b"content-type", b"content-length")
# No request body of this API nests deeper than a few levels; a deep one is an attack.
MAX_JSON_DEPTH = 32


class DuplicateMember(ValueError):
    """A JSON object names the same member twice."""


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name, value in pairs:
        if name in found:
            raise DuplicateMember(name)
        found[name] = value
    return found


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth_exceeds(body: bytes, limit: int) -> bool:
    """Tell whether brackets outside strings nest deeper than `limit` (a scan, no recursion)."""
    depth = 0
    in_string = escaped = False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def json_body_problem(body: bytes) -> str | None:
    """Return why a JSON body cannot be read unambiguously, or None when it can."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"the body is not valid UTF-8 (byte {exc.start})"
    if body.count(b"[") + body.count(b"{") > MAX_JSON_DEPTH and _depth_exceeds(
        body, MAX_JSON_DEPTH
    ):
        return f"the JSON nests deeper than {MAX_JSON_DEPTH} levels"
    try:
        json.loads(text, object_pairs_hook=_unique_members, parse_constant=_no_constant)
    except DuplicateMember as exc:
        return f"the JSON names the member {str(exc)[:60]!r} twice in one object"
    except RecursionError:
        return f"the JSON nests deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as exc:
        return f"the body is not valid JSON: {exc}"
    return None


def _is_json(content_type: bytes | None) -> bool:
    if content_type is None:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (
        media.startswith(b"application/") and media.endswith(b"+json")
    )


class BodyLimitMiddleware:
    """413 for a declared or streamed body over the limit; 400 for a NUL in the path or query,
    a repeated single header, or a JSON body that cannot be read unambiguously.

    The body is read here, up to the limit, and handed on whole: a streamed body that passes
    the limit is refused before the application sees any of it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, max_file_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_file_bytes = max_file_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if b"%00" in raw_path or b"\x00" in raw_path or b"%00" in scope.get("query_string", b""):
            await _refuse(scope, send, MalformedRequest, "NUL characters are not accepted")
            return
        raw_headers = scope.get("headers") or []
        names = [name.lower() for name, _ in raw_headers]
        for single in SINGLE_HEADERS:
            if names.count(single) > 1:
                detail = f"the {single.decode()} header is given {names.count(single)} times"
                await _refuse(scope, send, MalformedRequest, detail + "; give it once")
                return
        headers = dict(raw_headers)
        limit = self.max_file_bytes if is_file_upload(scope.get("path", "")) else self.max_bytes
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _refuse(scope, send, PayloadTooLarge, self._too_large(limit))
            return
        if scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await _refuse(scope, send, PayloadTooLarge, self._too_large(limit))
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        file_upload = is_file_upload(scope.get("path", ""))
        if body and not file_upload and _is_json(headers.get(b"content-type")):
            problem = json_body_problem(body)
            if problem is not None:
                await _refuse(scope, send, MalformedRequest, problem)
                return
        await self.app(scope, replaying(body, receive), send)

    def _too_large(self, limit: int) -> str:
        return f"the request body exceeds {limit} bytes"


async def _refuse(
    scope: Scope, send: Send, problem: type[MalformedRequest | PayloadTooLarge], detail: str
) -> None:
    response = problem_response(
        Request(scope),
        type_=problem.type,
        title=problem.title,
        status=problem.status,
        detail=detail,
    )

    async def _no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, _no_body, send)


def replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives a body read already, whole, then what the client sends next."""
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
