"""Unhandled errors reported to Sentry, when SENTRY_DSN is set.

Without a DSN, ``sentry_sdk`` is not even imported. With one, the SDK starts without its
integrations: nothing is patched, and the only events are the errors :class:`ReportErrors` sees
escape a route, each tagged with its request id (and, with tracing on, the request's trace and
span ids, to find its trace from the error) and carrying no request data (no headers, no
cookies, no body, no local variables).
"""

from starlette.types import ASGIApp, Receive, Scope, Send

from .logging import current_trace_ids, request_id_var
from .observability import ErrorReportingSettings

REQUEST_ID_TAG = "request_id"
TRACE_ID_TAG, SPAN_ID_TAG = "trace_id", "span_id"  # the access line's names for them
FLUSH_TIMEOUT_SECONDS = 2.0


def start_error_reporting(settings: ErrorReportingSettings, environment: str) -> bool:
    """Start Sentry's client for the process when a DSN is set; tell whether it did."""
    if settings.sentry_dsn is None:
        return False
    import sentry_sdk  # noqa: PLC0415 - only when reporting: its import is not free

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=environment,
        # What send_default_pii=False meant, stricter, in the option that replaced it: no user,
        # cookies, headers, bodies, query strings, queries' values or frames' variables
        # (which may hold passwords or tokens).
        data_collection={
            "user_info": False,
            "cookies": {"mode": "off"},
            "http_headers": {"request": {"mode": "off"}},
            "http_bodies": [],
            "url_query_params": {"mode": "off"},
            "database_query_data": False,
            "stack_frame_variables": False,
        },
        default_integrations=False,  # no patched libraries: ReportErrors is the one source
    )
    return True


def flush_error_reports() -> None:
    """Send what is still queued before the process ends (the client sends in a thread)."""
    import sentry_sdk  # noqa: PLC0415

    sentry_sdk.flush(timeout=FLUSH_TIMEOUT_SECONDS)


class ReportErrors:
    """Reports an exception that escapes the app, then lets it go on to the edge middleware
    (outside), which logs it and answers with the generic 500. Added only with a DSN."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self.app(scope, receive, send)
        except Exception as error:
            _report(error, scope)
            raise


def _report(error: Exception, scope: Scope) -> None:
    import sentry_sdk  # noqa: PLC0415 - already imported by start_error_reporting

    with sentry_sdk.new_scope() as report:
        request_id = request_id_var.get()
        if request_id is not None:
            report.set_tag(REQUEST_ID_TAG, request_id)
        trace_ids = current_trace_ids()
        if trace_ids is not None:
            report.set_tag(TRACE_ID_TAG, trace_ids[0])
            report.set_tag(SPAN_ID_TAG, trace_ids[1])
        # The method and the route's path; never the query string, which may carry tokens.
        report.set_context("http", {"method": scope.get("method"), "path": scope["path"]})
        sentry_sdk.capture_exception(error)
