"""structlog set-up: one JSON object per line on stdout, or coloured lines for humans."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog

from grandlivre.config import Settings


def configure_logging(settings: Settings, *, stream: TextIO | None = None) -> None:
    """Route structlog and the standard library's logging through one renderer.

    The service logs to stdout; one-shot commands pass stderr, so that what they print on
    stdout (a key, JSON) stays clean.
    """
    level = logging.getLevelNamesMapping().get(settings.log_level, logging.INFO)
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer()
        if settings.log_format == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    # The SQLite driver logs every statement with its parameters at DEBUG (key hashes among
    # them); keep it out of the service's logs whatever LOG_LEVEL says.
    logging.getLogger("aiosqlite").setLevel(max(level, logging.INFO))
    # uvicorn's own access log is replaced by ours (one line per request, with the request id).
    logging.getLogger("uvicorn.access").disabled = True
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
