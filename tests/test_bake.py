"""What the default bake contains beyond the per-variant checks."""

import tomllib
from pathlib import Path

from scripts.variants import TEMPLATE_DIR

from .support import run


def test_the_package_is_named_from_the_slug(default_project: Path) -> None:
    pyproject = tomllib.loads((default_project / "pyproject.toml").read_text())

    assert (default_project / "src" / "my_service" / "main.py").is_file()
    assert pyproject["project"]["name"] == "my-service"
    assert pyproject["project"]["scripts"] == {"my-service": "my_service.cli:main"}


def test_dockerfile_passes_hadolint(default_project: Path) -> None:
    run(["hadolint", "Dockerfile"], default_project)


def test_template_code_passes_ruff() -> None:
    code = ["bench", "hooks", "scripts", "tests", "local_extensions.py", "template_filters.py"]
    run(["ruff", "check", "--no-cache", *code], TEMPLATE_DIR)
    run(["ruff", "format", "--check", "--no-cache", *code], TEMPLATE_DIR)


def test_template_workflows_pass_actionlint() -> None:
    workflows = sorted(str(path) for path in (TEMPLATE_DIR / ".github" / "workflows").glob("*.yml"))

    run(["actionlint", "-no-color", *workflows], TEMPLATE_DIR)
