"""The access line written directly in JSON mode is the line structlog would have written."""

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import structlog

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.logging import access_log, configure_logging

JSON_SETTINGS = Settings(_env_file=None, log_json=True, log_cache_loggers=False)


@pytest.fixture(autouse=True)
def _json_logging() -> Iterator[None]:
    configure_logging(JSON_SETTINGS)
    yield
    structlog.contextvars.clear_contextvars()


def both_lines(capsys: pytest.CaptureFixture[str], **context: Any) -> list[list[tuple[str, Any]]]:
    """The fields, in order, of the direct line and of structlog's, for the same request."""
    structlog.contextvars.bind_contextvars(**context)
    access_log(JSON_SETTINGS)("GET", "/items", 200, 1.5)
    structlog.get_logger().info("request", method="GET", path="/items", status=200, duration_ms=1.5)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [[(key, value) for key, value in line.items() if key != "timestamp"] for line in lines]


def test_the_direct_line_matches_structlogs(capsys: pytest.CaptureFixture[str]) -> None:
    direct, via_structlog = both_lines(capsys, request_id="r-1")

    assert direct == via_structlog
    assert ("request_id", "r-1") in direct


@pytest.mark.error_path
class TestAwkwardContext:
    def test_context_never_overrides_the_requests_own_fields(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        direct, via_structlog = both_lines(capsys, path="/elsewhere", event="other")

        assert direct == via_structlog
        assert dict(direct)["path"] == "/items"
        assert dict(direct)["event"] == "request"

    def test_values_json_cannot_hold_are_rendered_not_raised(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        direct, via_structlog = both_lines(capsys, amount=Decimal("1.5"))

        assert direct == via_structlog
        assert dict(direct)["amount"] == "Decimal('1.5')"
