"""Traces: with an OTLP endpoint set, each request is one trace (FastAPI's server span, with the
request id, and a span per database statement), exported in the background, and every line
logged meanwhile carries its trace and span ids. Without one, none of it runs."""

import json
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.tracing import REQUEST_ID_ATTRIBUTE
from {{ cookiecutter.package_name }}.main import create_app

from ..support import client_for, serve
from ..tracing import record_spans, tracing_on


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    return record_spans(monkeypatch)


@pytest.fixture
def traced_settings(make_settings: Callable[..., Settings]) -> Settings:
    return make_settings(**tracing_on())


def log_lines(out: str) -> dict[str, dict[str, Any]]:
    """The JSON lines written, by event."""
    return {line["event"]: line for line in map(json.loads, out.splitlines())}


async def test_a_request_is_one_trace_with_its_database_statements(
    capsys: pytest.CaptureFixture[str], traced_settings: Settings, exported: InMemorySpanExporter
) -> None:
    async with serve(traced_settings) as client:
        response = await client.get("/ready", headers={"X-Request-ID": "trace-me"})

    assert response.status_code == 200
    spans = exported.get_finished_spans()  # flushed when the app stopped
    (server,) = (span for span in spans if span.kind is SpanKind.SERVER)
    assert server.name == "GET /ready"
    assert server.attributes is not None
    assert server.attributes[REQUEST_ID_ATTRIBUTE] == "trace-me"
    probe = [span for span in spans if (span.attributes or {}).get("db.query.text") == "SELECT 1"]
    assert probe
    assert {span.context.trace_id for span in probe} == {server.context.trace_id}
    assert {span.kind for span in probe} == {SpanKind.CLIENT}
    access = log_lines(capsys.readouterr().out)["request"]
    assert access["trace_id"] == f"{server.context.trace_id:032x}"
    assert access["span_id"] == f"{server.context.span_id:016x}"


async def test_every_line_logged_while_serving_a_request_carries_its_trace(
    capsys: pytest.CaptureFixture[str], traced_settings: Settings, exported: InMemorySpanExporter
) -> None:
    async def noisy() -> dict[str, str]:
        structlog.get_logger("test").info("inside")
        return {}

    app = create_app(traced_settings)
    app.add_api_route("/noisy", noisy)
    async with app.router.lifespan_context(app), client_for(app) as client:
        await client.get("/noisy")
    structlog.get_logger("test").info("outside")

    lines = log_lines(capsys.readouterr().out)
    span_ids = {f"{span.context.span_id:016x}" for span in exported.get_finished_spans()}
    assert lines["inside"]["trace_id"] == lines["request"]["trace_id"]
    assert lines["inside"]["span_id"] in span_ids
    assert "trace_id" not in lines["outside"]


@pytest.fixture
def sdk_configured(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """An OpenTelemetry SDK set up globally, outside the app, recording in memory."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    return memory


@pytest.mark.error_path
async def test_without_an_endpoint_nothing_is_traced(
    capsys: pytest.CaptureFixture[str],
    make_settings: Callable[..., Settings],
    sdk_configured: InMemorySpanExporter,
) -> None:
    app = create_app(make_settings())
    async with app.router.lifespan_context(app), client_for(app) as client:
        response = await client.get("/api/v1/nowhere")

    assert response.status_code == 404
    assert app.state.tracer_provider is None
    assert sdk_configured.get_finished_spans() == ()
    assert "trace_id" not in capsys.readouterr().out


@pytest.mark.error_path
async def test_an_unreachable_collector_never_fails_a_request(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    traced_settings: Settings,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "0.5")  # seconds: a short shutdown
    async with serve(traced_settings) as client:
        statuses = [(await client.get("/ready")).status_code for _ in range(20)]

    assert statuses == [200] * 20
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert any(line["level"] == "error" and "Failed to export" in line["event"] for line in lines)


async def test_the_service_name_defaults_to_the_app_name(
    make_settings: Callable[..., Settings],
) -> None:
    named = make_settings(otel_exporter_otlp_endpoint="http://collector:4318", app_name="Shop")
    renamed = named.model_copy(update={"otel_service_name": "shop-api"})

    assert named.traces_endpoint == "http://collector:4318/v1/traces"
    full_url = named.model_copy(update={"otel_exporter_otlp_traces_endpoint": "http://spans/in"})
    assert full_url.traces_endpoint == "http://spans/in"  # the signal's own variable wins
    provider = create_app(named).state.tracer_provider
    assert provider.resource.attributes["service.name"] == "Shop"
    provider = create_app(renamed).state.tracer_provider
    assert provider.resource.attributes["service.name"] == "shop-api"
