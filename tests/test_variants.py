"""Every combination of options bakes into a clean project (fast checks, no installs)."""

import itertools
import json
import math
import re
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scripts.variants import (
    TEMPLATE_DIR,
    Variant,
    all_variants,
    choice_options,
    cookiecutter_json,
    load_hook,
    pairwise_variants,
    variant_id,
)

from .support import run, uses_postgresql

VARIANTS = all_variants()
# GitHub Actions expressions (${{ ... }}) are meant to survive the bake.
LEFTOVER_TEMPLATE_SYNTAX = re.compile(r"(?<!\$)\{\{|\{%|\{#|cookiecutter\.")
PARSERS: dict[str, Callable[[str], object]] = {
    ".toml": tomllib.loads,
    ".lock": tomllib.loads,
    ".json": json.loads,
    ".yml": yaml.safe_load,
    ".yaml": yaml.safe_load,
}


# What running a bake's tools leaves behind; the bake itself writes none of it.
TOOL_OUTPUT = {
    ".venv",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
    ".hypothesis",
    "__pycache__",
    ".coverage",
}


def baked_files(project: Path) -> list[Path]:
    return [
        path
        for path in project.rglob("*")
        if path.is_file()
        and not TOOL_OUTPUT.intersection(path.relative_to(project).parts)
        and not path.name.endswith((".db", ".db-wal", ".db-shm"))
    ]


@pytest.fixture(params=VARIANTS, ids=variant_id)
def variant(request: pytest.FixtureRequest) -> Variant:
    chosen: Variant = request.param
    return chosen


@pytest.fixture
def project(bake: Callable[..., Path], variant: Variant) -> Path:
    return bake(**variant)


def test_no_template_syntax_is_left_in_any_file_or_path(project: Path) -> None:
    leftovers = [
        str(path.relative_to(project))
        for path in baked_files(project)
        if LEFTOVER_TEMPLATE_SYNTAX.search(str(path.relative_to(project)))
        or LEFTOVER_TEMPLATE_SYNTAX.search(path.read_text(errors="replace"))
    ]

    assert leftovers == []


def test_every_config_file_parses(project: Path) -> None:
    parsed = [path for path in baked_files(project) if path.suffix in PARSERS]
    for path in parsed:
        PARSERS[path.suffix](path.read_text())

    assert {path.name for path in parsed} >= {"pyproject.toml", "uv.lock", "compose.yaml", "ci.yml"}


def test_files_of_other_options_are_gone_and_chosen_ones_in_place(
    project: Path, variant: Variant
) -> None:
    context = {**variant, "package_name": "my_service"}
    plan = list(
        load_hook("post_gen_project").planned_files(context, cookiecutter_json()["_manifest"])
    )

    assert [path for path, _ in plan if (project / path).exists()] == []
    assert [target for _, target in plan if target and not (project / target).is_file()] == []
    assert [p.name for p in baked_files(project) if "@" in p.name] == []


def test_python_version_reaches_every_place_that_names_it(project: Path, variant: Variant) -> None:
    assert (project / ".python-version").read_text().strip() == variant["python_version"]
    assert f"PYTHON_VERSION={variant['python_version']}" in (project / "Dockerfile").read_text()


def test_compose_runs_migrations_before_the_app(project: Path) -> None:
    services = yaml.safe_load((project / "compose.yaml").read_text())["services"]

    assert services["app"]["healthcheck"]
    assert services["app"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    if uses_postgresql(project):
        assert services["db"]["healthcheck"]
        assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    else:
        assert "db" not in services


def test_workflows_pass_actionlint(project: Path) -> None:
    workflows = sorted(str(path) for path in (project / ".github" / "workflows").glob("*.yml"))

    run(["actionlint", "-no-color", *workflows], project)


def test_ruff_check(project: Path) -> None:
    run(["ruff", "check", "--no-cache", "."], project)


def test_ruff_format_check(project: Path) -> None:
    run(["ruff", "format", "--check", "--no-cache", "."], project)


def test_every_manifest_path_exists_in_the_template() -> None:
    project_template = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
    missing = [
        path
        for rule in cookiecutter_json()["_manifest"]
        for path in rule["files"]
        if not (project_template / path).is_file()
    ]

    assert missing == []


def test_every_variant_file_in_the_template_is_owned_by_the_manifest() -> None:
    project_template = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
    owned = {path for rule in cookiecutter_json()["_manifest"] for path in rule["files"]}
    tagged = {
        str(path.relative_to(project_template))
        for path in project_template.rglob("*@*")
        if path.is_file()
    }

    assert tagged == owned


def test_manifest_rules_name_real_options_and_values() -> None:
    options = choice_options()
    for rule in cookiecutter_json()["_manifest"]:
        for option, value in rule["when"].items():
            assert value in options[option], rule


def test_all_variants_is_the_product_of_the_options() -> None:
    sizes = [len(values) for values in choice_options().values()]

    assert len(VARIANTS) == math.prod(sizes)
    assert VARIANTS[0] == {option: values[0] for option, values in choice_options().items()}


def test_pairwise_variants_cover_every_pair_of_values() -> None:
    def pairs(variants: list[Variant]) -> set[tuple[tuple[str, str], ...]]:
        return {pair for v in variants for pair in itertools.combinations(sorted(v.items()), 2)}

    chosen = pairwise_variants()

    assert pairs(chosen) == pairs(VARIANTS)
    assert len(chosen) < len(VARIANTS)


def test_a_constraint_removes_its_combinations_from_the_matrix() -> None:
    config = {
        "a": ["1", "2"],
        "b": ["x", "y"],
        "_constraints": [{"when": {"a": "2"}, "require": {"b": ["y"]}, "message": "m"}],
    }

    assert (
        pairwise_variants(config)
        == all_variants(config)
        == [
            {"a": "1", "b": "x"},
            {"a": "1", "b": "y"},
            {"a": "2", "b": "y"},
        ]
    )
