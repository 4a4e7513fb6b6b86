"""Targeted mutants of a baked project's security code: each removes or weakens one protection
(signature checking, expiry, token type, revocation, refresh-token reuse, password checks, roles,
ownership, rate limits, server-owned fields; the packs' own: a WebSocket's origin, revocation,
expiry, limits and whose events it gets, an upload's size, type, name and owner) and the baked
tests must fail.

    uv run python -m scripts.mutants                       # bake the default, run its mutants
    uv run python -m scripts.mutants --answers use_redis=yes orm=sqlmodel   # and the Redis pack's
    uv run python -m scripts.mutants --answers use_websockets=yes use_file_uploads=yes
    uv run python -m scripts.mutants --project DIR --only token-signature,owner-scope

Each mutant replaces one snippet that must occur exactly once in its file (a stale mutant is an
error, so the list follows the code), runs the tests it names (``pytest -x``: the first failure
kills it), then restores the file. It prints one line per mutant and the share killed; it exits
non-zero when one survives or is stale. The nightly workflow runs it; tests/test_mutants.py
checks that every mutant still applies to the bakes.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.variants import bake_and_sync

SECURITY_TESTS = ("tests/security", "tests/unit/test_security.py")
AUTH_TESTS = (*SECURITY_TESTS, "tests/e2e")
REALTIME_TESTS = ("tests/realtime",)
FILES_TESTS = ("tests/files",)
PYTEST = ("uv", "run", "pytest", "-x", "-q", "-n0", "--no-cov", "-p", "no:cacheprovider")


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str  # in the package: src/<package>/<path>
    old: str
    new: str
    tests: tuple[str, ...] = AUTH_TESTS
    pack: str | None = None  # the option whose pack owns the file (a bake without it is skipped)


MUTANTS = (
    Mutant(
        "token-signature",
        "core/security.py",
        'options={"require": REQUIRED_CLAIMS},',
        'options={"require": REQUIRED_CLAIMS, "verify_signature": False},',
        SECURITY_TESTS,
    ),
    Mutant(
        "token-expiry",
        "core/security.py",
        'options={"require": REQUIRED_CLAIMS},',
        'options={"require": REQUIRED_CLAIMS, "verify_exp": False},',
        SECURITY_TESTS,
    ),
    Mutant(
        "token-required-claims",
        "core/security.py",
        'REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "type"]',
        'REQUIRED_CLAIMS = ["sub", "exp", "iat", "type"]',
        SECURITY_TESTS,
    ),
    Mutant(
        "token-type",
        "core/security.py",
        "if claims.token_type is not expected_type:",
        "if False:",
        SECURITY_TESTS,
    ),
    Mutant(
        "password-check",
        "core/security.py",
        "return self._hash.verify(password, password_hash)",
        "return True",
    ),
    Mutant(
        "inactive-login",
        "features/auth/service.py",
        "if user is None or not password_ok or not user.is_active:",
        "if user is None or not password_ok:",
    ),
    Mutant(
        "refresh-reuse",
        "features/auth/service.py",
        "        if stored.revoked_at is not None:\n            await self._revoke_family",
        "        if False:\n            await self._revoke_family",
    ),
    Mutant(
        "revocation",
        "features/auth/service.py",
        "if revoked.is_revoked(claims):",
        "if False:",
    ),
    Mutant(
        "inactive-token",
        "features/auth/service.py",
        "        user = await self.users.get(claims.subject)\n"
        "        if user is None or not user.is_active:",
        "        user = await self.users.get(claims.subject)\n        if user is None:",
    ),
    Mutant(
        "role-check",
        "features/auth/dependencies.py",
        "if user.role not in roles:",
        "if False:",
    ),
    Mutant(
        "client-rate-limit",
        "features/auth/dependencies.py",
        "    retry_after = await resources_of(request).auth_rate_limiter.hit(key)\n"
        "    if retry_after:",
        "    retry_after = await resources_of(request).auth_rate_limiter.hit(key)\n    if False:",
    ),
    Mutant(
        "account-rate-limit",
        "features/auth/service.py",
        "        retry_after = await self.login_limiter.hit(account)\n        if retry_after:",
        "        retry_after = await self.login_limiter.hit(account)\n        if False:",
    ),
    Mutant(
        "rate-limit-burst",
        "core/rate_limit.py",
        "if arrival - now > self._tolerance:",
        "if arrival - now > 2 * self._tolerance:",
        ("tests/unit", "tests/security"),
    ),
    Mutant(
        "owner-scope",
        "features/items/service.py",
        "return None if user.role is Role.ADMIN else user.id",
        "return None",
    ),
    Mutant(
        "owner-check-on-read",
        "features/items/service.py",
        "return user.role is Role.ADMIN or user.id == owner_id",
        "return True",
    ),
    Mutant(
        "list-scope",
        "features/items/service.py",
        "if filters.owner_id not in {None, user.id}:",
        "if False:",
    ),
    Mutant(
        "server-owned-fields",
        "features/users/schemas.py",
        '    """Fields a user may change on their own account; anything else is rejected."""\n\n'
        '    model_config = ConfigDict(extra="forbid")',
        '    """Fields a user may change on their own account; anything else is rejected."""\n\n'
        '    model_config = ConfigDict(extra="ignore")',
    ),
    # The Redis pack: limits, revocation and eviction shared by every process.
    Mutant(
        "redis-limit-not-counted",
        "redis/rate_limit.py",
        "arrival = arrival + interval",
        "arrival = arrival",
        ("tests/redis/test_rate_limit.py", "tests/e2e/test_auth_rate_limits.py"),
        pack="use_redis",
    ),
    Mutant(
        "redis-revocation-unheard",
        "redis/revocation.py",
        "self.revoked.deny(RevokedToken(jti, exp) for jti, exp in event.revoked.items())",
        "self.revoked.deny(())",
        ("tests/redis/test_revocation.py",),
        pack="use_redis",
    ),
    Mutant(
        "redis-eviction-unheard",
        "redis/revocation.py",
        "for user_id in event.evicted:\n            self.principals.evict(user_id)",
        "for user_id in event.evicted:\n            del user_id",
        ("tests/redis/test_revocation.py",),
        pack="use_redis",
    ),
    Mutant(
        "redis-missed-revocations",
        "redis/revocation.py",
        "        self.revoked.deny(tokens)\n",
        "        self.revoked.deny(())\n",
        ("tests/redis/test_revocation.py",),
        pack="use_redis",
    ),
    Mutant(
        "redis-cache-never-deleted",
        "redis/cache.py",
        "        self._unsent_deletes[name] = None\n",
        "",
        ("tests/redis/test_cache.py", "tests/redis/test_outage.py"),
        pack="use_redis",
    ),
    # The WebSockets pack: who may connect, what a connection may do, and whose events it gets.
    Mutant(
        "ws-origin",
        "realtime/endpoint.py",
        "    if not origin_allowed(websocket, settings.cors_origins):",
        "    if False:",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-revoked-stays-open",
        "realtime/hub.py",
        "            if self.revoked.is_revoked(connection.claims):",
        "            if False:",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-expired-stays-open",
        "realtime/hub.py",
        "            elif connection.expires_at <= wall_now:",
        "            elif False:",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-events-to-everyone",
        "realtime/hub.py",
        "            for connection in self._by_user.get(user_id, ()):",
        "            for connection in self.connections():",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-connection-cap",
        "realtime/hub.py",
        "        if len(held) >= self.settings.ws_max_connections_per_user:",
        "        if False:",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-frame-size",
        "realtime/handler.py",
        "        if size > self.settings.ws_max_message_bytes:",
        "        if False:",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-rate-limit",
        "realtime/handler.py",
        "        if arrival - now > self._tolerance:",
        "        if False:",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-renew-as-someone-else",
        "realtime/handler.py",
        "if isinstance(checked, tuple) or checked.subject != connection.user_id:",
        "if isinstance(checked, tuple):",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    Mutant(
        "ws-unbounded-queue",
        "realtime/connection.py",
        "            if len(self._queue) >= self._queue_frames:",
        "            if False:",
        REALTIME_TESTS,
        pack="use_websockets",
    ),
    # The file uploads pack: what may be stored, under which name, and who may read it.
    Mutant(
        "files-size-cap",
        "files/service.py",
        "            if size > self._max_bytes:",
        "            if False:",
        FILES_TESTS,
        pack="use_file_uploads",
    ),
    Mutant(
        "files-type-check",
        "files/service.py",
        "    if found is None or found not in allowed:",
        "    if found is None:",
        FILES_TESTS,
        pack="use_file_uploads",
    ),
    Mutant(
        "files-owner-scope",
        "files/service.py",
        "stored = await self.files.get(file_id, owner_id=_owner_scope(user))",
        "stored = await self.files.get(file_id, owner_id=None)",
        FILES_TESTS,
        pack="use_file_uploads",
    ),
    Mutant(
        "files-list-scope",
        "files/service.py",
        "            _owner_scope(user), offset=params.offset, limit=params.page_size",
        "            None, offset=params.offset, limit=params.page_size",
        FILES_TESTS,
        pack="use_file_uploads",
    ),
    Mutant(
        "files-path-in-name",
        "files/names.py",
        r'last_part = kept.replace("\\", "/").rsplit("/", 1)[-1]',
        "last_part = kept",
        FILES_TESTS,
        pack="use_file_uploads",
    ),
)


class StaleMutantError(Exception):
    """A mutant's snippet is not in its file exactly once: the code moved on."""


