"""Email addresses: their syntax, and the special-use domains (RFC 6761) a deployment accepts.

email-validator refuses special-use domains (``local``, ``test``, ``localhost``...) as part of its
syntax check, with no per-call switch. Which of them a service accepts is a setting, so it is
decided per app, by the service (AuthService), from the address the schema normalized; the
schema checks the syntax only, with email-validator's list set aside for that one call.
"""

from collections.abc import Collection, Iterator
from contextvars import ContextVar
from typing import Annotated

import email_validator
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

# IANA's special-use names that cannot hold a globally deliverable address.
SPECIAL_USE_DOMAINS: tuple[str, ...] = tuple(email_validator.SPECIAL_USE_DOMAIN_NAMES)
MAX_EMAIL_LENGTH = 320

_syntax_only: ContextVar[bool] = ContextVar("email_syntax_only", default=False)


class _SpecialUseDomainNames(list[str]):
    """email-validator's list, which its syntax check reads on every call: the same names for
    every caller (pydantic's EmailStr included), none while :func:`_check_syntax` runs. The
    switch is a context variable set and reset around that one synchronous call, so no other
    thread, task, app or test ever sees the list empty."""

    def __iter__(self) -> Iterator[str]:
        return iter(()) if _syntax_only.get() else super().__iter__()


email_validator.SPECIAL_USE_DOMAIN_NAMES = _SpecialUseDomainNames(SPECIAL_USE_DOMAINS)


def _within(domain: str, parent: str) -> bool:
    return domain == parent or domain.endswith(f".{parent}")


def special_use_parent(domain: str) -> str | None:
    """The special-use name *domain* falls under (``local`` for ``corp.local``), if any."""
    return next((name for name in SPECIAL_USE_DOMAINS if _within(domain, name)), None)


def is_refused(address: str, accepted: Collection[str]) -> bool:
    """Whether *address* (as the schema normalized it) is at a special-use domain that none of
    *accepted* (special-use domains, e.g. ``local`` or ``corp.local``) covers."""
    domain = address.rpartition("@")[2].lower()
    if special_use_parent(domain) is None:
        return False
    return not any(_within(domain, name) for name in accepted)


def _check_syntax(value: str) -> str:
    """The address normalized by email-validator, special-use domains allowed (they have no
    public top-level domain, so they are not held to the rules of globally deliverable ones)."""
    special_use = special_use_parent(value.rpartition("@")[2].lower()) is not None
    token = _syntax_only.set(True)
    try:
        result = email_validator.validate_email(
            value, check_deliverability=False, globally_deliverable=not special_use
        )
    except email_validator.EmailNotValidError as error:
        raise PydanticCustomError(
            "value_error", "value is not a valid email address: {reason}", {"reason": str(error)}
        ) from None
    finally:
        _syntax_only.reset(token)
    return result.normalized


EMAIL_DESCRIPTION = (
    "An email address. Addresses at special-use domains "
    f"({', '.join(f'.{name}' for name in SPECIAL_USE_DOMAINS)} and their subdomains, RFC 6761) "
    "are refused with a 422 unless the service accepts them (its EMAIL_SPECIAL_USE_DOMAINS "
    "setting, e.g. for an intranet on .local)."
)

EmailAddress = Annotated[
    str,
    Field(
        max_length=MAX_EMAIL_LENGTH,
        description=EMAIL_DESCRIPTION,
        json_schema_extra={"format": "email"},
    ),
    AfterValidator(_check_syntax),
]
