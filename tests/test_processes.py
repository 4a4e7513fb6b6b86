"""What the packs promise across processes, shown with two real server processes of a bake on
loopback, sharing one PostgreSQL database (and one Redis where the bake has it).

The Redis pack: the login limit holds across both, a token revoked through one is refused by the
other within a second, a role change through one applies in the other within a second, an item
updated through one is never served stale by the other.

The WebSockets pack, with Redis and with PostgreSQL's LISTEN/NOTIFY alone: a client connected to
one hears of its items changed through the other, and when its token is revoked through the
other, the one it is connected to closes its connection with 1008."""

import json
import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from scripts.variants import Variant, all_variants, pairwise_variants, variant_id

from .support import clean_environment, run

pytestmark = pytest.mark.slow

# Far longer than a healthy answer takes: reached only when something is broken.
STARTUP_SECONDS = 60
# What the pack promises: every process sees a revocation or a role change within this time.
PROPAGATION_SECONDS = 1.0
PASSWORD = "correct horse battery staple"  # noqa: S105 - the test accounts'
RATE_LIMIT_BURST = 4
# Long enough that only a pushed eviction, never the cache's own expiry, explains a change.
USER_CACHE_SECONDS = 60


# What the WebSockets pack promises: a revoked token's connection is closed with it.
POLICY_VIOLATION = 1008


def first_variant(**options: str) -> Variant:
    """The first variant with *options* in the pairwise set, else in the set of every variant
    (which the pairwise set need not cover when more than two options are fixed)."""
    return next(
        variant
        for variant in (*pairwise_variants(), *all_variants())
        if all(variant[option] == value for option, value in options.items())
    )


def redis_postgresql_variant() -> Variant:
    """The first variant of the pairwise set with the Redis pack on PostgreSQL."""
    return first_variant(use_redis="yes", database="postgresql")


def websocket_variants() -> list[Variant]:
    """The WebSockets pack over Redis (the Redis tests' bake when it has the pack) and over
    PostgreSQL's LISTEN/NOTIFY alone."""
    with_redis = redis_postgresql_variant()
    if with_redis["use_websockets"] != "yes":
        with_redis = first_variant(use_websockets="yes", use_redis="yes", database="postgresql")
    without_redis = first_variant(use_websockets="yes", use_redis="no", database="postgresql")
    return [with_redis, without_redis]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Process:
    """One uvicorn process of the bake on a free loopback port. The port is picked before
    uvicorn binds it, so another program can take it in between: a start that fails for that
    reason is retried on a new port."""

    def __init__(self, project: Path, env: dict[str, str], log: Path) -> None:
        self.project = project
        self.env = clean_environment(env)
        self.log = log
        self.start()

    def start(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        command = [
            "uv",
            "run",
            "uvicorn",
            "--factory",
            "my_service.main:create_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--ws",
            "websockets-sansio",
        ]
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - the test's own command
                command, cwd=self.project, env=self.env, stdout=out, stderr=out
            )

    def wait_ready(self, starts: int = 3) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                output = self.log.read_text()
                if starts == 1 or "address already in use" not in output:
                    raise AssertionError(output)
                self.start()
                self.wait_ready(starts - 1)
                return
            try:
                if httpx.get(f"{self.base}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.base} never became ready:\n{self.log.read_text()}")

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/api/v1/ws"

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


Processes = tuple[Process, Process]


@pytest.fixture(scope="module")
def started(
    synced: Callable[[Variant], Path],
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[Variant], Processes]]:
    """Two server processes of a variant's bake, on a database of their own (and a Redis key
    prefix of their own): started once per variant, stopped at the end of the module."""
    running: dict[str, Processes] = {}
    every: list[Process] = []

    def start(variant: Variant) -> Processes:
        name = variant_id(variant)
        if name not in running:
            project = synced(variant)
            env = server_environment(variant, postgres_database())
            run(["uv", "run", "alembic", "upgrade", "head"], project, env=env)
            run(
                ["uv", "run", "my-service", "create-admin", "--email", "admin@example.com"],
                project,
                env={**env, "ADMIN_PASSWORD": PASSWORD},
            )
            logs = tmp_path_factory.mktemp(f"processes-{name}")
            for log in ("one.log", "two.log"):
                every.append(Process(project, env, logs / log))
            processes = (every[-2], every[-1])
            for process in processes:
                process.wait_ready()
            running[name] = processes
        return running[name]

    try:
        yield start
    finally:
        for process in every:
            process.stop()


