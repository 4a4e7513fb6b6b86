"""Behaviour every route shares: the error envelope, middleware, probes and the OpenAPI schema."""

import json
from collections.abc import Callable
from importlib.util import find_spec
from typing import Any

import pytest
import structlog
from fastapi import FastAPI, Response
from httpx import AsyncClient
from opentelemetry import trace

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.main import create_app

from ..conftest import client_for, serve

# A database that cannot be opened: a SQLite file in a missing directory, and (where the driver
# is installed) a PostgreSQL port that refuses connections.
UNREACHABLE_DATABASES = ["sqlite+aiosqlite:////nonexistent-directory/app.db"] + (
    ["postgresql+asyncpg://nobody@127.0.0.1:1/none"] if find_spec("asyncpg") else []
)
# OWASP's REST Security Cheat Sheet: on every API response (with Cache-Control, and HSTS).
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": "default-src 'none'; frame-ancestors 'none'",
}
# What only acts on documents: on HTML responses.
DOCUMENT_HEADERS = {"referrer-policy": "no-referrer", "cross-origin-opener-policy": "same-origin"}


def assert_envelope(body: dict[str, Any], code: str) -> None:
    assert body.keys() == {"error"}
    assert body["error"].keys() == {"code", "message", "details"}
    assert body["error"]["code"] == code


