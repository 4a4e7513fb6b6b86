"""Regenerate the baked projects' lock files: ``uv run python -m scripts.relock [--upgrade]``.

Dependencies differ by answer (asyncpg only with PostgreSQL, sqlmodel only with SQLModel, redis
only with the Redis pack), but many answers share a set: the template keeps one lock per
distinct set of dependencies, ``uv-locks/<key>.lock``, where the key is the post-gen hook's
``dependency_key`` of the rendered pyproject.toml (which is also how a bake finds its lock).
Every variant is rendered without hooks; each distinct set is locked with uv once, starting
from its current lock (or any other, so that versions stay put unless ``--upgrade``), and
written back with the project's name and version as placeholders. Locks of sets no variant
has any longer are deleted.
"""

import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

from scripts.variants import TEMPLATE_DIR, Variant, all_variants, load_hook

LOCKS = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "uv-locks"
BAKED_ROOT_PACKAGE = (
    '[[package]]\nname = "my-service"\nversion = "0.1.0"\nsource = { editable = "." }'
)
TEMPLATED_ROOT_PACKAGE = (
    '[[package]]\nname = "{{ cookiecutter.project_slug }}"\n'
    'version = "{{ cookiecutter.version }}"\nsource = { editable = "." }'
)


def render(variant: Variant, output: Path) -> Path:
    """The variant's project as rendered, before the post-gen hook picks files and a lock."""
    return Path(
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            output_dir=str(output),
            extra_context=dict(variant),
            accept_hooks=False,
        )
    )


def dependency_sets(output: Path) -> dict[str, Path]:
    """One rendered project per distinct dependency set, by key."""
    dependency_key = load_hook("post_gen_project").dependency_key
    projects: dict[str, Path] = {}
    for number, variant in enumerate(all_variants()):
        project = render(variant, output / str(number))
        key = dependency_key((project / "pyproject.toml").read_text())
        projects.setdefault(key, project)
    return projects


def relock(key: str, project: Path, upgrade: bool) -> None:
    current = LOCKS / f"{key}.lock"
    start = current if current.exists() else next(LOCKS.glob("*.lock"), None)
    if start is not None:
        text = start.read_text().replace(TEMPLATED_ROOT_PACKAGE, BAKED_ROOT_PACKAGE)
        (project / "uv.lock").write_text(text)
    command = ["uv", "lock", *(["--upgrade"] if upgrade else [])]
    subprocess.run(command, cwd=project, check=True)  # noqa: S603
    locked = (project / "uv.lock").read_text()
    assert locked.count(BAKED_ROOT_PACKAGE) == 1, "the baked project's own entry moved"
    current.write_text(locked.replace(BAKED_ROOT_PACKAGE, TEMPLATED_ROOT_PACKAGE))
    sys.stdout.write(f"locked uv-locks/{key}.lock\n")


def main(argv: list[str]) -> None:
    LOCKS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as output:
        projects = dependency_sets(Path(output))
        for key, project in projects.items():
            relock(key, project, upgrade="--upgrade" in argv)
    for stale in sorted(set(LOCKS.glob("*.lock")) - {LOCKS / f"{key}.lock" for key in projects}):
        stale.unlink()
        sys.stdout.write(f"deleted {stale.relative_to(TEMPLATE_DIR)}: no variant has its set\n")


if __name__ == "__main__":
    main(sys.argv[1:])
