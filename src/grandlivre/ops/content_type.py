"""Refuse request bodies that are not JSON with 415, before anything tries to parse them.

The one exception is an import, whose body is the file itself: a FEC (`text/plain`) or a CSV
(`text/csv`), on the paths `FILE_UPLOAD` matches.
"""

from __future__ import annotations

import re

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from grandlivre.errors import problem_response

_WITH_BODY = {"POST", "PUT", "PATCH"}
FILE_UPLOAD = re.compile(r"/api/v1/ledgers/[^/]+/imports/[a-z]+")
_FILE_MEDIA = frozenset({"text/plain", "text/csv"})


def is_file_upload(path: str) -> bool:
    """Tell whether a path takes a file as its body (an import)."""
    return FILE_UPLOAD.fullmatch(path) is not None


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class JsonOnlyMiddleware:
    """415 problem for a non-empty /api body whose Content-Type is not JSON."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope.get("method") in _WITH_BODY
            and str(scope.get("path", "")).startswith("/api/")
        ):
            headers = dict(scope.get("headers") or [])
            length = headers.get(b"content-length")
            has_body = (length is not None and length not in (b"0", b"")) or (
                b"transfer-encoding" in headers
            )
            content_type = headers.get(b"content-type", b"").decode("latin-1")
            media = content_type.split(";", 1)[0].strip().lower()
            path = str(scope.get("path", ""))
            if is_file_upload(path) and has_body:
                if media not in _FILE_MEDIA:
                    response = problem_response(
                        Request(scope),
                        type_="unsupported-media-type",
                        title="Unsupported media type",
                        status=415,
                        detail="send the file itself as the body, with `Content-Type: "
                        "text/plain` (a FEC) or `text/csv` (a CSV)",
                    )
                    await response(scope, receive, send)
                    return
            elif has_body and not _is_json(content_type):
                response = problem_response(
                    Request(scope),
                    type_="unsupported-media-type",
                    title="Unsupported media type",
                    status=415,
                    detail="send the body as JSON with `Content-Type: application/json`",
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
