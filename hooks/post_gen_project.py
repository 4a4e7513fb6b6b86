"""Finish a bake: keep the files of the chosen options, write ``.env`` with fresh secrets.

Importable for unit tests: the only Jinja is inside the string literal that ``main`` parses.
Offline and deterministic apart from the secrets themselves.
"""

import json
import re
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

# Variables of .env.example whose value is a secret generated per bake.
GENERATED_SECRETS = ("JWT_SECRET",)
# A variant file is named for the option values that own it: ``compose@sqlite.yaml``.
_VARIANT_TAG = re.compile(r"@[^/.]+(?=(\.[^/]*)?$)")
# How the manifest names the package directory (spelled so that Jinja leaves it alone).
PACKAGE_PLACEHOLDER = "{" * 2 + "cookiecutter.package_name" + "}" * 2


def variant_target(path: str) -> str:
    """Where a variant file lands: its path without the tag (``uv@a-b.lock`` -> ``uv.lock``)."""
    return _VARIANT_TAG.sub("", path, count=1)


def planned_files(
    context: dict[str, Any], manifest: list[dict[str, Any]]
) -> Iterator[tuple[str, str | None]]:
    """Every file the manifest owns, as (path, target): target None means the file is removed.

    Paths are those of the baked project, with the package directory already named.
    """
    package = str(context["package_name"])
    for rule in manifest:
        chosen = all(context.get(option) == value for option, value in rule["when"].items())
        for template_path in rule["files"]:
            path = template_path.replace(PACKAGE_PLACEHOLDER, package)
            yield path, variant_target(path) if chosen else None


def apply_manifest(project_dir: Path, context: dict[str, Any]) -> None:
    for path, target in planned_files(context, context["_manifest"]):
        if target is None:
            (project_dir / path).unlink()
        else:
            (project_dir / path).rename(project_dir / target)


def env_with_secrets(example: str, token_factory: Callable[[], str] | None = None) -> str:
    """Return *example* (the text of .env.example) with every generated secret filled in."""
    make_token = token_factory or (lambda: secrets.token_urlsafe(64))
    lines = []
    for line in example.splitlines():
        name, separator, _ = line.partition("=")
        if separator and name.strip() in GENERATED_SECRETS:
            line = f"{name.strip()}={make_token()}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def write_env_file(project_dir: Path) -> None:
    """Create ``.env`` from ``.env.example``, readable by its owner only."""
    example = (project_dir / ".env.example").read_text(encoding="utf-8")
    env_file = project_dir / ".env"
    env_file.write_text(env_with_secrets(example), encoding="utf-8")
    env_file.chmod(0o600)


def main() -> None:
    context = json.loads(r"""{{ cookiecutter | tojson }}""")
    project_dir = Path.cwd()
    apply_manifest(project_dir, context)
    write_env_file(project_dir)


if __name__ == "__main__":
    main()
