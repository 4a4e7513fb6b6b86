"""JSON logging: the access line written directly is the line structlog would have written, and
the standard library's records are JSON lines too."""

import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import structlog

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.access_log import (
    UtcTimestamps,
    access_log,
)
from {{ cookiecutter.package_name }}.core.logging import (
    configure_logging,
    request_id_var,
)

JSON_SETTINGS = Settings(_env_file=None, log_json=True, log_cache_loggers=False)


def as_structlog_writes(moment: datetime) -> str:
    """A UTC time as structlog's ``TimeStamper(fmt="iso", utc=True)`` writes it."""
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(autouse=True)
def _json_logging() -> Iterator[None]:
    configure_logging(JSON_SETTINGS)
    yield
    structlog.contextvars.clear_contextvars()


def both_lines(
    capsys: pytest.CaptureFixture[str], middleware_id: str | None = None, **context: Any
) -> list[list[tuple[str, Any]]]:
    """The fields, in order, of the direct line and of structlog's, for the same request: the
    middleware's request id (if any) set, *context* bound."""
    structlog.contextvars.bind_contextvars(**context)
    token = request_id_var.set(middleware_id)
    try:
        access_log(JSON_SETTINGS)("GET", "/items", 200, 1.5)
        structlog.get_logger().info(
            "request", method="GET", path="/items", status=200, duration_ms=1.5
        )
    finally:
        request_id_var.reset(token)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return [[(key, value) for key, value in line.items() if key != "timestamp"] for line in lines]


def test_the_direct_line_matches_structlogs(capsys: pytest.CaptureFixture[str]) -> None:
    direct, via_structlog = both_lines(capsys, middleware_id="r-1", user="u-1")

    assert direct == via_structlog
    assert ("request_id", "r-1") in direct
    assert ("user", "u-1") in direct


def test_the_timestamp_is_now_in_structlogs_format(capsys: pytest.CaptureFixture[str]) -> None:
    before = datetime.now(UTC)
    access_log(JSON_SETTINGS)("GET", "/items", 200, 1.5)
    after = datetime.now(UTC)

    stamp = json.loads(capsys.readouterr().out)["timestamp"]
    assert before <= datetime.fromisoformat(stamp) <= after
    assert stamp == as_structlog_writes(datetime.fromisoformat(stamp))


