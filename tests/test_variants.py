"""Every combination of options bakes into a clean project (fast checks, no installs)."""

import itertools
import json
import math
import re
import sys
import tomllib
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from scripts.variants import (
    TEMPLATE_DIR,
    Variant,
    all_variants,
    as_answers,
    choice_options,
    cookiecutter_json,
    load_hook,
    pairwise_variants,
    variant_id,
)

from .error_paths import ErrorPathAudit
from .support import run, uses_postgresql, workflows

VARIANTS = all_variants()
MANIFEST = cookiecutter_json()["_manifest"]
PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
# Generated per set of answers by scripts (relock.py, schemas.py), not written by hand.
GENERATED_DIRS = {"uv-locks", "openapi-schemas"}
PACKAGE = "{{cookiecutter.package_name}}"
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


def template_files() -> list[Path]:
    return [
        path
        for path in PROJECT_TEMPLATE.rglob("*")
        if path.is_file() and not TOOL_OUTPUT.intersection(path.relative_to(PROJECT_TEMPLATE).parts)
    ]


# Every combination gets the fast checks in a full run; `-m "not slow"` keeps the pairwise set's
# (every pair of option values is in one of them), so the quick loop stays quick as packs add up.
PAIRWISE = pairwise_variants()


@pytest.fixture(
    params=[
        pytest.param(v, marks=() if v in PAIRWISE else pytest.mark.slow, id=variant_id(v))
        for v in VARIANTS
    ]
)
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
    for option, pack in MANIFEST["packs"].items():
        for pattern in pack["paths"]:
            found = list(project.glob(pattern.replace(PACKAGE, "my_service")))
            assert bool(found) == (variant[option] == "yes"), (option, pattern)
    assert not (project / "uv-locks").exists()
    assert not (project / "openapi-schemas").exists()
    assert json.loads((project / "openapi.json").read_text())["info"]["title"] == "My Service"
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
    if (project / "src" / "my_service" / "redis").is_dir():
        assert services["redis"]["healthcheck"]
        assert services["app"]["depends_on"]["redis"]["condition"] == "service_healthy"
        assert "REDIS_URL" in services["app"]["environment"]
    else:
        assert "redis" not in services


def test_workflows_pass_actionlint(project: Path) -> None:
    run(["actionlint", "-no-color", *workflows(project)], project)


def test_workflows_pass_zizmor(project: Path) -> None:
    """Every workflow of the bake, whichever file it is in, and its Dependabot configuration:
    pinned actions, no template injection, least privilege. Offline (no GitHub token here)."""
    workflows(project)
    result = run(["zizmor", "--offline", "--no-progress", "."], project)

    assert "No findings to report" in result.stdout


def test_every_make_target_the_workflows_run_is_in_the_makefile(project: Path) -> None:
    """The CI workflow is the same for every bake; the Makefile holds what differs, under the
    targets the workflow names."""
    makefile = (project / "Makefile").read_text()
    targets = set(re.findall(r"^([a-zA-Z0-9][\w-]*):(?!=)", makefile, flags=re.MULTILINE))
    run_lines = [
        step["run"]
        for path in workflows(project)
        for job in yaml.safe_load(Path(path).read_text())["jobs"].values()
        for step in job.get("steps", [])
        if "run" in step
    ]
    named = {target for line in run_lines for target in re.findall(r"\bmake ([\w-]+)", line)}

    assert named >= {"test-servers", "check-migrations", "test-all"}
    assert sorted(named - targets) == []


@cache
def compose_specification() -> jsonschema.protocols.Validator:
    """The Compose specification's schema as check-jsonschema carries it (offline), loaded once:
    each variant's files are then checked in this process (check-jsonschema's command line
    starts slowly; test_bake runs it itself on the default bake)."""
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json")
    schema = json.loads(text.read_text(encoding="utf-8"))
    validator = jsonschema.validators.validator_for(schema)
    return validator(schema, format_checker=validator.FORMAT_CHECKER)


def test_compose_files_follow_the_compose_specification(project: Path) -> None:
    compose_files = sorted(
        path
        for pattern in ("compose*.y*ml", "docker-compose*.y*ml")
        for path in project.glob(pattern)
    )
    assert compose_files

    for path in compose_files:
        errors = compose_specification().iter_errors(yaml.safe_load(path.read_text()))
        problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
        assert problems == [], path.name


