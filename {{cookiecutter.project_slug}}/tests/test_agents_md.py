"""AGENTS.md names only `make` targets the Makefile has, and names the everyday ones."""

import re
from pathlib import Path

# The targets an agent needs first: run, test, lint, format and migrate.
CORE_TARGETS = {"run", "test", "lint", "format", "migrate"}


def makefile_targets(makefile: str) -> set[str]:
    return set(re.findall(r"^([a-zA-Z0-9][\w-]*):(?!=)", makefile, flags=re.MULTILINE))


def named_targets(markdown: str) -> set[str]:
    """The targets of the `make <target>` commands in *markdown*'s code (spans and blocks)."""
    code = re.findall(r"```.*?```|`[^`\n]+`", markdown, flags=re.DOTALL)
    return {target for span in code for target in re.findall(r"\bmake ([\w-]+)", span)}


def test_every_target_agents_md_names_is_in_the_makefile(project_root: Path) -> None:
    named = named_targets((project_root / "AGENTS.md").read_text())
    defined = makefile_targets((project_root / "Makefile").read_text())

    assert sorted(named - defined) == []


def test_agents_md_names_the_everyday_targets(project_root: Path) -> None:
    named = named_targets((project_root / "AGENTS.md").read_text())

    assert sorted(CORE_TARGETS - named) == []


def test_a_target_missing_from_the_makefile_is_caught() -> None:
    markdown = "Run `make test`, then `make deploy-everything`.\n\n```\nmake lint\n```\n"

    named = named_targets(markdown)

    assert named == {"test", "deploy-everything", "lint"}
    assert named - makefile_targets("test: ## tests\n\tuv run pytest\nlint:\n\tmypy\n") == {
        "deploy-everything"
    }


def test_variables_and_special_targets_are_not_targets() -> None:
    makefile = "APP := x\n.PHONY: run\nrun: install ## serve\n\tuv run serve\n"

    assert makefile_targets(makefile) == {"run"}
