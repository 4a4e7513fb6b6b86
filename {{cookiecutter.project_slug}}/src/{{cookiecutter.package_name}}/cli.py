"""Management commands. ``create-admin`` makes the first admin account; ``purge-tokens``
deletes expired refresh tokens (schedule it); ``openapi`` writes the OpenAPI document, without a
server, for client generators and the drift check."""

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from .config import Settings, get_settings
from .core.clock import utc_now
from .core.database import create_engine, create_session_factory
from .core.errors import AppError
from .core.logging import configure_logging
from .core.rate_limit import InProcessRateLimiter
from .core.security import PasswordHasher, TokenCodec
from .features.auth.principals import PrincipalCache
from .features.auth.retention import PURGE_BATCH_SIZE, purge_expired
from .features.auth.revocation import RevokedTokens
from .features.auth.schemas import RegisterRequest
from .features.auth.service import AuthService
from .main import create_app

CLI_ACTOR = "cli"  # who acted, in the audit trail: the operator at the command line
DATABASE_UNREACHABLE = "error: the database did not answer: check DATABASE_URL and that it is up"
NO_PASSWORD = (
    "error: no password: set ADMIN_PASSWORD, "  # noqa: S105 - a message, not a password
    "or run create-admin in a terminal to be asked for it"
)


async def create_admin(
    settings: Settings, email: str, password: str, full_name: str | None
) -> None:
    """Create an account with the admin role (the registration rules apply to its fields)."""
    fields = RegisterRequest(email=email, password=password, full_name=full_name)
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            service = AuthService(
                session,
                PasswordHasher(settings),
                TokenCodec(settings),
                PrincipalCache(0),
                RevokedTokens(),
                login_limiter=InProcessRateLimiter(
                    settings.auth_rate_limit_per_minute, settings.auth_rate_limit_burst
                ),
                special_use_domains=settings.email_special_use_domains,
            )
            await service.create_admin(
                fields.email, fields.password, fields.full_name, actor=CLI_ACTOR
            )
    finally:
        await engine.dispose()


async def purge_tokens(settings: Settings, batch_size: int) -> int:
    """Delete every refresh token past its expiry, *batch_size* rows per transaction; return how
    many went. Tokens still valid stay, revoked ones included (reuse detection needs them)."""
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            return await purge_expired(session, utc_now(), batch_size)
    finally:
        await engine.dispose()


def positive_whole_number(text: str) -> int:
    """An argparse type: a whole number of at least 1 (scripts/ use it too)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def openapi_json(settings: Settings) -> str:
    """The document the service serves at /openapi.json, as committed: the app's own key order
    (which the code fixes), two-space indents, one trailing newline."""
    document = create_app(settings).openapi()
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _read_password() -> str:
    password = os.environ.get("ADMIN_PASSWORD")
    if password:
        return password
    # Without a terminal getpass would read stdin, echoing, and fail at its end (EOFError).
    if sys.stdin is None or not sys.stdin.isatty():
        raise SystemExit(NO_PASSWORD)
    try:
        password = getpass.getpass("Password: ")
        repeated = getpass.getpass("Repeat password: ")
    except EOFError:  # Ctrl-D at the prompt
        raise SystemExit(NO_PASSWORD) from None
    if password != repeated:
        raise SystemExit("error: the passwords do not match")
    return password


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser(
        "create-admin", help="create an admin account (password from ADMIN_PASSWORD or a prompt)"
    )
    admin.add_argument("--email", required=True)
    admin.add_argument("--full-name")
    purge = commands.add_parser(
        "purge-tokens", help="delete expired refresh tokens (run it on a schedule)"
    )
    purge.add_argument(
        "--batch-size",
        type=positive_whole_number,
        default=PURGE_BATCH_SIZE,
        help=f"rows deleted per transaction (default {PURGE_BATCH_SIZE})",
    )
    schema = commands.add_parser("openapi", help="write the OpenAPI document (no server needed)")
    schema.add_argument("--output", type=Path, default=Path("openapi.json"))
    args = parser.parse_args(argv)
    settings = get_settings()  # invalid settings end here, before the password prompt
    configure_logging(settings)  # the commands' lines (the audit trail's) as the service's

    if args.command == "openapi":
        args.output.write_text(openapi_json(settings), encoding="utf-8")
        sys.stdout.write(f"Wrote {args.output}\n")
        return
    if args.command == "purge-tokens":
        try:
            removed = asyncio.run(purge_tokens(settings, args.batch_size))
        except (OSError, SQLAlchemyError) as exc:  # the URL is a secret: not in the message
            raise SystemExit(f"{DATABASE_UNREACHABLE} ({type(exc).__name__})") from None
        sys.stdout.write(f"Purged {removed} expired refresh tokens\n")
        return
    try:
        asyncio.run(create_admin(settings, args.email, _read_password(), args.full_name))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"error: {problems}") from None
    except AppError as exc:
        raise SystemExit(f"error: {exc.message}") from None
    sys.stdout.write(f"Created admin {args.email}\n")


if __name__ == "__main__":
    main()
