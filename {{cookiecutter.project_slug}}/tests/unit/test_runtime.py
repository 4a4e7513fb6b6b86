"""Garbage-collector tuning: applied as configured, and only as configured."""

import gc
from collections.abc import Iterator

import pytest

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.runtime import tune_garbage_collector


@pytest.fixture(autouse=True)
def _restore_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_startup_objects_are_frozen_and_the_young_threshold_raised() -> None:
    older = gc.get_threshold()[1:]

    tune_garbage_collector(Settings(_env_file=None, gc_gen0_threshold=5_000))

    assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == (5_000, *older)


def test_nothing_changes_when_tuning_is_off() -> None:
    threshold = gc.get_threshold()
    gc.unfreeze()

    tune_garbage_collector(
        Settings(_env_file=None, gc_freeze_at_startup=False, gc_gen0_threshold=None)
    )

    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == threshold
