"""Every app a test of a files bake builds stores its files in a directory of this test
process's own, emptied after each test and removed at the end of the run."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# This process's directory (a test may change the environment; this stays).
_directory = Path()


def pytest_configure(config: pytest.Config) -> None:
    global _directory  # noqa: PLW0603 (one per test process, set once)
    _directory = Path(tempfile.mkdtemp(prefix="files-test-"))
    # Settings read the environment: FILES_LOCAL_DIR holds for every app the tests build.
    os.environ["FILES_LOCAL_DIR"] = str(_directory)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_directory, ignore_errors=True)


@pytest.fixture(autouse=True)
def _empty_files_dir() -> Iterator[None]:
    """Every test starts with no stored objects, whatever the previous one left behind."""
    yield
    for entry in _directory.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@pytest.fixture
def files_dir() -> Path:
    return _directory
