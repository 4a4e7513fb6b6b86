"""The hooks' rules, as functions and as a user meets them in a bake."""

import json
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from cookiecutter.cli import main as cookiecutter_cli

from scripts.variants import TEMPLATE_DIR, cookiecutter_json, load_hook

from .support import git

pre_gen = load_hook("pre_gen_project")
post_gen = load_hook("post_gen_project")


@pytest.mark.parametrize("slug", ["billing-api", "svc", "a1-b2", "x" * 48])
def test_accepts_valid_slugs(slug: str) -> None:
    assert pre_gen.slug_problem(slug) is None


# "serve": the server's command, which every bake has besides the project's own.
@pytest.mark.parametrize(
    "slug",
    [
        "",
        "Billing",
        "1svc",
        "-svc",
        "svc-",
        "a--b",
        "a_b",
        "a b",
        "a/b",
        "../evil",
        "x" * 49,
        "é",
        "serve",
    ],
)
def test_rejects_invalid_slugs(slug: str) -> None:
    assert "project_slug" in pre_gen.slug_problem(slug)


@pytest.mark.parametrize("package", ["billing_api", "svc", "a1_b2", "p" * 48])
def test_accepts_valid_package_names(package: str) -> None:
    assert pre_gen.package_problem(package) is None


@pytest.mark.parametrize(
    ("package", "reason"),
    [
        ("1svc", "not allowed"),
        ("Svc", "not allowed"),
        ("my-svc", "not allowed"),
        ("class", "keyword"),
        ("match", "keyword"),
        ("json", "standard-library"),
        ("asyncio", "standard-library"),
        ("fastapi", "dependency"),
        ("pydantic", "dependency"),
        ("sqlalchemy", "dependency"),
        ("click", "dependency"),
        ("yaml", "dependency"),
        ("app", "layout"),
        ("test", "standard-library"),
        ("tests", "layout"),
        ("p" * 49, "not allowed"),
    ],
)
def test_rejects_invalid_package_names(package: str, reason: str) -> None:
    problem = pre_gen.package_problem(package)

    assert problem is not None
    assert reason in problem
    assert "lowercase Python identifier" in problem


@pytest.mark.parametrize("version", ["0.1.0", "1.0", "10.20.30"])
def test_accepts_release_versions(version: str) -> None:
    assert pre_gen.version_problem(version) is None


@pytest.mark.parametrize("version", ["", "1", "01.0", "1.0.0.0", "v1.0", "1.0-beta", "1.0.0rc1"])
def test_rejects_other_versions(version: str) -> None:
    assert "version" in pre_gen.version_problem(version)


def test_env_file_gets_a_fresh_secret_and_keeps_the_rest() -> None:
    example = "# comment\nENVIRONMENT=development\nJWT_SECRET=\nOTHER=1"

    env = post_gen.env_with_secrets(example, token_factory=lambda: "generated")

    assert env == "# comment\nENVIRONMENT=development\nJWT_SECRET=generated\nOTHER=1\n"


CONSTRAINTS = [
    {
        "when": {"websockets": "yes"},
        "require": {"redis": ["yes"]},
        "message": "fan-out across processes goes through Redis",
    }
]


def test_a_combination_that_breaks_a_constraint_is_explained() -> None:
    problems = pre_gen.constraint_problems({"websockets": "yes", "redis": "no"}, CONSTRAINTS)

    assert problems == [
        "websockets=yes needs redis to be one of yes (it is no): "
        "fan-out across processes goes through Redis"
    ]


@pytest.mark.parametrize(
    "context", [{"websockets": "yes", "redis": "yes"}, {"websockets": "no", "redis": "no"}]
)
def test_combinations_within_the_constraints_pass(context: dict[str, str]) -> None:
    assert pre_gen.constraint_problems(context, CONSTRAINTS) == []


@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("uv@sqlmodel-sqlite.lock", "uv.lock"),
        ("compose@postgresql.yaml", "compose.yaml"),
        (".github/workflows/ci@sqlite.yml", ".github/workflows/ci.yml"),
        ("src/pkg/core/base@sqlmodel.py", "src/pkg/core/base.py"),
    ],
)
def test_a_variant_file_lands_under_its_plain_name(path: str, target: str) -> None:
    assert post_gen.variant_target(path) == target


def test_the_manifest_keeps_chosen_files_and_removes_the_others() -> None:
    manifest = {
        "alternatives": [
            {"when": {"orm": "a"}, "files": ["src/{{cookiecutter.package_name}}/m@a.py"]},
            {"when": {"orm": "b"}, "files": ["src/{{cookiecutter.package_name}}/m@b.py"]},
        ],
        "packs": {},
    }

    plan = dict(post_gen.planned_files({"orm": "b", "package_name": "svc"}, manifest))

    assert plan == {"src/svc/m@a.py": None, "src/svc/m@b.py": "src/svc/m.py"}


