"""What the default bake contains beyond the per-variant checks, and the template's own files
that tools validate."""

import re
import tomllib
from collections.abc import Callable
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
import yaml

from scripts.variants import TEMPLATE_DIR, Variant, cookiecutter_json

from .support import run, workflows

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
# What dependency bots (Dependabot, pre-commit autoupdate, Renovate) rewrite: the workflows' action
# pins, the hooks' revisions, the base images, the Dependabot configuration. They hold no Jinja, so
# a bot's pull request to the template applies to the template's files as it would to a bake's.
BOT_UPDATED = (
    ".github/workflows/*",
    ".github/dependabot.yml",
    ".pre-commit-config.yaml",
    "Dockerfile",
)
# Jinja's three delimiters; GitHub's own expressions (${{ ... }}) are not Jinja.
JINJA = re.compile(r"(?<!\$)\{\{|\{%|\{#")


def test_the_package_is_named_from_the_slug(default_project: Path) -> None:
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())

    assert (default_project / "src" / "my_service" / "main.py").is_file()
    assert pyproject["project"]["name"] == "my-service"
    assert pyproject["project"]["scripts"] == {
        "my-service": "my_service.cli:main",
        "serve": "my_service.server:main",
    }


def test_dockerfile_passes_hadolint(default_project: Path) -> None:
    run(["hadolint", "Dockerfile"], default_project)


def test_template_code_passes_ruff() -> None:
    code = ["bench", "hooks", "scripts", "tests", "local_extensions.py", "template_filters.py"]
    run(["ruff", "check", "--no-cache", *code], TEMPLATE_DIR)
    run(["ruff", "format", "--check", "--no-cache", *code], TEMPLATE_DIR)


def test_template_workflows_pass_actionlint() -> None:
    run(["actionlint", "-no-color", *workflows(TEMPLATE_DIR)], TEMPLATE_DIR)


def test_template_workflows_and_dependabot_pass_zizmor() -> None:
    """zizmor reads every workflow (and the Dependabot configuration) under the repository's root,
    those added later included. Offline: the audits that ask GitHub's API are left out."""
    workflows(TEMPLATE_DIR)
    result = run(["zizmor", "--offline", "--no-progress", "."], TEMPLATE_DIR)

    assert "No findings to report" in result.stdout


def test_template_dependabot_config_validates() -> None:
    config = TEMPLATE_DIR / ".github" / "dependabot.yml"

    run(["check-jsonschema", "--builtin-schema", "vendor.dependabot", str(config)], TEMPLATE_DIR)


def bot_updated_files() -> list[Path]:
    return sorted(
        path
        for path in PROJECT_TEMPLATE.rglob("*")
        if path.is_file()
        and any(fnmatchcase(str(path.relative_to(PROJECT_TEMPLATE)), p) for p in BOT_UPDATED)
    )


def test_files_dependency_bots_update_hold_no_jinja() -> None:
    found = {str(path.relative_to(PROJECT_TEMPLATE)) for path in bot_updated_files()}

    assert [p for p in BOT_UPDATED if not any(fnmatchcase(f, p) for f in found)] == []
    assert [f for f in sorted(found) if JINJA.search((PROJECT_TEMPLATE / f).read_text())] == []


def test_files_dependency_bots_update_are_copied_as_they_are(default_project: Path) -> None:
    """Unrendered, or the workflows' ${{ ... }} would meet Jinja; so a bake's copy is the
    template's, byte for byte (the default bake's Python is the Dockerfile's default)."""
    assert set(BOT_UPDATED) <= set(cookiecutter_json()["_copy_without_render"])
    for path in bot_updated_files():
        baked = default_project / path.relative_to(PROJECT_TEMPLATE)
        assert baked.read_bytes() == path.read_bytes(), path.name


def test_the_baked_dependabot_config_validates(default_project: Path) -> None:
    config = default_project / ".github" / "dependabot.yml"

    run(["check-jsonschema", "--builtin-schema", "vendor.dependabot", str(config)], default_project)


@pytest.mark.parametrize("ecosystem", ["uv", "github-actions", "docker"])
def test_the_baked_dependabot_config_updates_each_ecosystem_weekly(
    default_project: Path, ecosystem: str
) -> None:
    updates = yaml.safe_load((default_project / ".github" / "dependabot.yml").read_text())[
        "updates"
    ]
    (update,) = [u for u in updates if u["package-ecosystem"] == ecosystem]

    assert update["schedule"]["interval"] == "weekly"
    assert update["groups"]


def test_compose_file_passes_check_jsonschema(default_project: Path) -> None:
    """The command line itself, once (the variants are checked in-process against the same
    vendored schema: tests/test_variants.py)."""
    run(
        ["check-jsonschema", "--builtin-schema", "vendor.compose-spec", "compose.yaml"],
        default_project,
    )


@pytest.mark.slow  # installs the bake, fetches the pinned generator, runs the service
def test_a_client_generated_from_the_committed_schema_runs_its_flow(
    synced: Callable[[Variant], Path],
) -> None:
    """What the baked CI's `make client-check` step runs, on the default bake."""
    project = synced({})

    result = run(["make", "client-check"], project)

    assert "typed errors: ok" in result.stdout
