"""structlog in its fast configuration: JSON bytes in production, readable lines in development."""

import logging
import sys
from collections.abc import Callable
from typing import Any

import orjson
import structlog
from structlog.tracebacks import ExceptionDictTransformer

from ..config import Settings


def configure_logging(settings: Settings) -> None:
    """Configure structlog (and send the standard library's records to stdout at the same level)."""
    level = logging.getLevelNamesMapping()[settings.log_level]
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    logger_factory: Callable[..., Any]
    if settings.json_logs:
        processors += [
            # Tracebacks as data, without local variables: they may hold passwords or tokens.
            structlog.processors.ExceptionRenderer(ExceptionDictTransformer(show_locals=False)),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ]
        logger_factory = structlog.BytesLoggerFactory()
    else:
        processors.append(structlog.dev.ConsoleRenderer())
        logger_factory = structlog.PrintLoggerFactory()
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=logger_factory,
        cache_logger_on_first_use=settings.log_cache_loggers,
    )
    logging.basicConfig(level=level, stream=sys.stdout, format="%(levelname)s %(name)s %(message)s")
