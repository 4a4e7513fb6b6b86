"""Liveness (is the process up?) and readiness (can it serve traffic?) probes."""

from http import HTTPStatus
from typing import Literal

import anyio
import structlog
from fastapi import FastAPI, Request, Response
from pydantic import BaseModel
from sqlalchemy import text

from ...core.errors import ServiceUnavailableError
from ...core.openapi import Responses, error_response_doc
from ...core.packs import ReadinessCheck
from ...dependencies import app_resources
from ...packs import PACKS

logger = structlog.get_logger(__name__)

READINESS_TIMEOUT_SECONDS = 2.0
NOT_READY: Responses = {
    HTTPStatus.SERVICE_UNAVAILABLE: error_response_doc(
        HTTPStatus.SERVICE_UNAVAILABLE,
        description="Not ready: details.checks has the result of each check",
        message="The service is not ready",
        details={"checks": {"database": "error"}},
    )
}


class HealthStatus(BaseModel):
    status: Literal["ok"] = "ok"


HEALTHY = HealthStatus().model_dump_json().encode()

CheckResult = Literal["ok", "error"]


class ReadinessStatus(BaseModel):
    status: Literal["ok"] = "ok"
    # An informational check (a pack's) may say "error" while the service is ready.
    checks: dict[str, CheckResult]


def add_probes(app: FastAPI) -> None:
    """Add the probes to the app's own router. Orchestrators and load balancers call them every
    few seconds, and each level of router inclusion is matched again on every request."""
    app.get("/health", tags=["health"], response_model=HealthStatus)(health)
    app.get("/ready", tags=["health"], responses=NOT_READY)(ready)


async def health() -> Response:
    """Liveness: the process is up and serving requests. Touches no dependency."""
    # The answer never changes, so it is encoded once: a returned Response skips FastAPI's
    # validation and serialization of a return value, most of what the route itself costs, on
    # the endpoint called most often. add_probes documents it with response_model.
    return Response(HEALTHY, media_type="application/json")


async def ready(request: Request) -> ReadinessStatus:
    """Readiness: every critical dependency answers. 503 with the result of each check
    otherwise. The checks run one after another, each within its own time limit."""
    results = {check.name: await _run(check, request.app) for check in READINESS_CHECKS}
    if any(results[check.name] != "ok" for check in READINESS_CHECKS if check.critical):
        raise ServiceUnavailableError("The service is not ready", details={"checks": results})
    return ReadinessStatus(checks=results)


async def _run(check: ReadinessCheck, app: FastAPI) -> CheckResult:
    try:
        with anyio.fail_after(READINESS_TIMEOUT_SECONDS):
            await check.probe(app)
    except Exception as exc:
        logger.warning("readiness_check_failed", check=check.name, error=type(exc).__name__)
        return "error"
    return "ok"


async def _database_answers(app: FastAPI) -> None:
    async with app_resources(app).engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


READINESS_CHECKS: tuple[ReadinessCheck, ...] = (
    ReadinessCheck("database", _database_answers),
    *(check for pack in PACKS for check in pack.readiness_checks),
)
