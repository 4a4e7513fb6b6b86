"""Fixtures of the storage tests: each backend with a way to see what it holds, and one moto
S3 server per test process, started only when a test needs it."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import anyio.to_thread
import pytest

from {{ cookiecutter.package_name }}.files.storage import LocalStorage, Storage

from .s3server import bucket_contents, create_bucket, moto_server, s3_storage
from .support import Backend


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    with moto_server() as url:
        yield url


def local_backend(root: Path) -> Backend:
    def files() -> list[str]:
        return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())

    async def contents() -> list[str]:
        return await anyio.to_thread.run_sync(files)

    return Backend(LocalStorage(root), contents)


async def s3_backend(endpoint: str) -> Backend:
    bucket = await create_bucket(endpoint)

    async def contents() -> list[str]:
        return await bucket_contents(endpoint, bucket)

    return Backend(s3_storage(endpoint, bucket), contents)


@pytest.fixture(params=["local", "s3"])
async def backend(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Backend]:
    """Each storage backend in turn, empty: the contract holds for both."""
    if request.param == "local":
        made = local_backend(tmp_path / "files")
    else:
        made = await s3_backend(request.getfixturevalue("s3_endpoint"))
    yield made
    await made.storage.aclose()


@pytest.fixture
def storage(backend: Backend) -> Storage:
    return backend.storage
