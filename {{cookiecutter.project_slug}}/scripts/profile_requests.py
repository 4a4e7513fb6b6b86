"""Profile one API path before optimizing it: ``make profile path=/api/v1/items n=200``.

    uv run python scripts/profile_requests.py [--path /api/v1/items] [--requests 200]
        [--interval 0.001] [--output profile.html]

Builds the app in this process on a fresh SQLite file in a temporary directory (the schema
from the models, the settings of a development run with its cheapest password hashing, logs at
WARNING), registers and logs in a user, creates a few items for them, then sends REQUESTS
signed-in ``GET``s of PATH through httpx's ASGI transport under pyinstrument, an async-aware
sampling profiler that looks every INTERVAL seconds (a request of a millisecond or less needs a
shorter one, or more of them, to be seen). No server and no network: the report shows the
app's own code, from middleware to SQL, without uvicorn's.

``{item}`` in PATH stands for one of the user's items (``--path '/api/v1/items/{item}'``). The
report is pyinstrument's HTML (open it in a browser), or text when OUTPUT ends in ``.txt``.
A path that does not answer 2xx, or a bad number, stops the run with one line and exit code 2
before anything is profiled.
"""

import argparse
import asyncio
import importlib
import secrets
import sys
import tempfile
import tomllib
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
from pyinstrument import Profiler
from sqlalchemy.ext.asyncio import create_async_engine

PROJECT = Path(__file__).resolve().parent.parent
ITEMS = 25  # the user's items, so that lists have rows to page through
PASSWORD = secrets.token_urlsafe(16)


class ProfileError(Exception):
    """A run that cannot be profiled; its message is the one line the user sees."""


def package_name() -> str:
    """The import name (pyproject's ``module-name``), which need not be the distribution's."""
    pyproject = tomllib.loads((PROJECT / "pyproject.toml").read_text(encoding="utf-8"))
    name: str = pyproject["tool"]["uv"]["build-backend"]["module-name"]
    return name


def interval(text: str) -> float:
    """argparse type: a sampling interval in seconds, over 0 and at most 1."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds <= 1:
        raise argparse.ArgumentTypeError(f"{seconds} is not over 0 and at most 1 second")
    return seconds


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--path", default="/api/v1/items", help="the path to GET, query included")
    cli: Any = importlib.import_module(f"{package_name()}.cli")
    parser.add_argument(
        "--requests", type=cli.positive_whole_number, default=200, help="how many (default 200)"
    )
    parser.add_argument(
        "--interval", type=interval, default=0.001, help="seconds between samples (default 0.001)"
    )
    parser.add_argument("--output", type=Path, default=Path("profile.html"))
    args = parser.parse_args(argv)
    if not args.path.startswith("/"):
        parser.error(f"--path must start with '/': {args.path!r}")
    return args


async def signed_in_client(client: httpx.AsyncClient) -> str:
    """Register and log in a user, give them ITEMS items; the id of one of them."""
    email = f"profile-{secrets.token_hex(4)}@example.com"
    register = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    register.raise_for_status()
    login = await client.post("/api/v1/auth/login", data={"username": email, "password": PASSWORD})
    login.raise_for_status()
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    created = [
        await client.post("/api/v1/items", json={"title": f"Item {number}", "priority": 3})
        for number in range(ITEMS)
    ]
    for response in created:
        response.raise_for_status()
    item: str = created[0].json()["id"]
    return item


async def profile(
    path: str, requests: int, database: Path, interval: float = 0.001
) -> tuple[Profiler, str]:
    """Build the app on *database*, sign in, check *path* answers 2xx, then profile it; the
    profiler and the path as requested (``{item}`` replaced)."""
    package = package_name()
    config: Any = importlib.import_module(f"{package}.config")
    models: Any = importlib.import_module(f"{package}.models")
    main: Any = importlib.import_module(f"{package}.main")
    database_url = f"sqlite+aiosqlite:///{database}"
    engine = create_async_engine(database_url)
    async with engine.begin() as connection:
        await connection.run_sync(models.Base.metadata.create_all)
    await engine.dispose()

    settings = config.Settings(
        _env_file=None,
        environment="development",
        database_url=database_url,
        jwt_secret=secrets.token_urlsafe(48),
        log_level="WARNING",
        auth_rate_limit_per_minute=10_000,
        auth_rate_limit_burst=10_000,
        # Only the throwaway user's sign-up and sign-in hash a password, before profiling (the
        # profiled requests are GETs): the least a development run allows keeps them quick.
        argon2_memory_kib=config.OWASP_MIN_ARGON2_MEMORY_KIB,
        argon2_time_cost=config.OWASP_MIN_ARGON2_TIME_COST,
    )
    app = main.create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client,
    ):
        path = path.replace("{item}", await signed_in_client(client))
        first = await client.get(path)
        if not first.is_success:
            raise ProfileError(
                f"GET {path} answered {first.status_code} {HTTPStatus(first.status_code).phrase}"
                f": {first.text[:300]}"
            )
        profiler = Profiler(interval=interval, async_mode="enabled")
        profiler.start()
        for _ in range(requests):
            response = await client.get(path)
            if not response.is_success:
                profiler.stop()
                raise ProfileError(f"GET {path} answered {response.status_code} while profiled")
        profiler.stop()
    return profiler, path


def main(argv: list[str]) -> int:
    args = arguments(argv)
    with tempfile.TemporaryDirectory() as scratch:
        try:
            profiler, path = asyncio.run(
                profile(args.path, args.requests, Path(scratch) / "profile.db", args.interval)
            )
        except ProfileError as error:
            sys.stderr.write(f"profile: {error}\n")
            return 2
    report = (
        profiler.output_text(unicode=True, show_all=False)
        if args.output.suffix == ".txt"
        else profiler.output_html()
    )
    args.output.write_text(report, encoding="utf-8")
    sys.stdout.write(f"profiled {args.requests} x GET {path}: report in {args.output}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
