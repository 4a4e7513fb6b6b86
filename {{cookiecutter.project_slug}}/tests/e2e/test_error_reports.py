"""Error reports: with SENTRY_DSN set, an error that escapes a route is sent to Sentry, once,
tagged with its request id (and its trace, with tracing on) and without the request's personal
data; the client still gets the generic 500. Without it, Sentry's SDK is not even imported."""

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sentry_sdk
from fastapi import FastAPI
from opentelemetry.trace import SpanKind
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.main import create_app

from ..support import assert_envelope, client_for
from ..tracing import record_spans, tracing_on

DSN = "https://public-key@sentry.invalid/1"
SECRETS = ("token-secret", "cookie-secret", "body-secret")


class CapturedEnvelopes(Transport):
    """Sentry's transport, keeping envelopes instead of sending them."""

    def __init__(self) -> None:
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        return [dict(event) for e in self.envelopes if (event := e.get_event()) is not None]


def app_reporting(settings: Settings) -> Iterator[FastAPI]:
    """An app reporting to Sentry with a route that fails, whose real transport gives way to
    one that captures."""
    app = create_app(settings)

    async def broken(payload: dict[str, str]) -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/broken", broken, methods=["POST"])
    client = sentry_sdk.get_client()
    assert client.transport is not None  # the real one, for the DSN
    client.transport.kill()
    client.transport = CapturedEnvelopes()
    yield app
    sentry_sdk.get_global_scope().set_client(None)


@pytest.fixture
def reporting_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    yield from app_reporting(make_settings(sentry_dsn=DSN))


@pytest.fixture
def traced_reporting_app(make_settings: Callable[..., Settings]) -> Iterator[FastAPI]:
    yield from app_reporting(make_settings(sentry_dsn=DSN, **tracing_on()))


def captured() -> CapturedEnvelopes:
    transport = sentry_sdk.get_client().transport
    assert isinstance(transport, CapturedEnvelopes)
    return transport


@pytest.mark.error_path
async def test_an_unhandled_error_is_reported_once_with_its_request_id(
    reporting_app: FastAPI,
) -> None:
    async with reporting_app.router.lifespan_context(reporting_app):
        async with client_for(reporting_app) as client:
            response = await client.post(
                "/broken",
                json={"password": "body-secret"},
                headers={
                    "Authorization": "Bearer token-secret",
                    "Cookie": "session=cookie-secret",
                    "X-Request-ID": "report-me",
                },
            )
        envelopes = captured()

    assert response.status_code == 500
    assert_envelope(response.json(), "INTERNAL_ERROR")
    (event,) = envelopes.events()
    assert event["tags"]["request_id"] == "report-me"
    assert event["environment"] == "test"
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    sent = json.dumps(event)
    assert [secret for secret in SECRETS if secret in sent] == []
    assert "request" not in event  # no headers, cookies or body
    assert "trace_id" not in event["tags"]  # tracing is off


@pytest.mark.error_path
async def test_with_tracing_on_the_report_names_the_requests_trace(
    traced_reporting_app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator goes from the error in Sentry to its trace (and back, by the request id)."""
    exported = record_spans(monkeypatch)  # before the app starts its exporter
    app = traced_reporting_app
    async with app.router.lifespan_context(app), client_for(app) as client:
        response = await client.post("/broken", json={}, headers={"X-Request-ID": "traced"})
    envelopes = captured()

    assert response.status_code == 500
    (event,) = envelopes.events()
    (server,) = (s for s in exported.get_finished_spans() if s.kind is SpanKind.SERVER)
    assert event["tags"]["trace_id"] == f"{server.context.trace_id:032x}"
    assert event["tags"]["span_id"] == f"{server.context.span_id:016x}"
    assert event["tags"]["request_id"] == "traced"


@pytest.mark.error_path
async def test_an_error_the_service_answers_is_not_reported(reporting_app: FastAPI) -> None:
    async with reporting_app.router.lifespan_context(reporting_app):
        async with client_for(reporting_app) as client:
            response = await client.get("/api/v1/nowhere")
        envelopes = captured()

    assert response.status_code == 404
    assert envelopes.events() == []


def sentry_imported_without_and_with_a_dsn(cwd: Path) -> list[bool]:
    """Whether building the app imports sentry_sdk, in a fresh interpreter: without a DSN,
    then with one (one interpreter for both: the second import cannot undo the first)."""
    code = (
        f"import os, sys; from {create_app.__module__} import create_app; "
        f"from {Settings.__module__} import Settings; "
        "create_app(); print('sentry_sdk' in sys.modules); "
        f"os.environ['SENTRY_DSN'] = {DSN!r}; create_app(Settings()); "
        "print('sentry_sdk' in sys.modules)"
    )
    result = subprocess.run(  # noqa: S603 - the test's own command
        [sys.executable, "-c", code],
        env={"PATH": "", "ENVIRONMENT": "test"},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [line == "True" for line in result.stdout.splitlines()[-2:]]


def test_without_a_dsn_sentry_is_not_imported(tmp_path: Path) -> None:
    assert sentry_imported_without_and_with_a_dsn(tmp_path) == [False, True]
