"""The console's Content-Security-Policy, in place of the API's `default-src 'none'`.

The API's own policy forbids everything, which is right for JSON and would stop a page from
loading its scripts. A console page may load scripts, styles and images from this origin only,
and talk to this origin only (its API): no inline script or style, no other host, no frames.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONSOLE_CSP = (
    b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    b"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
# The interactive API docs load Swagger UI and get no policy (ops/http.py); left alone here.
UNTOUCHED_PATHS = ("/docs", "/redoc", "/api/")


class ConsoleSecurityMiddleware:
    """Give every HTML page outside the API and its docs the console's CSP, and only that one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(UNTOUCHED_PATHS):
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                is_html = any(
                    name.lower() == b"content-type" and value.startswith(b"text/html")
                    for name, value in headers
                )
                if is_html:
                    headers = [
                        (name, value)
                        for name, value in headers
                        if name.lower() != b"content-security-policy"
                    ]
                    headers.append((b"content-security-policy", CONSOLE_CSP))
                    message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_policy)
