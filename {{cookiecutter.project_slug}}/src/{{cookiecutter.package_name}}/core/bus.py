"""Messages between the processes of the service: what is published on a channel reaches every
subscriber of that channel, in every process that shares the bus, the publisher's own included.

The default reaches this process only; a pack may plug in one that reaches every process (the
bake's packs say which, in the README). Delivery is at most once: a process that is not
listening when a message is published does not get it later.
"""

from collections.abc import Callable, Iterable
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
