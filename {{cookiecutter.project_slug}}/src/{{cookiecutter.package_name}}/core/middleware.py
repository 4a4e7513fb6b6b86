"""The edge of every HTTP request, as one pure ASGI middleware.

Each ASGI layer costs a coroutine and a wrapped ``send`` per request, so the edge's jobs
(request context, security headers, body and header limits, trusted host, CORS) are one layer
that reads the request headers once instead of six (the template's bench/README.md has what
each costs). Every header added to a response is also validated and written by the server, so
API responses carry only the headers that act on them (core/headers.py). Starlette's base
HTTP middleware class would be slower still and breaks contextvars.
"""

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import structlog
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .access_log import AccessLog
from .errors import error_response, internal_error_response
from .headers import CONNECTION_CLOSE, HSTS_HEADER, edge_headers, secured
from .hosts import AllowedHosts
from .logging import request_id_var
from .metrics import RequestMetrics
from .request_ids import new_request_id, request_id_from

logger = structlog.get_logger(__name__)

# In HTTP/1 a request without Content-Length or Transfer-Encoding has no body, and only closing
# the connection skips the rest of a body.
HTTP1_VERSIONS = ("1.1", "1.0")

CORS_METHODS = ("GET", "POST", "PATCH", "DELETE")
CORS_REQUEST_HEADERS = ("Authorization", "Content-Type", "X-Request-ID")
CORS_EXPOSED_HEADERS = ("X-Request-ID", "Retry-After")


@dataclass(frozen=True, slots=True)
class BodyLimit:
    """The size and time a request body may take, where a route needs other than the default
    (an upload)."""

    max_bytes: int
    timeout_seconds: float


