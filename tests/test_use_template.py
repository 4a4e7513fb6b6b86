"""GitHub's "Use this template" button ends in a baked project: scripts/use_template.py on a
local stand-in for the new repository (a fresh git repository whose one commit has the
template's files, as the button makes it), against a local stand-in for the template."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.variants import TEMPLATE_DIR

from .support import GIT_ENV, git, run

ANSWERS = {
    "REPOSITORY_NAME": "orders-api",
    "REPOSITORY_DESCRIPTION": "Orders for  the\nshop.",
    "REPOSITORY_OWNER": "acme",
}


def template_files() -> list[str]:
    """The template as it is in this checkout, uncommitted changes included."""
    listed = git(TEMPLATE_DIR, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    return [name for name in listed.split("\0") if name and (TEMPLATE_DIR / name).is_file()]


def repository_with(files: list[str], where: Path, message: str) -> Path:
    for name in files:
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE_DIR / name, where / name)
    git(where, "init", "--quiet", "--initial-branch=main")
    git(where, "add", "--all")
    git(where, "commit", "--quiet", "--message", message)
    return where


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's repository: an older commit first, then the files of this checkout."""
    files = template_files()
    where = repository_with(["README.md"], tmp_path_factory.mktemp("template"), "Older")
    for name in files:
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(TEMPLATE_DIR / name, where / name)
    git(where, "add", "--all")
    git(where, "commit", "--quiet", "--message", "Current")
    return where


