"""The dependencies that guard /api/v1: authenticate, count against the rate limit, authorize.

Every guarded route depends on `require(role)`; they share one `authenticate` per request
(FastAPI caches it), which looks the key up, counts the request against the key's limit (or,
without a valid key, the client address's stricter one) and records who called for the logs.
A request over its limit gets 429 before anything else is said, so rotating bad keys does not
escape the per-address limit.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from limits import RateLimitItem

from grandlivre.auth import service
from grandlivre.auth.service import Principal, Role
from grandlivre.deps import StoreDep
from grandlivre.errors import Forbidden, RateLimited, Unauthorized
from grandlivre.ops import security
from grandlivre.ops.client_ip import Network, client_ip
from grandlivre.ops.metrics import AUTH_FAILURES, RATE_LIMITED
from grandlivre.ops.ratelimit import Decision, RateLimiter


class Guard:
    """What the guard needs from the application: limiter, limits, trusted proxies, and the
    cache of valid keys (filled once the store is open)."""

    def __init__(
        self,
        limiter: RateLimiter,
        *,
        key_limit: RateLimitItem,
        anonymous_limit: RateLimitItem,
        trusted_proxies: list[Network],
        keys: service.KeyCache | None = None,
    ) -> None:
        self.keys = keys
        self.limiter = limiter
        self.key_limit = key_limit
        self.anonymous_limit = anonymous_limit
        self.trusted_proxies = trusted_proxies


async def get_guard(request: Request) -> Guard:
    """Return the application's guard (async: a plain `def` dependency costs a thread hop)."""
    guard: Guard = request.app.state.guard
    return guard


def rate_limit_headers(decision: Decision) -> dict[str, str]:
    """Render the IETF RateLimit-Policy and RateLimit headers of a decision."""
    return {
        "RateLimit-Policy": f'"{decision.policy}";q={decision.limit};w={decision.window_seconds}',
        "RateLimit": f'"{decision.policy}";r={decision.remaining};t={decision.reset_seconds}',
    }


async def count_request(
    request: Request, guard: Guard, principal: Principal | None, ip: str
) -> None:
    """Count the request against its key's limit (or its address's); 429 when over it."""
    if principal is not None:
        decision = await guard.limiter.hit(guard.key_limit, "key", str(principal.key_id))
    else:
        decision = await guard.limiter.hit(guard.anonymous_limit, "ip", ip)
    request.state.rate_limit = decision
    if decision.allowed:
        return
    identity = str(principal.key_id) if principal else ip
    RATE_LIMITED.labels(decision.policy).inc()
    fields: dict[str, Any] = {
        "ip": ip,
        "principal": principal.name if principal else None,
        "policy": decision.policy,
        "limit": decision.limit,
        "window_seconds": decision.window_seconds,
    }
    security.emit(security.RATE_LIMIT_EXCEEDED, level="info", **fields)
    if await guard.limiter.note_refusal(decision.policy, identity, decision.window_seconds):
        security.emit(security.RATE_LIMIT_BURST, refusals=guard.limiter.burst_threshold, **fields)
    raise RateLimited(
        f"more than {decision.limit} requests in {decision.window_seconds} s for this "
        f"{'API key' if principal else 'client address'}; retry in {decision.reset_seconds} s",
        headers={"Retry-After": str(decision.reset_seconds), **rate_limit_headers(decision)},
        retry_after_seconds=decision.reset_seconds,
    )


def cached_principal(guard: Guard, authorization: str | None) -> Principal | None:
    """Return the principal of a well-formed Bearer key found in the process's key cache.

    No side effect: a missing, malformed, unknown or uncached key gives None, and the caller
    goes through `authenticate`, which says why and counts it.
    """
    if authorization is None or guard.keys is None:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > 256:
        return None
    return guard.keys.get(service.hash_key(token))


def _refuse(request: Request, reason: str, ip: str, detail: str) -> Unauthorized:
    AUTH_FAILURES.labels(reason).inc()
    security.emit(security.AUTHN_FAIL, reason=reason, ip=ip, path=request.url.path)
    return Unauthorized(detail, headers={"WWW-Authenticate": 'Bearer realm="grandlivre"'})


async def authenticate(
    request: Request, store: StoreDep, guard: Annotated[Guard, Depends(get_guard)]
) -> Principal:
    """Identify the caller by `Authorization: Bearer <key>` and count the request."""
    ip = client_ip(request.scope, guard.trusted_proxies)
    request.state.client_ip = ip
    header = request.headers.get("authorization")
    principal: Principal | None = None
    failure: tuple[str, str] | None = None
    if header is None:
        failure = ("missing", "send an API key as `Authorization: Bearer <key>`")
    else:
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 256:
            failure = ("malformed", "the Authorization header must be `Bearer <key>`")
        else:
            key_hash = service.hash_key(token)
            principal = guard.keys.get(key_hash) if guard.keys is not None else None
            if principal is None:
                generation = guard.keys.generation() if guard.keys is not None else 0
                row = await store.read(
                    lambda s: service.find_key_by_hash(s, key_hash), partial_ok=True
                )
                if row is None:
                    # A valid key may be missing from a copy that never completed: 503, not 401.
                    await store.refuse_incomplete_mirror()
                    failure = ("invalid", "this API key is not known")
                elif row.revoked_at is not None:
                    failure = ("revoked", "this API key has been revoked")
                else:
                    principal = service.principal_of(row)
                    if guard.keys is not None:
                        guard.keys.put(key_hash, principal, generation)
    await count_request(request, guard, principal, ip)
    if principal is None:
        assert failure is not None
        raise _refuse(request, failure[0], ip, failure[1])
    request.state.principal = principal.name
    return principal


def require(role: Role) -> Callable[[Request, Principal], Awaitable[Principal]]:
    """Return a dependency that admits keys of `role` or a stronger one."""

    async def check(
        request: Request, principal: Annotated[Principal, Depends(authenticate)]
    ) -> Principal:
        if not principal.role.allows(role):
            AUTH_FAILURES.labels("role").inc()
            security.emit(
                security.AUTHZ_FAIL,
                principal=principal.name,
                role=principal.role.value,
                needed=role.value,
                ip=getattr(request.state, "client_ip", None),
                method=request.method,
                path=request.url.path,
            )
            raise Forbidden(
                f"this API key's role ({principal.role}) cannot do this; it needs {role}"
            )
        return principal

    check.__name__ = f"require_{role.value}"
    return check


Viewer = Depends(require(Role.viewer))
Accountant = Depends(require(Role.accountant))
Admin = Depends(require(Role.admin))
AdminPrincipal = Annotated[Principal, Admin]
ViewerPrincipal = Annotated[Principal, Viewer]