def test_ruff_check(project: Path) -> None:
    run(["ruff", "check", "--no-cache", "."], project)


def test_ruff_format_check(project: Path) -> None:
    run(["ruff", "format", "--check", "--no-cache", "."], project)


def test_every_error_path_test_asserts_an_error(project: Path) -> None:
    """The error-path share is counted by the marker; tests/error_paths.py says how a test earns
    it (an error status or exception asserted, or the outcome of a fault it injects)."""
    assert ErrorPathAudit(project / "tests").unearned() == []


def test_every_manifest_path_exists_in_the_template() -> None:
    alternatives = [path for rule in MANIFEST["alternatives"] for path in rule["files"]]
    missing = [path for path in alternatives if not (PROJECT_TEMPLATE / path).is_file()]
    missing += [path for path in MANIFEST["seams"] if not (PROJECT_TEMPLATE / path).is_file()]
    missing += [
        pattern
        for pack in MANIFEST["packs"].values()
        for pattern in pack["paths"]
        if not list(PROJECT_TEMPLATE.glob(pattern))
    ]

    assert missing == []


def test_every_variant_file_in_the_template_is_owned_by_the_manifest() -> None:
    owned = {path for rule in MANIFEST["alternatives"] for path in rule["files"]}
    tagged = {
        str(path.relative_to(PROJECT_TEMPLATE)) for path in template_files() if "@" in path.name
    }

    assert tagged == owned


def test_alternatives_name_one_option_and_packs_a_yes_no_one() -> None:
    """A file per value of one option, never per combination: what keeps the template linear."""
    options = choice_options()
    for rule in MANIFEST["alternatives"]:
        ((option, value),) = rule["when"].items()
        assert value in options[option], rule
    for option in MANIFEST["packs"]:
        assert isinstance(cookiecutter_json()[option], bool), option
        assert option.startswith("use_"), option


def owner_of(path: Path) -> list[str]:
    """The options (option=value, or the pack) that own *path*; [] for a shared file."""
    relative = str(path.relative_to(PROJECT_TEMPLATE))
    owners = [
        f"{option}={value}"
        for rule in MANIFEST["alternatives"]
        for option, value in rule["when"].items()
        if relative in rule["files"]
    ]
    owners += [
        option
        for option, pack in MANIFEST["packs"].items()
        for pattern in pack["paths"]
        if path in PROJECT_TEMPLATE.glob(pattern)
        or any(parent in PROJECT_TEMPLATE.glob(pattern) for parent in path.parents)
    ]
    return owners


def is_a_packs_alternative(owned_by: list[str]) -> bool:
    """Owned by one pack and one value of one alternative: the pack's file for that value."""
    packs = [owner for owner in owned_by if owner in MANIFEST["packs"]]
    return len(owned_by) == 2 and len(packs) == 1


def test_the_template_grows_linearly_with_options_and_packs() -> None:
    """Every file is shared or owned by exactly one option value or pack, so adding a pack adds
    its own files and nothing per combination; a pack's own file may differ by one alternative
    (its table model per ORM: owned by the pack and that value). Lock files are the one
    exception, kept per set of dependencies (scripts/relock.py), and checked below."""
    files = [path for path in template_files() if path.parent.name not in GENERATED_DIRS]
    owners = {path: owner_of(path) for path in files}
    per_owner: dict[str, int] = {}
    for owned_by in owners.values():
        for owner in owned_by:
            per_owner[owner] = per_owner.get(owner, 0) + 1
    shared = sum(1 for owned_by in owners.values() if not owned_by)

    assert [
        path
        for path, owned_by in owners.items()
        if len(owned_by) > 1 and not is_a_packs_alternative(owned_by)
    ] == []
    # A pack's files are exactly those under its paths: nothing of it lives elsewhere.
    for option, pack in MANIFEST["packs"].items():
        under = {
            path
            for pattern in pack["paths"]
            for found in PROJECT_TEMPLATE.glob(pattern)
            for path in ([found] if found.is_file() else found.rglob("*"))
            if path.is_file() and path in owners
        }
        assert per_owner[option] == len(under), option
    assert shared > 0
    assert set(per_owner) >= {f"use_{name}" for name in ["redis"]}


