"""The security audit trail: one structured log line per security event, written here only.

Every event has a fixed name (``AuditEvent``) and the same fields: who acted (``actor``: a user
id, ``"cli"``, or None for an anonymous caller), whom it concerned (``subject``: a user id, or
None when unknown), from which client address (``client``), plus the request id that the logging
pipeline adds to every line. Callers add a few facts (a reason, a role), never a password, a
token or a hash. One writer means one place to attach more (a counter per event).
"""

import uuid
from enum import StrEnum

import structlog

logger = structlog.get_logger("audit")

Actor = uuid.UUID | str | None


class AuditEvent(StrEnum):
    USER_REGISTERED = "auth.register.succeeded"
    LOGIN_SUCCEEDED = "auth.login.succeeded"
    LOGIN_FAILED = "auth.login.failed"
    LOGOUT = "auth.logout.succeeded"
    REFRESH_REUSE_DETECTED = "auth.refresh.reuse_detected"
    RATE_LIMITED = "auth.rate_limited"
    ROLE_CHANGED = "users.role.changed"
    USER_DEACTIVATED = "users.deactivated"
    USER_REACTIVATED = "users.reactivated"
    ADMIN_CREATED = "users.admin.created"


# Events an operator should look at: attacks, or their traces, rather than ordinary use.
WARNINGS = frozenset(
    {AuditEvent.LOGIN_FAILED, AuditEvent.REFRESH_REUSE_DETECTED, AuditEvent.RATE_LIMITED}
)


def audit(
    event: AuditEvent, *, actor: Actor, subject: Actor, client: str | None, **fields: object
) -> None:
    """Write one audit line for *event* (user ids as text, so every renderer shows them alike)."""
    log = logger.warning if event in WARNINGS else logger.info
    log(
        event.value,
        audit=True,
        actor=_text(actor),
        subject=_text(subject),
        client=client,
        **fields,
    )


def _text(who: Actor) -> str | None:
    return None if who is None else str(who)
