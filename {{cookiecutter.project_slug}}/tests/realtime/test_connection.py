"""A connection writes a frame at once while its client keeps up, and queues behind a write that
waits for the client; the queue is bounded, and a failed write closes the connection."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from starlette.types import Message
from starlette.websockets import WebSocket
from structlog.testing import capture_logs

from {{ cookiecutter.package_name }}.core.security import TokenClaims, TokenType
from {{ cookiecutter.package_name }}.realtime.connection import Connection
from {{ cookiecutter.package_name }}.realtime.frames import CloseCode


class Peer:
    """What the connection writes to (``server_send``, the route's ASGI send; the connection
    writes nothing through the WebSocket object itself, which has no ``send`` here): sends are
    recorded, held while ``gate`` is clear (a client that does not read), or fail with
    ``failure``."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.failure: Exception | None = None
        self.closed_with: int | None = None
        self.cancelled: list[str] = []

    async def receive(self) -> dict[str, str]:
        await asyncio.Event().wait()  # the client says nothing
        raise AssertionError

    async def close(self, code: int, reason: str) -> None:
        self.closed_with = code

    async def server_send(self, message: Message) -> None:
        data = message["text"]
        try:
            await self.gate.wait()
        except asyncio.CancelledError:
            self.cancelled.append(data)
            raise
        if self.failure is not None:
            raise self.failure
        self.sent.append(data)


def _connection(peer: Peer, *, queue_frames: int = 4) -> Connection:
    now = datetime.now(UTC)
    claims = TokenClaims(
        subject=uuid.uuid4(),
        token_id=uuid.uuid4(),
        token_type=TokenType.ACCESS,
        issued_at=now,
        expires_at=now + timedelta(minutes=5),
    )
    websocket = cast(WebSocket, peer)
    return Connection(websocket, peer.server_send, claims, "token", queue_frames=queue_frames)


async def test_a_client_that_keeps_up_gets_each_frame_written_at_once() -> None:
    peer = Peer()
    connection = _connection(peer)
    for number in range(10):  # more than the queue holds: nothing waits in it
        connection.send(f"frame {number}")
        assert peer.sent[-1] == f"frame {number}"  # written before send() returned
    assert connection.close_code is None


async def test_a_write_that_yields_to_the_loop_is_finished_before_the_next() -> None:
    class YieldingPeer(Peer):  # a server whose send lets the loop run once (yields None)
        async def server_send(self, message: Message) -> None:
            await asyncio.sleep(0)
            self.sent.append(message["text"])

    peer = YieldingPeer()
    connection = _connection(peer)
    connection.send("frame 0")
    connection.send("frame 1")  # behind the first, which has not finished
    assert peer.sent == []
    for _ in range(10):
        await asyncio.sleep(0)
    assert peer.sent == ["frame 0", "frame 1"]
    assert connection.close_code is None


async def test_frames_wait_behind_a_write_that_waits_and_go_out_in_order() -> None:
    peer = Peer()
    connection = _connection(peer)
    peer.gate.clear()  # the client stops reading
    for number in range(4):
        connection.send(f"frame {number}")
    assert peer.sent == []
    peer.gate.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert peer.sent == [f"frame {number}" for number in range(4)]
    connection.send("frame 4")  # the client keeps up again: written at once
    assert peer.sent[-1] == "frame 4"


@pytest.mark.error_path
async def test_closing_while_a_write_waits_cancels_that_write_and_sends_the_close_frame() -> None:
    peer = Peer()
    connection = _connection(peer)
    peer.gate.clear()
    connection.send("frame 0")  # waits for the client
    connection.send("frame 1")  # queued behind it
    connection.close(CloseCode.GOING_AWAY, "The server is shutting down")
    await asyncio.wait_for(connection.run(_ignore), 1)
    assert peer.cancelled == ["frame 0"]  # the waiting write heard the cancellation
    assert peer.closed_with == 1001  # going away
    assert peer.sent == []


@pytest.mark.error_path
async def test_a_full_queue_closes_with_1013_and_drops_what_is_queued() -> None:
    peer = Peer()
    connection = _connection(peer, queue_frames=2)
    peer.gate.clear()
    for number in range(3):  # one waiting write, then two queued: the queue is full
        connection.send(f"frame {number}")
    assert connection.close_code is None
    connection.send("one too many")
    assert connection.close_code == 1013  # try again later
    connection.send("after the close")  # ignored
    peer.gate.set()
    for _ in range(10):
        await asyncio.sleep(0)
    assert peer.sent == ["frame 0"]  # the write in progress ends; the queue is not sent


@pytest.mark.error_path
@pytest.mark.parametrize("waits", [False, True], ids=["at-once", "after-waiting"])
@pytest.mark.parametrize(
    "gone",
    # How servers say it: a reset (uvicorn's ClientDisconnected is an OSError), or a send after
    # they saw the close.
    [ConnectionResetError(), RuntimeError("Unexpected ASGI message after sending close")],
    ids=["reset", "after-close"],
)
async def test_a_peer_that_left_closes_the_connection_without_a_close_code(
    waits: bool, gone: Exception
) -> None:
    class GonePeer(Peer):
        attempts = 0

        async def server_send(self, message: Message) -> None:
            self.attempts += 1
            await self.gate.wait()
            raise gone

    peer = GonePeer()
    connection = _connection(peer)
    if waits:
        peer.gate.clear()
        connection.send("frame")
        peer.gate.set()  # the write goes on, and fails
    else:
        connection.send("frame")
    await asyncio.wait_for(connection.run(_ignore), 1)  # it ends: the peer is gone
    assert connection.close_code is None
    assert peer.closed_with is None  # no close frame to a peer that left
    assert peer.sent == []
    connection.send("until the hub lets it go")  # a fan-out still holding it: nothing written
    assert peer.attempts == 1


@pytest.mark.error_path
@pytest.mark.parametrize("waits", [False, True], ids=["at-once", "after-waiting"])
async def test_a_write_that_fails_unexpectedly_is_logged_and_closes_with_1011(waits: bool) -> None:
    peer = Peer()
    peer.failure = ValueError("a bug")
    connection = _connection(peer)
    if waits:
        peer.gate.clear()
    with capture_logs() as logs:
        connection.send("frame")
        connection.send("queued")  # behind the waiting write, or refused: already closed
        peer.gate.set()
        for _ in range(10):
            await asyncio.sleep(0)
    assert connection.close_code == 1011  # internal error
    assert [log["event"] for log in logs] == ["realtime_send_failed"]
    connection.send("after the close")
    await asyncio.wait_for(connection.run(_ignore), 1)
    assert peer.closed_with == 1011
    assert peer.sent == []


async def _ignore(_connection: Connection, _data: str | bytes) -> None:
    return None
