"""The totals of every worker process of one server, added up at each scrape.

Each worker keeps its totals in memory (core/metrics.py) and writes them every
METRICS_SHARE_SECONDS to a file of its own in METRICS_DIR (whole, under a temporary name, then
renamed: a reader never sees half a file). The worker that answers a scrape adds its live totals
to the others' files. A worker that exited leaves its file behind: its requests still count, so
totals never go down while the server runs (uvicorn replaces a worker that died); its requests
in flight and its database pool do not, a process no longer running has neither. ``serve``
empties the directory as the server starts (server.py).
"""

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import anyio
import orjson
import structlog
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import QueuePool

from .metrics import SERIES_LENGTH, RequestMetrics, SeriesKey, auth_event_counts
from .metrics_files import FILE_SUFFIX, new_file_path

logger = structlog.get_logger(__name__)


@dataclass(slots=True)
class ProcessTotals:
    """What one process (or, added up, all of them) recorded; the pool is None where there is
    no fixed-size pool to report."""

    requests: dict[SeriesKey, list[int]] = field(default_factory=dict)
    auth_events: dict[str, int] = field(default_factory=dict)
    in_flight: int = 0
    pool_checked_out: int | None = None
    pool_size: int | None = None

    def add(self, other: "ProcessTotals") -> None:
        for key, values in other.requests.items():
            mine = self.requests.setdefault(key, [0] * SERIES_LENGTH)
            for index, value in enumerate(values):
                mine[index] += value
        for event, count in other.auth_events.items():
            self.auth_events[event] = self.auth_events.get(event, 0) + count
        self.in_flight += other.in_flight
        if other.pool_size is not None:
            self.pool_checked_out = (self.pool_checked_out or 0) + (other.pool_checked_out or 0)
            self.pool_size = (self.pool_size or 0) + other.pool_size


def current_totals(metrics: RequestMetrics, engine: AsyncEngine | None) -> ProcessTotals:
    """A copy of this process's totals now, its pool sampled from *engine*."""
    totals = ProcessTotals(
        requests={key: list(values) for key, values in metrics.series.items()},
        auth_events=auth_event_counts(),
        in_flight=metrics.in_flight,
    )
    pool = None if engine is None else engine.sync_engine.pool
    if isinstance(pool, QueuePool):
        totals.pool_checked_out = pool.checkedout()
        totals.pool_size = pool.size()
    return totals


class SharedTotals:
    """This process's file in *directory*, and the totals in everyone else's."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = new_file_path(directory)

    def write(self, totals: ProcessTotals) -> None:
        data = {
            "pid": os.getpid(),
            "requests": [[*key, values] for key, values in totals.requests.items()],
            "auth_events": totals.auth_events,
            "in_flight": totals.in_flight,
            "pool": [totals.pool_checked_out, totals.pool_size],
        }
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_bytes(orjson.dumps(data))
        temporary.replace(self.path)

    def others(self) -> Iterator[ProcessTotals]:
        for path in self.directory.glob(f"*{FILE_SUFFIX}"):
            if path == self.path:
                continue
            try:
                yield _read(path)
            except (OSError, ValueError, TypeError, KeyError):
                # A file that is not one of ours, or went away: the scrape goes on without it.
                logger.warning("metrics_file_unreadable", file=path.name)


def _read(path: Path) -> ProcessTotals:
    data = orjson.loads(path.read_bytes())
    totals = ProcessTotals(
        requests={
            (str(route), str(method), int(status)): [int(value) for value in values]
            for route, method, status, values in data["requests"]
        },
        auth_events={str(event): int(count) for event, count in data["auth_events"].items()},
    )
    if any(len(values) != SERIES_LENGTH for values in totals.requests.values()):
        raise ValueError("other latency buckets")
    if _running(int(data["pid"])):
        totals.in_flight = int(data["in_flight"])
        checked_out, size = data["pool"]
        if size is not None:
            totals.pool_checked_out, totals.pool_size = int(checked_out), int(size)
    return totals


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, as another user
        return True
    return True


async def all_totals(app: FastAPI) -> ProcessTotals:
    """This process's totals, plus those of the other workers when they are shared."""
    totals = current_totals(app.state.metrics, app.state.resources.engine)
    shared: SharedTotals | None = getattr(app.state, "shared_metrics", None)
    if shared is not None:
        for other in await anyio.to_thread.run_sync(lambda: list(shared.others())):
            totals.add(other)
    return totals


@asynccontextmanager
async def share_totals(app: FastAPI, directory: Path, seconds: float) -> AsyncIterator[None]:
    """Write this process's totals to *directory* every *seconds* while the app runs, and once
    more as it stops."""
    await anyio.to_thread.run_sync(partial(directory.mkdir, parents=True, exist_ok=True))
    shared = SharedTotals(directory)
    metrics: RequestMetrics = app.state.metrics

    async def write() -> None:
        totals = current_totals(metrics, app.state.resources.engine)
        await anyio.to_thread.run_sync(shared.write, totals)

    stopping = asyncio.Event()

    async def every_few_seconds() -> None:
        while not stopping.is_set():
            try:
                await write()
            except OSError as error:  # a full or read-only disk: the next round tries again
                logger.warning("metrics_not_shared", error=type(error).__name__)
            with suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await stopping.wait()

    writer = asyncio.create_task(every_few_seconds())
    app.state.shared_metrics = shared
    try:
        yield
    finally:
        # Stopped, not cancelled: a cancelled write goes on in its thread, on the same
        # temporary file as the last one below, and the two would tear it.
        stopping.set()
        await writer
        with suppress(OSError):
            await write()
