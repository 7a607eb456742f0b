"""Opaque cursors for keyset pagination: `{"items": [...], "next_cursor": "..." | null}`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence

from grandlivre.errors import InvalidCursor

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
CURSOR_PATTERN = r"^[A-Za-z0-9_-]{1,2000}$"


def encode_cursor(kind: str, key: Sequence[str]) -> str:
    """Encode the sort key of the last item of a page, tagged with the list it belongs to."""
    raw = json.dumps([kind, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(kind: str, cursor: str, size: int) -> list[str]:
    """Decode a cursor of list `kind` whose key has `size` parts, or raise InvalidCursor."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise InvalidCursor("the cursor is not one this service issued") from exc
    if (
        not isinstance(value, list)
        or len(value) != size + 1
        or value[0] != kind
        or not all(isinstance(part, str) for part in value)
    ):
        raise InvalidCursor("the cursor does not belong to this list")
    return value[1:]
