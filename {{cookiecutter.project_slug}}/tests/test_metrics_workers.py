"""Two worker processes behind one port, as the image runs them (``serve``, WEB_CONCURRENCY=2):
a scrape, answered by either, counts the requests both served."""

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from {{ cookiecutter.package_name }} import server
from {{ cookiecutter.package_name }}.core.metrics_files import FILE_SUFFIX

from .support import GIVE_UP_SECONDS, TEST_JWT_SECRET, free_port

# Two workers importing the app at once on a busy machine take a while.
START_SECONDS = 120
BATCH = 20  # requests sent at once, each on a connection of its own


def health_requests(text: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "http_requests"
        for sample in family.samples
        if sample.labels["route"] == "/health"
    )


def workers_that_served(directory: Path) -> int:
    """How many workers' files count /health requests: both, once both have answered some."""
    return sum(b'"/health"' in path.read_bytes() for path in directory.glob(f"*{FILE_SUFFIX}"))


async def test_a_scrape_adds_up_the_requests_of_both_workers(
    database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    metrics_dir = tmp_path / "metrics"
    variables = {
        **os.environ,
        "ENVIRONMENT": "test",
        "LOG_LEVEL": "WARNING",
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_JWT_SECRET,
        "METRICS_DIR": str(metrics_dir),
        "METRICS_SHARE_SECONDS": "0.1",
    }
    command = [sys.executable, "-m", server.__name__, "--port", str(port), "--workers", "2"]
    # A loaded machine may take longer than uvicorn's 5 s to start a worker; not the point here.
    command += ["--timeout-worker-healthcheck", str(GIVE_UP_SECONDS)]
    process = await asyncio.create_subprocess_exec(
        *command,
        env=variables,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        # New connections until both workers have taken some (the kernel picks the worker).
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(base_url=base_url, limits=limits) as client:
            async with asyncio.timeout(START_SECONDS):
                await _until_up(client)
            async with asyncio.timeout(GIVE_UP_SECONDS):
                sent = 1  # the request that found the server up
                while workers_that_served(metrics_dir) < 2:
                    answers = await asyncio.gather(*(client.get("/health") for _ in range(BATCH)))
                    assert {answer.status_code for answer in answers} == {200}
                    sent += BATCH
                    await asyncio.sleep(0.2)  # a share interval: the files catch up

                counted = 0.0
                while counted != sent:
                    counted = health_requests((await client.get("/metrics")).text)
                    assert counted <= sent
                    await asyncio.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), GIVE_UP_SECONDS)

    assert counted == sent
    assert workers_that_served(metrics_dir) == 2  # each left its totals as it stopped


async def _until_up(client: httpx.AsyncClient) -> None:
    while True:
        try:
            await client.get("/health")
        except httpx.TransportError:
            await asyncio.sleep(0.1)
        else:
            return
