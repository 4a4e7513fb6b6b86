"""Finish a bake: keep the files of the chosen options, pick the lock file, set the
Dockerfile's Python, write ``.env``.

Three kinds of files differ between bakes (cookiecutter.json's ``_manifest``):

- alternatives: ``file@value`` copies of one file, one per value of a choice (``orm``,
  ``database``); the chosen copy loses its tag, the others are removed;
- packs: the paths (globs; a folder goes whole) a yes/no add-on owns, removed when it is off;
- the lock: one per distinct set of dependencies in ``uv-locks/``, named by that set's key
  (``dependency_key`` of the baked pyproject.toml), becomes ``uv.lock``.
- the OpenAPI document: one per set of packs in ``openapi-schemas/`` (``schema_key``), becomes
  ``openapi.json`` with the project name as its title (scripts/schemas.py writes them).

Then it writes ``.env`` (generated secrets live there only, gitignored) and, for a bake by plain
cookiecutter from a git checkout, the ``.cruft.json`` record that ``cruft check``/``cruft update``
read (``cruft create`` writes its own).

Importable for unit tests: the only Jinja is inside the string literal that ``main`` parses.
Offline and deterministic apart from the secrets themselves.
"""

import hashlib
import json
import re
import secrets
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from fnmatch import fnmatchcase
from pathlib import Path, PurePosixPath
from typing import Any

# Variables of .env.example whose value is a secret generated per bake.
# (URL-safe: the compose passwords are parts of URLs.)
GENERATED_SECRETS = ("JWT_SECRET", "POSTGRES_PASSWORD", "REDIS_PASSWORD")
# A variant file is named for the option value that owns it: ``core/base@sqlmodel.py``.
_VARIANT_TAG = re.compile(r"@[^/.]+(?=(\.[^/]*)?$)")
# How the manifest names the package directory (spelled so that Jinja leaves it alone).
PACKAGE_PLACEHOLDER = "{" * 2 + "cookiecutter.package_name" + "}" * 2
# The lock files, copied unrendered (``_copy_without_render``): the root package's entry names
# the project with these placeholders, filled in here.
LOCKS_DIR = "uv-locks"
LOCK_PLACEHOLDERS = {
    "{" * 2 + " cookiecutter.project_slug " + "}" * 2: "project_slug",
    "{" * 2 + " cookiecutter.version " + "}" * 2: "version",
}


def variant_target(path: str) -> str:
    """Where a variant file lands: its path untagged (``base@sqlmodel.py`` -> ``base.py``)."""
    return _VARIANT_TAG.sub("", path, count=1)


def _in_package(path: str, context: dict[str, Any]) -> str:
    return path.replace(PACKAGE_PLACEHOLDER, str(context["package_name"]))


def planned_files(
    context: dict[str, Any], manifest: dict[str, Any]
) -> Iterator[tuple[str, str | None]]:
    """Every file the alternatives own, as (path, target): target None means it is removed,
    as it is when a pack that is off owns it (a pack's table model per ORM).

    Paths are those of the baked project, with the package directory already named.
    """
    pruned = pruned_paths(context, manifest)
    for rule in manifest["alternatives"]:
        chosen = all(context.get(option) == value for option, value in rule["when"].items())
        for template_path in rule["files"]:
            path = _in_package(template_path, context)
            kept = chosen and not any(_under(path, pattern) for pattern in pruned)
            yield path, variant_target(path) if kept else None


def _under(path: str, pattern: str) -> bool:
    """Whether *path* is matched by the glob *pattern* or lies in a folder it matches."""
    candidate = PurePosixPath(path)
    return any(fnmatchcase(str(c), pattern) for c in (candidate, *candidate.parents))


def is_on(value: object) -> bool:
    """A pack's answer: cookiecutter gives a bool; a replayed or hand-written context may hold
    its yes/no spelling."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "t", "yes", "y", "on"}
    return bool(value)


def pruned_paths(context: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    """The globs of every pack that is off, in the baked project's terms."""
    return [
        _in_package(pattern, context)
        for option, pack in manifest["packs"].items()
        if not is_on(context.get(option))
        for pattern in pack["paths"]
    ]