class TestUtcTimestamps:
    @pytest.mark.parametrize(
        "nanoseconds",
        [1_795_000_000_123_456_789, 1_795_000_000_000_000_999, 1_795_000_059_999_999_000],
    )
    def test_as_datetime_isoformat_writes_them(self, nanoseconds: int) -> None:
        second, rest = divmod(nanoseconds, 1_000_000_000)
        expected = datetime.fromtimestamp(second, UTC).replace(microsecond=rest // 1000)

        stamp = UtcTimestamps(clock=lambda: nanoseconds)()

        assert stamp == as_structlog_writes(expected)

    def test_a_new_second_is_formatted_again(self) -> None:
        now = [1_795_000_000_999_999_000]
        timestamps = UtcTimestamps(clock=lambda: now[0])

        first = timestamps()
        now[0] += 2_000
        second = timestamps()

        assert (first, second) == ("2026-11-18T11:06:40.999999Z", "2026-11-18T11:06:41.000001Z")


@pytest.mark.error_path
class TestAwkwardContext:
    def test_context_never_overrides_the_requests_own_fields(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        direct, via_structlog = both_lines(capsys, path="/elsewhere", event="other")

        assert direct == via_structlog
        assert dict(direct)["path"] == "/items"
        assert dict(direct)["event"] == "request"

    def test_a_request_id_bound_as_context_wins_as_in_structlog(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        direct, via_structlog = both_lines(capsys, middleware_id="middleware", request_id="bound")

        assert direct == via_structlog
        assert dict(direct)["request_id"] == "bound"

    def test_values_json_cannot_hold_are_rendered_not_raised(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        direct, via_structlog = both_lines(capsys, amount=Decimal("1.5"))

        assert direct == via_structlog
        assert dict(direct)["amount"] == "Decimal('1.5')"


class TestStandardLibraryRecords:
    """In JSON mode the server's and libraries' own records are JSON lines like structlog's."""

    @pytest.fixture(autouse=True)
    def _uvicorns_loggers(self) -> Iterator[None]:
        """uvicorn's loggers as its logging configuration leaves them before the app is
        created, and no other handler on the root logger; all restored after each test."""
        names = ["", "uvicorn", "uvicorn.error", "uvicorn.access"]
        loggers = [logging.getLogger(name) for name in names]
        saved = [(lg.handlers, lg.propagate, lg.level) for lg in loggers]
        root, server, error, access = loggers
        root.handlers = []
        server.handlers, server.propagate = [logging.StreamHandler(sys.stderr)], False
        error.handlers, error.propagate = [], True
        access.handlers, access.propagate = [logging.StreamHandler(sys.stdout)], False
        for lg in (server, error, access):
            lg.setLevel(logging.INFO)
        yield
        for lg, (handlers, propagate, level) in zip(loggers, saved, strict=True):
            lg.handlers, lg.propagate = handlers, propagate
            lg.setLevel(level)

    def test_a_record_is_a_json_line_with_the_request_id(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging(JSON_SETTINGS)
        token = request_id_var.set("r-7")
        try:
            logging.getLogger("sqlalchemy.pool").warning("pool %s is %s", "main", "full")
        finally:
            request_id_var.reset(token)

        line = json.loads(capsys.readouterr().out)
        assert line | {"timestamp": ""} == {
            "event": "pool main is full",
            "request_id": "r-7",
            "logger": "sqlalchemy.pool",
            "level": "warning",
            "timestamp": "",
        }
        stamp = line["timestamp"]
        assert stamp == as_structlog_writes(datetime.fromisoformat(stamp))

    def test_the_servers_lines_are_json_on_stdout(self, capsys: pytest.CaptureFixture[str]) -> None:
        configure_logging(JSON_SETTINGS)

        logging.getLogger("uvicorn.error").info("Application startup complete.")

        captured = capsys.readouterr()
        assert captured.err == ""
        assert json.loads(captured.out)["logger"] == "uvicorn.error"

    def test_the_servers_access_logger_is_switched_off(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """The app writes its own access line: uvicorn's would be a second one per request
        (uvicorn logs requests only when its access logger has a handler up the chain)."""
        configure_logging(JSON_SETTINGS)

        access = logging.getLogger("uvicorn.access")
        assert not access.hasHandlers()
        access.info("GET /health 200")
        assert capsys.readouterr().out == ""

    def test_below_the_configured_level_nothing_is_written(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Whatever level uvicorn gave its own loggers: LOG_LEVEL decides what is written."""
        configure_logging(
            Settings(_env_file=None, log_json=True, log_cache_loggers=False, log_level="WARNING")
        )

        logging.getLogger("sqlalchemy.engine").info("SELECT 1")
        logging.getLogger("uvicorn.error").info("Application startup complete.")
        logging.getLogger("uvicorn.error").warning("Invalid HTTP request received.")

        lines = capsys.readouterr().out.splitlines()
        assert [json.loads(line)["event"] for line in lines] == ["Invalid HTTP request received."]

    @pytest.mark.parametrize("modes", [(True, True), (False, True), (True, False)])
    def test_configuring_again_writes_each_record_once_in_the_last_mode(
        self, capsys: pytest.CaptureFixture[str], modes: tuple[bool, bool]
    ) -> None:
        for json_logs in modes:
            configure_logging(Settings(_env_file=None, log_json=json_logs, log_cache_loggers=False))

        logging.getLogger("asyncio").warning("slow callback")

        [line] = capsys.readouterr().out.splitlines()
        if modes[-1]:
            assert json.loads(line)["event"] == "slow callback"
        else:
            assert line == "WARNING asyncio slow callback"

    @pytest.mark.error_path
    def test_an_exception_is_data_without_local_variables(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        configure_logging(JSON_SETTINGS)

        def check(password: str) -> None:  # its argument is a local that must not be logged
            raise ValueError("bad value")

        try:
            check("hunter2")
        except ValueError:
            logging.getLogger("asyncio").exception("Task exception was never retrieved")

        out = capsys.readouterr().out
        line = json.loads(out)
        assert line["level"] == "error"
        assert line["exception"][0]["exc_type"] == "ValueError"
        assert line["exception"][0]["exc_value"] == "bad value"
        assert "hunter2" not in out
