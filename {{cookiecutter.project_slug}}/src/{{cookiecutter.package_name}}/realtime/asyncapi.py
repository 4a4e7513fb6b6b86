"""The WebSocket API as an AsyncAPI 3.0 document, built from the frame models themselves, and
served at ``/asyncapi.json`` next to ``/openapi.json`` (when the service serves its docs)."""

from functools import cache
from typing import Any, Literal, get_args

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from .frames import ClientFrame, CloseCode, ServerFrame, ServerPing, ServerPong

ADDRESS = "/api/v1/ws"


def _models(union: object) -> tuple[type[BaseModel], ...]:
    """The models of an ``Annotated[A | B | ..., Field(discriminator=...)]`` union."""
    return get_args(get_args(union)[0])


RECEIVED = _models(ClientFrame)
SENT = _models(ServerFrame)
# A server frame and a client frame may share a model name's stem (Ping, ServerPing).
MESSAGE_NAMES = {ServerPing: "ServerPing", ServerPong: "ServerPong"}

CONNECTING = """Sign in first: offer two subprotocols, `bearer` and the access token
(`Sec-WebSocket-Protocol: bearer, <token>`), or send an `authenticate` frame first. A token in
the URL is not read. Browsers' pages may connect from CORS_ORIGINS or the service's own origin.

Close codes: """ + "; ".join(
    f"{code.value} {code.name.lower().replace('_', ' ')}" for code in CloseCode
)


@cache
def asyncapi_document(title: str) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Literal["validation", "serialization"]]] = [
        *((model, "validation") for model in RECEIVED),
        *((model, "serialization") for model in SENT),
    ]
    _, schemas = models_json_schema(models, ref_template="#/components/schemas/{model}")
    messages = {
        _name(model): {
            "name": _name(model),
            "title": model.__name__,
            "summary": (model.__doc__ or model.__name__).split("\n")[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        }
        for model in (*RECEIVED, *SENT)
    }
    channel_messages = {name: {"$ref": f"#/components/messages/{name}"} for name in messages}
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"{title} events", "version": "1", "description": CONNECTING},
        "defaultContentType": "application/json",
        "channels": {
            "events": {
                "address": ADDRESS,
                "title": "A signed-in user's events",
                "messages": channel_messages,
            }
        },
        "operations": {
            "receiveClientFrames": _operation("receive", RECEIVED),
            "sendServerFrames": _operation("send", SENT),
        },
        "components": {"schemas": schemas.get("$defs", {}), "messages": messages},
    }


def _name(model: type[BaseModel]) -> str:
    return MESSAGE_NAMES.get(model, model.__name__)


def _operation(action: str, models: tuple[type[BaseModel], ...]) -> dict[str, Any]:
    return {
        "action": action,
        "channel": {"$ref": "#/channels/events"},
        "messages": [{"$ref": f"#/channels/events/messages/{_name(model)}"} for model in models],
    }


docs_router = APIRouter()


@docs_router.get("/asyncapi.json", include_in_schema=False)
async def asyncapi(request: Request) -> JSONResponse:
    return JSONResponse(asyncapi_document(request.app.state.settings.app_name))
