"""Per-request observability and headers: access log, metrics, RateLimit and security headers."""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from grandlivre.ops.client_ip import Network, client_ip
from grandlivre.ops.metrics import HTTP_DURATION, HTTP_REQUESTS, status_class

log = structlog.get_logger("grandlivre.access")

SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
]
# The API answers JSON only; the interactive docs (/docs, /redoc) load Swagger UI's scripts, so
# they get no CSP rather than one that would break them.
API_CSP = (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'")
DOCS_PATHS = ("/docs", "/redoc")


def route_label(scope: Scope) -> str:
    """Return the route template that matched (never the raw path), or `unmatched`."""
    route = scope.get("route")
    # The template without its convertors (`{entry_id}`, not `{entry_id:uuid}`), as documented.
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class ObservabilityMiddleware:
    """Time each request, count it by route template, log one access line, add headers."""

    def __init__(self, app: ASGIApp, trusted_proxies: Sequence[Network]) -> None:
        self.app = app
        self.trusted_proxies = list(trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        path = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if not path.startswith(DOCS_PATHS):
                    headers.append(API_CSP)
                if path.startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                decision = scope.get("state", {}).get("rate_limit")
                if decision is not None and b"ratelimit" not in present:
                    headers.append(
                        (
                            b"ratelimit-policy",
                            f'"{decision.policy}";q={decision.limit};w={decision.window_seconds}'.encode(),
                        )
                    )
                    headers.append(
                        (
                            b"ratelimit",
                            f'"{decision.policy}";r={decision.remaining};t={decision.reset_seconds}'.encode(),
                        )
                    )
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            elapsed = time.perf_counter() - started
            route = route_label(scope)
            method = scope.get("method", "GET")
            HTTP_REQUESTS.labels(route, method, status_class(status)).inc()
            HTTP_DURATION.labels(route, method).observe(elapsed)
            state = scope.get("state", {})
            log.info(
                "request",
                method=method,
                route=route,
                path=path,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                client_ip=state.get("client_ip") or client_ip(scope, self.trusted_proxies),
                principal=state.get("principal"),
            )