class EdgeMiddleware:
    """What every HTTP request goes through, in this order:

    1. more than ``max_header_count`` request headers, or names and values adding up to more
       than ``max_header_bytes``, are refused with 431;
    2. an unlisted ``Host`` is refused with 400 (``*.example.com`` matches subdomains);
    3. a body declared (or streamed) over ``max_body_bytes`` is refused with 413, and one that
       has not all arrived ``body_timeout_seconds`` after the app began to read it gets 408
       (``body_limits`` gives other limits to the paths named there);
       a response sent before its request's body was read to the end closes the connection
       (the rest of that body would otherwise keep it busy);
    4. a well-formed ``X-Request-ID`` is kept, or one is created, added to every structlog line
       of the request and returned;
    5. a request with an ``Origin`` goes through CORS (a refused preflight gets the envelope);
    6. every response, errors included, gets the request id, the security headers for its
       kind (HTML and redirects add the referrer and opener policies; with ``hsts``, HSTS when the
       request came over HTTPS) and ``Cache-Control: no-store`` unless the route set its own
       (then, with CORS on, ``Vary: Origin``);
    7. an exception that escapes the app is logged with its traceback and answered with the
       generic 500 envelope, so the client never sees the cause;
    8. one access log line, and the request counted in ``metrics`` (when given).

    uvicorn bounds neither the size nor the number of request headers (h11 only the part of a
    head that has not fully arrived), nor the time a request body takes: hence 1 and 3.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Sequence[str] = ("*",),
        max_body_bytes: int,
        max_header_count: int,
        max_header_bytes: int,
        body_timeout_seconds: float,
        body_limits: Mapping[str, BodyLimit] | None = None,
        access_log: AccessLog,
        metrics: RequestMetrics | None = None,
        cors_origins: Sequence[str] = (),
        hsts: bool = False,
    ) -> None:
        self.app = app
        self.access_log = access_log
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.max_header_count = max_header_count
        self.max_header_bytes = max_header_bytes
        self.body_timeout_seconds = body_timeout_seconds
        self.body_limits = dict(body_limits or {})
        self.hosts = AllowedHosts(allowed_hosts)
        self.cors: ASGIApp | None = None
        if cors_origins:
            self.cors = EnvelopeCORSMiddleware(
                app,
                allow_origins=cors_origins,
                allow_methods=CORS_METHODS,
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
            )
        # RFC 6797 7.2: never over plain HTTP. Behind a TLS proxy, uvicorn takes the scheme from
        # X-Forwarded-Proto when the proxy is listed in FORWARDED_ALLOW_IPS.
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await (self._websocket if scope["type"] == "websocket" else self.app)(
                scope, receive, send
            )
            return
        started = self._start()
        # One pass over the request headers, for every step.
        request_headers = scope["headers"]
        host, request_id, origin, content_length, transfer_encoding, header_bytes = edge_headers(
            request_headers
        )
        request_id_text = new_request_id() if request_id is None else request_id_from(request_id)
        own_headers = [(b"x-request-id", request_id_text.encode())]
        if self.hsts and scope.get("scheme") == "https":  # optional in ASGI
            own_headers.append(HSTS_HEADER)
        # CORS adds Vary itself when there is an Origin; caches must key on it either way.
        vary_origin = self.cors is not None and origin is None
        # Only a request that may have a body pays for reading it under a deadline.
        http1 = scope.get("http_version") in HTTP1_VERSIONS
        if content_length is None:  # chunked, HTTP/2, or no body at all
            may_have_body = transfer_encoding is not None or not http1
        else:
            may_have_body = content_length != b"0"
        body = None
        if may_have_body:
            receive = body = self._request_body(receive, scope["path"])
        status = 500
        response_started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = secured(message.get("headers") or (), scope["path"], vary_origin)
                headers += own_headers
                if body is not None and not body.complete and http1:
                    headers.append(CONNECTION_CLOSE)  # HTTP/2 ends just the stream, by itself
                message["headers"] = headers
            await send(message)

        token = request_id_var.set(request_id_text)
        try:
            refusal = self._refusal(
                host,
                content_length,
                self.max_body_bytes if body is None else body.max_bytes,
                len(request_headers),
                header_bytes,
            )
            if refusal is not None:
                await refusal(scope, receive, send_with_headers)
                return
            app = self.cors if self.cors is not None and origin is not None else self.app
            await app(scope, receive, send_with_headers)
        except Exception:
            logger.exception("unhandled_exception", method=scope["method"], path=scope["path"])
            if not response_started:
                await internal_error_response()(scope, receive, send_with_headers)
        finally:
            try:
                self._finish(scope, status, started)
            finally:
                request_id_var.reset(token)

    def _start(self) -> int:
        """The request's start time; with metrics, it is in flight from now until ``_finish``."""
        if self.metrics is not None:
            self.metrics.in_flight += 1
        return time.perf_counter_ns()

    def _finish(self, scope: Scope, status: int, started: int) -> None:
        """The request's count and latency in the metrics, and its access line."""
        duration_ns = time.perf_counter_ns() - started
        if self.metrics is not None:
            self.metrics.record(scope, status, duration_ns)
        # In ms to two decimals, in integers: round() on a float goes through a decimal string.
        duration_ms = (duration_ns + 5_000) // 10_000 / 100
        self.access_log(scope["method"], scope["path"], status, duration_ms)

    def _request_body(self, receive: Receive, path: str) -> "_RequestBody":
        limit = self.body_limits.get(path) if self.body_limits else None
        if limit is None:
            return _RequestBody(receive, self.body_timeout_seconds, self.max_body_bytes)
        return _RequestBody(receive, limit.timeout_seconds, limit.max_bytes)

    async def _websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket handshake meets the host and header limits too, and is refused before it
        completes (the client sees 403); its request id is set for what it logs."""
        request_headers = scope["headers"]
        host, request_id, _, _, _, header_bytes = edge_headers(request_headers)
        if self._refusal(host, None, 0, len(request_headers), header_bytes) is not None:
            await send({"type": "websocket.close", "code": 1008})
            return
        token = request_id_var.set(
            new_request_id() if request_id is None else request_id_from(request_id)
        )
        try:
            await self.app(scope, receive, send)
        finally:
            request_id_var.reset(token)

    def _refusal(
        self,
        host: bytes | None,
        content_length: bytes | None,
        max_body_bytes: int,
        header_count: int,
        header_bytes: int,
    ) -> Response | None:
        if header_count > self.max_header_count:
            return error_response(
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                f"The request has more than {self.max_header_count} headers",
            )
        if header_bytes > self.max_header_bytes:
            return error_response(
                431,
                "REQUEST_HEADER_FIELDS_TOO_LARGE",
                f"The request headers exceed {self.max_header_bytes} bytes",
            )
        hosts = self.hosts
        if not (hosts.any or host in hosts.known or hosts.allows(host)):
            return error_response(400, "INVALID_HOST", "Invalid host header")
        if content_length is not None and (
            not content_length.isdigit() or int(content_length) > max_body_bytes
        ):
            return error_response(413, "REQUEST_ENTITY_TOO_LARGE", _too_large(max_body_bytes))
        return None


def _too_large(max_body_bytes: int) -> str:
    return f"The request body exceeds {max_body_bytes} bytes"


class _RequestBody:
    """The ``receive`` of a request that may have a body: the body must arrive in full within
    *timeout* seconds of the app's first read, and stay within *max_bytes* (a declared
    Content-Length was checked before; a body without one is counted as it arrives).

    One deadline for the whole body rather than one per read: a client that sends a byte every
    few seconds passes any per-read timeout and holds the connection for as long as it likes.
    The errors are raised as ``HTTPException``, which FastAPI lets through unchanged from
    reading the body, so the app's handler answers them in the envelope.
    """

    __slots__ = ("_deadline", "_receive", "_received", "_timeout", "complete", "max_bytes")

    def __init__(self, receive: Receive, timeout: float, max_bytes: int) -> None:
        self._receive = receive
        self._timeout = timeout
        self.max_bytes = max_bytes
        self._deadline: float | None = None
        self._received = 0
        self.complete = False

    async def __call__(self) -> Message:
        if self.complete:  # after the body, only a disconnect can come: no deadline for it
            return await self._receive()
        if self._deadline is None:
            self._deadline = asyncio.get_running_loop().time() + self._timeout
        try:
            async with asyncio.timeout_at(self._deadline):
                message = await self._receive()
        except TimeoutError:
            detail = f"The request body did not arrive within {self._timeout:g} seconds"
            raise HTTPException(408, detail) from None
        if message["type"] == "http.request":
            self._received += len(message.get("body", b""))
            if self._received > self.max_bytes:
                raise HTTPException(413, _too_large(self.max_bytes))
            self.complete = not message.get("more_body", False)
        return message


class EnvelopeCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware, with a refused preflight answered in the error envelope."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:  # noqa: PLR2004
            return response
        headers = {k: v for k, v in response.headers.items() if k != "content-length"}
        headers.pop("content-type", None)
        message = bytes(response.body).decode()
        return error_response(response.status_code, "CORS_REJECTED", message, headers=headers)
