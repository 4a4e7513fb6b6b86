"""The files in METRICS_DIR through which worker processes share their metrics
(core/metrics_sharing.py): their names, and emptying the directory as a server starts.

Standard library only: ``serve``'s supervising process imports it, and need not load the app.
"""

import os
import secrets
from pathlib import Path

FILE_SUFFIX = ".metrics.json"


def new_file_path(directory: Path) -> Path:
    """A file of this process's own: the pid says whether its writer still runs; the random
    part keeps a later process that gets the same pid from overwriting an exited one's file."""
    return directory / f"{os.getpid()}-{secrets.token_hex(4)}{FILE_SUFFIX}"


def empty_directory(directory: Path) -> None:
    """Remove the totals files of an earlier run from *directory* (only those)."""
    for path in [*directory.glob(f"*{FILE_SUFFIX}"), *directory.glob(f"*{FILE_SUFFIX}.tmp")]:
        path.unlink(missing_ok=True)
