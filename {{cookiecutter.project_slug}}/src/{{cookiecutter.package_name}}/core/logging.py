"""structlog in its fast configuration: JSON bytes in production, readable lines in development.

The access line, the most frequent one, has a writer of its own: core/access_log.py.
"""

import logging
import sys
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import orjson
import structlog
from opentelemetry import trace
from structlog.tracebacks import ExceptionDictTransformer

from ..config import Settings

# The current request's id, set by the edge middleware. A plain context variable: setting and
# resetting it is much cheaper than structlog's bind_contextvars and reset_contextvars.
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


def add_request_id(
    logger: object, method_name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Add the current request's id to every structlog line logged while it is served."""
    request_id = request_id_var.get()
    if request_id is not None:
        event_dict.setdefault("request_id", request_id)
    return event_dict


def current_trace_ids() -> tuple[str, str] | None:
    """The active span's trace and span ids, in OpenTelemetry's hex (as trace back ends search
    for them), or None when no span is active (tracing off, or outside a request)."""
    span = trace.get_current_span().get_span_context()
    if not span.is_valid:
        return None
    return format(span.trace_id, "032x"), format(span.span_id, "016x")


def add_trace_ids(
    logger: object, method_name: str, event_dict: structlog.typing.EventDict
) -> structlog.typing.EventDict:
    """Add the active span's trace and span ids to a line logged while a span is active. Only
    in the chain with tracing on (core/tracing.py)."""
    ids = current_trace_ids()
    if ids is not None:
        event_dict.setdefault("trace_id", ids[0])
        event_dict.setdefault("span_id", ids[1])
    return event_dict


# uvicorn's loggers, which it gives text handlers of its own. In JSON mode their records go
# through the root handler like every other library's; the access logger is switched off, as the
# app writes its own access line.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error")
SERVER_ACCESS_LOGGER = "uvicorn.access"
TEXT_FORMAT = "%(levelname)s %(name)s %(message)s"


def configure_logging(settings: Settings) -> None:
    """Configure structlog, and the standard library's logging at the same level, to stdout: in
    JSON mode its records (the server's, SQLAlchemy's, asyncio's) become JSON lines like
    structlog's, with the level, the logger's name, the timestamp, the request id and, with
    tracing on, the trace and span ids."""
    level = logging.getLevelNamesMapping()[settings.log_level]
    context: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        add_request_id,
    ]
    if settings.tracing_enabled:
        context.append(add_trace_ids)
    level_and_time: list[structlog.typing.Processor] = [
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    processors = [*context, *level_and_time]
    # Tracebacks as data, without local variables: they may hold passwords or tokens.
    render_exceptions = structlog.processors.ExceptionRenderer(
        ExceptionDictTransformer(show_locals=False)
    )
    logger_factory: Callable[..., Any]
    if settings.json_logs:
        processors += [
            render_exceptions,
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
    formatter: logging.Formatter = logging.Formatter(TEXT_FORMAT)
    if settings.json_logs:
        formatter = structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*context, structlog.stdlib.add_logger_name, *level_and_time],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                render_exceptions,
                structlog.processors.JSONRenderer(serializer=_json_text),
            ],
        )
    root = logging.getLogger()
    # Configuring again (another app in the same process) replaces the handler.
    root.handlers = [h for h in root.handlers if not isinstance(h, StdoutHandler)]
    root.addHandler(StdoutHandler(formatter, level))
    root.setLevel(level)
    if settings.json_logs:
        for name in SERVER_LOGGERS:
            server_logger = logging.getLogger(name)
            server_logger.handlers.clear()
            server_logger.propagate = True
        access = logging.getLogger(SERVER_ACCESS_LOGGER)
        access.handlers.clear()
        access.propagate = False  # uvicorn logs requests only when this logger has a handler


class StdoutHandler(logging.Handler):
    """Writes each formatted record at or above *level* as one line to the current
    ``sys.stdout`` (tests and tools replace it), in one write and flush, as the access line
    does. The level is the handler's own: uvicorn sets its loggers' levels itself."""

    def __init__(self, formatter: logging.Formatter, level: int) -> None:
        super().__init__(level)
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            write_line(self.format(record).encode() + b"\n")
        except Exception:  # logging must never break the caller: report it as logging does
            self.handleError(record)


def _json_text(value: Any, **kwargs: Any) -> str:
    """orjson for the standard library's formatter, which wants text."""
    return orjson.dumps(value, **kwargs).decode()


def write_line(line: bytes) -> None:
    """Write one whole line to stdout, looked up per line (tests and tools replace it), and
    flush it. One ``write`` call per line: the buffered writer takes its own lock for it, so a
    line never interleaves with structlog's."""
    stdout = sys.stdout.buffer
    stdout.write(line)
    stdout.flush()
