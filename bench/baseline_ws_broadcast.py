"""Baseline: the simplest honest WebSocket broadcast, bare Starlette. Served exactly like the app.

``uvicorn --app-dir bench baseline_ws_broadcast:app --loop uvloop --http httptools
--ws websockets-sansio --no-access-log``

``/ws`` accepts anyone and keeps the connection in a set until it leaves (what the client sends
is read and dropped); ``POST /broadcast`` sends the request body, as text, to every connection in
a plain loop and answers 202. No authentication, rooms, queues or heartbeats.
"""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

connections: set[WebSocket] = set()


async def connect(websocket: WebSocket) -> None:
    await websocket.accept()
    connections.add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        connections.discard(websocket)


async def broadcast(request: Request) -> Response:
    frame = (await request.body()).decode()
    for websocket in list(connections):
        try:
            await websocket.send_text(frame)
        except Exception:  # one gone client must not stop the others
            connections.discard(websocket)
    return Response(status_code=202)


app = Starlette(
    routes=[WebSocketRoute("/ws", connect), Route("/broadcast", broadcast, methods=["POST"])]
)
