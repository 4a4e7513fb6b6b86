"""Many WebSocket clients in one process: the load side of the WebSockets pack's scenarios.

    python bench/ws_clients.py hold --url ws://127.0.0.1:8000/api/v1/ws --token T --join
    python bench/ws_clients.py broadcast --url ... --join --publish URL --publish-token T

``hold`` connects the clients (with ``--join``, each joins ``--room``), prints one ``READY``
line and keeps them connected, answering the server's pings, until its stdin closes.
``broadcast`` connects them too, then publishes ``--messages`` messages at ``--rate`` per second
on one connection, waits for them to arrive, and publishes ``--burst`` more from ``--window``
connections, each posting its next message as soon as the last was answered (so the server
always has one waiting). Each message carries the time it was sent; every client notes when it
arrives. One ``BENCH_JSON`` line reports, per phase, the deliveries and their latency
percentiles, and the deliveries per second from the phase's first send to its last delivery;
the closes the server sent; the CPU per delivery of this process and, with
``--server-pid``, of the server (and the kernel's part of it); and how many times per message
this process waited for data. On loopback the server's write to a waiting client wakes it,
in the server's own system call: the slower the server is against this process, the oftener
it waits, and the more each write costs the server (bench/README.md, session 23).
``--hold`` keeps the clients connected for a while after the burst (bench/ws_instructions.py
makes two runs last equally long with it).

``--publish`` is the app's REST endpoint (``POST {"data": ...}`` with an admin's Bearer token,
answered with the frame it sends) or, with ``--post-frame``, a baseline's endpoint that sends
the request body as it is: the publisher then posts a frame of the app's shape, so both send
the same bytes.

A client is an ``asyncio.Protocol`` of its own (RFC 6455 framing, no extension offered), not the
websockets library: a thousand clients share one core with the publisher, and the load side has
to spend as little per frame as it can (its CPU per delivery is printed, to check). Its Python
takes about 1.8 us per frame; with the kernel's receive path and the event loop it is close to
what a server spends per delivery (5.8 and 6.3 us against 6.7 and 8.7 in a round of each side
in session 23), so it keeps up, but not with much to spare. Only the standard library is
needed; uvloop is used where installed (the bake's venv).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import re
import resource
import sys
import time
import urllib.parse
from array import array
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
STAMP = re.compile(rb'"seq":(\d+),"t":(\d+)')  # the data of a published message
CONNECT_CONCURRENCY = 100  # handshakes in flight at once
QUIET_SECONDS = 5.0  # the wait for deliveries ends after this long without one
OP_TEXT, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes) -> bytes:
    """A masked frame (RFC 6455 section 5.3: every client frame is masked)."""
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i & 3] for i, byte in enumerate(payload))  # a few bytes
    size = len(payload)
    if size < 126:
        head = bytes([0x80 | opcode, 0x80 | size])
    else:
        head = bytes([0x80 | opcode, 0x80 | 126]) + size.to_bytes(2)
    return head + mask + masked


@dataclass
class Phase:
    """Deliveries of one phase's messages: their latencies (ns) and the time of the last."""

    first_seq: int
    messages: int
    latencies: array[int] = field(default_factory=lambda: array("q"))
    first_sent_ns: int = 0
    last_received_ns: int = 0

    def summary(self, clients: int) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        count = len(ordered)

        def ms(fraction: float) -> float:
            return round(ordered[min(count - 1, int(fraction * count))] / 1e6, 3) if count else 0.0

        span_s = (self.last_received_ns - self.first_sent_ns) / 1e9 if count else 0.0
        return {
            "messages": self.messages,
            "deliveries": count,
            "expected": self.messages * clients,
            "seconds": round(span_s, 4),
            "deliveries_per_s": round(count / span_s, 1) if span_s > 0 else 0.0,
            "p50_ms": ms(0.50),
            "p90_ms": ms(0.90),
            "p99_ms": ms(0.99),
            "max_ms": round(ordered[-1] / 1e6, 3) if count else 0.0,
        }


