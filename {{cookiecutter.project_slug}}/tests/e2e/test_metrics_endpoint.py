"""GET /metrics: the request metrics by route template, guarded as METRICS_ENDPOINT says."""

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from httpx import AsyncClient
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.metrics import SERIES_LENGTH
from {{ cookiecutter.package_name }}.core.metrics_sharing import (
    ProcessTotals,
    SharedTotals,
)
from {{ cookiecutter.package_name }}.features.users.models import User
from {{ cookiecutter.package_name }}.main import create_app

from ..factories import DEFAULT_PASSWORD
from ..support import assert_envelope, serve

TOKEN = "metrics-token-for-the-tests-0123456789"
LOGIN = "/api/v1/auth/login"


def request_counts(text: str) -> dict[tuple[str, str, str], float]:
    """``http_requests_total`` by (route, method, status)."""
    (family,) = (f for f in text_string_to_metric_families(text) if f.name == "http_requests")
    return {
        (sample.labels["route"], sample.labels["method"], sample.labels["status"]): sample.value
        for sample in family.samples
    }


def auth_events(text: str) -> dict[str, float]:
    """``auth_events_total`` by event."""
    (family,) = (f for f in text_string_to_metric_families(text) if f.name == "auth_events")
    return {sample.labels["event"]: sample.value for sample in family.samples}


def files_in(directory: Path) -> list[Path]:
    return list(directory.iterdir())


async def test_requests_are_counted_by_route_template_not_raw_path(client: AsyncClient) -> None:
    item_id = uuid.uuid4()
    await client.get(f"/api/v1/items/{item_id}")
    await client.get("/health")

    response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    counts = request_counts(response.text)
    assert counts[("/api/v1/items/{item_id}", "GET", "401")] == 1
    assert counts[("/health", "GET", "200")] == 1
    assert str(item_id) not in response.text


@pytest.mark.error_path
async def test_a_request_no_route_matched_counts_as_unmatched(client: AsyncClient) -> None:
    await client.get("/wp-admin/setup.php")

    response = await client.get("/metrics")

    assert request_counts(response.text)[("unmatched", "GET", "404")] == 1
    assert "wp-admin" not in response.text


async def test_in_flight_requests_and_the_database_pool_are_reported(client: AsyncClient) -> None:
    response = await client.get("/metrics")

    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    assert families["http_requests_in_flight"].samples[0].value == 1  # the scrape itself
    assert families["db_pool_size"].samples[0].value >= 1
    assert families["db_pool_connections_checked_out"].samples[0].value == 0
    events = {sample.labels["event"] for sample in families["auth_events"].samples}
    assert events == {"login_succeeded", "login_failed", "refresh_reuse_detected", "rate_limited"}


async def test_the_endpoint_is_not_in_the_openapi_document(client: AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    assert "/metrics" not in document["paths"]


async def test_a_token_guarded_endpoint_answers_its_token(
    make_settings: Callable[..., Settings],
) -> None:
    async with serve(make_settings(metrics_endpoint=TOKEN)) as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})

    assert response.status_code == 200
    assert "http_requests_total" in response.text


async def test_a_scrape_adds_what_the_other_workers_shared(
    make_settings: Callable[..., Settings], tmp_path: Path
) -> None:
    other_worker = SharedTotals(tmp_path)
    other_worker.write(
        ProcessTotals(requests={("/health", "GET", 200): [10**6, 1, *[0] * (SERIES_LENGTH - 2)]})
    )

    async with serve(make_settings(metrics_dir=tmp_path)) as client:
        await client.get("/health")
        counts = request_counts((await client.get("/metrics")).text)

    assert counts[("/health", "GET", "200")] == 2
    # Stopping, the app wrote its own totals beside the other worker's.
    (own,) = set(files_in(tmp_path)) - {other_worker.path}
    assert b'"/metrics"' in own.read_bytes()


@pytest.mark.error_path
class TestRefusals:
    @pytest.mark.parametrize(
        "authorization",
        [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer"],
        ids=["missing", "wrong", "other-scheme", "longer", "empty"],
    )
    async def test_a_missing_or_wrong_token_is_401(
        self, make_settings: Callable[..., Settings], authorization: str | None
    ) -> None:
        headers = {} if authorization is None else {"Authorization": authorization}
        async with serve(make_settings(metrics_endpoint=TOKEN)) as client:
            response = await client.get("/metrics", headers=headers)

        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
        assert_envelope(response.json(), "UNAUTHORIZED")

    async def test_off_means_no_endpoint_and_nothing_recorded(
        self, make_settings: Callable[..., Settings]
    ) -> None:
        settings = make_settings(metrics_endpoint="off")
        async with serve(settings) as client:
            response = await client.get("/metrics")

        assert response.status_code == 404
        assert_envelope(response.json(), "NOT_FOUND")
        assert create_app(settings).state.metrics is None


@pytest.mark.error_path
async def test_sign_in_events_are_counted_as_the_audit_trail_writes_them(
    client: AsyncClient, user: User
) -> None:
    """The counts are per process and outlive a test's app: compared before and after."""
    before = auth_events((await client.get("/metrics")).text)
    form = {"username": user.email, "password": DEFAULT_PASSWORD}
    refused = await client.post(LOGIN, data={**form, "password": "not the password at all"})
    accepted = await client.post(LOGIN, data=form)
    after = auth_events((await client.get("/metrics")).text)

    assert (refused.status_code, accepted.status_code) == (401, 200)
    assert {event: after[event] - before[event] for event in after} == {
        "login_succeeded": 1,
        "login_failed": 1,
        "refresh_reuse_detected": 0,
        "rate_limited": 0,
    }
