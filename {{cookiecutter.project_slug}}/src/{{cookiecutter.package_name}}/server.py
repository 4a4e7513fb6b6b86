"""The production server, ``serve``: uvicorn's own command line with this package's app factory
already named, so that the Dockerfile's command is the same for every service baked from the
template (the Dockerfile has no template variables: dependency bots update it).

``serve --host 0.0.0.0 --port 8000`` runs ``uvicorn --factory <package>.main:create_app --host
0.0.0.0 --port 8000``: every uvicorn flag works, and an option not given on the command line is
read from its ``UVICORN_<OPTION>`` variable, as the image's limits are.

Before uvicorn starts its workers, ``serve`` gives them a directory to add up their metrics in
(core/metrics_sharing.py): METRICS_DIR emptied of an earlier run's totals, or a new temporary
one, removed when the server stops.
"""

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from uvicorn.main import main as uvicorn_command

from .core.metrics_files import empty_directory

APP = f"{__package__}.main:create_app"
METRICS_DIR = "METRICS_DIR"


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    with shared_metrics_directory():
        uvicorn_command.main([APP, "--factory", *arguments], prog_name="serve")


@contextmanager
def shared_metrics_directory() -> Iterator[Path]:
    """METRICS_DIR, emptied, for the workers about to start; a temporary directory in its place
    when it is unset (the workers inherit the variable)."""
    given = os.environ.get(METRICS_DIR)
    if given:
        directory = Path(given)
        directory.mkdir(parents=True, exist_ok=True)
        empty_directory(directory)
        yield directory
        return
    directory = Path(tempfile.mkdtemp(prefix="metrics-"))
    os.environ[METRICS_DIR] = str(directory)
    try:
        yield directory
    finally:
        del os.environ[METRICS_DIR]
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
