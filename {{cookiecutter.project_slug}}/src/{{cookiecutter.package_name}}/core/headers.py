"""The headers at the edge: the one pass over a request's headers that the edge middleware
reads, and the security headers it adds to each kind of response."""

from collections.abc import Iterable, Sequence

type Header = tuple[bytes, bytes]
type _Value = bytes | None

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# The docs pages bring their own policy, which names their inline scripts (core/docs.py).
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect"})

HSTS_HEADER: Header = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")
NO_STORE: Header = (b"cache-control", b"no-store")
VARY_ORIGIN: Header = (b"vary", b"Origin")
CONNECTION_CLOSE: Header = (b"connection", b"close")


# OWASP's REST Security Cheat Sheet: these on every API response (with Cache-Control and, over
# HTTPS, HSTS); the referrer and opener policies act on documents and on the redirects that lead
# to them, so on HTML and redirects only.
_EVERY: tuple[Header, ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
)
_DOCUMENT: tuple[Header, ...] = (
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
API_HEADERS = (*_EVERY, (b"content-security-policy", API_CSP.encode()))
HTML_HEADERS = (*API_HEADERS, *_DOCUMENT)
DOCS_HEADERS = (*_EVERY, *_DOCUMENT)


def secured(headers: Iterable[Header], path: str, vary_origin: bool) -> list[Header]:
    """The response's headers with the security headers its kind calls for, and
    ``Cache-Control: no-store`` unless it has its own; with *vary_origin*, ``Vary: Origin`` on a
    response that caches may store (a no-store one is never stored)."""
    response_headers = list(headers)
    cache_control = document = False
    for name, value in response_headers:
        if name == b"cache-control":
            cache_control = True
        elif name == b"content-type":
            document = document or value.startswith(b"text/html")
        elif name == b"location":  # a redirect's Referrer-Policy applies to where it leads
            document = True
    if not cache_control:
        response_headers.append(NO_STORE)
    elif vary_origin:
        response_headers.append(VARY_ORIGIN)
    if not document:
        response_headers += API_HEADERS
    else:
        response_headers += DOCS_HEADERS if path in DOCS_PATHS else HTML_HEADERS
    return response_headers


def edge_headers(headers: Sequence[Header]) -> tuple[_Value, _Value, _Value, _Value, _Value, int]:
    """Host, X-Request-ID, Origin, Content-Length, Transfer-Encoding, and the bytes of every
    header's name and value."""
    host = request_id = origin = content_length = transfer_encoding = None
    size = 0
    for name, value in headers:
        size += len(name) + len(value)
        if name == b"host":
            host = value
        elif name == b"x-request-id":
            request_id = value
        elif name == b"origin":
            origin = value
        elif name == b"content-length":
            content_length = value
        elif name == b"transfer-encoding":
            transfer_encoding = value
    return host, request_id, origin, content_length, transfer_encoding, size
