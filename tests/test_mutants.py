"""The mutation run (scripts/mutants.py) stays in step with the code: every mutant's snippet
occurs exactly once in the file it names, in bakes of each ORM and with every pack. (Whether the
tests kill them is the nightly's job: it runs each mutant against the tests it names, the
security tests and the packs' own.)"""

from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.mutants import MUTANTS, Mutant, check_applies

BAKES = {
    "default": {},
    "sqlmodel-every-pack": {
        "orm": "sqlmodel",
        "database": "sqlite",
        "use_redis": "yes",
        "use_websockets": "yes",
        "use_file_uploads": "yes",
    },
}


@pytest.mark.parametrize("answers", BAKES.values(), ids=BAKES.keys())
@pytest.mark.parametrize("mutant", MUTANTS, ids=lambda m: m.name)
def test_every_mutant_applies_to_the_bake(
    bake: Callable[..., Path], answers: dict[str, str], mutant: Mutant
) -> None:
    if mutant.pack is not None and answers.get(mutant.pack) != "yes":
        pytest.skip(f"{mutant.pack} is not in this bake")
    check_applies(bake(**answers), mutant)


def test_mutant_names_are_unique_and_each_changes_something() -> None:
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)
    assert all(m.old != m.new for m in MUTANTS)
