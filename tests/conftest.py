"""Bake each variant once per session; every check then runs on the same bake."""

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jinja2
import pytest

from scripts.variants import TEMPLATE_DIR, Variant

from .support import (
    POSTGRES_ADMIN_URL,
    asyncpg_url,
    fetch_column,
    run,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--variants",
        default="pairwise",
        help="variants that get the full checks: pairwise (default), all, or variant ids "
        "separated by commas, e.g. 3.13-sqlmodel-sqlite",
    )
    parser.addoption(
        "--upgrade-deps",
        action="store_true",
        help="run `uv lock --upgrade` in each variant before its full checks",
    )
    parser.addoption(
        "--update-from",
        default=None,
        help="the commit or tag of this repository that tests/test_updates.py bakes and then "
        "updates to HEAD (default: its UPDATE_FROM)",
    )
    parser.addoption(
        "--update-checks",
        action="store_true",
        help="after the update, run the updated project's own checks (uv sync, ruff, mypy, pytest)",
    )


@pytest.fixture(scope="session", autouse=True)
def _compile_each_template_once() -> Iterator[None]:
    """Cookiecutter makes a new Jinja environment for each bake, and Jinja compiles every file
    and every path of the template again for it: most of a bake's time. The run bakes
    the same sources dozens of times, so it keeps what Jinja compiled, keyed on everything the
    compiled code depends on: the source, its name and file, and the environment's class,
    syntax (its lexer), extensions, optimizer, autoescaping, finalizer, async mode, and its
    filters and tests with what each is passed (context, environment)."""
    compiled: dict[tuple[Any, ...], Any] = {}
    compile_ = jinja2.Environment.compile

    def compile_once(
        self: jinja2.Environment,
        source: Any,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if not isinstance(source, str):  # a parsed template: compile it as it is
            return compile_(self, source, name, filename, raw, defer_init)
        key = (
            source,
            name,
            filename,
            raw,
            defer_init,
            type(self),
            self.lexer,
            tuple(sorted(self.extensions)),
            self.optimized,
            self.autoescape,
            self.finalize,
            self.is_async,
            _passed(self.filters),
            _passed(self.tests),
        )
        if key not in compiled:
            compiled[key] = compile_(self, source, name, filename, raw, defer_init)
        return compiled[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(jinja2.Environment, "compile", compile_once)
        yield


def _passed(functions: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """Each filter's or test's name and what Jinja passes it first (its ``pass_context`` and
    kin mark), which the compiled code depends on."""
    return tuple(
        (name, getattr(function, "jinja_pass_arg", None))
        for name, function in sorted(functions.items())
    )


@pytest.fixture(scope="session")
def bake(cookies_session: Any) -> Callable[..., Path]:
    """Bake the template with *context* overrides, at most once per distinct context."""
    baked: dict[str, Path] = {}

    def bake(**context: str) -> Path:
        key = json.dumps(context, sort_keys=True)
        if key not in baked:
            result = cookies_session.bake(extra_context=context, template=str(TEMPLATE_DIR))
            assert result.exit_code == 0, result.exception
            baked[key] = Path(result.project_path)
        return baked[key]

    return bake


@pytest.fixture(scope="session")
def default_project(bake: Callable[..., Path]) -> Path:
    return bake()


@pytest.fixture(scope="session")
def synced(bake: Callable[..., Path], pytestconfig: pytest.Config) -> Callable[[Variant], Path]:
    """A variant's bake with its dependencies installed (once per variant): the locked ones,
    or the newest allowed ones with ``--upgrade-deps``."""
    installed: set[Path] = set()

    def sync(variant: Variant) -> Path:
        project = bake(**variant)
        if project not in installed:
            if pytestconfig.getoption("upgrade_deps"):
                run(["uv", "lock", "--upgrade"], project)
            run(["uv", "sync", "--locked"], project)
            installed.add(project)
        return project

    return sync


@pytest.fixture(scope="session")
def mypy(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], None]:
    """Run a bake's mypy with one cache for every bake of the session. mypy trusts a cached
    module only when the source's hash matches, so each bake's own code is checked afresh while
    the installed libraries all bakes share (FastAPI, SQLAlchemy, Pydantic, ...) are analysed
    once per Python version instead of once per bake."""
    cache = tmp_path_factory.mktemp("mypy-cache")

    def check(project: Path) -> None:
        run(["uv", "run", "mypy"], project, env={"MYPY_CACHE_DIR": str(cache)})

    return check


@pytest.fixture(scope="session")
def update_checks(
    pytestconfig: pytest.Config, mypy: Callable[[Path], None]
) -> Callable[[Path], None]:
    """The updated project's own checks with ``--update-checks``; nothing without (the regular
    run proves the update equals a fresh bake, whose checks test_baked_project runs)."""

    def check(project: Path) -> None:
        if not pytestconfig.getoption("update_checks"):
            return
        for command in (
            ["uv", "sync", "--locked"],
            ["uv", "run", "ruff", "format", "--check", "."],
            ["uv", "run", "ruff", "check", "."],
        ):
            run(command, project)
        mypy(project)
        run(["uv", "run", "pytest", "-q", "-p", "no:cacheprovider"], project)

    return check


async def _execute(sql: str) -> None:
    await fetch_column(POSTGRES_ADMIN_URL, sql)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[Callable[[], str]]:
    """Create fresh PostgreSQL databases on the real server; drop them at the end of the run."""
    created: list[str] = []

    def create() -> str:
        name = f"fastapi_prod_{uuid.uuid4().hex[:12]}"
        asyncio.run(_execute(f'CREATE DATABASE "{name}"'))
        created.append(name)
        base = asyncpg_url(POSTGRES_ADMIN_URL).rsplit("/", 1)[0]
        return base.replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"

    yield create
    for name in created:
        asyncio.run(_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
