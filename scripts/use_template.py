"""Turn a repository made with GitHub's "Use this template" button into a baked project.

    python -m scripts.use_template --repository . --template https://github.com/org/fastapi-prod.git

The setup workflow (.github/workflows/setup.yml) runs it in the new repository's checkout. The
answers are data, read from the environment, never from a command line or a shell:

    REPOSITORY_NAME          the new repository's name: the project name (slug and package follow)
    REPOSITORY_DESCRIPTION   its description (the template's default when empty)
    REPOSITORY_OWNER         its owner: the author, with GitHub's no-reply address
    TEMPLATE_ANSWERS         optional JSON object of further answers ({"use_redis": "yes"})

What it does, and refuses:

- the button copies the template's files into a new first commit; the template commit with the
  same tree is the one that is baked (with cruft, so the project can be updated), and no such
  commit is an error;
- the bake replaces every tracked file and is committed on top, with the update record
  (.cruft.json); the template's own files (its tests, workflows, nightly matrix) are gone;
- a bad answer fails with the bake's one-line message, and a dirty or already baked checkout is
  refused, before anything in the repository changes.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cookiecutter.exceptions import CookiecutterException
from cruft import create
from cruft.exceptions import CruftError

# Names of the environment variables that carry the answers.
NAME, DESCRIPTION, OWNER, EXTRA = (
    "REPOSITORY_NAME",
    "REPOSITORY_DESCRIPTION",
    "REPOSITORY_OWNER",
    "TEMPLATE_ANSWERS",
)
# Not copied from the bake into the repository: secrets generated for the machine that baked.
LOCAL_ONLY = {".env"}


class SetupError(Exception):
    """A reason not to bake, said in one line; nothing has been changed."""


def git(repository: Path, *arguments: str) -> str:
    result = subprocess.run(  # noqa: S603 - fixed git commands; paths and refs are arguments
        ["git", "-C", str(repository), *arguments],  # noqa: S607 - git from PATH
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SetupError(f"git {' '.join(arguments)} failed: {result.stderr.strip()}")
    return result.stdout


def answers_from(environ: Mapping[str, str], template: Mapping[str, Any]) -> dict[str, Any]:
    """The bake's answers: the repository's name, description and owner, then any of
    ``TEMPLATE_ANSWERS``, which may name only the template's questions."""
    name = environ.get(NAME, "").strip()
    if not name:
        raise SetupError(f"{NAME} is empty: the repository's name is the project's name")
    answers: dict[str, Any] = {"project_name": name}
    description = " ".join(environ.get(DESCRIPTION, "").split())
    if description:
        answers["description"] = description
    owner = environ.get(OWNER, "").strip()
    if owner:
        answers["author_name"] = owner
        answers["author_email"] = f"{owner}@users.noreply.github.com"
    extra_text = environ.get(EXTRA, "").strip()
    if extra_text:
        try:
            extra = json.loads(extra_text)
        except json.JSONDecodeError as error:
            raise SetupError(f"{EXTRA} is not JSON: {error}") from None
        if not isinstance(extra, dict):
            raise SetupError(f'{EXTRA} must be a JSON object such as {{"use_redis": "yes"}}')
        questions = sorted(key for key in template if not key.startswith("_"))
        unknown = sorted(set(extra) - set(questions))
        if unknown:
            raise SetupError(f"{EXTRA} names no question {unknown}; the questions: {questions}")
        answers.update(extra)
    return answers


def template_commit(template: str, tree: str, workdir: Path) -> str:
    """The commit of *template* whose files are *tree*: what the button copied."""
    clone = workdir / "template"
    subprocess.run(  # noqa: S603 - git clone of the given template
        ["git", "clone", "--quiet", "--no-checkout", template, str(clone)],  # noqa: S607
        check=True,
        capture_output=True,
    )
    for line in git(clone, "log", "--all", "--format=%H %T").splitlines():
        commit, commit_tree = line.split()
        if commit_tree == tree:
            return commit
    raise SetupError(
        f"no commit of {template} has this repository's files (tree {tree}); was a file "
        "changed before the setup ran? Bake by hand instead: uvx cruft create " + template
    )


def bake(repository: Path, template: str, environ: Mapping[str, str]) -> str:
    """Replace *repository*'s files by the bake; return the new commit's message."""
    if not (repository / "cookiecutter.json").is_file():
        return ""
    if git(repository, "status", "--porcelain"):
        raise SetupError(f"{repository} has uncommitted changes: commit or drop them first")
    template_json = json.loads((repository / "cookiecutter.json").read_text(encoding="utf-8"))
    answers = answers_from(environ, template_json)
    tree = git(repository, "rev-parse", "HEAD^{tree}").strip()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        commit = template_commit(template, tree, workdir)
        try:
            project = create(
                template,
                output_dir=workdir / "bake",
                checkout=commit,
                no_input=True,
                extra_context=answers,
            )
        except (CookiecutterException, CruftError) as error:
            raise SetupError(str(error).strip() or repr(error)) from None
        for name in git(repository, "ls-files", "-z").split("\0"):
            if name:
                _remove(repository, Path(name))
        for source in sorted(project.rglob("*")):
            relative = source.relative_to(project)
            if source.is_file() and not LOCAL_ONLY & set(relative.parts):
                target = repository / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
    git(repository, "add", "--all")
    message = (
        f"Bake {template} at {commit[:12]} as {answers['project_name']}\n\n"
        f"Made by scripts/use_template.py; .cruft.json records the template and its answers,\n"
        f"for `cruft update`."
    )
    git(repository, "commit", "--quiet", "--message", message)
    return message


def _remove(root: Path, relative: Path) -> None:
    """Remove a tracked file, then each of its folders that it leaves empty."""
    (root / relative).unlink(missing_ok=True)
    for folder in relative.parents[:-1]:
        if any((root / folder).iterdir()):
            break
        (root / folder).rmdir()


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repository", type=Path, required=True, help="the new repository")
    parser.add_argument("--template", required=True, help="URL (or path) of the template")
    args = parser.parse_args(argv)
    try:
        message = bake(args.repository.resolve(), args.template, environ or os.environ)
    except SetupError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    print(message.splitlines()[0] if message else "Already baked: nothing to do.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