async def test_health_is_ok(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_the_database(client: AsyncClient) -> None:
    response = await client.get("/ready")

    assert response.json() == {"status": "ok", "checks": {"database": "ok"}}


async def test_request_id_is_created_and_returned(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert len(response.headers["x-request-id"]) == 32


async def test_a_well_formed_request_id_is_kept(client: AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})

    assert response.headers["x-request-id"] == "abc-123"


async def test_security_headers_on_success(client: AsyncClient) -> None:
    response = await client.get("/health")

    assert SECURITY_HEADERS.items() <= response.headers.items()
    assert response.headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in response.headers
    assert not DOCUMENT_HEADERS.keys() & response.headers.keys()


async def test_html_gets_the_document_policies(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.headers["content-type"].startswith("text/html")
    assert DOCUMENT_HEADERS.items() <= response.headers.items()
    assert response.headers["x-frame-options"] == "DENY"


async def test_redirects_get_the_document_policies(client: AsyncClient) -> None:
    """A redirect's Referrer-Policy governs the request it leads to."""
    response = await client.get("/api/v1/items/")

    assert response.status_code == 307
    assert DOCUMENT_HEADERS.items() <= response.headers.items()


async def test_hsts_in_production_over_https(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(environment="production", jwt_secret="p" * 40)
    async with serve(settings, base_url="https://testserver") as production:
        response = await production.get("/health")

    assert response.headers["strict-transport-security"].startswith("max-age=")


@pytest.mark.error_path
async def test_no_hsts_over_plain_http_even_in_production(
    make_settings: Callable[..., Settings],
) -> None:
    """RFC 6797 7.2: an HSTS host must not send the header over a non-secure transport."""
    settings = make_settings(environment="production", jwt_secret="p" * 40)
    async with serve(settings) as production:
        response = await production.get("/health")

    assert "strict-transport-security" not in response.headers


async def test_docs_are_served_outside_production(client: AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert response.headers["content-security-policy"].startswith("default-src 'none'")


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


@pytest.mark.error_path
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


async def test_large_responses_are_compressed_when_configured(
    make_settings: Callable[..., Settings],
) -> None:
    async with serve(make_settings(gzip_min_bytes=1_000)) as gzipped:
        large = await gzipped.get("/openapi.json", headers={"Accept-Encoding": "gzip"})
        small = await gzipped.get("/health", headers={"Accept-Encoding": "gzip"})

    assert large.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in small.headers


async def test_responses_are_not_compressed_by_default(client: AsyncClient) -> None:
    response = await client.get("/openapi.json", headers={"Accept-Encoding": "gzip"})

    assert "content-encoding" not in response.headers


async def test_openapi_documents_the_error_envelope(client: AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    operation = schema["paths"]["/api/v1/items/{item_id}"]["get"]

    assert operation["operationId"] == "items-read_item"
    assert operation["responses"]["404"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"
    }


async def test_cors_allows_a_listed_origin(make_settings: Callable[..., Settings]) -> None:
    async with serve(make_settings(cors_origins="https://app.example.com")) as cors:
        response = await cors.get("/health", headers={"Origin": "https://app.example.com"})
        without_origin = await cors.get("/health")

    assert response.headers["access-control-allow-origin"] == "https://app.example.com"
    # Caches must not serve one origin's answer to another.
    assert response.headers.get_list("vary") == ["Origin"]
    assert "access-control-allow-origin" not in without_origin.headers
    # A no-store response is never stored, so it needs no Vary.
    assert without_origin.headers["cache-control"] == "no-store"
    assert "vary" not in without_origin.headers


@pytest.mark.parametrize(
    ("cors_origins", "vary"), [("https://app.example.com", ["Origin"]), ("", [])]
)
async def test_a_cacheable_response_varies_on_origin_when_cors_is_on(
    make_settings: Callable[..., Settings], cors_origins: str, vary: list[str]
) -> None:
    """A cache must not serve the answer to a request without Origin to one with it."""
    app = create_app(make_settings(cors_origins=cors_origins))

    @app.get("/cacheable")
    async def cacheable() -> Response:
        return Response(
            b"{}", media_type="application/json", headers={"Cache-Control": "max-age=60"}
        )

    async with client_for(app) as client:
        response = await client.get("/cacheable")

    assert response.headers["cache-control"] == "max-age=60"
    assert response.headers.get_list("vary") == vary


@pytest.mark.error_path
class TestErrorEnvelope:
    async def test_unknown_route_is_a_404_envelope(self, client: AsyncClient) -> None:
        response = await client.get("/nope")

        assert response.status_code == 404
        assert_envelope(response.json(), "NOT_FOUND")
        assert SECURITY_HEADERS.items() <= response.headers.items()

    async def test_wrong_method_is_a_405_envelope(self, client: AsyncClient) -> None:
        response = await client.delete("/health")

        assert response.status_code == 405
        assert_envelope(response.json(), "METHOD_NOT_ALLOWED")
        assert response.headers["allow"] == "GET"

    async def test_malformed_json_is_a_422_envelope(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/api/v1/items",
            content=b"{not json",
            headers={**user_headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 422
        assert_envelope(response.json(), "VALIDATION_ERROR")

    async def test_validation_errors_do_not_echo_the_input(self, client: AsyncClient) -> None:
        secret = "my-secret-password-value"
        response = await client.post(
            "/api/v1/auth/register", json={"email": "bad", "password": secret}
        )

        assert secret not in response.text

    async def test_unhandled_error_is_a_generic_500_with_the_traceback_in_the_log(
        self, capsys: pytest.CaptureFixture[str], app: FastAPI, client: AsyncClient
    ) -> None:
        async def explode() -> None:
            raise RuntimeError("SELECT secret FROM internals")

        app.add_api_route("/explode", explode)

        response = await client.get("/explode")

        assert response.status_code == 500
        assert_envelope(response.json(), "INTERNAL_ERROR")
        assert "SELECT" not in response.text
        assert SECURITY_HEADERS.items() <= response.headers.items()
        assert response.headers["x-request-id"]
        log = capsys.readouterr().out
        assert "unhandled_exception" in log
        assert "SELECT secret FROM internals" in log

    async def test_oversized_body_is_a_413_envelope(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        response = await client.post(
            "/api/v1/items", json={"title": "x" * 2_000_000}, headers=user_headers
        )

        assert response.status_code == 413
        assert_envelope(response.json(), "REQUEST_ENTITY_TOO_LARGE")

    async def test_oversized_streamed_body_is_a_413_envelope(
        self, client: AsyncClient, user_headers: dict[str, str]
    ) -> None:
        async def chunks() -> Any:
            for _ in range(3):
                yield b"x" * 600_000

        response = await client.post(
            "/api/v1/items",
            content=chunks(),
            headers={**user_headers, "Content-Type": "application/json"},
        )

        assert response.status_code == 413

    async def test_invalid_request_id_is_replaced(self, client: AsyncClient) -> None:
        response = await client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})

        assert response.headers["x-request-id"] != "bad id\twith spaces"

    async def test_an_unlisted_host_is_refused(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        async with serve(make_settings(allowed_hosts="api.example.com,*.example.org")) as hosts:
            answers = [
                await hosts.get("/health", headers={"Host": host})
                # Twice each: the second time, an allowed host is known, a refused one is not.
                for host in ["evil.test", "eu.example.org:443", "example.org"] * 2
            ]

        refused = answers[0]
        assert refused.status_code == 400
        assert_envelope(refused.json(), "INVALID_HOST")
        assert [answer.status_code for answer in answers] == [400, 200, 400] * 2

    async def test_cors_refuses_an_unlisted_origin(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        async with serve(make_settings(cors_origins="https://app.example.com")) as cors:
            simple = await cors.get("/health", headers={"Origin": "https://evil.example"})
            preflight = await cors.options(
                "/api/v1/items",
                headers={
                    "Origin": "https://evil.example",
                    "Access-Control-Request-Method": "POST",
                },
            )

        assert "access-control-allow-origin" not in simple.headers
        assert preflight.status_code == 400
        assert_envelope(preflight.json(), "CORS_REJECTED")

    @pytest.mark.parametrize("unreachable", UNREACHABLE_DATABASES)
    async def test_ready_is_503_when_the_database_is_unreachable(
        self, make_settings: Callable[..., Settings], unreachable: str
    ) -> None:
        async with serve(make_settings(database_url=unreachable)) as down:
            response = await down.get("/ready")

        assert response.status_code == 503
        assert response.json()["error"]["details"] == {"checks": {"database": "error"}}

    @pytest.mark.parametrize("unreachable", UNREACHABLE_DATABASES)
    async def test_api_is_a_503_envelope_when_the_database_is_unreachable(
        self, make_settings: Callable[..., Settings], unreachable: str
    ) -> None:
        async with serve(make_settings(database_url=unreachable)) as down:
            response = await down.post(
                "/api/v1/auth/login", data={"username": "a@example.com", "password": "whatever"}
            )

        assert response.status_code == 503
        assert_envelope(response.json(), "SERVICE_UNAVAILABLE")

    async def test_docs_are_hidden_in_production(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        settings = make_settings(environment="production", jwt_secret="p" * 40)
        async with serve(settings) as production:
            response = await production.get("/docs")

        assert response.status_code == 404
