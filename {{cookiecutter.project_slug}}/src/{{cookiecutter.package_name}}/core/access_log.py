"""The access line: one per request, written directly in JSON mode (the service's most frequent
line skips structlog's processor chain, with the same result)."""

import logging
import time
from collections.abc import Callable
from typing import Any

import orjson
import structlog

from ..config import Settings
from .logging import add_request_id, add_trace_ids, write_line

type AccessLog = Callable[[str, str, int, float], None]


def access_log(settings: Settings) -> AccessLog:
    """The access log: ``log(method, path, status, duration_ms)``, one INFO line per request.

    It is the service's most frequent line, so in JSON mode it skips structlog's processor
    chain: the line is built here, with the fields, order, precedence and timestamp format that
    chain gives every other line (bound context variables, the request id and trace ids
    included, values JSON cannot hold rendered as structlog would), for much less.
    In console mode it goes through structlog like the rest.
    """
    if logging.getLevelNamesMapping()[settings.log_level] > logging.INFO:
        return _no_access_log
    if not settings.json_logs:
        logger = structlog.get_logger("access")

        def log_to_console(method: str, path: str, status: int, duration_ms: float) -> None:
            logger.info("request", method=method, path=path, status=status, duration_ms=duration_ms)

        return log_to_console

    timestamp = UtcTimestamps()
    tracing = settings.tracing_enabled

    def log_json(method: str, path: str, status: int, duration_ms: float) -> None:
        line: dict[str, Any] = {
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": duration_ms,
            "event": "request",
        }
        for key, value in structlog.contextvars.get_contextvars().items():
            line.setdefault(key, value)  # as merge_contextvars: the call's own fields win
        add_request_id(None, "info", line)
        if tracing:
            add_trace_ids(None, "info", line)
        line["level"] = "info"
        line["timestamp"] = timestamp()
        write_line(orjson.dumps(line, default=_json_fallback, option=orjson.OPT_APPEND_NEWLINE))

    return log_json


class UtcTimestamps:
    """Now, as structlog's ``TimeStamper(fmt="iso", utc=True)`` writes it
    (``2026-11-27T05:00:01.250000Z``, no fraction on a whole second), for less: the date and
    time are formatted once per second."""

    def __init__(self, clock: Callable[[], int] = time.time_ns) -> None:
        self.clock = clock
        self._second: tuple[int, str] = (-1, "")  # one attribute, replaced whole: thread-safe

    def __call__(self) -> str:
        second, nanoseconds = divmod(self.clock(), 1_000_000_000)
        cached = self._second
        if cached[0] != second:
            cached = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
            self._second = cached
        microseconds = nanoseconds // 1000
        return f"{cached[1]}.{microseconds:06d}Z" if microseconds else f"{cached[1]}Z"


def _json_fallback(value: object) -> object:
    """What structlog's JSON renderer writes for a value JSON cannot hold."""
    to_log = getattr(value, "__structlog__", None)
    return to_log() if callable(to_log) else repr(value)


def _no_access_log(method: str, path: str, status: int, duration_ms: float) -> None:
    """Access lines are INFO: below the configured level, nothing is written."""
