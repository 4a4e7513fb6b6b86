"""Regenerate the baked projects' lock files: ``python scripts/relock.py [--upgrade]``.

Dependencies differ by option (asyncpg only with PostgreSQL, sqlmodel only with SQLModel), so the
template keeps one ``uv@<values>.lock`` per combination that owns one in the manifest. Each is
baked, locked with uv, and written back with the project's name and version templated.
"""

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from cookiecutter.main import cookiecutter

from scripts.variants import TEMPLATE_DIR, cookiecutter_json

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
BAKED_ROOT_PACKAGE = (
    '[[package]]\nname = "my-service"\nversion = "0.1.0"\nsource = { editable = "." }'
)
TEMPLATED_ROOT_PACKAGE = (
    '[[package]]\nname = "{{ cookiecutter.project_slug }}"\n'
    'version = "{{ cookiecutter.version }}"\nsource = { editable = "." }'
)


def lock_rules() -> list[tuple[dict[str, str], str]]:
    return [
        (rule["when"], path)
        for rule in cookiecutter_json()["_manifest"]
        for path in rule["files"]
        if path.endswith(".lock")
    ]


def relock(when: dict[str, str], lock_path: str, upgrade: bool) -> None:
    template_lock = PROJECT_TEMPLATE / lock_path
    with tempfile.TemporaryDirectory() as output:
        project = Path(
            cookiecutter(str(TEMPLATE_DIR), no_input=True, output_dir=output, extra_context=when)
        )
        command = ["uv", "lock", *(["--upgrade"] if upgrade else [])]
        subprocess.run(command, cwd=project, check=True)  # noqa: S603
        locked = (project / "uv.lock").read_text()
    assert locked.count(BAKED_ROOT_PACKAGE) == 1, "the baked project's own entry moved"
    template_lock.write_text(locked.replace(BAKED_ROOT_PACKAGE, TEMPLATED_ROOT_PACKAGE))
    sys.stdout.write(f"locked {lock_path} for {when}\n")


def main(argv: list[str]) -> None:
    rules = lock_rules()
    # A bake needs every file the manifest names: a new combination starts from any lock.
    existing = next(PROJECT_TEMPLATE.glob("uv@*.lock"))
    for _, lock_path in rules:
        if not (PROJECT_TEMPLATE / lock_path).exists():
            shutil.copy(existing, PROJECT_TEMPLATE / lock_path)
    for when, lock_path in rules:
        relock(when, lock_path, upgrade="--upgrade" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