@pytest.mark.parametrize(("answer", "kept"), [(True, "src/svc/q/m.py"), (False, None)])
def test_a_packs_variant_file_goes_with_the_pack(answer: bool, kept: str | None) -> None:
    """A pack's file that differs by an alternative (its table model per ORM) is the chosen
    value's only while the pack is on."""
    manifest = {
        "alternatives": [
            {"when": {"orm": "a"}, "files": ["src/{{cookiecutter.package_name}}/q/m@a.py"]},
        ],
        "packs": {"use_q": {"paths": ["src/{{cookiecutter.package_name}}/q"]}},
    }
    context = {"orm": "a", "use_q": answer, "package_name": "svc"}

    plan = dict(post_gen.planned_files(context, manifest))

    assert plan == {"src/svc/q/m@a.py": kept}


@pytest.mark.parametrize(
    ("answer", "pruned"),
    [
        (False, ["src/svc/q", "tests/q*"]),
        ("no", ["src/svc/q", "tests/q*"]),
        (True, []),
        ("yes", []),
    ],
)
def test_a_pack_that_is_off_loses_every_path_it_owns(answer: object, pruned: list[str]) -> None:
    manifest = {
        "alternatives": [],
        "packs": {"use_q": {"paths": ["src/{{cookiecutter.package_name}}/q", "tests/q*"]}},
    }

    assert post_gen.pruned_paths({"use_q": answer, "package_name": "svc"}, manifest) == pruned


def test_pruning_removes_whole_folders_and_globbed_files(tmp_path: Path) -> None:
    for path in ["src/svc/q/a.py", "src/svc/q/sub/b.py", "tests/q1.py", "tests/keep.py"]:
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    context = {
        "use_q": False,
        "package_name": "svc",
        "_manifest": {
            "alternatives": [],
            "packs": {"use_q": {"paths": ["src/{{cookiecutter.package_name}}/q", "tests/q*"]}},
        },
    }

    post_gen.apply_manifest(tmp_path, context)

    left = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert left == ["tests/keep.py"]


PYPROJECT = """
[project]
requires-python = ">=3.12"
dependencies = [{deps}]
[dependency-groups]
dev = ["pytest>=8"]
"""


def test_the_lock_key_depends_on_the_dependencies_only() -> None:
    key = post_gen.dependency_key

    assert key(PYPROJECT.format(deps='"a>=1", "b>=2"')) == key(
        PYPROJECT.format(deps='"b>=2", "a>=1"')
    )
    assert key(PYPROJECT.format(deps='"a>=1"')) != key(PYPROJECT.format(deps='"a>=1", "c"'))
    assert key(PYPROJECT.format(deps='"a>=1"')) != key(PYPROJECT.format(deps='"a>=2"'))


def test_a_bake_without_a_lock_for_its_dependencies_says_how_to_make_one(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT.format(deps='"unlocked>=1"'))
    (tmp_path / "uv-locks").mkdir()

    with pytest.raises(SystemExit, match=r"no lock file .* scripts\.relock"):
        post_gen.place_lock(tmp_path, {"project_slug": "x", "version": "1"})


def cookiecutter_command(output: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run cookiecutter's command line as a user does, answers given as ``key=value``."""
    return subprocess.run(  # noqa: S603
        [
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-o",
            str(output),
            TEMPLATE_DIR,
            *arguments,
        ],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"project_slug": "Bad Slug"}, "project_slug 'Bad Slug' is not allowed"),
        ({"project_slug": "a b"}, "project_slug 'a b' is not allowed"),
        ({"project_slug": "a/b"}, "project_slug 'a/b' is not allowed"),
        ({"project_slug": "../up"}, "project_slug '../up' is not allowed"),
        (
            {"project_slug": "class"},
            "project_slug 'class' gives the package name 'class', which is a Python keyword",
        ),
        (
            {"project_slug": "json"},
            "project_slug 'json' gives the package name 'json', which would shadow the "
            "standard-library module",
        ),
        ({"project_name": "!!!"}, "project_name '!!!' gives an empty project_slug"),
        ({"project_name": ""}, "project_name '' gives an empty project_slug"),
        ({"project_name": "1st Shop"}, "It was made from project_name '1st Shop'"),
        ({"package_name": "fastapi"}, "would shadow a dependency"),
        ({"package_name": "json"}, "package_name 'json' would shadow the standard-library"),
        ({"package_name": "lambda"}, "keyword"),
        ({"package_name": "9lives"}, "not allowed"),
        ({"package_name": "p" * 49}, "at most 48 characters"),
        ({"version": "v1"}, "version 'v1' is not allowed"),
    ],
)
def test_a_rejected_bake_says_one_line_and_leaves_nothing(
    tmp_path: Path, answers: dict[str, str], message: str
) -> None:
    """cookiecutter's own command line, run in this process (click's runner) to save an
    interpreter start per case; the unknown-choice test below runs it as a separate process."""
    arguments = ["--no-input", "-o", str(tmp_path), str(TEMPLATE_DIR)]
    result = CliRunner().invoke(
        cookiecutter_cli, [*arguments, *(f"{key}={value}" for key, value in answers.items())]
    )
    output = result.output.strip()

    assert result.exit_code != 0
    assert output.splitlines() == [output]
    assert output.startswith("ERROR: ")
    assert message in output
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_choice_is_refused_by_cookiecutter_before_anything_is_written(
    tmp_path: Path,
) -> None:
    """cookiecutter checks choices before it loads the template's code, so the words are its
    own (a traceback ending in the line below); the README says so."""
    result = cookiecutter_command(tmp_path, "orm=django")

    assert result.returncode != 0
    assert (result.stdout + result.stderr).strip().splitlines()[-1] == (
        "ValueError: django provided for choice variable orm, but the choices are "
        "['sqlalchemy', 'sqlmodel']."
    )
    assert list(tmp_path.iterdir()) == []


