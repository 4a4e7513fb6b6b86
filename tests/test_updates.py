"""A baked project follows the template: baked by cruft at an earlier commit of this repository,
committed and changed as a user would, then updated to the current commit, it takes every change
of the template cleanly (no ``.rej``, no conflict) and keeps the user's.

"The current commit" is this checkout's HEAD: cruft clones the template, so uncommitted changes
are not part of the update. The regular run updates one variant of the pairwise set from
``UPDATE_FROM`` and proves the result equals a fresh bake with the user's change applied, file by
file, so it passes the checks test_baked_project runs on that bake; with ``--update-checks`` it
runs the updated project's own checks itself. The nightly
workflow runs each variant from the previous release tag (``--update-from``) with the checks.
"""

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from scripts.variants import TEMPLATE_DIR, Variant, is_pack, pairwise_variants, variant_id

from .support import GIT_ENV, git, run, selected_variants

# The last commit of the sessions before projects recorded their template: the oldest commit a
# project can have been baked from with `cruft create`, and what the regular run updates from.
UPDATE_FROM = "f95b40dd0d187f547785a3a8897c4bdc449ff55f"


def regular_variant() -> Variant:
    """The regular run's variant: the pairwise variant with the most packs, so that many owned
    paths and seams take part and the fresh bake the update must equal is one whose own checks
    test_baked_project runs in the same run."""
    return max(pairwise_variants(), key=lambda v: sum(v[o] == "yes" for o in v if is_pack(o)))


ANSWERS = {"project_name": "Orders API", "description": "Orders, as a user baked them."}
CRUFT = [sys.executable, "-m", "cruft"]
# What is not compared: git's own data, and the files that are the clone's own (secrets) or
# record where it came from (the cruft record names the commit, checked on its own).
NOT_COMPARED = {".git", ".env", ".cruft.json"}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "update_variant" in metafunc.fixturenames:
        spec = metafunc.config.getoption("variants")
        variants = [regular_variant()] if spec == "pairwise" else selected_variants(spec)
        metafunc.parametrize("update_variant", variants, ids=variant_id)


