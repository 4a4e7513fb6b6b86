"""Messages between the processes of the service: what is published on a channel reaches every
subscriber of that channel, in every process that shares the bus, the publisher's own included.

The default reaches this process only; a pack may plug in one that reaches every process (the
bake's packs say which, in the README). Delivery is at most once: a process that is not
listening when a message is published does not get it later.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from typing import Protocol

import structlog

logger = structlog.get_logger(__name__)

Receiver = Callable[[bytes], None]


class MessageBus(Protocol):
    # Whether a message published here reaches the other processes of the service.
    reaches_other_processes: bool

    @property
    def hearing(self) -> bool:
        """Whether messages published now reach this process's subscribers."""
        ...

    async def publish(self, channel: str, message: bytes) -> None:
        """Send *message* to the channel's subscribers; raises when the bus cannot take it."""
        ...

    async def subscribe(self, channel: str, receive: Receiver) -> None:
        """Call *receive* with every message published on *channel* from now on (returns once
        the subscription is in place). *receive* runs on the event loop and must not block."""
        ...

    async def aclose(self) -> None:
        """Stop listening; the subscriptions end."""
        ...


class InProcessBus:
    """A bus that reaches this process only."""

    reaches_other_processes = False
    hearing = True

    def __init__(self) -> None:
        self._receivers: dict[str, list[Receiver]] = {}

    async def publish(self, channel: str, message: bytes) -> None:
        deliver(self._receivers.get(channel, ()), channel, message)

    async def subscribe(self, channel: str, receive: Receiver) -> None:
        self._receivers.setdefault(channel, []).append(receive)

    async def aclose(self) -> None:
        self._receivers.clear()


def deliver(receivers: Iterable[Receiver], channel: str, message: bytes) -> None:
    """Hand *message* to each receiver; one that fails is logged and does not stop the rest."""
    for receive in receivers:
        try:
            receive(message)
        except Exception:
            logger.exception("bus_receiver_failed", channel=channel)


class ListeningBus:
    """What a bus that listens on a connection of its own has in common: receivers by channel,
    one listener task that subscribes on first use and listens again whenever it loses its
    connection (waiting ``RETRY_SECONDS[0]``, doubling up to ``RETRY_SECONDS[1]``), and whether
    it hears now. A bus says how to listen (``_listen``, which calls ``_heard`` once subscribed
    and returns or raises when the connection is lost) and how to add a channel to a live
    subscription (``_listen_to``)."""

    reaches_other_processes = True
    RETRY_SECONDS = (0.1, 2.0)
    # How long subscribe() waits for the first attempt: a bus that cannot listen yet keeps
    # trying without holding up the app's start.
    FIRST_ATTEMPT_SECONDS = 5.0

    def __init__(self, name: str) -> None:
        self.name = name
        self._receivers: dict[str, list[Receiver]] = {}
        self._hearing = asyncio.Event()
        self._tried = asyncio.Event()
        self._listener: asyncio.Task[None] | None = None
        self._delay = self.RETRY_SECONDS[0]
        self.on_hearing: list[Callable[[], Awaitable[None]]] = []
        self.on_deaf: list[Callable[[], None]] = []

    @property
    def hearing(self) -> bool:
        return self._hearing.is_set()

    async def subscribe(self, channel: str, receive: Receiver) -> None:
        first = channel not in self._receivers
        self._receivers.setdefault(channel, []).append(receive)
        if self._listener is None:
            self._listener = asyncio.create_task(self._listen_forever(), name=self.name)
        elif first and self.hearing:
            await self._listen_to(channel)
        with suppress(TimeoutError):
            async with asyncio.timeout(self.FIRST_ATTEMPT_SECONDS):
                await self._tried.wait()

    async def aclose(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
            self._listener = None
        self._receivers.clear()

    async def _heard(self) -> None:
        """The subscription is in place (a bus's ``_listen`` says so, once per connection)."""
        if self.hearing:
            return
        for catch_up in self.on_hearing:
            await catch_up()
        self._hearing.set()
        self._tried.set()
        self._delay = self.RETRY_SECONDS[0]

    def _deliver(self, channel: str, message: bytes) -> None:
        deliver(self._receivers.get(channel, []), channel, message)

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # whatever it was, the listener must go on
                logger.warning("bus_deaf", bus=self.name, reason=type(exc).__name__)
            finally:
                self._hearing.clear()
                self._tried.set()
                for deaf in self.on_deaf:
                    deaf()
            await asyncio.sleep(self._delay)
            self._delay = min(self._delay * 2, self.RETRY_SECONDS[1])

    async def _listen(self) -> None:
        raise NotImplementedError

    async def _listen_to(self, channel: str) -> None:
        raise NotImplementedError
