"""The hot path of `POST /api/v1/ledgers/{ledger}/entries`, beside FastAPI's route.

Posting an entry is what clients do most, and FastAPI's per-request machinery (routing over
every route, solving nine dependencies, the exception and exit-stack middlewares) cost about
as much CPU as the posting itself (docs/performance.md). This ASGI middleware answers the
common request itself, with the same steps the route's dependencies take, in the same order:
the Accept check, the API key (from the process's key cache), the role, the rate limit, the
body as `EntryCreate`, the Idempotency-Key, then the same `PostEntry` operation through the
store, and the same response.

Anything else goes to FastAPI untouched, before any side effect: a query string, an
unacceptable Accept, a key not in the cache (unknown, revoked, or just not read yet), a role
that falls short, a body or header that does not validate. Their answers (401, 403, 406, 422
and their security events) stay FastAPI's alone, so there is one implementation of each. What
the hot path refuses itself, after counting the request, it renders with the application's own
problem handler: a rate limit (429) and the domain's refusals (unbalanced, unknown account...).
"""

from __future__ import annotations

import json
import re

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from grandlivre.auth import deps as auth_deps
from grandlivre.auth.service import Role
from grandlivre.entry.api import IDEMPOTENCY_KEY_PATTERN, key_args, post_entry, respond, router
from grandlivre.entry.operations import PostEntry
from grandlivre.entry.schemas import EntryCreate
from grandlivre.errors import DomainError, domain_problem
from grandlivre.ops.body_limit import replaying
from grandlivre.ops.client_ip import client_ip
from grandlivre.ops.strict import is_acceptable, offered_media_types

_PATH = re.compile(r"^/api/v1/ledgers/([^/]+)/entries$")
_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


class FastPostMiddleware:
    """Answer the common `POST .../entries` without FastAPI's routing and dependencies."""

    def __init__(self, app: ASGIApp, api: FastAPI) -> None:
        self.app = app
        self.api = api
        self._route: APIRoute | None = None

    @property
    def route(self) -> APIRoute:
        """FastAPI's route for the same requests: its template labels metrics and logs."""
        if self._route is None:
            self._route = next(
                r for r in router.routes if isinstance(r, APIRoute) and r.endpoint is post_entry
            )
        return self._route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST" or scope.get("query_string"):
            await self.app(scope, receive, send)
            return
        matched = _PATH.match(scope.get("path", ""))
        if matched is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if not await self._answer(scope, matched.group(1), body, receive, send):
            await self.app(scope, replaying(body, receive), send)

    async def _answer(
        self, scope: Scope, ledger: str, body: bytes, receive: Receive, send: Send
    ) -> bool:
        """Answer the request, or return False, having done nothing, for FastAPI to."""
        guard: auth_deps.Guard = self.api.state.guard
        headers = _headers(scope)
        if headers is None:
            return False
        route = self.route
        accept = headers.get("accept")
        if accept is not None and not is_acceptable(accept, offered_media_types(route)):
            return False
        principal = auth_deps.cached_principal(guard, headers.get("authorization"))
        if principal is None or not principal.role.allows(Role.accountant):
            return False
        key = headers.get("idempotency-key")
        if key is not None and not (0 < len(key) <= 255 and _KEY.fullmatch(key)):
            return False
        try:
            # As FastAPI does: JSON to Python, then the model in Python mode (the same
            # coercions; BodyLimitMiddleware refused duplicate members already).
            entry = EntryCreate.model_validate(json.loads(body))
        except (ValidationError, ValueError):
            return False
        scope["route"] = route
        request = Request(scope)
        ip = client_ip(scope, guard.trusted_proxies)
        request.state.client_ip = ip
        try:
            await auth_deps.count_request(request, guard, principal, ip)
            request.state.principal = principal.name
            op = PostEntry(
                ledger=ledger,
                entry_id=self.api.state.ids.new(),
                draft=entry.to_draft(),
                now=self.api.state.clock.now(),
                idempotency=key_args(request, ledger, key, entry),
            )
            response = respond(ledger, await self.api.state.store.execute(op))
        except DomainError as exc:
            response = domain_problem(request, exc)
        await response(scope, receive, send)
        return True


def _headers(scope: Scope) -> dict[str, str] | None:
    """The request's headers by lower-case name; None if one the route reads is repeated."""
    found: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers") or ():
        name = raw_name.decode("latin-1").lower()
        if name in found and name in ("accept", "authorization", "idempotency-key"):
            return None
        found[name] = raw_value.decode("latin-1")
    return found


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