def resolve(ref: str) -> str:
    """The full commit *ref* names in this repository, or a failure that says what is missing
    (a shallow clone lacks the earlier commits: clone with its history)."""
    found = subprocess.run(  # noqa: S603 - the test's own command
        ["git", "-C", str(TEMPLATE_DIR), "rev-parse", "--verify", f"{ref}^{{commit}}"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        pytest.fail(f"{ref} is not a commit of {TEMPLATE_DIR} (a shallow clone?): {found.stderr}")
    return found.stdout.strip()


def cruft_create(output: Path, commit: str, answers: dict[str, str]) -> Path:
    """Bake the template at *commit* as a user does with cruft. ``--skip .env``: projects baked
    before the template declared it (pyproject's ``[tool.cruft]``) need it on the command line."""
    output.mkdir(parents=True)
    run(
        [
            *CRUFT,
            "create",
            str(TEMPLATE_DIR),
            "--checkout",
            commit,
            "--no-input",
            "--output-dir",
            str(output),
            "--extra-context",
            json.dumps(answers),
            "--skip",
            ".env",
        ],
        output,
    )
    (project,) = output.iterdir()
    return project


def committed_bake(output: Path, commit: str, answers: dict[str, str]) -> Path:
    """A bake at *commit*, committed as a user's first commit."""
    project = cruft_create(output, commit, answers)
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    git(project, "commit", "--quiet", "--message", "Bake")
    return project


def change_as_a_user(project: Path) -> None:
    """Edits a team makes: its own words at the top of the README, its own description in
    pyproject.toml (a file the template also changes, elsewhere)."""
    readme = project / "README.md"
    title, rest = readme.read_text(encoding="utf-8").split("\n", 1)
    readme.write_text(f"{title}\n\nOwned by the orders team.\n{rest}", encoding="utf-8")
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    line = f'description = "{ANSWERS["description"]}"'
    assert line in text, "the bake's description line moved: update change_as_a_user"
    pyproject.write_text(text.replace(line, 'description = "Orders: ours now."'), encoding="utf-8")


def files_of(project: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(project)): path.read_bytes()
        for path in sorted(project.rglob("*"))
        if path.is_file() and not NOT_COMPARED & set(path.relative_to(project).parts)
    }


@pytest.fixture
def update_from(pytestconfig: pytest.Config) -> str:
    return resolve(pytestconfig.getoption("update_from") or UPDATE_FROM)


@pytest.mark.slow  # bakes
def test_an_update_keeps_the_users_change_and_takes_the_templates(
    update_variant: Variant,
    update_from: str,
    tmp_path: Path,
    pytestconfig: pytest.Config,
    update_checks: Callable[[Path], None],
) -> None:
    answers = {**ANSWERS, **update_variant}
    current = resolve("HEAD")
    project = committed_bake(tmp_path / "old", update_from, answers)
    change_as_a_user(project)
    git(project, "commit", "--quiet", "--all", "--message", "Our changes")

    run([*CRUFT, "update", "--checkout", current, "--skip-apply-ask"], project, env=GIT_ENV)

    left = [str(path.relative_to(project)) for path in project.rglob("*.rej")]
    assert not left, f"the update left rejected hunks: {left}"
    conflicted = git(project, "diff", "--name-only", "--diff-filter=U")
    assert not conflicted, f"the update left conflicts in {conflicted}"
    record = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert record["commit"] == current
    run([*CRUFT, "check"], project)  # cruft agrees it is up to date

    fresh = cruft_create(tmp_path / "fresh", current, answers)
    change_as_a_user(fresh)
    updated, expected = files_of(project), files_of(fresh)
    assert sorted(updated) == sorted(expected)
    differing = [name for name in expected if updated[name] != expected[name]]
    assert not differing, f"after the update these differ from a fresh bake: {differing}"
    update_checks(project)


@pytest.mark.slow  # bakes
def test_an_update_with_nothing_new_changes_nothing(tmp_path: Path) -> None:
    current = resolve("HEAD")
    project = committed_bake(tmp_path / "now", current, ANSWERS)

    result = run([*CRUFT, "update", "--checkout", current, "--skip-apply-ask"], project)

    assert "already up to date" in result.stdout
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.slow  # bakes
def test_an_update_refuses_a_project_with_uncommitted_changes(tmp_path: Path) -> None:
    """cruft applies the template's changes to a clean tree only, so nothing of the user's is
    mixed into the update; the refusal names the reason."""
    current = resolve("HEAD")
    project = committed_bake(tmp_path / "dirty", current, ANSWERS)
    change_as_a_user(project)

    result = subprocess.run(  # noqa: S603 - the test's own command
        [*CRUFT, "update", "--checkout", resolve(UPDATE_FROM), "--skip-apply-ask"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert "unclean" in result.stdout + result.stderr
    assert "Owned by the orders team." in (project / "README.md").read_text(encoding="utf-8")


def test_the_baked_update_workflow_runs_the_cruft_these_tests_run() -> None:
    """The scheduled workflow of every bake checks and updates with cruft, pinned to the version
    the template's lock installs: the one the update tests above prove."""
    workflow = TEMPLATE_DIR / "{{cookiecutter.project_slug}}/.github/workflows/template-update.yml"
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    lock = tomllib.loads((TEMPLATE_DIR / "uv.lock").read_text(encoding="utf-8"))
    (locked,) = [package["version"] for package in lock["package"] if package["name"] == "cruft"]
    steps = " ".join(step.get("run", "") for step in data["jobs"]["update"]["steps"])

    assert data["env"]["CRUFT"] == f"cruft=={locked}"
    assert data[True]["schedule"]  # YAML reads the key `on` as True
    assert "cruft check" in steps
    assert "cruft update --skip-apply-ask" in steps
    assert "gh pr create" in steps
