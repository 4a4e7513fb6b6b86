"""Traces: OpenTelemetry's SDK exporting spans over OTLP/HTTP, on when an OTLP endpoint is set.

The request's server span is FastAPI's own (its native telemetry, given this app's provider);
the service adds the request id to it, a span per database statement, and the trace and span
ids to every log line. The provider is the app's, not OpenTelemetry's global one: each app (and
each test) builds its own at start-up and flushes it on shutdown. With tracing off, nothing here
runs on a request.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from typing import Any

from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from sqlalchemy import event
from sqlalchemy.engine import Engine, ExecutionContext
from starlette.types import ASGIApp, Receive, Scope, Send

from .logging import request_id_var
from .observability import TracingSettings

REQUEST_ID_ATTRIBUTE = "request.id"
_SPAN_KEY = "_tracing_span"  # an execution context's attribute: the span of its statement


def create_tracer_provider(
    settings: TracingSettings, service_name: str, environment: str
) -> TracerProvider | None:
    """The app's provider, given to FastAPI's telemetry when the app is built, or None with
    tracing off. It exports nothing until :func:`exporting_spans` starts its exporter."""
    if not settings.tracing_enabled:
        return None
    resource = Resource.create(
        {
            "service.name": settings.otel_service_name or service_name,
            "deployment.environment.name": environment,
        }
    )
    return TracerProvider(resource=resource)


def span_exporter(endpoint: str) -> SpanExporter:
    """The OTLP/HTTP exporter (it reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT... itself);
    imported only with tracing on, as it brings protobuf and requests."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter,
    )

    return OTLPSpanExporter(endpoint=endpoint)


@asynccontextmanager
async def exporting_spans(
    provider: TracerProvider | None, settings: TracingSettings
) -> AsyncIterator[None]:
    """Export the app's spans in batches from a background thread while the app runs (a slow
    or unreachable collector never delays a request), then flush them and stop."""
    endpoint = settings.traces_endpoint
    if provider is None or endpoint is None:
        yield
        return
    provider.add_span_processor(BatchSpanProcessor(span_exporter(endpoint)))
    try:
        yield
    finally:
        # Off the event loop: the last export may wait for the collector.
        await asyncio.to_thread(provider.shutdown)


class RequestIdOnSpan:
    """Puts the request id (set by the edge middleware, outside) on the request's server span,
    so that a trace is found from a client's ``X-Request-ID``. Added only with tracing on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = request_id_var.get()
        if request_id is not None:
            trace.get_current_span().set_attribute(REQUEST_ID_ATTRIBUTE, request_id)
        await self.app(scope, receive, send)


def trace_statements(engine: Engine, tracer: Tracer) -> None:
    """A client span per statement *engine* runs, with its text as sent (placeholders, never
    the values). SQLAlchemy's own events, on this engine only: OpenTelemetry's SQLAlchemy
    instrumentor also patches ``create_engine`` process-wide and instruments once per process."""
    url = engine.url
    attributes: dict[str, str | int] = {
        "db.system.name": engine.dialect.name,
        "db.namespace": url.database or "",
        "server.address": url.host or "",
    }
    if url.port is not None:
        attributes["server.port"] = url.port

    def start(
        _conn: object,
        _cursor: object,
        statement: str,
        _parameters: object,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        if context is None:
            return
        operation = statement.lstrip().partition(" ")[0].upper()
        span = tracer.start_span(
            operation or engine.dialect.name,
            kind=SpanKind.CLIENT,
            attributes={**attributes, "db.operation.name": operation, "db.query.text": statement},
        )
        setattr(context, _SPAN_KEY, span)

    def end(
        _conn: object,
        _cursor: object,
        _statement: str,
        _parameters: object,
        context: ExecutionContext | None,
        _executemany: bool,
    ) -> None:
        span = getattr(context, _SPAN_KEY, None)
        if span is not None:
            span.end()

    def fail(exception_context: Any) -> None:
        span = getattr(exception_context.execution_context, _SPAN_KEY, None)
        if span is not None:
            error = exception_context.original_exception
            span.set_attribute("error.type", type(error).__qualname__)
            span.set_status(Status(StatusCode.ERROR))
            span.end()

    event.listen(engine, "before_cursor_execute", start)
    event.listen(engine, "after_cursor_execute", end)
    event.listen(engine, "handle_error", fail)


def span(
    tracer: Tracer | None,
    name: str,
    attributes: Mapping[str, str | int] | None = None,
    *,
    parent: Context | None = None,
) -> AbstractContextManager[object]:
    """A span around a block, or nothing at all when *tracer* is None (tracing off); a child of
    the current span, or of *parent*'s (one from another process: :func:`remote_parent`)."""
    if tracer is None:
        return nullcontext()
    return tracer.start_as_current_span(
        name, context=parent, kind=SpanKind.INTERNAL, attributes=attributes
    )


_W3C = TraceContextTextMapPropagator()


def traceparent() -> str | None:
    """The current span as W3C Trace Context's ``traceparent``, for a message to another process
    to carry (the bus's); None when no span is active."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get("traceparent")


def remote_parent(value: str) -> Context:
    """The context in which a span continues the trace a ``traceparent`` *value* names; one that
    is not well formed gives an empty context, so the span starts a trace of its own."""
    return _W3C.extract({"traceparent": value})


def app_tracer(app: FastAPI, name: str) -> Tracer | None:
    """The tracer the app's provider gives *name* (a pack), or None with tracing off."""
    provider: TracerProvider | None = app.state.tracer_provider
    return None if provider is None else provider.get_tracer(name)