# A Jinja conditional outside a seam would make one file differ by answers unnoticed.
CONDITIONAL = re.compile(r"\{%[-+]?\s*(if|elif|else|for|set)\b|\{\{[^}]*\bif\b")


def test_conditionals_appear_only_in_the_declared_seams() -> None:
    seams = set(MANIFEST["seams"])
    outside = [
        str(path.relative_to(PROJECT_TEMPLATE))
        for path in template_files()
        if path.parent.name not in GENERATED_DIRS
        and str(path.relative_to(PROJECT_TEMPLATE)) not in seams
        and CONDITIONAL.search(path.read_text(errors="replace"))
    ]

    assert outside == []


def test_every_seam_is_a_conditional_seam() -> None:
    """A seam that no longer varies should leave the list, so the list stays short."""
    plain = [
        seam
        for seam in MANIFEST["seams"]
        if not CONDITIONAL.search((PROJECT_TEMPLATE / seam).read_text())
    ]

    assert plain == []


@pytest.mark.slow  # it bakes every combination
def test_each_dependency_set_has_one_lock_and_each_lock_a_variant(
    bake: Callable[..., Path],
) -> None:
    """Each bake found its lock (the post-gen hook stops otherwise); here no lock is left that no
    variant uses. The bakes are the session's, shared with the tests above."""
    dependency_key = load_hook("post_gen_project").dependency_key
    keys = {
        dependency_key((bake(**variant) / "pyproject.toml").read_text()) for variant in VARIANTS
    }
    locks = {path.stem for path in (PROJECT_TEMPLATE / "uv-locks").glob("*.lock")}

    assert locks == keys


def test_a_bake_without_a_pack_names_nothing_of_it(project: Path, variant: Variant) -> None:
    """Without a pack nothing of it is left, the lock file included: none of the words the
    manifest says only that pack brings (use_redis: "redis"). The update record (.cruft.json)
    is the one exception: it holds every answer, "use_redis": false among them."""
    files = [path for path in baked_files(project) if path.name != ".cruft.json"]
    for option, pack in MANIFEST["packs"].items():
        if variant[option] == "no":
            for name in pack["words"]:
                mentions = [
                    str(path.relative_to(project))
                    for path in files
                    if name in str(path.relative_to(project)).lower()
                    or name in path.read_text(errors="replace").lower()
                ]
                assert mentions == [], name


def test_each_set_of_api_packs_has_one_stored_document() -> None:
    """scripts/schemas.py keeps one OpenAPI document per set of the packs that add operations;
    each pack set a variant has finds its document, and no document is left over."""
    post_gen = load_hook("post_gen_project")
    packs = MANIFEST["packs"]
    wanted = {post_gen.schema_key(as_answers(variant), packs) for variant in all_variants()}
    stored = {path.stem for path in (PROJECT_TEMPLATE / "openapi-schemas").glob("*.json")}

    assert stored == wanted
    assert any(pack.get("changes_api") for pack in packs.values())


def test_the_pairwise_set_is_the_same_in_every_process() -> None:
    """Each run checks the same variants, so a failure reproduces: the search must not depend on
    the order a set of strings happens to iterate in (hash randomization)."""
    sets = {
        run(
            [sys.executable, "scripts/variants.py", "pairwise"],
            TEMPLATE_DIR,
            env={"PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2, 3)
    }

    assert len(sets) == 1


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


@pytest.mark.parametrize(("options", "smallest"), [(3, 4), (4, 5), (6, 6)])
def test_the_pairwise_set_is_as_small_as_pairs_allow(options: int, smallest: int) -> None:
    """With yes/no options, the smallest sets that hold every pair have 4 variants for 3
    options, 5 for 4 and 6 for 5 to 10 (covering arrays of strength 2); greedy alone takes
    one more for the template's six."""
    config: dict[str, Any] = {f"o{n}": ["a", "b"] for n in range(options)}

    chosen = pairwise_variants(config)

    assert len(chosen) == smallest
    assert chosen[0] == {option: "a" for option in config}


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
