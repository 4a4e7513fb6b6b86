"""Who may use the WebSocket endpoint: a valid access token of an active user, from a page of an
allowed origin.

Browsers cannot set an Authorization header on a WebSocket, and a token in the URL would land
in proxy logs, so the access token comes in the ``Sec-WebSocket-Protocol`` header (offer
``bearer`` and the token as two subprotocols; the server answers ``bearer``), or in the first
frame (``{"type": "authenticate", "token": ...}``).
"""

from urllib.parse import urlsplit

from fastapi import FastAPI
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import HTTPConnection

from ..core.errors import DATABASE_UNAVAILABLE, AuthenticationError
from ..core.security import TokenClaims
from ..features.auth.dependencies import authenticate
from .frames import CloseCode

BEARER = "bearer"
Refusal = tuple[CloseCode, str]


async def verified(app: FastAPI, token: str) -> TokenClaims | Refusal:
    """The claims of a valid access token of an active user (as every request is checked), or
    why the connection must close."""
    try:
        claims, _ = await authenticate(app, token)
    except AuthenticationError as exc:
        return CloseCode.POLICY_VIOLATION, exc.message
    except (SQLAlchemyError, *DATABASE_UNAVAILABLE):
        return CloseCode.TRY_AGAIN_LATER, "The service is unavailable; connect again later"
    return claims


def origin_allowed(connection: HTTPConnection, allowed: list[str]) -> bool:
    """No Origin (not a browser), the page's own origin, or one of CORS_ORIGINS. The host is
    the one EdgeMiddleware let through (ALLOWED_HOSTS), so a rebound DNS name gets no further."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    if origin in allowed or "*" in allowed:
        return True
    return urlsplit(origin).netloc == connection.headers.get("host")


def token_from_subprotocols(subprotocols: list[str]) -> str | None:
    """The token offered after ``bearer`` (``Sec-WebSocket-Protocol: bearer, <token>``)."""
    if BEARER in subprotocols:
        position = subprotocols.index(BEARER)
        if position + 1 < len(subprotocols):
            return subprotocols[position + 1]
    return None
