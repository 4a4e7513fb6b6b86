"""Validate the answers before cookiecutter writes anything.

The rules here run twice with the same code: while cookiecutter renders the answers (the
``__answers_checked`` variable of cookiecutter.json calls ``local_extensions.refuse_bad_answers``,
before any directory exists; the refusal is one line), and as the pre-gen hook, for a bake
replayed from a file of answers, which skips that rendering.

Importable for unit tests: the only Jinja is inside the string literal that ``main`` parses.
"""

import json
import keyword
import re
import sys
from typing import Any

from slugify import slugify  # python-slugify, a dependency of cookiecutter

# Import names of the baked layout: a package of the same name would be shadowed by, or shadow,
# the project's own folders and the tools' conventions.
LAYOUT_NAMES = frozenset({"app", "migrations", "src", "test", "tests"})
# Every top-level import name installed by the baked projects' lock files (runtime and dev):
# a package of the same name would shadow the dependency. The slow template test
# ``test_every_installed_import_name_is_reserved`` lists what a relock added.
DEPENDENCY_NAMES = frozenset(
    {
        "aiosqlite",
        "alembic",
        "annotated_doc",
        "annotated_types",
        "anyio",
        "argon2",
        "ast_serialize",
        "asyncpg",
        "blinker",
        "boto3",
        "botocore",
        "certifi",
        "cffi",
        "charset_normalizer",
        "click",
        "coverage",
        "cryptography",
        "dateutil",
        "dns",
        "dotenv",
        "email_validator",
        "execnet",
        "fastapi",
        "fastapi_swagger",
        "flask",
        "flask_cors",
        "google",
        "graphql",
        "greenlet",
        "h11",
        "harfile",
        "hiredis",
        "httpcore",
        "httptools",
        "httpx",
        "hypothesis",
        "hypothesis_graphql",
        "idna",
        "iniconfig",
        "itsdangerous",
        "jinja2",
        "jmespath",
        "jsonschema_rs",
        "jwt",
        "librt",
        "mako",
        "markdown_it",
        "markupsafe",
        "mdurl",
        "moto",
        "multipart",
        "mypy",
        "mypy_extensions",
        "mypyc",
        "obstore",
        "opentelemetry",
        "orjson",
        "packaging",
        "pathspec",
        "pluggy",
        "prometheus_client",
        "puremagic",
        "pwdlib",
        "py",
        "py_partiql_parser",
        "pycparser",
        "pydantic",
        "pydantic_core",
        "pydantic_settings",
        "pygments",
        "pyinstrument",
        "pyrate_limiter",
        "pytest",
        "pytest_asyncio",
        "pytest_cov",
        "python_multipart",
        "redis",
        "requests",
        "responses",
        "rich",
        "ruff",
        "s3transfer",
        "schemathesis",
        "sentry_sdk",
        "six",
        "sortedcontainers",
        "sqlalchemy",
        "sqlmodel",
        "starlette",
        "structlog",
        "typing_extensions",
        "typing_inspection",
        "urllib3",
        "uvicorn",
        "uvloop",
        "watchfiles",
        "websockets",
        "werkzeug",
        "wrapt",
        "xdist",
        "xmltodict",
        "yaml",
    }
)
# Console scripts every baked project installs besides its own (named for the slug): ``serve``
# is the production server, the Dockerfile's command.
RESERVED_SCRIPTS = frozenset({"serve"})
SLUG_PATTERN = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
PACKAGE_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
# A release number in its normalized form, so the baked uv.lock matches pyproject.toml exactly.
VERSION_PATTERN = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*)){1,2}")
# The longest import of the baked tests, ``from <package>.features.auth.dependencies import (``,
# must fit the baked project's 100 columns: 44 characters plus the package name.
MAX_NAME_LENGTH = 48


def slug_problem(slug: str) -> str | None:
    """Say what is wrong with *slug*, or return None when it is acceptable."""
    if not SLUG_PATTERN.fullmatch(slug) or len(slug) > MAX_NAME_LENGTH:
        return (
            f"project_slug {slug!r} is not allowed: use lowercase ASCII letters, digits and single "
            f"hyphens, starting with a letter, at most {MAX_NAME_LENGTH} characters "
            "(for example 'billing-api')."
        )
    if slug in RESERVED_SCRIPTS:
        return (
            f"project_slug {slug!r} is not allowed: it names the project's command, and every "
            f"baked project already has a {slug!r} command (the server). Use another name "
            "(for example 'billing-api')."
        )
    return None


PACKAGE_ALLOWED = (
    "use a lowercase Python identifier (letters, digits, underscores, starting with a letter) "
    f"of at most {MAX_NAME_LENGTH} characters that is not a keyword, a standard-library module "
    "or a dependency's name (for example 'billing_api')."
)


def package_reason(package: str) -> str | None:
    """Why *package* cannot be the import name, or None when it can."""
    if not PACKAGE_PATTERN.fullmatch(package) or len(package) > MAX_NAME_LENGTH:
        return "is not allowed"
    if keyword.iskeyword(package) or keyword.issoftkeyword(package):
        return "is a Python keyword"
    if package in sys.stdlib_module_names:
        return "would shadow the standard-library module"
    if package in LAYOUT_NAMES:
        return "is taken by the baked project's layout"
    if package in DEPENDENCY_NAMES:
        return "would shadow a dependency of the service"
    return None


def package_problem(package: str) -> str | None:
    """Say what is wrong with *package*, or return None when it is acceptable."""
    reason = package_reason(package)
    return None if reason is None else f"package_name {package!r} {reason}: {PACKAGE_ALLOWED}"


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


def derived_slug(project_name: str) -> str:
    """The slug cookiecutter.json makes of *project_name* when none is typed."""
    return str(slugify(project_name))


def naming_problem(context: dict[str, Any]) -> str | None:
    """What is wrong with the names, said of the answer the user typed.

    The slug is made from the project name and the package name from the slug unless typed:
    a refused value that was made from another answer is reported as that answer's problem.
    """
    name, slug, package = (
        str(context["project_name"]),
        str(context["project_slug"]),
        str(context["package_name"]),
    )
    slug_made_from_name = slug == derived_slug(name)
    if not slug:
        if slug_made_from_name:
            return (
                f"project_name {name!r} gives an empty project_slug: use a name with ASCII "
                "letters or digits, or type a project_slug (for example 'billing-api')."
            )
        return slug_problem(slug)
    problem = slug_problem(slug)
    if problem is not None:
        if slug_made_from_name:
            return f"{problem} It was made from project_name {name!r}."
        return problem
    reason = package_reason(package)
    if reason is not None and package == slug.replace("-", "_"):
        return (
            f"project_slug {slug!r} gives the package name {package!r}, which {reason}: "
            f"type another project_slug, or a package_name ({PACKAGE_ALLOWED.removesuffix('.')})."
        )
    return package_problem(package)


def problems(context: dict[str, Any]) -> list[str]:
    """Every problem with the answers in *context*, in the order the questions are asked."""
    found = [naming_problem(context), version_problem(str(context["version"]))]
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
