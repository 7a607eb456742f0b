"""Refuse request bodies larger than MAX_BODY_BYTES, and NUL characters PostgreSQL cannot store."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grandlivre.errors import MalformedRequest, PayloadTooLarge, problem_response


class BodyLimitMiddleware:
    """413 for a declared or streamed body over the limit; 400 for a NUL in the path or query.

    The body is read here, up to the limit, and handed on whole: a streamed body that passes
    the limit is refused before the application sees any of it.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        raw_path = scope.get("raw_path") or scope.get("path", "").encode()
        if b"%00" in raw_path or b"\x00" in raw_path or b"%00" in scope.get("query_string", b""):
            await _refuse(scope, send, MalformedRequest, "NUL characters are not accepted")
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(scope, send, PayloadTooLarge, self._too_large())
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
            if size > self.max_bytes:
                await _refuse(scope, send, PayloadTooLarge, self._too_large())
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> str:
        return f"the request body exceeds {self.max_bytes} bytes"


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
