"""Management commands. ``create-admin`` makes the first admin account."""

import argparse
import asyncio
import getpass
import os
import sys

from pydantic import ValidationError

from .config import get_settings
from .core.database import create_engine, create_session_factory
from .core.errors import ConflictError
from .core.security import PasswordHasher, TokenCodec
from .features.auth.schemas import RegisterRequest
from .features.auth.service import AuthService
from .features.users.models import Role
from .features.users.principals import PrincipalCache


async def create_admin(email: str, password: str, full_name: str | None) -> None:
    """Create an account with the admin role (the registration rules apply to its fields)."""
    fields = RegisterRequest(email=email, password=password, full_name=full_name)
    settings = get_settings()
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            service = AuthService(
                session, PasswordHasher(settings), TokenCodec(settings), PrincipalCache(0)
            )
            await service.create_user(fields.email, fields.password, fields.full_name, Role.ADMIN)
    finally:
        await engine.dispose()


def _read_password() -> str:
    password = os.environ.get("ADMIN_PASSWORD")
    if password:
        return password
    password = getpass.getpass("Password: ")
    if password != getpass.getpass("Repeat password: "):
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
    args = parser.parse_args(argv)

    try:
        asyncio.run(create_admin(args.email, _read_password(), args.full_name))
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SystemExit(f"error: {problems}") from None
    except ConflictError as exc:
        raise SystemExit(f"error: {exc.message}") from None
    sys.stdout.write(f"Created admin {args.email}\n")


if __name__ == "__main__":
    main()
