"""What the tests of traces share (the core's and each pack's): an app's exported spans kept in
memory, and the settings that turn tracing on."""

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from {{ cookiecutter.package_name }}.core import tracing

from .support import free_port


def record_spans(monkeypatch: pytest.MonkeyPatch) -> InMemorySpanExporter:
    """What the apps of this test export, kept in memory instead of sent over OTLP (through
    the app's real batch processor: the spans are there once the app has stopped)."""
    memory = InMemorySpanExporter()

    def exporter(endpoint: str) -> SpanExporter:
        return memory

    monkeypatch.setattr(tracing, "span_exporter", exporter)
    return memory


def tracing_on() -> dict[str, str]:
    """Settings overrides that turn tracing on, towards a collector nobody listens for."""
    return {"otel_exporter_otlp_endpoint": f"http://127.0.0.1:{free_port()}"}


def named(spans: tuple[ReadableSpan, ...], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]
