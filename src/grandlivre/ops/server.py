"""The HTTP protocol `grandlivre serve` runs: uvicorn's httptools protocol, request heads capped.

uvicorn's httptools protocol puts no limit on a request's head: httptools joins the pieces of a
header line as they arrive, so one client streaming a 100 MB header made a worker hold 100 MB
and spend seconds joining it while the worker's other clients waited. This protocol counts the
bytes of each head as the parser is fed and answers `431 Request Header Fields Too Large`
(problem+json, `Connection: close`, then closes the connection):

- as soon as an unfinished head has taken more than MAX_HEADER_BYTES, so that a worker holds
  at most about the limit plus one read (about 256 KB) of any head, whatever the client sends;
- when a finished head is larger than MAX_HEADER_BYTES, or its request line or one of its
  header lines is longer than MAX_HEADER_LINE_BYTES.

The application never sees a refused request: no API key is asked and no rate limit counted.
Everything else (keep-alive, pipelining, upgrades, 400 on a malformed request) is uvicorn's.

uvicorn imports the protocol by path in every worker (`http=IMPORT_PATH`, also in the processes
`--workers N` spawns), and each worker reads the limits from its environment through
`get_settings()`, as the application does.
"""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from typing import Any, Literal

import httptools
import structlog
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.server import ServerState

from grandlivre.config import Settings, get_settings
from grandlivre.ops.client_ip import client_ip, parse_networks
from grandlivre.ops.http import API_CSP, SECURITY_HEADERS
from grandlivre.ops.request_id import HEADER as REQUEST_ID_HEADER
from grandlivre.ops.request_id import pick_request_id

log = structlog.get_logger("grandlivre.server")

Limit = Literal["total", "line"]

STATUS = 431
PROBLEM_TYPE = "request-header-fields-too-large"
PROBLEM_TITLE = "Request header fields too large"
# What the parser's callbacks do not hand over: " " twice and "HTTP/1.1" around the request
# target, ": " in a header line, CRLF after each line and after the head.
_REQUEST_LINE_EXTRA = 10
_HEADER_LINE_EXTRA = 2
_CRLF = 2
# Header names are echoed in the problem's detail only when short.
_NAME_SHOWN_BYTES = 64


