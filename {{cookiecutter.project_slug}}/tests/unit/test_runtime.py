"""Garbage-collector tuning: applied as configured, only as configured, and undone."""

import gc
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from {{ cookiecutter.package_name }}.config import Settings
from {{ cookiecutter.package_name }}.core.runtime import tune_garbage_collector

from ..support import serve


@pytest.fixture(autouse=True)
def _untouched_collector() -> Iterator[tuple[int, int, int]]:
    """Nothing frozen, the test's threshold restored whatever happens."""
    threshold = gc.get_threshold()
    gc.unfreeze()
    yield threshold
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_tuning_freezes_start_up_objects_raises_the_threshold_and_is_undone() -> None:
    before = gc.get_threshold()

    restore = tune_garbage_collector(Settings(_env_file=None, gc_gen0_threshold=5_000))
    tuned = (gc.get_freeze_count(), gc.get_threshold())
    restore()

    assert tuned[0] > 0
    assert tuned[1] == (5_000, *before[1:])
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)


def test_nothing_changes_when_tuning_is_off() -> None:
    before = gc.get_threshold()

    restore = tune_garbage_collector(
        Settings(_env_file=None, gc_freeze_at_startup=False, gc_gen0_threshold=0)
    )

    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)
    restore()
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)


def test_a_process_that_imports_the_service_freezes_its_heap_at_exit() -> None:
    """The collector's last passes then walk nothing (the package's __init__.py)."""
    code = (
        "import atexit, gc, sys\n"
        "before = gc.get_freeze_count()\n"
        # Registered first, so it runs last: after the package's handler.
        "atexit.register(lambda: sys.stdout.write(str(gc.get_freeze_count() - before)))\n"
        "import {{ cookiecutter.package_name }}\n"
    )

    result = subprocess.run(  # noqa: S603 - this interpreter, the test's own code
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert int(result.stdout) > 1_000


async def test_an_app_shut_down_leaves_the_collector_as_it_found_it(
    make_settings: Callable[..., Settings],
) -> None:
    before = gc.get_threshold()
    settings = make_settings(gc_freeze_at_startup=True, gc_gen0_threshold=5_000)

    async with serve(settings) as client:
        response = await client.get("/health")
        during = gc.get_threshold()

    assert response.status_code == 200
    assert during[0] == 5_000
    assert (gc.get_freeze_count(), gc.get_threshold()) == (0, before)