def dependency_key(pyproject: str) -> str:
    """What a lock file is keyed by: the project's dependencies, whichever answers produced them
    (two bakes with the same dependencies share one lock)."""
    data = tomllib.loads(pyproject)
    project = data["project"]
    groups = data.get("dependency-groups", {})
    uv = {k: v for k, v in data.get("tool", {}).get("uv", {}).items() if k != "build-backend"}
    extras = project.get("optional-dependencies", {})
    declared = {
        "requires-python": project.get("requires-python", ""),
        "dependencies": sorted(project.get("dependencies", [])),
        "groups": {name: sorted(map(str, groups[name])) for name in sorted(groups)},
        # What else uv reads when it locks: extras, and its sources, indexes and overrides.
        "extras": {name: sorted(extras[name]) for name in sorted(extras)},
        "uv": uv,
    }
    digest = hashlib.sha256(json.dumps(declared, sort_keys=True).encode()).hexdigest()
    return digest[:16]


def apply_manifest(project_dir: Path, context: dict[str, Any]) -> None:
    manifest = context["_manifest"]
    for path, target in planned_files(context, manifest):
        if target is None:
            (project_dir / path).unlink()
        else:
            (project_dir / path).rename(project_dir / target)
    for pattern in pruned_paths(context, manifest):
        for path in sorted(project_dir.glob(pattern), reverse=True):
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()


def place_lock(project_dir: Path, context: dict[str, Any]) -> None:
    """Make the lock of this bake's dependencies ``uv.lock``; drop the others."""
    locks = project_dir / LOCKS_DIR
    key = dependency_key((project_dir / "pyproject.toml").read_text(encoding="utf-8"))
    lock = locks / f"{key}.lock"
    if not lock.is_file():
        raise SystemExit(
            f"The template has no lock file for these dependencies ({LOCKS_DIR}/{key}.lock): "
            "run `uv run python -m scripts.relock` in the template."
        )
    text = lock.read_text(encoding="utf-8")
    for placeholder, option in LOCK_PLACEHOLDERS.items():
        text = text.replace(placeholder, str(context[option]))
    (project_dir / "uv.lock").write_text(text, encoding="utf-8")
    shutil.rmtree(locks)


SCHEMAS_DIR = "openapi-schemas"
# The title in the stored documents (copied unrendered), replaced by the project name as JSON.
SCHEMA_TITLE_PLACEHOLDER = '"' + "{" * 2 + " cookiecutter.project_name " + "}" * 2 + '"'


def schema_key(context: dict[str, Any], packs: dict[str, Any]) -> str:
    """Which stored document a bake gets: the names of the packs it has that add operations
    (``changes_api`` in the manifest), sorted (the hook's context comes with its keys sorted,
    the manifest's file does not)."""
    names = [
        option.removeprefix("use_")
        for option in sorted(packs)
        if packs[option].get("changes_api") and is_on(context.get(option))
    ]
    return "-".join(names) or "core"


def place_schema(project_dir: Path, context: dict[str, Any]) -> None:
    """Make this bake's document ``openapi.json``, titled with the project name; drop the rest."""
    schemas = project_dir / SCHEMAS_DIR
    key = schema_key(context, context["_manifest"]["packs"])
    schema = schemas / f"{key}.json"
    if not schema.is_file():
        raise SystemExit(
            f"The template has no OpenAPI document for these packs ({SCHEMAS_DIR}/{key}.json): "
            "run `uv run python -m scripts.schemas` in the template."
        )
    title = json.dumps(str(context["project_name"]), ensure_ascii=False)
    text = schema.read_text(encoding="utf-8").replace(SCHEMA_TITLE_PLACEHOLDER, title)
    (project_dir / "openapi.json").write_text(text, encoding="utf-8")
    shutil.rmtree(schemas)


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


