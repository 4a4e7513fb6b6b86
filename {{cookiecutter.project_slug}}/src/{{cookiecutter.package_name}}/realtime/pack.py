"""What the WebSockets pack plugs into the service (core/packs.py), and its lifespan: the hub,
on the bus that reaches every process: a pack's shared bus, else PostgreSQL's LISTEN/NOTIFY,
else this process's alone."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from ..core.bus import MessageBus
from ..core.packs import Pack, ReadinessCheck
from ..core.tracing import app_tracer
from ..dependencies import Resources, app_resources
from ..features.auth.dependencies import principals_of, revoked_tokens_of
from .asyncapi import docs_router
from .auth import Refusal, verified
from .endpoint import hub_of
from .hub import Hub
from .item_events import publish_item_events, stop_item_events
from .postgres_bus import PostgresBus
from .revocations import share_revocations
from .router import router

logger = structlog.get_logger(__name__)


def bus_for(resources: Resources) -> tuple[MessageBus, bool]:
    """The bus the hub uses, and whether it is the pack's own (to close)."""
    if resources.bus.reaches_other_processes:
        return resources.bus, False
    if resources.engine.dialect.name == "postgresql":
        return PostgresBus(resources.engine), True
    logger.warning(
        "realtime_single_process",
        detail="WebSocket events reach clients of this process only: run one worker, or use "
        "PostgreSQL or a shared message bus for events across processes",
    )
    return resources.bus, False


@asynccontextmanager
async def realtime(app: FastAPI) -> AsyncIterator[None]:
    resources = app_resources(app)
    revoked, principals = revoked_tokens_of(app), principals_of(app)
    bus, own_bus = bus_for(resources)

    async def refusal(token: str) -> Refusal | None:
        checked = await verified(app, token)
        return checked if isinstance(checked, tuple) else None

    tracer = app_tracer(app, __name__)
    hub = Hub(resources.settings, bus, revoked, check=refusal, tracer=tracer)
    app.state.realtime_hub = hub
    engine = resources.engine.sync_engine
    principals.on_evict.append(hub.recheck_soon)
    try:
        async with hub.running():
            if bus.reaches_other_processes and not revoked.publishers:
                await share_revocations(bus, revoked)
            publish_item_events(engine, hub)
            yield
    finally:
        stop_item_events(engine)
        principals.on_evict.remove(hub.recheck_soon)
        if own_bus:
            await bus.aclose()


async def bus_hears(app: FastAPI) -> None:
    if not hub_of(app).bus.hearing:
        raise ConnectionError("The message bus is not listening")


REALTIME = Pack(
    name="realtime",
    routers=(router,),
    lifespan=realtime,
    readiness_checks=(ReadinessCheck("realtime", bus_hears, critical=False),),
    docs_routers=(docs_router,),
)
