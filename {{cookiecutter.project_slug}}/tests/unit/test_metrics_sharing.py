"""Worker processes adding up their totals through files in METRICS_DIR."""

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from fastapi import FastAPI
from structlog.testing import capture_logs

from {{ cookiecutter.package_name }}.core.metrics import (
    SERIES_LENGTH,
    RequestMetrics,
)
from {{ cookiecutter.package_name }}.core.metrics_files import (
    FILE_SUFFIX,
    empty_directory,
)
from {{ cookiecutter.package_name }}.core.metrics_sharing import (
    ProcessTotals,
    SharedTotals,
    current_totals,
    share_totals,
)
from {{ cookiecutter.package_name }}.server import (
    METRICS_DIR,
    shared_metrics_directory,
)

from ..support import eventually

HEALTH = ("/health", "GET", 200)


def totals(count: int, in_flight: int = 0) -> ProcessTotals:
    values = [count * 1_000, count, *[0] * (SERIES_LENGTH - 2)]
    return ProcessTotals(
        requests={HEALTH: values},
        auth_events={"login_failed": count},
        in_flight=in_flight,
        pool_checked_out=1,
        pool_size=20,
    )


def exited_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_worker_reads_every_other_workers_totals_and_not_its_own(tmp_path: Path) -> None:
    me, other = SharedTotals(tmp_path), SharedTotals(tmp_path)
    me.write(totals(5))
    other.write(totals(3, in_flight=2))

    (seen,) = me.others()

    assert seen == totals(3, in_flight=2)


def test_totals_add_up_series_events_in_flight_and_pools() -> None:
    summed = totals(5, in_flight=1)

    summed.add(totals(3, in_flight=2))
    summed.add(ProcessTotals())  # a process without a pool to report

    assert summed.requests[HEALTH][:2] == [8_000, 8]
    assert summed.auth_events == {"login_failed": 8}
    assert (summed.in_flight, summed.pool_checked_out, summed.pool_size) == (3, 2, 40)


def test_an_exited_workers_requests_still_count_but_not_its_in_flight_or_pool(
    tmp_path: Path,
) -> None:
    gone = SharedTotals(tmp_path)
    gone.write(totals(4, in_flight=3))
    written = orjson.loads(gone.path.read_bytes())
    gone.path.write_bytes(orjson.dumps({**written, "pid": exited_pid()}))

    (seen,) = SharedTotals(tmp_path).others()

    assert seen.requests == totals(4).requests
    assert (seen.in_flight, seen.pool_checked_out, seen.pool_size) == (0, None, None)


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"pid": 1}',
        b'{"pid": 1, "requests": [["/", "GET", 200, [1]]], '
        b'"auth_events": {}, "in_flight": 0, "pool": [null, null]}',
    ],
    ids=["garbage", "fields-missing", "other-buckets"],
)
def test_a_file_that_cannot_be_read_is_skipped(tmp_path: Path, content: bytes) -> None:
    (tmp_path / f"1-bad{FILE_SUFFIX}").write_bytes(content)
    SharedTotals(tmp_path).write(totals(2))

    seen = list(SharedTotals(tmp_path).others())

    assert seen == [totals(2)]


def test_the_pool_is_sampled_from_the_engine(app: FastAPI) -> None:
    sampled = current_totals(RequestMetrics(), app.state.resources.engine)

    pool = app.state.resources.engine.sync_engine.pool
    assert (sampled.pool_checked_out, sampled.pool_size) == (0, pool.size())
    assert pool.size() >= 1


def test_serve_empties_the_given_directory_of_earlier_totals_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    SharedTotals(tmp_path).write(totals(1))
    (tmp_path / "notes.txt").write_text("kept")
    monkeypatch.setenv(METRICS_DIR, str(tmp_path))

    with shared_metrics_directory() as directory:
        assert directory == tmp_path
        assert sorted(path.name for path in tmp_path.iterdir()) == ["notes.txt"]


def test_serve_makes_a_temporary_directory_when_none_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(METRICS_DIR, raising=False)

    with shared_metrics_directory() as directory:
        assert os.environ[METRICS_DIR] == str(directory)
        assert directory.is_dir()

    assert METRICS_DIR not in os.environ
    assert not directory.exists()


def test_emptying_a_directory_leaves_other_files(tmp_path: Path) -> None:
    (tmp_path / f"7-abc{FILE_SUFFIX}.tmp").write_text("{}")
    (tmp_path / "other.json").write_text("{}")

    empty_directory(tmp_path)

    assert [path.name for path in tmp_path.iterdir()] == ["other.json"]


@pytest.mark.error_path
async def test_a_failed_write_is_logged_and_tried_again(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[ProcessTotals] = []

    def full_disk(self: SharedTotals, totals: ProcessTotals) -> None:
        attempts.append(totals)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(SharedTotals, "write", full_disk)
    with capture_logs() as logs:
        async with share_totals(app, tmp_path, seconds=0.01):
            await eventually(lambda: len(attempts) >= 2)

    assert {"event": "metrics_not_shared", "error": "OSError", "log_level": "warning"} in logs
    assert len(attempts) >= 3  # and once more as it stopped, without raising
