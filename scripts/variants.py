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
    """A smallest set of valid variants in which every pair of option values that any valid
    variant has appears at least once; the default variant comes first.

    Greedy (take the variant covering most new pairs) gives a set; then a depth-first search
    looks for one variant fewer, branching on the variants that cover the uncovered pair fewest
    variants cover, until none exists. Each variant of the set gets the full checks, so one
    fewer saves a bake's whole test run. Deterministic: the same options give the same set.
    """
    if config is None:  # the template's own options: searched once per process
        return [dict(variant) for variant in _template_pairwise()]
    return _smallest_pairwise(all_variants(config))


@cache
def _template_pairwise() -> tuple[Variant, ...]:
    return tuple(_smallest_pairwise(all_variants()))


def _smallest_pairwise(candidates: list[Variant]) -> list[Variant]:
    pairs = [_pairs(v) for v in candidates]
    everything = set().union(*pairs)
    best = _greedy(pairs, everything)
    most = max(len(p) for p in pairs)  # what one variant can cover, for the search's bound
    covering = {pair: [i for i, p in enumerate(pairs) if pair in p] for pair in everything}
    while (
        smaller := _cover(pairs, covering, most, everything - pairs[0], [0], len(best) - 1)
    ) is not None:
        best = smaller
    return [candidates[i] for i in best]


type _Pair = tuple[tuple[str, str], tuple[str, str]]


def _greedy(pairs: list[set[_Pair]], everything: set[_Pair]) -> list[int]:
    chosen, uncovered = [0], everything - pairs[0]
    while uncovered:
        best = max(range(len(pairs)), key=lambda i: len(pairs[i] & uncovered))
        chosen.append(best)
        uncovered -= pairs[best]
    return chosen


def _cover(
    pairs: list[set[_Pair]],
    covering: dict[_Pair, list[int]],
    most: int,
    uncovered: set[_Pair],
    chosen: list[int],
    size: int,
) -> list[int] | None:
    """*chosen* extended to at most *size* variants covering *uncovered*, or None;
    *covering* lists, for each pair, the variants that have it."""
    if not uncovered:
        return chosen
    if len(chosen) >= size or len(uncovered) > (size - len(chosen)) * most:
        return None
    # Sorted first: ties go the same way whatever the process's string hash seed.
    hardest = min(sorted(uncovered), key=lambda pair: len(covering[pair]))
    for i in covering[hardest]:
        found = _cover(pairs, covering, most, uncovered - pairs[i], [*chosen, i], size)
        if found is not None:
            return found
    return None


def bake_and_sync(output: Path, answers: dict[str, Any]) -> Path:
    """The template baked with *answers* into *output*, its locked dependencies installed: a
    project the scripts can run commands in."""
    import subprocess

    from cookiecutter.main import cookiecutter

    project = Path(
        cookiecutter(
            str(TEMPLATE_DIR), no_input=True, output_dir=str(output), extra_context=answers
        )
    )
    subprocess.run(["uv", "sync", "--locked", "--quiet"], cwd=project, check=True)  # noqa: S607
    return project


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
