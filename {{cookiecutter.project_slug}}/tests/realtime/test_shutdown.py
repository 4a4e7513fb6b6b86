"""The server stopping, as the image runs it: open connections are told (1012 from uvicorn,
"service restart": connect again) and the process exits well within its grace time."""

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from websockets.asyncio.client import ClientConnection

from {{ cookiecutter.package_name }} import main
from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.security import TokenCodec, TokenType
from {{ cookiecutter.package_name }}.features.users.models import User

from ..support import TEST_JWT_SECRET, free_port
from .support import PATH, closed_with, next_frame, opened

GRACE_SECONDS = 8  # the image's UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN
SERVICE_RESTART = 1012


async def test_sigterm_closes_the_connections_and_the_process_exits_in_time(
    settings: Settings, user: User, database_url: str, tmp_path: Path
) -> None:
    token, _ = TokenCodec(settings).issue(user.id, TokenType.ACCESS)
    port = free_port()
    variables = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_JWT_SECRET,
        "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN": str(GRACE_SECONDS),
        "UVICORN_WS": "websockets-sansio",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", f"{main.__name__}:create_app"]
    server = await asyncio.create_subprocess_exec(
        *command,
        *("--port", str(port), "--lifespan", "on"),
        env=variables,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        connection = await _connect_when_up(f"ws://127.0.0.1:{port}{PATH}", token)
        assert (await next_frame(connection))["type"] == "welcome"
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        assert await closed_with(connection) == SERVICE_RESTART
        # uvicorn stops gracefully, then ends itself with the signal it caught.
        assert await asyncio.wait_for(server.wait(), GRACE_SECONDS) in {0, -signal.SIGTERM}
        assert time.monotonic() - stopped_at < GRACE_SECONDS / 2
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()


async def _connect_when_up(url: str, token: str) -> ClientConnection:
    deadline = time.monotonic() + 20
    while True:
        try:
            connection: ClientConnection = await opened(url, token)
        except OSError:
            assert time.monotonic() < deadline, "the server never came up"
            await asyncio.sleep(0.1)
        else:
            return connection
