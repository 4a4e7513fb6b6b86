"""What a default bake contains, read without running it."""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from .helpers import run

# GitHub Actions expressions (${{ ... }}) are meant to survive the bake.
LEFTOVER_TEMPLATE_SYNTAX = re.compile(r"(?<!\$)\{\{|\{%|\{#|cookiecutter\.")


def baked_files(project: Path) -> list[Path]:
    return [path for path in project.rglob("*") if path.is_file() and ".venv" not in path.parts]


def test_no_template_syntax_is_left_in_any_file_or_path(default_project: Path) -> None:
    leftovers = [
        str(path.relative_to(default_project))
        for path in baked_files(default_project)
        if LEFTOVER_TEMPLATE_SYNTAX.search(str(path.relative_to(default_project)))
        or LEFTOVER_TEMPLATE_SYNTAX.search(path.read_text(errors="replace"))
    ]

    assert leftovers == []


def test_every_config_file_parses(default_project: Path) -> None:
    files = baked_files(default_project)
    parsers = {
        ".toml": lambda text: tomllib.loads(text),
        ".lock": lambda text: tomllib.loads(text),
        ".json": lambda text: json.loads(text),
        ".yml": lambda text: yaml.safe_load(text),
        ".yaml": lambda text: yaml.safe_load(text),
    }
    parsed = [path for path in files if path.suffix in parsers]
    for path in parsed:
        parsers[path.suffix](path.read_text())

    assert {path.name for path in parsed} >= {"pyproject.toml", "uv.lock", "compose.yaml"}


def test_the_package_is_named_from_the_slug(default_project: Path) -> None:
    assert (default_project / "src" / "my_service" / "main.py").is_file()
    assert tomllib.loads((default_project / "pyproject.toml").read_text())["project"][
        "name"
    ] == "my-service"


@pytest.mark.parametrize("python_version", ["3.12", "3.13"])
def test_python_version_reaches_every_place_that_names_it(
    bake: object, python_version: str
) -> None:
    project = bake(python_version=python_version)  # type: ignore[operator]

    assert (project / ".python-version").read_text().strip() == python_version
    assert f"PYTHON_VERSION={python_version}" in (project / "Dockerfile").read_text()


def test_dockerfile_passes_hadolint(default_project: Path) -> None:
    run(["hadolint", "Dockerfile"], default_project)


def test_compose_runs_migrations_before_the_app(default_project: Path) -> None:
    services = yaml.safe_load((default_project / "compose.yaml").read_text())["services"]

    assert services["db"]["healthcheck"]
    assert services["app"]["healthcheck"]
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