HOSTILE_NAME = 'Acme "Quoted" \\ Svc'
HOSTILE_DESCRIPTION = 'He said "hi" \\ {{ not jinja }} {% raw %} \t ünïcödé 😀 \x7f end'
HOSTILE_AUTHOR = 'O\'Brien "Bob" \\'


@pytest.fixture(scope="module")
def hostile_bake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bake answered interactively, as a user types: answers are not rendered as Jinja."""
    output = tmp_path_factory.mktemp("hostile")
    # name, slug, package, description, author, email, version, the first of each choice, the
    # default of each pack.
    packs = [""] * len(cookiecutter_json()["_manifest"]["packs"])
    answers = [
        HOSTILE_NAME,
        "",
        "",
        HOSTILE_DESCRIPTION,
        HOSTILE_AUTHOR,
        "",
        "",
        "1",
        "1",
        "1",
        *packs,
    ]
    subprocess.run(  # noqa: S603
        [sys.executable, "-m", "cookiecutter", "-o", str(output), TEMPLATE_DIR],
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    (project,) = output.iterdir()
    return project


def test_hostile_free_text_keeps_pyproject_valid(hostile_bake: Path) -> None:
    project = tomllib.loads((hostile_bake / "pyproject.toml").read_text())["project"]

    assert project["description"] == HOSTILE_DESCRIPTION
    assert project["authors"][0]["name"] == HOSTILE_AUTHOR


def test_hostile_free_text_keeps_python_valid(hostile_bake: Path) -> None:
    (config,) = hostile_bake.glob("src/*/config.py")
    namespace: dict[str, Any] = {}

    exec(compile(_app_name_line(config), str(config), "exec"), namespace)  # noqa: S102

    assert namespace["app_name"] == HOSTILE_NAME


def _app_name_line(config: Path) -> str:
    (line,) = [ln for ln in config.read_text().splitlines() if "app_name: str =" in ln]
    return line.strip().replace("app_name: str =", "app_name =")


def test_hostile_free_text_keeps_every_yaml_file_valid(hostile_bake: Path) -> None:
    for path in [*hostile_bake.rglob("*.yml"), *hostile_bake.rglob("*.yaml")]:
        assert yaml.safe_load(path.read_text()) is not None, path


def test_a_bake_writes_a_private_env_file_with_a_fresh_secret(hostile_bake: Path) -> None:
    env_file = hostile_bake / ".env"
    secret = next(ln for ln in env_file.read_text().splitlines() if ln.startswith("JWT_SECRET="))

    assert len(secret.removeprefix("JWT_SECRET=")) >= 64
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert ".env" in (hostile_bake / ".gitignore").read_text().splitlines()
    assert "JWT_SECRET=\n" in (hostile_bake / ".env.example").read_text()


@pytest.mark.parametrize(
    ("template", "url"),
    [
        ("gh:org/fastapi-prod", "https://github.com/org/fastapi-prod.git"),
        ("gl:team/fastapi-prod", "https://gitlab.com/team/fastapi-prod.git"),
        ("https://example.com/t/fastapi-prod.git", "https://example.com/t/fastapi-prod.git"),
        ("git@github.com:org/fastapi-prod.git", "git@github.com:org/fastapi-prod.git"),
        ("/srv/templates/fastapi-prod", "/checkout"),
    ],
)
def test_the_update_record_names_a_template_git_can_clone_again(template: str, url: str) -> None:
    assert post_gen.template_url(template, "/checkout") == url


def test_the_update_record_keeps_the_answers_and_not_the_templates_internals() -> None:
    context = {"project_name": "A", "use_redis": False, "_manifest": {}, "__answers_checked": "y"}

    record = post_gen.update_record(context, "https://example.com/t.git", "abc123")

    assert record["template"] == "https://example.com/t.git"
    assert record["commit"] == "abc123"
    assert record["context"]["cookiecutter"] == {
        "project_name": "A",
        "use_redis": False,
        "_template": "https://example.com/t.git",
        "_commit": "abc123",
    }


def committed_files(project: Path) -> dict[str, bytes]:
    """What a user's first commit of *project* holds (git's own view of .gitignore)."""
    git(project, "init", "--quiet", "--initial-branch=main")
    git(project, "add", "--all")
    listed = git(project, "ls-files", "-z")
    return {name: (project / name).read_bytes() for name in listed.split("\0") if name}


@pytest.mark.slow  # bakes
def test_two_bakes_with_the_same_answers_commit_the_same_files(tmp_path: Path) -> None:
    """Generated secrets live only in the gitignored .env; everything committed, the update
    record included, depends on the answers and the template's commit alone."""
    answers = ("use_redis=yes", "use_file_uploads=yes")
    first, second = tmp_path / "first", tmp_path / "second"
    for output in (first, second):
        assert cookiecutter_command(output, *answers).returncode == 0
    one, two = first / "my-service", second / "my-service"

    assert committed_files(one) == committed_files(two)
    assert ".env" not in committed_files(one)
    assert (one / ".env").read_text() != (two / ".env").read_text()
    head = git(TEMPLATE_DIR, "rev-parse", "HEAD")
    record = json.loads((one / ".cruft.json").read_text())
    assert (record["template"], record["commit"]) == (str(TEMPLATE_DIR), head)
    assert record["context"]["cookiecutter"]["use_redis"] is True


