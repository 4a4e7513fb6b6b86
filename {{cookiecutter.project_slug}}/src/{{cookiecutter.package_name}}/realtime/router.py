"""The WebSocket endpoint's route, and the REST endpoint admins publish to a room with."""

from http import HTTPStatus
from typing import Annotated

import structlog
from fastapi import APIRouter, Path, Request, Response, status
from pydantic import BaseModel, ConfigDict, JsonValue
from starlette.routing import WebSocketRoute

from ..core.clock import utc_now
from ..core.errors import InvalidRequestError, ServiceUnavailableError
from ..core.openapi import DocumentedRoute, errors
from ..features.auth.dependencies import AdminUser
from .endpoint import Events, hub_of
from .frames import ROOM_DESCRIPTION, ROOM_NAME, RoomMessage
from .hub import too_large

logger = structlog.get_logger(__name__)

router = APIRouter(
    tags=["realtime"],
    route_class=DocumentedRoute,
    routes=[WebSocketRoute("/ws", Events(), name="events")],  # a plain ASGI app (endpoint.py)
)


class RoomPost(BaseModel):
    model_config = ConfigDict(extra="forbid")

    data: JsonValue


@router.post(
    "/realtime/rooms/{room}/messages",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=RoomMessage,  # documents the answer, which is the frame the members get
    responses=errors(HTTPStatus.SERVICE_UNAVAILABLE),
)
async def publish_to_room(
    request: Request,
    room: Annotated[str, Path(pattern=ROOM_NAME, description=ROOM_DESCRIPTION)],
    body: RoomPost,
    _: AdminUser,
) -> Response:
    """Send a message to the members of a room, on every process (admins only)."""
    # Written once: measured, published, delivered and answered as it is.
    message = RoomMessage(
        room=room, sender_id=None, data=body.data, sent_at=utc_now()
    ).model_dump_json()
    limit = request.app.state.settings.ws_max_message_bytes
    if too_large(message, limit):
        raise InvalidRequestError(
            f"The message is over {limit} bytes", field="body.data", reason="too_large"
        )
    try:
        await hub_of(request.app).to_room(room, message)
    except Exception as exc:
        logger.warning("realtime_publish_failed", reason=type(exc).__name__)
        raise ServiceUnavailableError("The message could not be sent; try again") from exc
    return Response(message, status.HTTP_202_ACCEPTED, media_type="application/json")
