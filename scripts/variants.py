"""The template's variants, read from cookiecutter.json: every combination, and a pairwise set.

    python scripts/variants.py all        # JSON list of every valid combination
    python scripts/variants.py pairwise   # JSON list covering every valid pair of option values
    python scripts/variants.py ids        # JSON list of every combination's id (CI matrix)

An option is any key of cookiecutter.json whose default is a list of choices (an alternative)
or a yes/no (a pack, ``use_<name>``: ``no`` then ``yes``); a combination is valid when it breaks
none of ``_constraints`` (checked by the pre-gen hook's own function). A variant's id names its
choices and the packs it has: ``3.12-sqlalchemy-postgresql-redis``.
"""

import importlib.util
import itertools
import json
import sys
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

TEMPLATE_DIR = Path(__file__).resolve().parent.parent

Variant = dict[str, str]


@cache
def cookiecutter_json() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())
    return data


@cache
def load_hook(name: str) -> ModuleType:
    """Import a hook by path; its functions are the one implementation of the option rules."""
    spec = importlib.util.spec_from_file_location(name, TEMPLATE_DIR / "hooks" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PACK_VALUES = ["no", "yes"]


def choice_options(config: dict[str, Any] | None = None) -> dict[str, list[str]]:
    config = config or cookiecutter_json()
    return {
        key: list(value) if isinstance(value, list) else PACK_VALUES
        for key, value in config.items()
        if isinstance(value, list | bool) and not key.startswith("_")
    }


def is_pack(option: str, config: dict[str, Any] | None = None) -> bool:
    return isinstance((config or cookiecutter_json()).get(option), bool)


def as_answers(variant: Variant) -> dict[str, Any]:
    """The variant as the hooks see it in a bake: a pack's yes/no is a bool there."""
    return {
        option: value == "yes" if is_pack(option) else value for option, value in variant.items()
    }


def is_valid(variant: Variant, constraints: list[dict[str, Any]]) -> bool:
    problems = load_hook("pre_gen_project").constraint_problems
    return not problems(as_answers(variant), constraints)


def all_variants(config: dict[str, Any] | None = None) -> list[Variant]:
    """Every combination of option values that the constraints allow."""
    config = config or cookiecutter_json()
    options = choice_options(config)
    combinations = (
        dict(zip(options, values, strict=True)) for values in itertools.product(*options.values())
    )
    return [v for v in combinations if is_valid(v, config.get("_constraints", []))]


def _pairs(variant: Variant) -> set[tuple[tuple[str, str], tuple[str, str]]]:
    return set(itertools.combinations(sorted(variant.items()), 2))


def pairwise_variants(config: dict[str, Any] | None = None) -> list[Variant]:
    """A small set of valid variants in which every pair of option values that any valid variant
    has appears at least once (greedy: repeatedly take the variant covering most new pairs).
    The default variant always comes first."""
    candidates = all_variants(config)
    uncovered = set().union(*(_pairs(v) for v in candidates))
    chosen = [candidates[0]]
    uncovered -= _pairs(candidates[0])
    while uncovered:
        best = max(candidates, key=lambda v: len(_pairs(v) & uncovered))
        chosen.append(best)
        uncovered -= _pairs(best)
    return chosen


def variant_id(variant: Variant) -> str:
    parts = [
        option.removeprefix("use_") if is_pack(option) else value
        for option, value in variant.items()
        if not (is_pack(option) and value == "no")
    ]
    return "-".join(parts)


def main(argv: list[str]) -> None:
    which = argv[0] if argv else "all"
    if which == "ids":
        sys.stdout.write(json.dumps([variant_id(v) for v in all_variants()]) + "\n")
        return
    variants = {"all": all_variants, "pairwise": pairwise_variants}[which]()
    sys.stdout.write(json.dumps(variants) + "\n")


if __name__ == "__main__":
    main(sys.argv[1:])
