"""Every frame of the WebSocket API, in both directions: a Pydantic model with a ``type``.

The same models validate what clients send, shape what the server sends and describe both in
the AsyncAPI document (asyncapi.py). Close codes are listed here too, as the API's contract.
"""

import uuid
from datetime import datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, TypeAdapter

from ..core.errors import ErrorBody

ROOM_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ROOM_DESCRIPTION = "1-64 letters, digits, . _ -"
Room = Annotated[str, Field(pattern=ROOM_NAME, description=ROOM_DESCRIPTION)]


class CloseCode(IntEnum):
    """Why the server closes a connection (RFC 6455 section 7.4, and one of the 4000s)."""

    GOING_AWAY = 1001  # the server is shutting down: connect again
    POLICY_VIOLATION = 1008  # unauthenticated, revoked, foreign origin, too fast, too many
    MESSAGE_TOO_BIG = 1009  # a frame over WS_MAX_MESSAGE_BYTES
    INTERNAL_ERROR = 1011  # the server failed to handle a frame (logged)
    TRY_AGAIN_LATER = 1013  # the client read too slowly: its send queue filled up
    HEARTBEAT_MISSED = 4408  # nothing heard from the client for WS_IDLE_TIMEOUT_SECONDS


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# What a client sends.


class Authenticate(Frame):
    """The first frame, when the token is not in the Sec-WebSocket-Protocol header; later, a
    fresh access token for the same user keeps the connection open past the old one's expiry."""

    type: Literal["authenticate"]
    token: str = Field(max_length=4096)


class Join(Frame):
    type: Literal["join"]
    room: Room


class Leave(Frame):
    type: Literal["leave"]
    room: Room


class Send(Frame):
    """A message to the members of a room the sender has joined."""

    type: Literal["send"]
    room: Room
    data: JsonValue


class Ping(Frame):
    type: Literal["ping"]


class Pong(Frame):
    """The answer to the server's heartbeat ping."""

    type: Literal["pong"]


ClientFrame = Annotated[
    Authenticate | Join | Leave | Send | Ping | Pong, Field(discriminator="type")
]
CLIENT_FRAMES: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


# What the server sends.


class Welcome(Frame):
    """Sent once the connection is authenticated."""

    type: Literal["welcome"] = "welcome"
    user_id: uuid.UUID
    heartbeat_seconds: float


class ItemEvent(Frame):
    """One of the user's items was created, changed or deleted; fetch it for its content."""

    type: Literal["item.created", "item.updated", "item.deleted"]
    item_id: uuid.UUID
    at: datetime


class Joined(Frame):
    type: Literal["joined"] = "joined"
    room: Room


class Left(Frame):
    type: Literal["left"] = "left"
    room: Room


class RoomMessage(Frame):
    """A message sent to a room; ``sender_id`` is null for one an admin published over REST."""

    type: Literal["message"] = "message"
    room: Room
    sender_id: uuid.UUID | None
    data: JsonValue
    sent_at: datetime


class ServerPing(Frame):
    """The heartbeat: answer with a ``pong`` (any frame will do) to stay connected."""

    type: Literal["ping"] = "ping"


class ServerPong(Frame):
    type: Literal["pong"] = "pong"


class ErrorFrame(Frame):
    """A frame the server could not act on; the connection stays open. The error has the
    shape of the REST API's envelope."""

    type: Literal["error"] = "error"
    error: ErrorBody


ServerFrame = Annotated[
    Welcome | ItemEvent | Joined | Left | RoomMessage | ServerPing | ServerPong | ErrorFrame,
    Field(discriminator="type"),
]


def error_frame(code: str, message: str, **details: Any) -> str:
    """An error frame, as the JSON text a connection sends."""
    return ErrorFrame(
        error=ErrorBody(code=code, message=message, details=details)
    ).model_dump_json()
