"""Security events, named after the OWASP logging vocabulary, logged and counted.

Events never carry a secret: an API key appears only as its id or its public prefix.
"""

from __future__ import annotations

from typing import Any

import structlog

from grandlivre.ops.metrics import SECURITY_EVENTS

log = structlog.get_logger("grandlivre.security")

AUTHN_FAIL = "authn_fail"
AUTHZ_FAIL = "authz_fail"
RATE_LIMIT_EXCEEDED = "rate_limit_exceeded"
RATE_LIMIT_BURST = "rate_limit_burst"
AUTHN_TOKEN_CREATED = "authn_token_created"  # noqa: S105 (an event name)
AUTHN_TOKEN_REVOKED = "authn_token_revoked"  # noqa: S105 (an event name)
REPLAY_DISCARDED = "replay_conflict_discarded"


def emit(event: str, *, level: str = "warning", **fields: Any) -> None:
    """Log one security event and count it."""
    SECURITY_EVENTS.labels(event).inc()
    getattr(log, level)(event, security_event=event, **fields)
