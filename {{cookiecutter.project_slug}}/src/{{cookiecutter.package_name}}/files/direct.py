"""Direct uploads (S3 storage only): the client uploads a large file straight to the bucket
with a presigned form, then asks the service to confirm it.

The service signs a ticket (owner, object key, display name, exact size, expiry) and a form
that the bucket accepts only for that key and that size; the object lands under ``pending/``.
On confirmation the service checks the ticket, the object's size and its first bytes' type,
then moves it to its final key and records the row; a refused object is deleted. No row exists
until then, so an upload never confirmed is only a pending object (a bucket lifecycle rule
expires them).
"""

import hashlib
import hmac
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jwt

from .errors import InvalidDirectUploadError
from .storage import PENDING_PREFIX

AUDIENCE = "files:direct-upload"
ALGORITHM = "HS256"


def ticket_key(jwt_secret: str) -> bytes:
    """The tickets' signing key: derived from the service's secret, so a ticket is never a
    valid access token, nor an access token a ticket."""
    return hmac.new(jwt_secret.encode(), AUDIENCE.encode(), hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class Ticket:
    owner_id: uuid.UUID
    key: str
    filename: str
    size: int

    @property
    def pending_key(self) -> str:
        return PENDING_PREFIX + self.key


class Tickets:
    def __init__(self, key: bytes, *, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._clock = clock

    def issue(self, ticket: Ticket, expires_in_seconds: int) -> tuple[str, datetime]:
        expires_at = datetime.fromtimestamp(self._clock() + expires_in_seconds, tz=UTC)
        claims: dict[str, Any] = {
            "aud": AUDIENCE,
            "sub": str(ticket.owner_id),
            "key": ticket.key,
            "name": ticket.filename,
            "size": ticket.size,
            "exp": expires_at,
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM), expires_at

    def read(self, token: str, owner_id: uuid.UUID) -> Ticket:
        """The ticket *token* carries, if it is genuine, unexpired and *owner_id*'s."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["aud", "sub", "key", "name", "size", "exp"]},
                leeway=0,
            )
            ticket = Ticket(
                owner_id=uuid.UUID(claims["sub"]),
                key=str(claims["key"]),
                filename=str(claims["name"]),
                size=int(claims["size"]),
            )
        except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
            raise InvalidDirectUploadError("The upload id is invalid or has expired") from exc
        if ticket.owner_id != owner_id:
            raise InvalidDirectUploadError("The upload id is invalid or has expired")
        return ticket
