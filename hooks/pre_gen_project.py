"""Validate the answers before cookiecutter writes anything.

Importable for unit tests: the only Jinja is inside the string literal that ``main`` parses.
A rejected answer ends the bake with a one-line message saying what is allowed; cookiecutter
then removes the project directory it created, so nothing is left on disk.
"""

import json
import keyword
import re
import sys
from typing import Any

# Import names a baked project depends on (or that its layout uses). A package of the same
# name would shadow the dependency.
RESERVED_NAMES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "anyio",
        "app",
        "argon2",
        "asyncpg",
        "coverage",
        "email_validator",
        "fastapi",
        "fastapi_swagger",
        "httpx",
        "jwt",
        "migrations",
        "mypy",
        "orjson",
        "pwdlib",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pytest",
        "ruff",
        "sqlalchemy",
        "sqlmodel",
        "src",
        "starlette",
        "structlog",
        "test",
        "tests",
        "uvicorn",
    }
)
SLUG_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
PACKAGE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
# A release number in its normalized form, so the baked uv.lock matches pyproject.toml exactly.
VERSION_PATTERN = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){1,2}")
MAX_NAME_LENGTH = 64


def slug_problem(slug: str) -> str | None:
    """Say what is wrong with *slug*, or return None when it is acceptable."""
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > MAX_NAME_LENGTH:
        return (
            f"project_slug {slug!r} is not allowed: use lowercase ASCII letters, digits and single "
            f"hyphens, starting with a letter, at most {MAX_NAME_LENGTH} characters "
            "(for example 'billing-api')."
        )
    return None


def package_problem(package: str) -> str | None:
    """Say what is wrong with *package*, or return None when it is acceptable."""
    allowed = (
        "use a lowercase Python identifier (letters, digits, underscores, starting with a letter) "
        "that is not a keyword, a standard-library module or a dependency's name "
        "(for example 'billing_api')."
    )
    if not PACKAGE_PATTERN.fullmatch(package) or len(package) > MAX_NAME_LENGTH:
        return f"package_name {package!r} is not allowed: {allowed}"
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        return f"package_name {package!r} is a Python keyword: {allowed}"
    if package in sys.stdlib_module_names:
        return f"package_name {package!r} would shadow the standard-library module: {allowed}"
    if package in RESERVED_NAMES:
        return f"package_name {package!r} would shadow a dependency of the service: {allowed}"
    return None


def version_problem(version: str) -> str | None:
    """Say what is wrong with *version*, or return None when it is acceptable."""
    if VERSION_PATTERN.fullmatch(version):
        return None
    return (
        f"version {version!r} is not allowed: use a release number such as '0.1.0' "
        "(two or three dot-separated numbers without leading zeros)."
    )


def matches(when: dict[str, str], context: dict[str, object]) -> bool:
    """Whether the answers in *context* are those *when* names (a constraint's or a manifest's)."""
    return all(context.get(option) == value for option, value in when.items())


def constraint_problems(context: dict[str, object], constraints: list[dict[str, Any]]) -> list[str]:
    """The messages of the ``_constraints`` of cookiecutter.json that *context* breaks."""
    found = []
    for constraint in constraints:
        if not matches(constraint["when"], context):
            continue
        for option, allowed in constraint["require"].items():
            if context.get(option) not in allowed:
                chosen = ", ".join(f"{key}={value}" for key, value in constraint["when"].items())
                found.append(
                    f"{chosen} needs {option} to be one of {', '.join(allowed)} "
                    f"(it is {context.get(option)}): {constraint['message']}"
                )
    return found


def problems(context: dict[str, Any]) -> list[str]:
    """Every problem with the answers in *context*, in the order the questions are asked."""
    found = [
        slug_problem(str(context["project_slug"])),
        package_problem(str(context["package_name"])),
        version_problem(str(context["version"])),
    ]
    return [problem for problem in found if problem is not None] + constraint_problems(
        context, context.get("_constraints", [])
    )


def main() -> None:
    context = json.loads(r"""{{ cookiecutter | tojson }}""")
    found = problems(context)
    if found:
        sys.exit("ERROR: " + found[0])


if __name__ == "__main__":
    main()
