"""The app factory. Serve with ``uvicorn --factory <package>.main:create_app``."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute, APIRouter
from fastapi.telemetry import TelemetryConfig
from opentelemetry.sdk.trace import TracerProvider
from starlette.middleware.gzip import GZipMiddleware

from .config import Settings, get_settings
from .core.access_log import access_log
from .core.database import create_engine, create_read_session_factory, create_session_factory
from .core.docs import add_docs
from .core.errors import register_error_handlers
from .core.logging import configure_logging
from .core.metrics import RequestMetrics
from .core.metrics_export import add_metrics_endpoint
from .core.metrics_sharing import share_totals
from .core.middleware import BodyLimit, EdgeMiddleware
from .core.openapi import API_DESCRIPTION, DocumentedApp, DocumentedRoute
from .core.rate_limit import InProcessRateLimiter
from .core.runtime import tune_garbage_collector
from .core.security import PasswordHasher, TokenCodec
from .core.sentry import ReportErrors, flush_error_reports, start_error_reporting
from .core.tracing import (
    RequestIdOnSpan,
    create_tracer_provider,
    exporting_spans,
    trace_statements,
)
from .dependencies import Resources
from .features.auth.principals import PrincipalCache
from .features.auth.retention import TokenRetention
from .features.auth.revocation import RevokedTokens
from .features.auth.router import router as auth_router
from .features.health.router import add_probes
from .features.items.router import router as items_router
from .features.users.router import router as users_router
from .packs import PACKS

logger = structlog.get_logger(__name__)

API_PREFIX = "/api/v1"
TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def _operation_id(route: APIRoute) -> str:
    """Readable OpenAPI operation ids (``items-read_item``) for generated clients."""
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Create the process-wide resources on start-up and release them on shutdown: the core's
    (with METRICS_DIR, the sharing of this worker's metrics), then each pack's (packs.py),
    closed in reverse order."""
    settings: Settings = app.state.settings
    tracer_provider: TracerProvider | None = app.state.tracer_provider
    engine = create_engine(settings)
    if tracer_provider is not None:
        trace_statements(engine.sync_engine, tracer_provider.get_tracer(__name__))
    app.state.resources = Resources(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        read_session_factory=create_read_session_factory(engine),
        password_hasher=PasswordHasher(settings),
        token_codec=TokenCodec(settings),
        auth_rate_limiter=InProcessRateLimiter(
            per_minute=settings.auth_rate_limit_per_minute, burst=settings.auth_rate_limit_burst
        ),
    )
    app.state.principals = PrincipalCache(settings.auth_user_cache_seconds)
    app.state.revoked_tokens = RevokedTokens()
    app.state.token_retention = retention = TokenRetention(app.state.resources.session_factory)
    try:
        async with exporting_spans(tracer_provider, settings), AsyncExitStack() as packs:
            if app.state.metrics is not None and settings.metrics_dir is not None:
                await packs.enter_async_context(
                    share_totals(app, settings.metrics_dir, settings.metrics_share_seconds)
                )
            for pack in PACKS:
                if pack.lifespan is not None:
                    await packs.enter_async_context(pack.lifespan(app))
            # Last: what start-up built is exempt from collection from here on.
            restore_garbage_collector = tune_garbage_collector(settings)
            logger.info("startup", environment=settings.environment.value)
            try:
                yield
            finally:
                restore_garbage_collector()
    finally:
        await retention.wait()
        await engine.dispose()
        logger.info("shutdown")
        if settings.error_reporting_enabled:
            flush_error_reports()


def _telemetry(settings: Settings, tracer_provider: TracerProvider | None) -> TelemetryConfig:
    """FastAPI's native telemetry: spans through the app's provider when tracing is on; with
    TELEMETRY_ENABLED, everything (spans, metrics, logs) through the global providers an
    OpenTelemetry SDK set up outside the app (``opentelemetry-instrument``)."""
    if tracer_provider is not None:
        both = settings.telemetry_enabled
        return {"tracer_provider": tracer_provider, "metrics": both, "logs": both}
    return {} if settings.telemetry_enabled else TELEMETRY_OFF


def pack_routers() -> tuple[APIRouter, ...]:
    return tuple(router for pack in PACKS for router in pack.routers)


def pack_body_limits(settings: Settings) -> dict[str, BodyLimit]:
    return {
        API_PREFIX + path: limit
        for pack in PACKS
        if pack.body_limits is not None
        for path, limit in pack.body_limits(settings).items()
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for *settings* (by default, those of the environment)."""
    settings = settings or get_settings()
    configure_logging(settings)
    reporting_errors = start_error_reporting(settings, settings.environment.value)
    tracer_provider = create_tracer_provider(
        settings, settings.app_name, settings.environment.value
    )
    app = DocumentedApp(
        title=settings.app_name,
        description=API_DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served by add_docs, below
        redoc_url=None,
        openapi_url="/openapi.json" if settings.serve_docs else None,
        generate_unique_id_function=_operation_id,
        telemetry=_telemetry(settings, tracer_provider),
    )
    app.state.settings = settings
    # This process's request totals (core/metrics.py); none are kept with METRICS_ENDPOINT=off.
    app.state.metrics = RequestMetrics() if settings.metrics_enabled else None
    app.state.tracer_provider = tracer_provider
    app.router.route_class = DocumentedRoute  # for the probes, on the app's own router
    register_error_handlers(app)

    # One level of inclusion at most: each level is matched again on every request.
    add_probes(app)
    add_metrics_endpoint(app, settings)
    for router in (auth_router, users_router, items_router, *pack_routers()):
        app.include_router(router, prefix=API_PREFIX)
    if settings.serve_docs:
        for router in (router for pack in PACKS for router in pack.docs_routers):
            app.include_router(router)
        add_docs(app)  # after the API: matched last

    # Inside the edge middleware, which has set the request id by then.
    if reporting_errors:
        app.add_middleware(ReportErrors)
    if tracer_provider is not None:
        app.add_middleware(RequestIdOnSpan)
    if settings.gzip_min_bytes is not None:
        app.add_middleware(GZipMiddleware, minimum_size=settings.gzip_min_bytes)
    app.add_middleware(
        EdgeMiddleware,
        allowed_hosts=settings.allowed_hosts,
        max_body_bytes=settings.max_request_body_bytes,
        max_header_count=settings.max_request_header_count,
        max_header_bytes=settings.max_request_header_bytes,
        body_timeout_seconds=settings.request_body_timeout_seconds,
        body_limits=pack_body_limits(settings),
        access_log=access_log(settings),
        metrics=app.state.metrics,
        cors_origins=settings.cors_origins,
        hsts=settings.is_production,
    )
    return app