def target(project: Path, mutant: Mutant) -> Path:
    (package,) = (path for path in (project / "src").iterdir() if path.is_dir())
    return package / mutant.path


def check_applies(project: Path, mutant: Mutant) -> str:
    """The file's text; raises StaleMutantError unless the snippet occurs exactly once."""
    text = target(project, mutant).read_text(encoding="utf-8")
    count = text.count(mutant.old)
    if count != 1:
        raise StaleMutantError(f"{mutant.name}: {mutant.old!r} occurs {count} times")
    return text


def run_mutant(project: Path, mutant: Mutant) -> tuple[bool, str, float]:
    """Whether the tests killed *mutant*, the first failing test, the seconds it took."""
    path = target(project, mutant)
    original = check_applies(project, mutant)
    path.write_text(original.replace(mutant.old, mutant.new), encoding="utf-8")
    started = time.monotonic()
    try:
        result = subprocess.run(  # noqa: S603 - the project's own test command
            [*PYTEST, *mutant.tests],
            cwd=project,
            capture_output=True,
            text=True,
            check=False,
        )
    finally:
        path.write_text(original, encoding="utf-8")
    failing = next(
        (line.split(" ")[1] for line in result.stdout.splitlines() if line.startswith("FAILED ")),
        "",
    )
    return result.returncode != 0, failing, time.monotonic() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="a baked, synced project (else: bake one)")
    parser.add_argument("--answers", nargs="*", default=[], help="key=value answers to bake")
    parser.add_argument("--only", default="", help="mutant names, separated by commas")
    args = parser.parse_args(argv)
    chosen = [m for m in MUTANTS if not args.only or m.name in args.only.split(",")]
    with tempfile.TemporaryDirectory() as scratch:
        answers = dict(answer.split("=", 1) for answer in args.answers)
        project = args.project or bake_and_sync(Path(scratch), answers)
        absent = [m for m in chosen if m.pack is not None and not target(project, m).exists()]
        for mutant in absent:
            print(f"skipped   {mutant.name:<24} ({mutant.pack} is not in this bake)")
        chosen = [m for m in chosen if m not in absent]
        killed, problems = 0, 0
        for mutant in chosen:
            try:
                dead, failing, seconds = run_mutant(project, mutant)
            except StaleMutantError as error:
                print(f"STALE     {error}")
                problems += 1
                continue
            killed += dead
            problems += not dead
            verdict = "killed  " if dead else "SURVIVED"
            print(f"{verdict}  {mutant.name:<24} {seconds:5.1f} s  {failing}", flush=True)
    print(f"{killed} of {len(chosen)} mutants killed ({killed / max(len(chosen), 1):.0%})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
