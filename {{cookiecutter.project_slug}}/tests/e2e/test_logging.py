"""What the service tells its operators: one access line per request, the request id on every
line, readable lines in development, and FastAPI's telemetry only when asked for."""

import json
from collections.abc import Callable
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from httpx import AsyncClient
from opentelemetry import trace

from {{ cookiecutter.package_name }}.config import Settings

from ..support import serve


async def test_one_access_log_line_per_request(
    capsys: pytest.CaptureFixture[str], client: AsyncClient
) -> None:
    await client.get("/health", headers={"X-Request-ID": "trace-me"})

    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    access = [line for line in lines if line["event"] == "request"]
    assert len(access) == 1
    assert access[0] | {"duration_ms": 0, "timestamp": ""} == {
        "event": "request",
        "level": "info",
        "method": "GET",
        "path": "/health",
        "status": 200,
        "request_id": "trace-me",
        "duration_ms": 0,
        "timestamp": "",
    }


async def test_every_line_logged_while_serving_a_request_carries_its_id(
    capsys: pytest.CaptureFixture[str], app: FastAPI, client: AsyncClient
) -> None:
    async def noisy() -> dict[str, str]:
        structlog.get_logger("test").info("inside")
        return {}

    app.add_api_route("/noisy", noisy)
    await client.get("/noisy", headers={"X-Request-ID": "trace-me"})
    structlog.get_logger("test").info("outside")

    lines = {line["event"]: line for line in map(json.loads, capsys.readouterr().out.splitlines())}
    assert lines["inside"]["request_id"] == "trace-me"
    assert lines["request"]["request_id"] == "trace-me"
    assert "request_id" not in lines["outside"]


class RecordingTracer(trace.NoOpTracer):
    def __init__(self) -> None:
        self.spans: list[str] = []

    def start_span(self, name: str, *args: Any, **kwargs: Any) -> trace.Span:
        self.spans.append(name)
        return super().start_span(name, *args, **kwargs)


class RecordingTracerProvider(trace.TracerProvider):
    """What an OpenTelemetry SDK's provider looks like to FastAPI, minus the SDK."""

    def __init__(self) -> None:
        self.tracer = RecordingTracer()

    def get_tracer(self, *args: Any, **kwargs: Any) -> trace.Tracer:
        return self.tracer


@pytest.fixture
def tracer_provider(monkeypatch: pytest.MonkeyPatch) -> RecordingTracerProvider:
    """A configured global tracer provider, for this test only."""
    provider = RecordingTracerProvider()
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: provider)
    return provider


async def test_telemetry_enabled_traces_requests_through_the_sdks_provider(
    make_settings: Callable[..., Settings], tracer_provider: RecordingTracerProvider
) -> None:
    async with serve(make_settings(telemetry_enabled=True)) as traced:
        await traced.get("/health")

    assert tracer_provider.tracer.spans[:1] == ["GET"]  # the server span of the request


async def test_telemetry_is_off_by_default_even_with_an_sdk_configured(
    client: AsyncClient, tracer_provider: RecordingTracerProvider
) -> None:
    await client.get("/health")

    assert tracer_provider.tracer.spans == []


async def test_development_access_lines_are_readable(
    capsys: pytest.CaptureFixture[str], make_settings: Callable[..., Settings]
) -> None:
    async with serve(make_settings(environment="development")) as development:
        await development.get("/health")

    lines = [line for line in capsys.readouterr().out.splitlines() if "request" in line]
    assert len(lines) == 1
    assert "GET" in lines[0]
    assert "/health" in lines[0]
    assert not lines[0].startswith("{")


async def test_no_access_lines_above_info(
    capsys: pytest.CaptureFixture[str], make_settings: Callable[..., Settings]
) -> None:
    async with serve(make_settings(log_level="WARNING")) as quiet:
        response = await quiet.get("/health")

    assert response.status_code == 200
    assert '"request"' not in capsys.readouterr().out