class Load:
    """The clients' shared state: what they were told to do and what they saw."""

    def __init__(self, args: argparse.Namespace) -> None:
        url = urllib.parse.urlsplit(args.url)
        self.host, self.port = url.hostname or "127.0.0.1", url.port or 80
        self.path = url.path or "/"
        self.token: str | None = args.token
        self.room: str | None = args.room if args.join else None
        self.phases: list[Phase] = []
        self.closes: Counter[int] = Counter()
        self.errors: Counter[str] = Counter()
        self.last_delivery_ns = 0
        # Built once, so every client sends them with the same masking key (servers cannot tell).
        self.pong = client_frame(OP_TEXT, b'{"type":"pong"}')
        self.join = client_frame(OP_TEXT, json.dumps({"type": "join", "room": args.room}).encode())

    def handshake(self, key: bytes) -> bytes:
        lines = [
            f"GET {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Upgrade: websocket",
            "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key.decode()}",
            "Sec-WebSocket-Version: 13",
        ]
        if self.token:
            lines.append(f"Sec-WebSocket-Protocol: bearer, {self.token}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode()

    def delivered(self, seq: int, sent_ns: int, now: int) -> None:
        for phase in self.phases:
            if phase.first_seq <= seq < phase.first_seq + phase.messages:
                phase.latencies.append(now - sent_ns)
                phase.last_received_ns = max(phase.last_received_ns, now)
                self.last_delivery_ns = now
                return


class Client(asyncio.Protocol):
    def __init__(self, load: Load) -> None:
        self.load = load
        self.key = base64.b64encode(os.urandom(16))
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.load.handshake(self.key))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.close_code is None and not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {exc}"))
        self.open = False

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        buffer = self.buffer
        buffer += data
        if not self.open and not self._opened(buffer):
            return
        position, size = 0, len(buffer)
        while size - position >= 2:
            opcode, length, head = buffer[position] & 0x0F, buffer[position + 1] & 0x7F, 2
            if length == 126:
                if size - position < 4:
                    break
                length, head = int.from_bytes(buffer[position + 2 : position + 4]), 4
            elif length == 127:
                if size - position < 10:
                    break
                length, head = int.from_bytes(buffer[position + 2 : position + 10]), 10
            end = position + head + length
            if end > size:
                break
            self._frame(opcode, bytes(buffer[position + head : end]), now)
            position = end
        del buffer[:position]

    def _opened(self, buffer: bytearray) -> bool:
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        head = bytes(buffer[:end])
        del buffer[: end + 4]
        accept = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest())  # noqa: S324 - RFC 6455
        if not head.startswith(b"HTTP/1.1 101") or accept not in head:
            self.ready.set_exception(ConnectionError(head.split(b"\r\n", 1)[0].decode()))
            self.drop()
            return False
        self.open = True
        if self.load.room:
            self.send(self.load.join)  # ready when the server says "joined"
        else:
            self.ready.set_result(None)
        return True

    def _frame(self, opcode: int, payload: bytes, now: int) -> None:
        if opcode == OP_TEXT:
            stamp = STAMP.search(payload)
            if stamp is not None:
                self.load.delivered(int(stamp[1]), int(stamp[2]), now)
            elif payload.startswith(b'{"type":"ping"'):  # the app's heartbeat
                self.send(self.load.pong)
            elif payload.startswith(b'{"type":"joined"'):
                if not self.ready.done():
                    self.ready.set_result(None)
            elif payload.startswith(b'{"type":"error"'):
                self.load.errors[payload[:200].decode(errors="replace")] += 1
        elif opcode == OP_PING:
            self.send(client_frame(OP_PONG, payload))
        elif opcode == OP_CLOSE:
            self.close_code = int.from_bytes(payload[:2]) if len(payload) >= 2 else 1005
            self.load.closes[self.close_code] += 1
            self.send(client_frame(OP_CLOSE, payload[:2]))
            self.drop()
            if not self.ready.done():
                self.ready.set_exception(ConnectionError(f"closed with {self.close_code}"))

    def send(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)

    def close(self) -> None:
        self.send(client_frame(OP_CLOSE, (1000).to_bytes(2)))
        self.drop()

    def drop(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def connect_all(load: Load, count: int) -> list[Client]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

    async def one() -> Client:
        async with gate:
            _, client = await loop.create_connection(lambda: Client(load), load.host, load.port)
            async with asyncio.timeout(30):
                await client.ready
            return client

    return list(await asyncio.gather(*(one() for _ in range(count))))


class Publisher:
    """Posts messages on one keep-alive HTTP/1.1 connection, one at a time."""

    def __init__(
        self,
        args: argparse.Namespace,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        url = urllib.parse.urlsplit(args.publish)
        self.host, self.port, self.path = url.hostname or "127.0.0.1", url.port or 80, url.path
        self.token: str | None = args.publish_token
        self.room: str = args.room
        self.post_frame: bool = args.post_frame
        self.statuses: Counter[int] = Counter()
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, args: argparse.Namespace) -> Publisher:
        url = urllib.parse.urlsplit(args.publish)
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        return cls(args, reader, writer)

    def body(self, seq: int, sent_ns: int) -> bytes:
        data = f'{{"seq":{seq},"t":{sent_ns}}}'
        if not self.post_frame:
            return f'{{"data":{data}}}'.encode()
        sent_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        return (
            f'{{"type":"message","room":"{self.room}","sender_id":null,"data":{data},'
            f'"sent_at":"{sent_at}"}}'
        ).encode()

    async def post(self, seq: int) -> int:
        """Publish message *seq*, stamped now; wait for the answer. Returns the send time."""
        sent_ns = time.monotonic_ns()
        body = self.body(seq, sent_ns)
        head = [
            f"POST {self.path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
        ]
        if self.token:
            head.append(f"Authorization: Bearer {self.token}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        answer = await self.reader.readexactly(length)
        status = int(status_line.split()[1])
        self.statuses[status] += 1
        if status >= 300 and self.statuses[status] == 1:
            print(f"publish answered {status}: {answer[:300]!r}", file=sys.stderr)
        return sent_ns


def cpu_seconds(pid: int | None = None) -> float:
    user, system = cpu_split(pid)
    return user + system


def cpu_split(pid: int | None = None) -> tuple[float, float]:
    """User and system CPU seconds of this process or of *pid*."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime, usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def sleeps() -> int:
    """How many times this process has waited for something (voluntary context switches)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw


async def wait_for_deliveries(load: Load, phase: Phase, expected: int) -> None:
    while len(phase.latencies) < expected:
        await asyncio.sleep(0.01)
        if (
            time.monotonic_ns() - max(load.last_delivery_ns, phase.first_sent_ns)
            > QUIET_SECONDS * 1e9
        ):
            return


async def broadcast(args: argparse.Namespace, load: Load, clients: list[Client]) -> dict[str, Any]:
    connected = time.monotonic()
    publishers = [await Publisher.open(args) for _ in range(args.window)]
    steady = Phase(0, args.messages)
    burst = Phase(args.messages, args.burst)
    load.phases = [steady, burst]
    started = time.monotonic()
    for seq in range(args.messages):  # at a steady rate (late sends go at once, stamped late)
        await asyncio.sleep(max(0.0, started + seq / args.rate - time.monotonic()))
        sent = await publishers[0].post(seq)
        steady.first_sent_ns = steady.first_sent_ns or sent
    steady_s = time.monotonic() - started
    await wait_for_deliveries(load, steady, args.messages * len(clients))

    # The burst: --window connections, each posting its next message when answered.
    sequence = iter(range(args.messages, args.messages + args.burst))

    async def post_all(publisher: Publisher) -> None:
        for seq in sequence:
            sent = await publisher.post(seq)
            burst.first_sent_ns = min(burst.first_sent_ns or sent, sent)

    cpu_before, sleeps_before = cpu_seconds(), sleeps()
    server_before = cpu_split(args.server_pid) if args.server_pid else (0.0, 0.0)
    await asyncio.gather(*(post_all(publisher) for publisher in publishers))
    await wait_for_deliveries(load, burst, args.burst * len(clients))
    client_s = cpu_seconds() - cpu_before
    client_sleeps = sleeps() - sleeps_before
    summary = burst.summary(len(clients))
    delivered = max(1, summary["deliveries"])
    result: dict[str, Any] = {
        "steady": {**steady.summary(len(clients)), "rate": round(args.messages / steady_s, 2)},
        "burst": summary,
        "client_cpu_us_per_delivery": round(client_s * 1e6 / delivered, 2),
        "client_cpu_share": round(client_s / summary["seconds"], 3) if summary["seconds"] else 0,
        # Each time the clients' process waits, the server's next write to it has to wake it.
        "client_sleeps_per_message": round(client_sleeps / max(1, summary["messages"]), 1),
        "publish_statuses": dict(
            Counter(str(k) for p in publishers for k in p.statuses.elements())
        ),
    }
    if args.server_pid:
        user, system = (
            after - before
            for after, before in zip(cpu_split(args.server_pid), server_before, strict=True)
        )
        server_s = user + system
        result["server_cpu_us_per_delivery"] = round(server_s * 1e6 / delivered, 2)
        result["server_system_us_per_delivery"] = round(system * 1e6 / delivered, 2)
        result["server_cpu_share"] = (
            round(server_s / summary["seconds"], 3) if summary["seconds"] else 0
        )
    result["connected_s"] = round(time.monotonic() - connected, 3)
    # Connected until --hold seconds after all were, not counted in the figures above.
    await asyncio.sleep(max(0.0, connected + args.hold - time.monotonic()))
    for publisher in publishers:
        publisher.writer.close()
    return result


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    load = Load(args)
    started = time.monotonic()
    clients = await connect_all(load, args.clients)
    connect_s = time.monotonic() - started
    print(
        f"READY {json.dumps({'clients': len(clients), 'connect_s': round(connect_s, 2)})}",
        flush=True,
    )
    if args.command == "hold":
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
        result: dict[str, Any] = {}
    else:
        result = await broadcast(args, load, clients)
    result.update(
        clients=len(clients),
        connect_s=round(connect_s, 2),
        still_open=sum(1 for client in clients if client.open),
        closes={str(code): n for code, n in load.closes.items()},
        error_frames=dict(load.errors),
    )
    for client in clients:
        client.close()
    await asyncio.sleep(0.2)  # let the close frames go out
    return result


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["hold", "broadcast"])
    parser.add_argument("--url", required=True, help="ws://host:port/path")
    parser.add_argument("--token", help="offered as Sec-WebSocket-Protocol: bearer, <token>")
    parser.add_argument("--room", default="bench", help="the room of the messages")
    parser.add_argument(
        "--join", action="store_true", help="each client joins --room (ready at 'joined')"
    )
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--publish", help="http://host:port/path messages are posted to")
    parser.add_argument("--publish-token", help="Bearer token of the publisher")
    parser.add_argument("--post-frame", action="store_true", help="post the whole frame")
    parser.add_argument("--messages", type=int, default=200, help="messages at --rate")
    parser.add_argument("--rate", type=float, default=20, help="messages per second (steady)")
    parser.add_argument("--burst", type=int, default=200, help="then messages as fast as answered")
    parser.add_argument(
        "--window", type=int, default=8, help="connections posting the burst, each in turn"
    )
    parser.add_argument("--server-pid", type=int, help="also report the server's CPU")
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        help="keep the clients connected until this many seconds after all were",
    )
    args = parser.parse_args()
    if args.command == "broadcast" and not args.publish:
        parser.error("broadcast needs --publish")
    return args


def main() -> int:
    args = parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.clients + 256
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(main_async(args))
    else:
        result = uvloop.run(main_async(args))
    print("BENCH_JSON " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
