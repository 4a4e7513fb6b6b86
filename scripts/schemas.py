"""Regenerate the OpenAPI documents the bakes commit: ``uv run python -m scripts.schemas``.

A baked project commits ``openapi.json`` (client generators read it; its own tests fail when it
drifts from the code), but a bake cannot import the service to write it. The document depends
on the packs a bake has that add operations (``changes_api`` in the manifest) and on its project
name (the title), nothing else: not the database, the ORM, the Python version or a pack that adds
none (the baked test proves it for every variant it runs on; this script for every set of
packs). So the template keeps one document per set of such packs, ``openapi-schemas/<key>.json``,
with the title as a placeholder the post-gen hook fills in. This script bakes every set of packs
(defaults otherwise), installs it and writes the document with the project's own ``openapi``
command.
"""

import itertools
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from scripts.variants import (
    TEMPLATE_DIR,
    bake_and_sync,
    choice_options,
    cookiecutter_json,
    is_pack,
    load_hook,
)

SCHEMAS = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "openapi-schemas"
# The project name the documents are written with, then replaced by the placeholder.
STAND_IN_NAME = "Schema Title Stand-in"


def pack_sets() -> list[dict[str, str]]:
    """Every combination of the packs, as answers."""
    packs = [option for option in choice_options() if is_pack(option)]
    return [
        dict(zip(packs, values, strict=True))
        for values in itertools.product(["no", "yes"], repeat=len(packs))
    ]


def write_schema(answers: dict[str, str], output: Path) -> tuple[str, str]:
    post_gen = load_hook("post_gen_project")
    key = post_gen.schema_key(answers, cookiecutter_json()["_manifest"]["packs"])
    stored = SCHEMAS / f"{key}.json"
    if not stored.exists():  # a new set of packs: the bake needs a document to place
        stored.write_text("{}\n", encoding="utf-8")
    project = bake_and_sync(output, {**answers, "project_name": STAND_IN_NAME})
    command = ["uv", "run", project.name, "openapi", "--output", "openapi.json"]
    subprocess.run(command, cwd=project, check=True)  # noqa: S603
    text = (project / "openapi.json").read_text(encoding="utf-8")
    stand_in = json.dumps(STAND_IN_NAME, ensure_ascii=False)
    assert text.count(stand_in) == 1, "the project name appears other than as the title"
    return key, text.replace(stand_in, post_gen.SCHEMA_TITLE_PLACEHOLDER)


def main() -> None:
    SCHEMAS.mkdir(exist_ok=True)
    documents: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for number, answers in enumerate(pack_sets()):
            key, text = write_schema(answers, Path(scratch) / str(number))
            if documents.setdefault(key, text) != text:  # a pack not marked changes_api did
                raise SystemExit(f"{answers} changes the API: mark its pack changes_api")
            (SCHEMAS / f"{key}.json").write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote openapi-schemas/{key}.json ({answers})\n")
    for stale in sorted(set(SCHEMAS.glob("*.json")) - {SCHEMAS / f"{k}.json" for k in documents}):
        stale.unlink()
        sys.stdout.write(f"deleted {stale.relative_to(TEMPLATE_DIR)}\n")


if __name__ == "__main__":
    main()
