"""The security audit trail: one structured log line per security event, written here only.

Every event has a fixed name (``AuditEvent``) and the same fields: who acted (``actor``: a user
id, ``"cli"``, or None for an anonymous caller), whom it concerned (``subject``: a user id, or
None when unknown), from which client address (``client``), plus the request id that the logging
pipeline adds to every line. Callers add a few facts (a reason, a role), never a password, a
token or a hash. The sign-in events are also counted for /metrics (``auth_events_total``).
"""

import uuid
from enum import StrEnum

import structlog

from .metrics import AuthEvent, count_auth_event

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


# The events /metrics counts (auth_events_total), so alerts can watch their rates.
COUNTED = {
    AuditEvent.LOGIN_SUCCEEDED: AuthEvent.LOGIN_SUCCEEDED,
    AuditEvent.LOGIN_FAILED: AuthEvent.LOGIN_FAILED,
    AuditEvent.REFRESH_REUSE_DETECTED: AuthEvent.REFRESH_REUSE_DETECTED,
    AuditEvent.RATE_LIMITED: AuthEvent.RATE_LIMITED,
}


def audit(
    event: AuditEvent, *, actor: Actor, subject: Actor, client: str | None, **fields: object
) -> None:
    """Write one audit line for *event* (user ids as text, so every renderer shows them alike),
    and count it if /metrics does."""
    if (counted := COUNTED.get(event)) is not None:
        count_auth_event(counted)
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
