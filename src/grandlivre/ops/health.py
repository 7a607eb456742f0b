"""Probes and metrics: /api/v1/healthz (liveness), /readyz (readiness), /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from grandlivre.ops import metrics
from grandlivre.schemas import problem_responses

log = structlog.get_logger("grandlivre.health")

# How long a probe waits for the database before calling it unreachable.
PROBE_TIMEOUT_SECONDS = 2.0

Check = Callable[[], Awaitable[bool]]


@dataclass
class Probes:
    """What the probes look at; filled in by the application factory."""

    describe: Callable[[], Awaitable[dict[str, Any]]]
    ping: Callable[[], Awaitable[None]]
    publish: Callable[[], Awaitable[None]] | None = None  # fresh gauges before a scrape
    readiness: dict[str, Check] = field(default_factory=dict)
    history: metrics.TrafficHistory | None = None  # the counters of the last minutes


async def _timed(check: Check) -> tuple[bool, str | None]:
    try:
        async with asyncio.timeout(PROBE_TIMEOUT_SECONDS):
            return await check(), None
    except TimeoutError:
        return False, f"no answer within {PROBE_TIMEOUT_SECONDS} s"
    except Exception as exc:  # a probe reports any failure; it never raises
        return False, f"{type(exc).__name__}: {exc}"[:300]


def build_router(probes: Probes) -> APIRouter:
    """Build the probe and metrics routes (no authentication: orchestrators call them)."""
    router = APIRouter(tags=["operations"], responses=problem_responses(400, 406, 422, 431))

    async def ping() -> bool:
        await probes.ping()
        return True

    async def healthz() -> dict[str, Any]:
        """Liveness: 200 while the process serves, with the database and mode it serves from."""
        reachable, error = await _timed(ping)
        try:
            body = await probes.describe()
        except Exception as exc:  # liveness answers whatever state the storage is in
            body = {"ok": False, "describe_error": f"{type(exc).__name__}: {exc}"[:300]}
        body["database_reachable"] = reachable
        if error:
            body["database_error"] = error
        body["ok"] = reachable or bool(body.get("fallback"))
        return body

    async def readyz(
        verbose: Annotated[
            Literal["", "true", "false"] | None,
            Query(description="`?verbose` or `?verbose=true`: each check's detail."),
        ] = None,
    ) -> JSONResponse:
        """Readiness: 200 when the database answers and the seed exists, else 503."""
        checks = {"database": ping, **probes.readiness}
        results: dict[str, dict[str, Any]] = {}
        for name, check in checks.items():
            ok, error = await _timed(check)
            results[name] = {"ok": ok, **({"error": error} if error else {})}
        ready = all(r["ok"] for r in results.values())
        body: dict[str, Any] = {
            "status": "ready" if ready else "not_ready",
            "database": results["database"]["ok"],
            "seed": results.get("seed", {}).get("ok", False),
        }
        if not ready:
            body["failed"] = [name for name, r in results.items() if not r["ok"]]
        if verbose in ("", "true"):
            body["checks"] = results
        return JSONResponse(body, status_code=200 if ready else 503)

    async def metrics_endpoint(request: Request) -> Response:
        """Prometheus text exposition; the guide's JSON counters with Accept: application/json."""
        accept = request.headers.get("accept", "")
        if "application/json" in accept and "text/plain" not in accept:
            try:
                storage = await probes.describe()
            except Exception as exc:  # the counters are worth showing anyway
                storage = {"describe_error": f"{type(exc).__name__}: {exc}"[:300]}
            history = probes.history.as_json() if probes.history is not None else []
            return JSONResponse({**metrics.summary(), **storage, "history": history})
        if probes.publish is not None:
            try:
                await probes.publish()
            except Exception:  # the last values published are worth showing anyway
                log.warning("metrics_publish_failed", exc_info=True)
        # Nothing awaits between publishing and rendering: what is shown is this store's state.
        payload, content_type = metrics.exposition()
        return Response(payload, media_type=content_type)

    # GET, and HEAD for load balancers and orchestrators, each its own operation.
    for method in ("GET", "HEAD"):
        verb = method.lower()
        router.add_api_route(
            "/api/v1/healthz", healthz, methods=[method], operation_id=f"healthz_{verb}"
        )
        router.add_api_route(
            "/readyz",
            readyz,
            methods=[method],
            operation_id=f"readyz_{verb}",
            responses={503: {"description": "Not ready: a check failed (see `failed`)."}},
        )
        router.add_api_route(
            "/metrics",
            metrics_endpoint,
            methods=[method],
            include_in_schema=False,
            responses={200: {"content": {"text/plain": {}, "application/json": {}}}},
        )
    return router
