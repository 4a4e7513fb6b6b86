"""GET /metrics: the totals of every worker (core/metrics_sharing.py) in Prometheus' text
format, open or behind a bearer token (METRICS_ENDPOINT); no route at all when it is off.

The names here are the ones the alert rules in ops/prometheus/alerts.yml use.
"""

import hashlib
import hmac
from collections.abc import Iterator

from fastapi import FastAPI, Request, Response
from prometheus_client import generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from ..config import Settings
from .errors import AuthenticationError
from .metrics import LATENCY_BUCKETS
from .metrics_sharing import ProcessTotals, all_totals

METRICS_PATH = "/metrics"
# The classic text format, which every Prometheus version reads (the names here need no escaping).
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
REQUEST_LABELS = ("route", "method", "status")
# Bucket bounds as Prometheus writes them ("0.005", "1.0", "+Inf").
_BUCKET_NAMES = (*(repr(bound) for bound in LATENCY_BUCKETS), "+Inf")


class TotalsCollector(Collector):
    """The metric families of *totals*, for prometheus_client's text writer."""

    def __init__(self, totals: ProcessTotals) -> None:
        self.totals = totals

    def collect(self) -> Iterator[Metric]:
        totals = self.totals
        requests = CounterMetricFamily(
            "http_requests", "HTTP requests answered", labels=REQUEST_LABELS
        )
        durations = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time from a request's arrival to its response's end",
            labels=REQUEST_LABELS,
        )
        for (route, method, status), values in sorted(totals.requests.items()):
            labels = (route, method, str(status))
            cumulative = 0
            buckets = []
            for name, count in zip(_BUCKET_NAMES, values[1:], strict=True):
                cumulative += count
                buckets.append((name, float(cumulative)))
            requests.add_metric(labels, cumulative)
            durations.add_metric(labels, buckets, values[0] / 1e9)
        yield requests
        yield durations
        yield GaugeMetricFamily(
            "http_requests_in_flight", "HTTP requests being answered", value=totals.in_flight
        )
        auth = CounterMetricFamily("auth_events", "Sign-in events", labels=("event",))
        for event, count in sorted(totals.auth_events.items()):
            auth.add_metric((event,), count)
        yield auth
        if totals.pool_size is not None:
            yield GaugeMetricFamily(
                "db_pool_connections_checked_out",
                "Database connections in use by requests",
                value=totals.pool_checked_out or 0,
            )
            yield GaugeMetricFamily(
                "db_pool_size", "Database connections the pools keep", value=totals.pool_size
            )


def exposition(totals: ProcessTotals) -> bytes:
    return generate_latest(TotalsCollector(totals))


def add_metrics_endpoint(app: FastAPI, settings: Settings) -> None:
    """Serve /metrics as METRICS_ENDPOINT says (not in the OpenAPI document: it is for
    Prometheus, not for the API's clients)."""
    if not settings.metrics_enabled:
        return
    token_digest = settings.metrics_token_digest

    async def metrics(request: Request) -> Response:
        if token_digest is not None and not _bearer_matches(request, token_digest):
            raise AuthenticationError("A valid metrics token is required")
        totals = await all_totals(request.app)
        return Response(exposition(totals), media_type=CONTENT_TYPE)

    app.get(METRICS_PATH, include_in_schema=False)(metrics)


def _bearer_matches(request: Request, token_digest: bytes) -> bool:
    """Whether the request's ``Authorization: Bearer`` token is the scraper's, compared in
    constant time (as digests, so not even its length shows)."""
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    digest = hashlib.sha256(credentials.strip().encode()).digest()
    return hmac.compare_digest(digest, token_digest) and scheme.lower() == "bearer"
