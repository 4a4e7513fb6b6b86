"""Which email addresses registration accepts: email-validator's syntax, and special-use domains
(RFC 6761) only where the settings list them."""

import pytest
from pydantic import EmailStr, TypeAdapter, ValidationError

from {{ cookiecutter.package_name }}.core.emails import EmailAddress, is_refused

email_address = TypeAdapter(EmailAddress)


@pytest.mark.parametrize(
    ("address", "accepted", "refused"),
    [
        ("a@example.com", [], False),
        ("a@corp.local", [], True),
        ("a@myapp.test", [], True),
        ("a@localhost", [], True),
        ("a@corp.local", ["local"], False),
        ("a@corp.local", ["corp.local"], False),
        ("a@team.corp.local", ["corp.local"], False),
        ("a@other.local", ["corp.local"], True),
        ("a@localhost", ["local"], True),
        ("a@myapp.test", ["local"], True),
    ],
)
def test_special_use_domains_are_refused_unless_accepted(
    address: str, accepted: list[str], refused: bool
) -> None:
    assert is_refused(address, accepted) is refused


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("Admin@Example.COM", "Admin@example.com"),
        ("admin@CORP.local", "admin@corp.local"),
        ("admin@localhost", "admin@localhost"),
    ],
)
def test_the_schema_checks_syntax_and_leaves_special_use_domains_to_the_service(
    given: str, normalized: str
) -> None:
    assert email_address.validate_python(given) == normalized


@pytest.mark.error_path
@pytest.mark.parametrize(
    "address", ["not-an-email", "a@@example.com", "a@intranet", "a@example.123", " a@example.com"]
)
def test_the_schema_refuses_invalid_addresses(address: str) -> None:
    with pytest.raises(ValidationError, match="not a valid email address"):
        email_address.validate_python(address)


@pytest.mark.error_path
def test_other_email_validation_in_the_process_still_refuses_special_use_domains() -> None:
    """Setting email-validator's list aside for the schema's check leaks nowhere else."""
    email_address.validate_python("admin@corp.local")

    with pytest.raises(ValidationError, match="special-use"):
        TypeAdapter(EmailStr).validate_python("admin@corp.local")