# cookiecutter's abbreviations for hosted templates, as the record must name a URL git can clone.
ABBREVIATIONS = {
    "gh:": "https://github.com/{}.git",
    "gl:": "https://gitlab.com/{}.git",
    "bb:": "https://bitbucket.org/{}",
}
UPDATE_RECORD = ".cruft.json"


def template_url(template: str, checkout_dir: str) -> str:
    """Where the template came from, as git can clone it again: an abbreviation expanded, a
    URL as given, a local template by the absolute path of its checkout."""
    for prefix, url in ABBREVIATIONS.items():
        if template.startswith(prefix):
            return url.format(template.removeprefix(prefix))
    if "://" in template or template.startswith("git@"):
        return template
    return checkout_dir


def update_record(context: dict[str, Any], url: str, commit: str) -> dict[str, Any]:
    """The record ``cruft update`` reads: the template, its commit, and the answers (the
    template's private entries are read again from the template at update time)."""
    answers = {key: value for key, value in context.items() if not key.startswith("_")}
    return {
        "template": url,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": {**answers, "_template": url, "_commit": commit}},
        "directory": None,
    }


def write_update_record(project_dir: Path, context: dict[str, Any]) -> None:
    """Record the template and commit of a plain cookiecutter bake, so that ``cruft update``
    can bring it up to date. Under cruft (its context has ``_commit``) cruft writes the record
    itself; a template that is not a git checkout has no commit to record."""
    if "_commit" in context:
        return
    checkout_dir = str(context.get("_repo_dir", ""))
    if not Path(checkout_dir).is_absolute():
        # A template named by a relative path: the hook runs in the project directory and
        # cannot tell where that path led.
        print(
            "note: the template was named by a relative path, so the bake records no template "
            "commit; name it by its absolute path or URL, or bake with `uvx cruft create`, to "
            "be able to update the project.",
            file=sys.stderr,
        )
        return
    found = subprocess.run(  # noqa: S603 - git on fixed arguments
        ["git", "-C", checkout_dir, "rev-parse", "--verify", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        print(
            f"note: {checkout_dir} is not a git checkout, so the bake records no template commit; "
            "bake with `uvx cruft create <template URL>` to be able to update it.",
            file=sys.stderr,
        )
        return
    url = template_url(str(context.get("_template", checkout_dir)), checkout_dir)
    record = update_record(context, url, found.stdout.strip())
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    (project_dir / UPDATE_RECORD).write_text(text, encoding="utf-8")


# The Dockerfile's Python: the default of its build argument. The Dockerfile is copied unrendered
# (``_copy_without_render``: dependency bots update it, so it holds no Jinja); this line is the
# one place it differs between bakes, and the baked tests keep it equal to .python-version.
PYTHON_VERSION_ARG = re.compile(r"^ARG PYTHON_VERSION=.*$", flags=re.MULTILINE)


def with_python_version(dockerfile: str, version: str) -> str:
    """*dockerfile* with its ``ARG PYTHON_VERSION=`` default set to *version*."""
    found = PYTHON_VERSION_ARG.findall(dockerfile)
    if len(found) != 1:
        raise SystemExit(
            f"The template's Dockerfile has {len(found)} 'ARG PYTHON_VERSION=' lines; "
            "the post-gen hook sets the one default it expects there."
        )
    return PYTHON_VERSION_ARG.sub(f"ARG PYTHON_VERSION={version}", dockerfile)


def pin_python_version(project_dir: Path, version: str) -> None:
    dockerfile = project_dir / "Dockerfile"
    text = dockerfile.read_text(encoding="utf-8")
    dockerfile.write_text(with_python_version(text, version), encoding="utf-8")


def main() -> None:
    context = json.loads(r"""{{ cookiecutter | tojson }}""")
    project_dir = Path.cwd()
    apply_manifest(project_dir, context)
    place_lock(project_dir, context)
    place_schema(project_dir, context)
    pin_python_version(project_dir, str(context["python_version"]))
    write_env_file(project_dir)
    write_update_record(project_dir, context)


if __name__ == "__main__":
    main()