class HeadRefused(Exception):
    """Raised from a parser callback to stop the parser once the 431 is written."""


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering 431 to a request head over the configured limits.

    Two counts bound a head. While a head is unfinished, every read that lies wholly inside it
    is added up, and the head is refused once the sum passes MAX_HEADER_BYTES (a read in which a
    head begins after another message's end is not counted, so the guard may act one read
    late). When the head is finished, its request line and header lines are measured against
    both limits; that is skipped when everything fed since the previous head ended is under
    both limits anyway, which is the case of nearly every request.
    """

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.settings: Settings = get_settings()
        self.max_header_bytes = self.settings.max_header_bytes
        self.max_header_line_bytes = self.settings.max_header_line_bytes
        self.unmeasured_bytes = min(self.max_header_bytes, self.max_header_line_bytes)
        self.reading_head = True  # the next byte fed belongs to a head (or comes before one)
        self.head_bytes = 0  # bytes certainly in the unfinished head: a lower bound
        self.fed_since_head_end = 0  # no fewer than were fed since the last head: an upper bound
        self.fed_now = 0  # the size of the read being fed
        self.head_ended = False  # a head ended during the read being fed
        self.refused = False

    def data_received(self, data: bytes) -> None:
        """Feed the parser as uvicorn does, and refuse a head as soon as it passes the limit."""
        if self.refused:
            return
        was_reading_head = self.reading_head
        self.head_ended = False
        self.fed_now = len(data)
        # HttpToolsProtocol.data_received of uvicorn 0.54 (pinned), except that the parser error
        # a refusal raises to stop the parser is not a malformed request.
        self._unset_keepalive_if_required()
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.refused:
                return
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        except httptools.HttpParserUpgrade:
            self.reading_head = True  # an upgrade not taken goes on with the next request
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        if self.head_ended:
            self.fed_since_head_end = len(data)
            return
        self.fed_since_head_end += len(data)
        if was_reading_head:
            # The read began inside a head and did not end it: all of it is head.
            self.head_bytes += len(data)
            if self.head_bytes > self.max_header_bytes:
                self._refuse("total", self._total_detail())

    def on_headers_complete(self) -> None:
        """Refuse a finished head over either limit; hand any other to uvicorn."""
        self.reading_head = False
        self.head_ended = True
        self.head_bytes = 0
        # Everything fed since the previous head ended bounds this head from above.
        if self.fed_since_head_end + self.fed_now > self.unmeasured_bytes:
            exceeded = self._exceeded_limit()
            if exceeded is not None:
                self._refuse(*exceeded)
                raise HeadRefused
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        """Count what follows as the next head, then let uvicorn finish the message."""
        self.reading_head = True
        super().on_message_complete()

    def _exceeded_limit(self) -> tuple[Limit, str] | None:
        """Measure the finished head; say which limit it passes, if one."""
        request_line = len(self.parser.get_method()) + len(self.url) + _REQUEST_LINE_EXTRA
        total = request_line + _CRLF + _CRLF
        long_line: str | None = (
            "the request line" if request_line > self.max_header_line_bytes else None
        )
        for name, value in self.headers:
            line = len(name) + len(value) + _HEADER_LINE_EXTRA
            total += line + _CRLF
            if long_line is None and line > self.max_header_line_bytes:
                shown = name.decode("latin-1") if len(name) <= _NAME_SHOWN_BYTES else None
                long_line = f"the {shown} header line" if shown else "a header line"
        if total > self.max_header_bytes:
            return "total", self._total_detail()
        if long_line is not None:
            limit = self.max_header_line_bytes
            return "line", f"{long_line} exceeds the limit of {limit} bytes for one line"
        return None

    def _total_detail(self) -> str:
        limit = self.max_header_bytes
        return f"the request line and header fields exceed the limit of {limit} bytes in total"

    def _refuse(self, limit: Limit, detail: str) -> None:
        """Answer 431 as problem+json, log it, and close the connection."""
        self.refused = True
        headers = self.headers or []  # None before the first request began
        sent_id = next((v for n, v in headers if n == REQUEST_ID_HEADER.encode()), None)
        request_id = pick_request_id(sent_id.decode("latin-1") if sent_id else None)
        path = self._known_path()
        body = json.dumps(
            {
                "type": PROBLEM_TYPE,
                "title": PROBLEM_TITLE,
                "status": STATUS,
                "detail": detail,
                "instance": path,
                "request_id": request_id,
            }
        ).encode()
        fields = [
            *self.server_state.default_headers,
            (b"content-type", b"application/problem+json"),
            (b"content-length", str(len(body)).encode("ascii")),
            (REQUEST_ID_HEADER.encode(), request_id.encode("ascii")),
            *SECURITY_HEADERS,
            API_CSP,
            (b"cache-control", b"no-store"),
            (b"connection", b"close"),
        ]
        content = [STATUS_LINE[STATUS]]
        for name, value in fields:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend([b"\r\n", body])
        self.transport.write(b"".join(content))
        self.transport.close()
        trusted = parse_networks(Settings.split_list(self.settings.trusted_proxies))
        log.warning(
            "request_headers_too_large",
            client_ip=client_ip({"client": self.client, "headers": headers}, trusted),
            limit=limit,
            limit_bytes=self.max_header_bytes if limit == "total" else self.max_header_line_bytes,
            path=path,
            request_id=request_id,
        )

    def _known_path(self) -> str | None:
        """Return the request's path once its request line is whole and not too long."""
        if not (self.head_ended or self.headers) or len(self.url) > self.max_header_line_bytes:
            return None
        try:
            raw_path = httptools.parse_url(self.url).path
        except httptools.HttpParserError:
            return None
        if raw_path is None:
            return None
        path = raw_path.decode("latin-1")
        return self.root_path + (urllib.parse.unquote(path) if "%" in path else path)


IMPORT_PATH = f"{__name__}:{BoundedHttpToolsProtocol.__qualname__}"
