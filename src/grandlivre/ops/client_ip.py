"""The client's IP address, believing X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import Scope

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(items: Sequence[str]) -> list[Network]:
    """Parse IPs and CIDRs; a bare IP is a one-address network."""
    return [ipaddress.ip_network(item, strict=False) for item in items]


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def client_ip(scope: Scope, trusted: Sequence[Network]) -> str:
    """Return the address of the client that sent the request.

    The peer is the client unless it is a trusted proxy; then X-Forwarded-For is read from the
    right, skipping trusted proxies, and the first address not trusted is the client. A client
    cannot forge its address by sending X-Forwarded-For itself: the header is only read when the
    peer is trusted, and only up to the first untrusted hop.
    """
    peer = (scope.get("client") or ("unknown", 0))[0]
    if not trusted or not _is_trusted(peer, trusted):
        return str(peer)
    forwarded: list[str] = []
    for name, value in scope.get("headers") or []:
        if name == b"x-forwarded-for":
            forwarded.extend(part.strip() for part in value.decode("latin-1").split(","))
    for hop in reversed([part for part in forwarded if part]):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return str(peer)
    return str(peer)
