"""Every app a test of a files bake builds stores its files in a directory of this test
process's own, removed at the end of the run."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.files.dependencies import storage_of
from {{ cookiecutter.package_name }}.files.storage import Storage

_OWN_DIRECTORY = "FILES_TEST_DIRECTORY"


def pytest_configure(config: pytest.Config) -> None:
    # Settings read the environment: FILES_LOCAL_DIR holds for every app the tests build.
    directory = tempfile.mkdtemp(prefix="files-test-")
    os.environ["FILES_LOCAL_DIR"] = os.environ[_OWN_DIRECTORY] = directory


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(os.environ.pop(_OWN_DIRECTORY), ignore_errors=True)


@pytest.fixture(autouse=True)
def _empty_files_dir() -> Iterator[None]:
    """Every test starts with no stored objects, whatever the previous one left behind."""
    yield
    directory = Path(os.environ["FILES_LOCAL_DIR"])
    for entry in directory.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@pytest.fixture
def file_storage(app: FastAPI) -> Storage:
    return storage_of(app)


@pytest.fixture
def files_dir() -> Path:
    return Path(os.environ["FILES_LOCAL_DIR"])
