"""The plug points a pack fills (core/packs.py): routers, resources started with the app and
closed in reverse order, readiness checks that are critical or informational."""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import anyio
import pytest
from fastapi import APIRouter, FastAPI, Request
from pydantic_settings import BaseSettings

from {{ cookiecutter.package_name }} import main
from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.middleware import BodyLimit
from {{ cookiecutter.package_name }}.core.packs import Pack, ReadinessCheck
from {{ cookiecutter.package_name }}.features.health import router as health

from ..support import assert_envelope, serve


def recording_pack(name: str, events: list[str], fail_on_start: bool = False) -> Pack:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        assert app.state.resources.engine is not None  # the core's resources exist already
        events.append(f"start {name}")
        if fail_on_start:
            raise RuntimeError(f"{name} cannot start")
        try:
            yield
        finally:
            events.append(f"stop {name}")

    router = APIRouter(prefix=f"/{name}", tags=[name])

    @router.get("/hello")
    async def hello() -> dict[str, str]:
        return {"pack": name}

    return Pack(name=name, routers=(router,), lifespan=lifespan)


async def answers(app: FastAPI) -> None:
    return None


async def refuses(app: FastAPI) -> None:
    raise ConnectionError("down")


async def hangs(app: FastAPI) -> None:
    await anyio.sleep_forever()


async def test_packs_start_in_order_stop_in_reverse_and_serve_their_routers(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    packs = (recording_pack("first", events), recording_pack("second", events))
    monkeypatch.setattr(main, "PACKS", packs)

    async with serve(make_settings()) as client:
        assert events == ["start first", "start second"]
        response = await client.get("/api/v1/second/hello")

    assert response.json() == {"pack": "second"}
    assert events == ["start first", "start second", "stop second", "stop first"]


@pytest.mark.error_path
async def test_a_pack_that_fails_to_start_stops_the_ones_before_it(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[str] = []
    packs = (recording_pack("first", events), recording_pack("broken", events, True))
    monkeypatch.setattr(main, "PACKS", packs)

    with pytest.raises(RuntimeError, match="broken cannot start"):
        async with serve(make_settings()):
            pass

    assert events == ["start first", "start broken", "stop first"]


@pytest.mark.error_path
async def test_a_failing_critical_check_makes_the_service_not_ready(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = (ReadinessCheck("database", answers), ReadinessCheck("queue", refuses))
    monkeypatch.setattr(health, "READINESS_CHECKS", checks)

    async with serve(make_settings()) as client:
        response = await client.get("/ready")

    assert response.status_code == 503
    assert_envelope(response.json(), "SERVICE_UNAVAILABLE")
    assert response.json()["error"]["details"] == {"checks": {"database": "ok", "queue": "error"}}


@pytest.mark.error_path
async def test_a_failing_informational_check_is_reported_but_the_service_is_ready(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = (ReadinessCheck("database", answers), ReadinessCheck("mail", refuses, critical=False))
    monkeypatch.setattr(health, "READINESS_CHECKS", checks)

    async with serve(make_settings()) as client:
        response = await client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "mail": "error"}}


@pytest.mark.error_path
async def test_a_check_that_does_not_answer_in_time_fails(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(health, "READINESS_CHECKS", (ReadinessCheck("stalled", hangs),))
    monkeypatch.setattr(health, "READINESS_TIMEOUT_SECONDS", 0.05)

    async with serve(make_settings()) as client:
        response = await client.get("/ready")

    assert response.status_code == 503
    assert response.json()["error"]["details"] == {"checks": {"stalled": "error"}}


def uploading_pack(max_bytes: int) -> Pack:
    """A pack whose one route reads a body of up to *max_bytes*, more than the default."""
    router = APIRouter(prefix="/uploads", tags=["uploads"])

    @router.post("")
    async def take(request: Request) -> dict[str, int]:
        return {"received": len(await request.body())}

    def limits(settings: BaseSettings) -> dict[str, BodyLimit]:
        return {"/uploads": BodyLimit(max_bytes, timeout_seconds=5)}

    return Pack(name="uploads", routers=(router,), body_limits=limits)


async def test_a_pack_takes_larger_bodies_on_its_own_paths_only(
    make_settings: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(main, "PACKS", (uploading_pack(max_bytes=4096),))

    async with serve(make_settings(max_request_body_bytes=1024)) as client:
        taken = await client.post("/api/v1/uploads", content=b"x" * 4096)
        elsewhere = await client.post("/api/v1/auth/register", content=b"x" * 4096)
        over = await client.post("/api/v1/uploads", content=b"x" * 4097)

    assert taken.json() == {"received": 4096}
    assert elsewhere.status_code == 413
    assert elsewhere.json()["error"]["message"] == "The request body exceeds 1024 bytes"
    assert over.status_code == 413
    assert over.json()["error"]["message"] == "The request body exceeds 4096 bytes"
