"""What bots bump stays pinned, and pinned alike: every action of every workflow (the template's
and the baked project's) by a full commit SHA with its version in a comment, one uv version
for the workflows, the baked image and this repository's CI script, and one pip-audit version
for a bake's `make audit` and the nightly's audit of every lock."""

import re
from pathlib import Path

import pytest

from scripts.audit_locks import PIP_AUDIT
from scripts.variants import TEMPLATE_DIR, cookiecutter_json

from .support import workflows

BAKED = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
WORKFLOWS = [Path(path) for root in (TEMPLATE_DIR, BAKED) for path in workflows(root)]
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$", re.MULTILINE)
PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
UV_PINS = {
    # setup-uv's `version:` in the workflows, the image the Dockerfile copies uv from, and the
    # version .ci/run installs.
    "workflow": re.compile(
        r'setup-uv@\S+[^\n]*\n(?:[ ]+[^\n]*\n){0,6}?[ ]+version:\s*"?([\d.]+|\$\{\{[^}]+\}\})"?'
    ),
    "env": re.compile(r'^\s*UV_VERSION:\s*"([\d.]+)"', re.MULTILINE),
    "image": re.compile(r"ghcr\.io/astral-sh/uv:([\d.]+)"),
    "script": re.compile(r'^UV_VERSION="([\d.]+)"', re.MULTILINE),
}


def test_there_are_workflows_to_check() -> None:
    names = {path.name for path in WORKFLOWS}
    assert {"ci.yml", "nightly.yml", "setup.yml", "template-update.yml"} <= names


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: str(p.relative_to(TEMPLATE_DIR)))
def test_every_action_is_pinned_to_a_commit_with_its_version_named(workflow: Path) -> None:
    found = USES.findall(workflow.read_text(encoding="utf-8"))
    unpinned = [ref for ref, _ in found if not ref.startswith("./") and not PINNED.match(ref)]
    unnamed = [ref for ref, rest in found if PINNED.match(ref) and not re.search(r"#\s*v\d", rest)]

    assert not unpinned, f"pin to a full commit SHA: {unpinned}"
    assert not unnamed, f"name the version in a comment (# vX.Y.Z): {unnamed}"


def test_one_uv_version_everywhere() -> None:
    sources = [*WORKFLOWS, BAKED / "Dockerfile", TEMPLATE_DIR / ".ci" / "run"]
    versions: dict[str, set[str]] = {}
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for pattern in UV_PINS.values():
            for version in pattern.findall(text):
                if not version.startswith("${{"):
                    versions.setdefault(version, set()).add(path.name)

    assert len(versions) == 1, f"uv versions differ: {versions}"


DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
FROM = re.compile(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$", re.MULTILINE)


def test_the_image_is_built_on_digest_pinned_pythons_one_per_choice() -> None:
    """Dependabot proposes each new digest; the bake only chooses which stage is used."""
    stages = dict(
        (alias, image) for image, alias in FROM.findall((BAKED / "Dockerfile").read_text())
    )
    choices = cookiecutter_json()["python_version"]
    pythons = {alias: stages.get(alias, "") for alias in (f"python-{v}" for v in choices)}

    assert all(
        image.startswith(f"python:{alias.removeprefix('python-')}-slim@") and DIGEST.search(image)
        for alias, image in pythons.items()
    ), pythons
    assert stages["builder"] == stages["runtime"] == "python-${PYTHON_VERSION}"


def test_the_compose_database_is_pinned_by_digest() -> None:
    images = re.findall(r"^\s+image:\s*(\S+)", (BAKED / "compose.yaml").read_text(), re.MULTILINE)
    databases = [image for image in images if image.startswith("postgres:")]

    assert databases, images
    assert all(DIGEST.search(image) for image in databases), images


PIP_AUDIT_PIN = re.compile(r"pip-audit==([\w.]+)")


def test_one_pip_audit_version_everywhere() -> None:
    """The baked Makefile's PIP_AUDIT is the pin; the nightly's script and every document that
    names a version name the same one."""
    makefile = (BAKED / "Makefile").read_text(encoding="utf-8")
    (pinned,) = re.findall(r"^PIP_AUDIT := (\S+)$", makefile, flags=re.MULTILINE)
    sources = [
        path
        for path in (*TEMPLATE_DIR.glob("scripts/*.py"), *TEMPLATE_DIR.rglob("*.md"), *WORKFLOWS)
        if ".venv" not in path.parts
    ]
    versions = {
        version: path.name
        for path in [BAKED / "Makefile", *sources]
        for version in PIP_AUDIT_PIN.findall(path.read_text(encoding="utf-8"))
    }

    assert pinned == PIP_AUDIT
    assert list(versions) == [pinned.removeprefix("pip-audit==")], versions