def server_environment(variant: Variant, database_url: str) -> dict[str, str]:
    env = {
        "ENVIRONMENT": "development",
        "DATABASE_URL": database_url,
        "JWT_SECRET": uuid.uuid4().hex * 2,
        "AUTH_RATE_LIMIT_PER_MINUTE": "6",
        "AUTH_RATE_LIMIT_BURST": str(RATE_LIMIT_BURST),
        "AUTH_USER_CACHE_SECONDS": str(USER_CACHE_SECONDS),
        "LOG_LEVEL": "WARNING",
        # Clients are told apart by X-Forwarded-For (each test is one client, the limit test
        # many), as behind a proxy: the per-address limit is shared too.
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    if variant["use_redis"] == "yes":
        env["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
        env["REDIS_KEY_PREFIX"] = f"two-processes-{uuid.uuid4().hex[:8]}:"
    return env


@pytest.fixture(scope="module")
def two_processes(started: Callable[[Variant], Processes]) -> Processes:
    return started(redis_postgresql_variant())


def another_client() -> httpx.Client:
    """A client with an address of its own (10.x.y.z, through X-Forwarded-For)."""
    address = ".".join(str(part) for part in (10, *uuid.uuid4().bytes[:3]))
    return httpx.Client(headers={"X-Forwarded-For": address}, timeout=10)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with another_client() as client:
        yield client


def tokens_of(http: httpx.Client, process: Process, email: str) -> dict[str, str]:
    """Log in through *process*: the access and the refresh token."""
    response = http.post(
        f"{process.base}/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def login(http: httpx.Client, process: Process, email: str) -> str:
    return tokens_of(http, process, email)["access_token"]


def register(http: httpx.Client, process: Process, email: str) -> str:
    response = http.post(
        f"{process.base}/api/v1/auth/register", json={"email": email, "password": PASSWORD}
    )
    assert response.status_code == 201, response.text
    user_id: str = response.json()["id"]
    return user_id


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def within_propagation(check: Callable[[], bool]) -> float:
    """Seconds until *check* holds; fails when that takes longer than the pack promises."""
    start = time.monotonic()
    while not check():
        assert time.monotonic() - start < PROPAGATION_SECONDS, "not seen within a second"
        time.sleep(0.02)
    return time.monotonic() - start


def test_the_login_limit_holds_across_both_processes(
    two_processes: Processes, http: httpx.Client
) -> None:
    """Wrong passwords for one account, alternating between the processes and each from a new
    address: the account's limit is reached after the burst in total, not per process."""
    one, two = two_processes
    email = f"limited-{uuid.uuid4().hex[:8]}@example.com"
    register(http, one, email)
    statuses = []
    for process in [one, two] * RATE_LIMIT_BURST:
        with another_client() as attacker:  # a new address each time: the account's limit
            response = attacker.post(
                f"{process.base}/api/v1/auth/login",
                data={"username": email, "password": "wrong password, again"},
            )
        statuses.append(response.status_code)

    assert statuses[:RATE_LIMIT_BURST] == [401] * RATE_LIMIT_BURST
    assert set(statuses[RATE_LIMIT_BURST:]) == {429}


def test_a_token_revoked_through_one_is_refused_by_the_other(
    two_processes: Processes, http: httpx.Client
) -> None:
    one, two = two_processes
    email = f"revoked-{uuid.uuid4().hex[:8]}@example.com"
    register(http, one, email)
    tokens = tokens_of(http, one, email)
    access = bearer(tokens["access_token"])
    assert http.get(f"{two.base}/api/v1/users/me", headers=access).status_code == 200

    logout = http.post(
        f"{one.base}/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
    )
    assert logout.status_code == 204, logout.text

    within_propagation(
        lambda: http.get(f"{two.base}/api/v1/users/me", headers=access).status_code == 401
    )


def test_a_role_change_through_one_applies_in_the_other(
    two_processes: Processes, http: httpx.Client
) -> None:
    one, two = two_processes
    email = f"promoted-{uuid.uuid4().hex[:8]}@example.com"
    user_id = register(http, one, email)
    user = bearer(login(http, two, email))
    admin = bearer(login(http, one, "admin@example.com"))
    # The other process has read the user's role (and cached it for a minute).
    assert http.get(f"{two.base}/api/v1/users", headers=user).status_code == 403

    promote = http.patch(
        f"{one.base}/api/v1/users/{user_id}/role", json={"role": "admin"}, headers=admin
    )
    assert promote.status_code == 200, promote.text
    within_propagation(
        lambda: http.get(f"{two.base}/api/v1/users", headers=user).status_code == 200
    )

    demote = http.patch(
        f"{one.base}/api/v1/users/{user_id}/role", json={"role": "user"}, headers=admin
    )
    assert demote.status_code == 200, demote.text
    within_propagation(
        lambda: http.get(f"{two.base}/api/v1/users", headers=user).status_code == 403
    )


def test_an_item_updated_through_one_is_not_served_stale_by_the_other(
    two_processes: Processes, http: httpx.Client
) -> None:
    one, two = two_processes
    email = f"owner-{uuid.uuid4().hex[:8]}@example.com"
    register(http, one, email)
    owner = bearer(login(http, one, email))
    created = http.post(f"{one.base}/api/v1/items", json={"title": "before"}, headers=owner)
    assert created.status_code == 201, created.text
    url = f"/api/v1/items/{created.json()['id']}"
    # Read through both, so that each has had the chance to cache it.
    for process in (two, one, two):
        assert http.get(process.base + url, headers=owner).json()["title"] == "before"

    updated = http.patch(one.base + url, json={"title": "after"}, headers=owner)
    assert updated.status_code == 200, updated.text

    assert http.get(two.base + url, headers=owner).json()["title"] == "after"
    assert http.delete(one.base + url, headers=owner).status_code == 204
    assert http.get(two.base + url, headers=owner).status_code == 404


def next_event(client: ClientConnection, deadline: float) -> dict[str, Any] | None:
    """The next frame but heartbeats that the server sends before *deadline* (monotonic), or
    None."""
    try:
        while True:
            frame: dict[str, Any] = json.loads(client.recv(timeout=deadline - time.monotonic()))
            if frame["type"] != "ping":
                return frame
    except TimeoutError:
        return None


def close_code(client: ClientConnection, deadline: float) -> int | str | None:
    """The close code the server sends before *deadline*, reading (and dropping) frames till
    then; "open" when the connection is still open then."""
    try:
        while True:
            client.recv(timeout=deadline - time.monotonic())
    except TimeoutError:
        return "open"
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


def logs(*processes: Process) -> str:
    return "\n".join(f"--- {p.log.name} ---\n{p.log.read_text()}" for p in processes)


@pytest.fixture(params=websocket_variants(), ids=variant_id)
def websocket_processes(
    request: pytest.FixtureRequest, started: Callable[[Variant], Processes]
) -> Processes:
    return started(request.param)


def test_a_websocket_on_one_hears_of_changes_and_revocation_through_the_other(
    websocket_processes: Processes, http: httpx.Client
) -> None:
    one, two = websocket_processes
    email = f"listener-{uuid.uuid4().hex[:8]}@example.com"
    register(http, two, email)
    tokens = tokens_of(http, two, email)
    owner = bearer(tokens["access_token"])

    with connect(one.ws, subprotocols=["bearer", tokens["access_token"]], open_timeout=5) as client:
        assert client.subprotocol == "bearer"
        welcome = next_event(client, time.monotonic() + STARTUP_SECONDS)
        assert welcome is not None
        assert welcome["type"] == "welcome"

        created = http.post(f"{two.base}/api/v1/items", json={"title": "heard"}, headers=owner)
        assert created.status_code == 201, created.text
        item_id = created.json()["id"]
        event = next_event(client, time.monotonic() + PROPAGATION_SECONDS)
        assert event is not None, logs(one, two)
        assert (event["type"], event["item_id"]) == ("item.created", item_id)

        url = f"{two.base}/api/v1/items/{item_id}"
        assert http.patch(url, json={"title": "changed"}, headers=owner).status_code == 200
        event = next_event(client, time.monotonic() + PROPAGATION_SECONDS)
        assert event is not None, logs(one, two)
        assert (event["type"], event["item_id"]) == ("item.updated", item_id)

        logout = http.post(
            f"{two.base}/api/v1/auth/logout", json={"refresh_token": tokens["refresh_token"]}
        )
        assert logout.status_code == 204, logout.text
        code = close_code(client, time.monotonic() + PROPAGATION_SECONDS)
        assert code == POLICY_VIOLATION, logs(one, two)