@pytest.mark.slow  # bakes
def test_a_template_named_by_a_relative_path_bakes_without_a_record_and_says_so(
    tmp_path: Path,
) -> None:
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(tmp_path), "."],
        cwd=TEMPLATE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "my-service" / ".cruft.json").exists()
    assert "records no template commit" in result.stderr
    assert "cruft create" in result.stderr


def test_hostile_free_text_survives_in_the_update_record(hostile_bake: Path) -> None:
    answers = json.loads((hostile_bake / ".cruft.json").read_text())["context"]["cookiecutter"]

    assert answers["project_name"] == HOSTILE_NAME
    assert answers["description"] == HOSTILE_DESCRIPTION
    assert answers["author_name"] == HOSTILE_AUTHOR


def test_the_dockerfiles_python_is_the_answer() -> None:
    dockerfile = (TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "Dockerfile").read_text()

    baked = post_gen.with_python_version(dockerfile, "3.13")

    assert "ARG PYTHON_VERSION=3.13\n" in baked
    assert baked.count("PYTHON_VERSION=") == 1
    assert baked.replace("ARG PYTHON_VERSION=3.13\n", "") == dockerfile.replace(
        next(line for line in dockerfile.splitlines(True) if line.startswith("ARG PYTHON_VER")), ""
    )


@pytest.mark.parametrize("lines", ["", "ARG PYTHON_VERSION=3.12\nARG PYTHON_VERSION=3.12\n"])
def test_a_dockerfile_without_one_python_default_stops_the_bake(lines: str) -> None:
    with pytest.raises(SystemExit, match="ARG PYTHON_VERSION="):
        post_gen.with_python_version(f"FROM python:3.12-slim\n{lines}", "3.13")


def test_the_stored_document_gets_the_project_name_as_its_title(tmp_path: Path) -> None:
    schemas = tmp_path / "openapi-schemas"
    schemas.mkdir()
    placeholder = post_gen.SCHEMA_TITLE_PLACEHOLDER
    (schemas / "core.json").write_text(f'{{"info": {{"title": {placeholder}}}}}\n')
    context = {"project_name": HOSTILE_NAME, "_manifest": {"packs": {"use_redis": {}}}}

    post_gen.place_schema(tmp_path, context)

    assert json.loads((tmp_path / "openapi.json").read_text())["info"]["title"] == HOSTILE_NAME
    assert not schemas.exists()


def test_a_bake_without_a_document_for_its_packs_says_how_to_make_one(tmp_path: Path) -> None:
    (tmp_path / "openapi-schemas").mkdir()
    packs = {"use_websockets": {"changes_api": True}, "use_redis": {}}
    context = {"project_name": "A", "use_websockets": True, "_manifest": {"packs": packs}}

    with pytest.raises(SystemExit, match=r"openapi-schemas/websockets\.json.*scripts\.schemas"):
        post_gen.place_schema(tmp_path, context)


def test_hostile_free_text_is_the_title_of_the_committed_document(hostile_bake: Path) -> None:
    document = json.loads((hostile_bake / "openapi.json").read_text(encoding="utf-8"))

    assert document["info"]["title"] == HOSTILE_NAME
