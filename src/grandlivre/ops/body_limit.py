"""Refuse request bodies larger than MAX_BODY_BYTES before they are read into memory."""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grandlivre.errors import PayloadTooLarge, problem_response


class BodyLimitMiddleware:
    """413 for a declared or streamed body over the limit."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(scope, send, self.max_bytes)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise PayloadTooLarge(f"the request body exceeds {self.max_bytes} bytes")
            return message

        await self.app(scope, limited_receive, send)


async def _refuse(scope: Scope, send: Send, max_bytes: int) -> None:
    response = problem_response(
        Request(scope),
        type_=PayloadTooLarge.type,
        title=PayloadTooLarge.title,
        status=PayloadTooLarge.status,
        detail=f"the request body exceeds {max_bytes} bytes",
    )

    async def _no_body() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    await response(scope, _no_body, send)
