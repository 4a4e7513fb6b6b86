"""What a request and a sign-in event add to the metrics, and the settings that guard them."""

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr, ValidationError

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.metrics import (
    LATENCY_BUCKETS,
    UNMATCHED,
    AuthEvent,
    RequestMetrics,
    auth_event_counts,
    count_auth_event,
    route_label,
)
from {{ cookiecutter.package_name }}.core.metrics_export import exposition
from {{ cookiecutter.package_name }}.core.metrics_sharing import current_totals

MS = 1_000_000  # nanoseconds


def scope(method: str = "GET", **matched: Any) -> dict[str, Any]:
    return {"type": "http", "method": method, "path": "/raw/path/42", **matched}


class FakeRoute:
    def __init__(self, path_format: str) -> None:
        self.path_format = path_format


def samples(metrics: RequestMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """The exposition of *metrics*, parsed back: value by sample name and sorted labels."""
    text = exposition(current_totals(metrics, None)).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_a_request_counts_under_its_route_template_method_and_status() -> None:
    metrics = RequestMetrics()
    metrics.in_flight = 1

    metrics.record(scope(route=FakeRoute("/items/{item_id}")), 404, 3 * MS)

    assert set(metrics.series) == {("/items/{item_id}", "GET", 404)}
    assert metrics.in_flight == 0
    labels = (("method", "GET"), ("route", "/items/{item_id}"), ("status", "404"))
    assert samples(metrics)[("http_requests_total", labels)] == 1


def test_an_included_route_is_labelled_with_its_prefix() -> None:
    included = {"effective_route_context": FakeRoute("/api/v1/items/{item_id}")}

    label = route_label(scope(route=FakeRoute("/items/{item_id}"), fastapi=included))

    assert label == "/api/v1/items/{item_id}"


def test_a_starlette_route_without_parameters_is_labelled_with_its_path() -> None:
    assert route_label(scope(endpoint=object(), path_params={})) == "/raw/path/42"


@pytest.mark.error_path
def test_an_unmatched_request_is_labelled_unmatched_never_with_its_path() -> None:
    metrics = RequestMetrics()

    metrics.record(scope(), 404, MS)
    metrics.record(scope(endpoint=object(), path_params={"path": "x"}), 404, MS)

    assert set(metrics.series) == {(UNMATCHED, "GET", 404)}
    assert metrics.series[(UNMATCHED, "GET", 404)][1] == 2  # both in the first bucket


@pytest.mark.error_path
def test_a_made_up_method_is_labelled_other() -> None:
    metrics = RequestMetrics()

    metrics.record(scope("BREW", route=FakeRoute("/health")), 405, MS)

    assert set(metrics.series) == {("/health", "other", 405)}


def test_the_histogram_counts_each_request_in_its_bucket_and_every_larger_one() -> None:
    metrics = RequestMetrics()
    route = FakeRoute("/health")
    for duration_ms in (0.5, 1, 3, 3, 20, 20_000):  # 20 s: beyond the last bound
        metrics.record(scope(route=route), 200, int(duration_ms * MS))

    found = samples(metrics)

    def bucket(le: str) -> float:
        labels = (("le", le), ("method", "GET"), ("route", "/health"), ("status", "200"))
        return found[("http_request_duration_seconds_bucket", labels)]

    assert [bucket(le) for le in ("0.001", "0.0025", "0.005", "0.025", "10.0", "+Inf")] == [
        2,  # 0.5 ms, and 1 ms: a bound holds what equals it
        2,
        4,
        5,
        5,
        6,
    ]
    labels = (("method", "GET"), ("route", "/health"), ("status", "200"))
    assert found[("http_request_duration_seconds_count", labels)] == 6
    assert found[("http_request_duration_seconds_sum", labels)] == pytest.approx(20.0275)
    assert len(LATENCY_BUCKETS) == len(sorted(set(LATENCY_BUCKETS)))


def test_an_auth_event_is_counted_by_name() -> None:
    before = auth_event_counts()

    count_auth_event(AuthEvent.LOGIN_FAILED)
    count_auth_event("login_failed")
    count_auth_event("refresh_reuse_detected")

    after = auth_event_counts()
    assert after["login_failed"] == before["login_failed"] + 2
    assert after["refresh_reuse_detected"] == before["refresh_reuse_detected"] + 1
    assert after["login_succeeded"] == before["login_succeeded"]
    assert set(after) == {
        "login_succeeded",
        "login_failed",
        "refresh_reuse_detected",
        "rate_limited",
    }


@pytest.mark.error_path
def test_an_unknown_auth_event_is_refused_so_the_label_stays_bounded() -> None:
    before = auth_event_counts()

    with pytest.raises(ValueError, match="not an auth event"):
        count_auth_event("auth.login.succeeded")

    assert auth_event_counts() == before


def test_the_endpoint_setting_reads_off_open_or_a_token() -> None:
    token = "t" * 32

    off = Settings(_env_file=None, metrics_endpoint=SecretStr("OFF"))
    opened = Settings(_env_file=None)
    guarded = Settings(_env_file=None, metrics_endpoint=SecretStr(token))

    assert (off.metrics_enabled, off.metrics_token_digest) == (False, None)
    assert (opened.metrics_enabled, opened.metrics_token_digest) == (True, None)
    assert guarded.metrics_enabled
    assert guarded.metrics_token_digest is not None
    assert token not in repr(guarded)


@pytest.mark.error_path
def test_a_short_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 bytes") as caught:
        Settings(_env_file=None, metrics_endpoint=SecretStr("short-token"))

    assert "short-token" not in str(caught.value)
