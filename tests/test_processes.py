"""What the Redis pack promises across processes, shown with two real server processes of a baked
Redis variant on loopback, sharing one PostgreSQL database and one Redis: the login limit holds
across both, a token revoked through one is refused by the other within a second, a role change
through one applies in the other within a second, an item updated through one is never served
stale by the other."""

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from scripts.variants import Variant, pairwise_variants, variant_id

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


def redis_postgresql_variant() -> Variant:
    """The first variant of the pairwise set with the Redis pack on PostgreSQL."""
    return next(
        variant
        for variant in pairwise_variants()
        if variant["use_redis"] == "yes" and variant["database"] == "postgresql"
    )


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

    def stop(self) -> None:
        self.popen.terminate()
        try:
            self.popen.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait()


@pytest.fixture(scope="module")
def two_processes(
    synced: Callable[[Variant], Path],
    postgres_database: Callable[[], str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Process, Process]]:
    variant = redis_postgresql_variant()
    project = synced(variant)
    env = {
        "ENVIRONMENT": "development",
        "DATABASE_URL": postgres_database(),
        "REDIS_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "REDIS_KEY_PREFIX": f"two-processes-{uuid.uuid4().hex[:8]}:",
        "JWT_SECRET": uuid.uuid4().hex * 2,
        "AUTH_RATE_LIMIT_PER_MINUTE": "6",
        "AUTH_RATE_LIMIT_BURST": str(RATE_LIMIT_BURST),
        "AUTH_USER_CACHE_SECONDS": str(USER_CACHE_SECONDS),
        "LOG_LEVEL": "WARNING",
        # Clients are told apart by X-Forwarded-For (each test is one client, the limit test
        # many), as behind a proxy: the per-address limit is shared too.
        "FORWARDED_ALLOW_IPS": "127.0.0.1",
    }
    run(["uv", "run", "alembic", "upgrade", "head"], project, env=env)
    run(
        ["uv", "run", "my-service", "create-admin", "--email", "admin@example.com"],
        project,
        env={**env, "ADMIN_PASSWORD": PASSWORD},
    )
    logs = tmp_path_factory.mktemp(f"processes-{variant_id(variant)}")
    processes = (Process(project, env, logs / "one.log"), Process(project, env, logs / "two.log"))
    try:
        for process in processes:
            process.wait_ready()
        yield processes
    finally:
        for process in processes:
            process.stop()


def another_client() -> httpx.Client:
    """A client with an address of its own (10.x.y.z, through X-Forwarded-For)."""
    address = ".".join(str(part) for part in (10, *uuid.uuid4().bytes[:3]))
    return httpx.Client(headers={"X-Forwarded-For": address}, timeout=10)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with another_client() as client:
        yield client


def login(http: httpx.Client, process: Process, email: str) -> str:
    response = http.post(
        f"{process.base}/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


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
    two_processes: tuple[Process, Process], http: httpx.Client
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
    two_processes: tuple[Process, Process], http: httpx.Client
) -> None:
    one, two = two_processes
    email = f"revoked-{uuid.uuid4().hex[:8]}@example.com"
    register(http, one, email)
    tokens = http.post(
        f"{one.base}/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    ).json()
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
    two_processes: tuple[Process, Process], http: httpx.Client
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
    two_processes: tuple[Process, Process], http: httpx.Client
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
