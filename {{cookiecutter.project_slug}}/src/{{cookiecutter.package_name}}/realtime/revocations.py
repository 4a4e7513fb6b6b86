"""Revocations over the message bus, for bakes where no other pack spreads them (PostgreSQL
without a shared bus): a token revoked through one process is refused by every other, and
their WebSocket connections on it close, within a second."""

import uuid
from collections.abc import Sequence

import orjson
import structlog
from pydantic import TypeAdapter, ValidationError

from ..core.bus import MessageBus
from ..features.auth.revocation import RevokedToken, RevokedTokens

logger = structlog.get_logger(__name__)

CHANNEL = "revocations"
EXPIRIES = TypeAdapter(dict[uuid.UUID, float])


async def share_revocations(bus: MessageBus, revoked: RevokedTokens) -> None:
    """Publish this process's revocations on *bus* and deny everyone's here."""

    async def publish(tokens: Sequence[RevokedToken]) -> None:
        message = orjson.dumps({str(token.token_id): token.expires_at for token in tokens})
        try:
            await bus.publish(CHANNEL, message)
        except Exception as exc:  # refused here already; the others learn at the token's expiry
            logger.warning("revocation_not_shared", reason=type(exc).__name__)

    def receive(message: bytes) -> None:
        try:
            expiries = EXPIRIES.validate_json(message)
        except ValidationError:
            logger.warning("revocation_message_invalid")
            return
        revoked.deny(RevokedToken(token_id, at) for token_id, at in expiries.items())

    await bus.subscribe(CHANNEL, receive)
    revoked.publishers.append(publish)
