"""Process-wide tuning of the Python runtime, for the time the app serves."""

import gc
from collections.abc import Callable

from ..config import Settings


def tune_garbage_collector(settings: Settings) -> Callable[[], None]:
    """Make the cyclic garbage collector cheap for a request-serving process; returns the
    function that undoes it (the lifespan calls it on shutdown, so an app built and shut down
    inside a longer-lived process, a test or a tool, leaves the collector as it found it).

    A request allocates a few thousand container objects (ORM state, validation, Starlette).
    With Python's default young-generation threshold (700 allocations) a collection runs while
    dozens of requests are in flight: their live objects are traversed, promoted and traversed
    again in the older generations, and full collections walk every module, schema and mapper
    the app loaded. Freezing what is alive after start-up takes those out of every collection;
    a higher young threshold lets most request objects die before one runs (the template's
    bench/README.md has the effect on the item read). The cost is memory: up to that many more
    objects wait for a collection (an estimate: a few MB, more if they hold large buffers).
    """
    threshold = gc.get_threshold()
    frozen = settings.gc_freeze_at_startup
    if frozen:
        gc.collect()
        gc.freeze()
    if settings.gc_gen0_threshold:
        gc.set_threshold(settings.gc_gen0_threshold, *threshold[1:])

    def restore() -> None:
        if frozen:
            gc.unfreeze()
        gc.set_threshold(*threshold)

    return restore