@pytest.fixture(scope="module")
def made_by_the_button(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the button makes: the template's files in one new commit of a new repository."""
    where = tmp_path_factory.mktemp("button") / "orders-api"
    return repository_with(template_files(), where, "Initial commit")


@pytest.fixture
def new_repository(made_by_the_button: Path, tmp_path: Path) -> Path:
    """A test's own copy of what the button makes: a clone (the same one commit; git links
    its objects instead of copying the files again), without the clone's remote."""
    where = tmp_path / "orders-api"
    git(tmp_path, "clone", "--quiet", str(made_by_the_button), str(where))
    git(where, "remote", "remove", "origin")
    return where


def use_template(
    repository: Path, template: Path, **answers: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - the test's own command
        [
            sys.executable,
            "-m",
            "scripts.use_template",
            "--repository",
            str(repository),
            "--template",
            str(template),
        ],
        cwd=TEMPLATE_DIR,
        env={**os.environ, **GIT_ENV, **answers},
        capture_output=True,
        text=True,
        check=False,
    )


def tracked(repository: Path) -> dict[str, bytes]:
    names = git(repository, "ls-files", "-z").split("\0")
    return {name: (repository / name).read_bytes() for name in names if name}


@pytest.mark.slow  # bakes
def test_the_new_repository_becomes_the_bake_of_its_name(
    new_repository: Path, template: Path, tmp_path: Path
) -> None:
    result = use_template(new_repository, template, **ANSWERS)

    assert result.returncode == 0, result.stderr
    assert git(new_repository, "status", "--porcelain") == ""
    assert git(new_repository, "log", "--format=%s").splitlines()[1] == "Initial commit"
    files = tracked(new_repository)
    # Nothing of the template's own is left: no questions, hooks, tests, scripts or workflows.
    for gone in ("cookiecutter.json", "hooks/post_gen_project.py", "scripts/use_template.py"):
        assert gone not in files
    assert not any(name.startswith(("tests/test_bake", "{{")) for name in files)
    workflows = sorted(name for name in files if name.startswith(".github/workflows/"))
    assert ".github/workflows/nightly.yml" not in workflows
    assert ".github/workflows/setup.yml" not in workflows
    assert ".github/workflows/ci.yml" in workflows
    assert ".env" not in files  # secrets are generated per clone, never committed
    # The same project a user baking by hand with these answers gets.
    run(
        [
            sys.executable,
            "-m",
            "cruft",
            "create",
            str(template),
            "--no-input",
            "--output-dir",
            str(tmp_path / "by-hand"),
            "--extra-context",
            json.dumps(
                {
                    "project_name": "orders-api",
                    "description": "Orders for the shop.",
                    "author_name": "acme",
                    "author_email": "acme@users.noreply.github.com",
                }
            ),
        ],
        tmp_path,
    )
    by_hand = tmp_path / "by-hand" / "orders-api"
    expected = {
        str(path.relative_to(by_hand)): path.read_bytes()
        for path in by_hand.rglob("*")
        if path.is_file() and path.name not in {".env", ".cruft.json"}
    }
    assert {name: body for name, body in files.items() if name != ".cruft.json"} == expected
    record = json.loads(files[".cruft.json"])
    assert record["template"] == str(template)
    assert record["commit"] == git(template, "rev-parse", "HEAD")
    assert record["context"]["cookiecutter"]["package_name"] == "orders_api"


@pytest.mark.slow  # bakes
def test_extra_answers_choose_the_options(new_repository: Path, template: Path) -> None:
    answers = {**ANSWERS, "TEMPLATE_ANSWERS": '{"use_redis": "yes", "database": "sqlite"}'}

    result = use_template(new_repository, template, **answers)

    assert result.returncode == 0, result.stderr
    files = tracked(new_repository)
    assert "src/orders_api/redis/client.py" in files
    assert b"asyncpg" not in files["pyproject.toml"]


@pytest.mark.slow  # bakes
def test_running_again_on_a_baked_repository_does_nothing(
    new_repository: Path, template: Path
) -> None:
    assert use_template(new_repository, template, **ANSWERS).returncode == 0
    head = git(new_repository, "rev-parse", "HEAD")

    again = use_template(new_repository, template, **ANSWERS)

    assert again.returncode == 0
    assert "nothing to do" in again.stdout
    assert git(new_repository, "rev-parse", "HEAD") == head


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        pytest.param({"REPOSITORY_NAME": "123"}, "project_name '123'", marks=pytest.mark.slow),
        ({"REPOSITORY_NAME": ""}, "REPOSITORY_NAME is empty"),
        ({"TEMPLATE_ANSWERS": "{use_redis: yes}"}, "TEMPLATE_ANSWERS is not JSON"),
        ({"TEMPLATE_ANSWERS": '["use_redis"]'}, "must be a JSON object"),
        ({"TEMPLATE_ANSWERS": '{"use_kafka": "yes"}'}, "names no question ['use_kafka']"),
        pytest.param(
            {"TEMPLATE_ANSWERS": '{"version": "v1"}'},
            "version 'v1' is not allowed",
            marks=pytest.mark.slow,
        ),
    ],
)
def test_a_bad_answer_fails_in_one_line_and_changes_nothing(
    new_repository: Path, template: Path, answers: dict[str, str], message: str
) -> None:
    head = git(new_repository, "rev-parse", "HEAD")

    result = use_template(new_repository, template, **{**ANSWERS, **answers})

    assert result.returncode == 1
    assert result.stderr.startswith("ERROR: ")
    assert message in result.stderr
    assert git(new_repository, "rev-parse", "HEAD") == head
    assert git(new_repository, "status", "--porcelain") == ""


def test_files_changed_before_the_setup_match_no_template_commit(
    new_repository: Path, template: Path
) -> None:
    (new_repository / "README.md").write_text("# Changed on GitHub first\n")
    git(new_repository, "commit", "--quiet", "--all", "--message", "Edit README")
    head = git(new_repository, "rev-parse", "HEAD")

    result = use_template(new_repository, template, **ANSWERS)

    assert result.returncode == 1
    assert "no commit of" in result.stderr
    assert "uvx cruft create" in result.stderr
    assert git(new_repository, "rev-parse", "HEAD") == head


def test_uncommitted_changes_are_refused(new_repository: Path, template: Path) -> None:
    (new_repository / "README.md").write_text("# Work in progress\n")

    result = use_template(new_repository, template, **ANSWERS)

    assert result.returncode == 1
    assert "uncommitted changes" in result.stderr
    assert (new_repository / "README.md").read_text() == "# Work in progress\n"
