"""What an add-on pack plugs into the service (the bake's packs are listed in ``packs.py``).

A pack owns its folder; the service knows it only through this record: the routers it adds
(and its documents), the resources it starts with the app (and closes, in reverse order, when
the app stops), the readiness checks ``/ready`` runs for it and the request bodies its routes
take beyond the default limits.
"""

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from fastapi import APIRouter, FastAPI
from pydantic_settings import BaseSettings

from .middleware import BodyLimit


@dataclass(frozen=True, slots=True)
class ReadinessCheck:
    """One dependency ``/ready`` reports by *name*. *probe* returns when the dependency answers
    and raises otherwise; a failing critical check makes the service not ready (503), a failing
    informational one is only reported."""

    name: str
    probe: Callable[[FastAPI], Awaitable[object]]
    critical: bool = True


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    routers: tuple[APIRouter, ...] = ()
    # Entered by the app's lifespan after the core resources exist (app.state.resources).
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]] | None = None
    readiness_checks: tuple[ReadinessCheck, ...] = ()
    # Documents beside /openapi.json (at the root, served only where the docs are).
    docs_routers: tuple[APIRouter, ...] = ()
    # Paths under /api/v1 whose request bodies may be larger, or slower, than every other's
    # (MAX_REQUEST_BODY_BYTES, REQUEST_BODY_TIMEOUT_SECONDS), from the settings.
    body_limits: Callable[[BaseSettings], Mapping[str, BodyLimit]] | None = None
