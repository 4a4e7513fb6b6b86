"""The longest names and the most hostile free text the hooks accept bake projects that pass
their own checks: ruff's formatter and linter, and mypy with the project's own tools."""

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from jinja2 import Environment

from scripts.variants import all_variants, load_hook, variant_id
from template_filters import python_string

from .support import run

MAX_LENGTH = load_hook("pre_gen_project").MAX_NAME_LENGTH
EXTREME_ANSWERS = {
    "project_name": (
        "\u00dcn\u00efcode \"Quoted\" 'Shop' \\ back\\slash \u202eRTL override\u202c "
        "\u2013 \u2019s \U0001f600 \u041a\u0430\u0444\u0435 " + "long " * 25
    ),
    "project_slug": "xx" + "-y" * ((MAX_LENGTH - 2) // 2),
    "package_name": "p" * MAX_LENGTH,
    "description": "He said \"hi\" & 'bye' \\ \u202eevil\u202c \u00e9 \U0001f680 \t tab",
    "author_name": 'O\'Brien "Bob" \\ \u202e',
    "author_email": "o.brien@example.com",
}
# The default variant and the one furthest from it.
EXTREME_VARIANTS = [all_variants()[0], all_variants()[-1]]


@pytest.fixture(scope="module", params=EXTREME_VARIANTS, ids=variant_id)
def answers(request: pytest.FixtureRequest) -> dict[str, str]:
    return {**request.param, **EXTREME_ANSWERS}


def test_the_extreme_names_are_the_longest_accepted() -> None:
    assert len(EXTREME_ANSWERS["project_slug"]) == MAX_LENGTH
    assert load_hook("pre_gen_project").problems({**EXTREME_ANSWERS, "version": "0.1.0"}) == []


def test_the_service_title_is_the_project_name_as_typed(
    bake: Callable[..., Path], answers: dict[str, str]
) -> None:
    config = bake(**answers) / "src" / answers["package_name"] / "config.py"
    settings = next(
        node
        for node in ast.walk(ast.parse(config.read_text()))
        if isinstance(node, ast.ClassDef) and node.name == "Settings"
    )
    app_name = next(
        node.value
        for node in settings.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "app_name"
    )

    assert app_name is not None
    assert ast.literal_eval(app_name) == EXTREME_ANSWERS["project_name"]


def test_ruff_accepts_the_bake_as_written(
    bake: Callable[..., Path], answers: dict[str, str]
) -> None:
    project = bake(**answers)

    run(["ruff", "format", "--check", "--no-cache", "."], project)
    run(["ruff", "check", "--no-cache", "."], project)


@pytest.mark.slow
def test_the_bakes_own_lint_and_type_checks_pass(
    synced: Callable[[dict[str, str]], Path],
    answers: dict[str, str],
    mypy: Callable[[Path], None],
) -> None:
    project = synced(answers)

    run(["uv", "run", "ruff", "format", "--check", "."], project)
    run(["uv", "run", "ruff", "check", "."], project)
    mypy(project)


def render_python_string(text: str) -> str:
    environment = Environment(extensions=[python_string], autoescape=False)  # noqa: S701 - Python
    template = environment.from_string(
        "class Settings:\n"
        "    app_name: str = {{ text | python_string(prefix='app_name: str = ') }}\n"
    )
    return template.render(text=text) + "\n"


SAMPLES = [
    'He said "hi"',
    "it's",
    'both " and \' and "',
    "\\",
    "\u202e\u200b\u00a0\u2013\u2019\uff46",
    *("\u00fc\"'\\\U0001f600 word " * n for n in range(1, 40, 3)),
    *("x" * n for n in range(70, 200, 7)),
]


def test_free_text_in_python_reads_back_as_typed_and_passes_ruff(tmp_path: Path) -> None:
    module = tmp_path / "samples.py"
    module.write_text("\n\n".join(render_python_string(text) for text in SAMPLES))

    run(["ruff", "format", "--check", "--no-cache", "--line-length", "100", str(module)], tmp_path)
    run(
        [
            "ruff",
            "check",
            "--no-cache",
            "--line-length",
            "100",
            "--select",
            "E,W,RUF,PLE",
            str(module),
        ],
        tmp_path,
    )
    for text, settings in zip(SAMPLES, ast.parse(module.read_text()).body, strict=True):
        assert isinstance(settings, ast.ClassDef)
        (assignment,) = settings.body
        assert isinstance(assignment, ast.AnnAssign)
        assert assignment.value is not None
        assert ast.literal_eval(assignment.value) == text
