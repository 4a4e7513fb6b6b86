"""Liveness (is the process up?) and readiness (can it serve traffic?) probes."""

from http import HTTPStatus
from typing import Literal

import anyio
import structlog
from fastapi import FastAPI, Request
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ...core.errors import ServiceUnavailableError
from ...core.openapi import Responses, error_response_doc
from ...dependencies import resources_of

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


class ReadinessStatus(BaseModel):
    status: Literal["ok"] = "ok"
    checks: dict[str, Literal["ok"]]


def add_probes(app: FastAPI) -> None:
    """Add the probes to the app's own router. Orchestrators and load balancers call them every
    few seconds, and each level of router inclusion is matched again on every request."""
    app.get("/health", tags=["health"])(health)
    app.get("/ready", tags=["health"], responses=NOT_READY)(ready)


async def health() -> HealthStatus:
    """Liveness: the process is up and serving requests. Touches no dependency."""
    return HealthStatus()


async def ready(request: Request) -> ReadinessStatus:
    """Readiness: every dependency answers. 503 with the status of each check otherwise."""
    checks = {"database": await _check_database(resources_of(request).engine)}
    if any(result != "ok" for result in checks.values()):
        raise ServiceUnavailableError("The service is not ready", details={"checks": checks})
    return ReadinessStatus(checks={"database": "ok"})


async def _check_database(engine: AsyncEngine) -> str:
    try:
        with anyio.fail_after(READINESS_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
    except Exception as exc:
        logger.warning("readiness_check_failed", check="database", error=type(exc).__name__)
        return "error"
    return "ok"
