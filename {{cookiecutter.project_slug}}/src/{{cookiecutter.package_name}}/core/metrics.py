"""Prometheus metrics of this process: requests by route template, method and status, their
latency, the requests in flight, and the sign-in events worth an alert.

A request is recorded where its access line is written (core/middleware.py), into plain dicts
and lists: prometheus_client's metric objects take a lock per observation, and in its
multiprocess mode write memory-mapped files per observation too; here an observation is a label
lookup, a bisection and two additions. The text format is made only when /metrics is scraped
(core/metrics_export.py), and the worker processes of one server add up their totals through
files (core/metrics_sharing.py).
"""

import hashlib
from bisect import bisect_left
from collections.abc import MutableMapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

# Seconds; a request slower than the last bound counts in +Inf only.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BOUNDS_NS = tuple(round(bound * 1e9) for bound in LATENCY_BUCKETS)
# A series' totals: the summed duration in nanoseconds, then one count per bucket and +Inf.
SERIES_LENGTH = 2 + len(LATENCY_BUCKETS)

# The route label of a request no route matched (404s, refusals at the edge): raw paths would
# give every scanner's guess a series of its own.
UNMATCHED = "unmatched"
# The method label: HTTP's methods, and "other" for anything a client makes up.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"

OFF = "off"
OPEN = "open"
MIN_TOKEN_BYTES = 32

type SeriesKey = tuple[str, str, int]  # route template, method, status


class MetricsSettings(BaseSettings):
    """The metrics' settings (mixed into config.Settings; names are the environment variables)."""

    metrics_endpoint: SecretStr = Field(
        default=SecretStr(OPEN),
        description="`open`: GET /metrics for anyone who reaches it; `off`: no endpoint and "
        f"nothing recorded; anything else is a bearer token (at least {MIN_TOKEN_BYTES} bytes) "
        "the scraper must send.",
    )
    metrics_dir: Path | None = Field(
        default=None,
        description="A directory the worker processes of one server share, emptied at start-up, "
        "so that each scrape adds up every worker's totals; `serve` makes a fresh one when unset.",
    )
    metrics_share_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a worker writes its totals to METRICS_DIR: a scrape sees the other "
        "workers' requests this late at most.",
    )

    @field_validator("metrics_endpoint")
    @classmethod
    def token_long_enough(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value()
        if text.lower() in {OFF, OPEN}:
            return SecretStr(text.lower())
        if len(text.encode()) < MIN_TOKEN_BYTES:
            raise ValueError(f"must be off, open or a token of at least {MIN_TOKEN_BYTES} bytes")
        return value

    @property
    def metrics_enabled(self) -> bool:
        return self.metrics_endpoint.get_secret_value() != OFF

    @property
    def metrics_token_digest(self) -> bytes | None:
        """The SHA-256 of the scraper's token, or None when the endpoint is open (or off)."""
        text = self.metrics_endpoint.get_secret_value()
        return None if text in {OFF, OPEN} else hashlib.sha256(text.encode()).digest()


def route_label(scope: MutableMapping[str, Any]) -> str:
    """The template of the route that matched the request (``/api/v1/items/{item_id}``), or
    ``unmatched``.

    FastAPI puts the matched route in ``scope["route"]``; a route of an included router keeps
    its own path there, and FastAPI's record of the route as included (prefix and all) is in
    ``scope["fastapi"]``. Starlette's own routes (the docs) set only ``endpoint``; the service
    has them only without path parameters, so their path is their template.
    """
    route = scope.get("route")
    if route is not None:
        fastapi = scope.get("fastapi")
        included = None if fastapi is None else fastapi.get("effective_route_context")
        template: str = (route if included is None else included).path_format
        return template
    if "endpoint" in scope and not scope.get("path_params"):
        path: str = scope["path"]
        return path
    return UNMATCHED


class RequestMetrics:
    """This process's request totals: for each (route template, method, status), the summed
    duration and the count per latency bucket; and the requests in flight (the edge adds one
    as a request starts, ``record`` takes it away)."""

    __slots__ = ("in_flight", "series")

    def __init__(self) -> None:
        self.series: dict[SeriesKey, list[int]] = {}
        self.in_flight = 0

    def record(self, scope: MutableMapping[str, Any], status: int, duration_ns: int) -> None:
        self.in_flight -= 1
        method = scope["method"]
        key = (route_label(scope), method if method in METHODS else OTHER_METHOD, status)
        totals = self.series.get(key)
        if totals is None:
            totals = self.series[key] = [0] * SERIES_LENGTH
        totals[0] += duration_ns
        totals[1 + bisect_left(_BOUNDS_NS, duration_ns)] += 1


class AuthEvent(StrEnum):
    """The sign-in events counted in ``auth_events_total``."""

    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    REFRESH_REUSE_DETECTED = "refresh_reuse_detected"
    RATE_LIMITED = "rate_limited"


# Per process, like the requests: the code that sees these events has no app at hand.
_auth_events: dict[str, int] = dict.fromkeys(AuthEvent, 0)


def count_auth_event(event: str) -> None:
    """Count one *event* (an ``AuthEvent`` or its value); any other name is a ValueError, so the
    label keeps its four values."""
    if event not in _auth_events:
        raise ValueError(f"not an auth event: {event!r}")
    _auth_events[event] += 1


def auth_event_counts() -> dict[str, int]:
    """How often each auth event happened in this process."""
    return {str(event): count for event, count in _auth_events.items()}
