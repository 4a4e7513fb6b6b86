"""Diagnose where CPU goes: call the ASGI apps directly, without a server or a load generator.

    cd /path/to/baked/my-service      # a bake of the default variant (bench/run.py --keep)
    DATABASE_URL=postgresql+asyncpg://postgres@127.0.0.1:5432/mydb uv run alembic upgrade head
    DATABASE_URL=... uv run python /path/to/template/bench/inprocess.py [--requests 3000]
        [--concurrency 1 50] [--gc tuned|default]

Run with the bake's interpreter (``uv run`` in the bake), so that its package, FastAPI and
SQLAlchemy are the ones measured. It builds the app with production settings (JSON access
lines, host check and CORS on, as in run.py), creates a user and an item in ``DATABASE_URL``,
and for each concurrency prints the process CPU time per request of: the app's ``/health``,
bare FastAPI's (baseline_bare.py), the app's authenticated item read, and the minimal endpoint's
(baseline_minimal_db.py). With concurrency N, N tasks call the app at once, as N clients would.

Garbage-collector settings belong to the process, so all four cases share them: ``--gc tuned``
(the default) applies the app's start-up tuning (core/runtime.py) to every case, ``--gc
default`` keeps Python's for every case. run.py instead gives each server its own: the app
tuned, the baselines Python's defaults.

No uvicorn, no sockets to the client: the figures are lower than run.py's by the server's own
cost (bench/README.md gives it) and free of load-generator noise, which makes them the
quicker before/after check while changing code. They are diagnostics, not the issue's figures.
The app's access lines go to stdout; redirect it (``> /dev/null``) and read stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import secrets
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
PACKAGE = "my_service"

type ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def http_scope(path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50_000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }


async def call(app: ASGIApp, scope: dict[str, Any]) -> int:
    """One request; returns the status."""
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(dict(scope), receive, send)
    return statuses[0]


async def cpu_per_request(
    app: ASGIApp, scope: dict[str, Any], requests: int, concurrency: int
) -> float:
    status = await call(app, scope)
    if status != 200:
        sys.exit(f"{scope['path']} answered {status}")
    for _ in range(200):  # warm caches, pools and lazily built code paths
        await call(app, scope)

    async def client() -> None:
        for _ in range(requests // concurrency):
            await call(app, scope)

    started = time.process_time()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return (time.process_time() - started) / (requests // concurrency * concurrency) * 1e6


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--gc", choices=["tuned", "default"], default="tuned")
    args = parser.parse_args()
    tuned = args.gc == "tuned"
    database_url = os.environ["DATABASE_URL"]

    config = importlib.import_module(f"{PACKAGE}.config")
    security = importlib.import_module(f"{PACKAGE}.core.security")
    items = importlib.import_module(f"{PACKAGE}.features.items.models")
    users = importlib.import_module(f"{PACKAGE}.features.users.models")
    create_app = importlib.import_module(f"{PACKAGE}.main").create_app
    settings = config.Settings(
        _env_file=None,
        environment="production",
        database_url=database_url,
        jwt_secret=secrets.token_urlsafe(48),
        allowed_hosts="127.0.0.1",
        cors_origins="https://app.example.com",
        gc_freeze_at_startup=tuned,
        gc_gen0_threshold=10_000 if tuned else 0,
    )
    app = create_app(settings)
    sys.path.insert(0, str(BENCH_DIR))
    bare = importlib.import_module("baseline_bare").app
    minimal = importlib.import_module("baseline_minimal_db").app

    async with app.router.lifespan_context(app), minimal.router.lifespan_context(minimal):
        resources = app.state.resources
        async with resources.session_factory() as session:
            user = users.User(
                email=f"{uuid.uuid4().hex}@example.com",
                password_hash=await resources.password_hasher.hash(secrets.token_hex(16)),
            )
            session.add(user)
            await session.flush()
            item = items.Item(owner_id=user.id, title="benchmark")
            session.add(item)
            await session.commit()
        token, _ = resources.token_codec.issue(user.id, security.TokenType.ACCESS)
        bearer = [(b"authorization", f"Bearer {token}".encode())]
        cases = [
            ("app /health", app, http_scope("/health", [])),
            ("bare /health", bare, http_scope("/health", [])),
            ("app GET item", app, http_scope(f"/api/v1/items/{item.id}", bearer)),
            ("minimal GET item", minimal, http_scope(f"/items/{item.id}", [])),
        ]
        print(f"garbage collector: {args.gc} for every case", file=sys.stderr)
        for concurrency in args.concurrency:
            for name, target, scope in cases:
                micros = await cpu_per_request(target, scope, args.requests, concurrency)
                print(
                    f"concurrency {concurrency:>3}  {name:<17} {micros:7.0f} us CPU/request",
                    file=sys.stderr,
                )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
