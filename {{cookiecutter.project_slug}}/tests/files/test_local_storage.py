"""What the local backend adds to the contract: where files go and who may read them."""

import stat
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.files.storage import LocalStorage

from .support import KEY, chunks_of


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_a_missing_root_is_created_private(tmp_path: Path) -> None:
    root = tmp_path / "uploads"

    LocalStorage(root)

    assert mode(root) == 0o700
    assert mode(root / ".partial") == 0o700


async def test_an_object_is_a_private_file_under_its_key(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    await storage.put(KEY, chunks_of(b"data"))

    path = tmp_path / KEY[:2] / KEY
    assert path.read_bytes() == b"data"
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    assert list((tmp_path / ".partial").iterdir()) == []


async def test_a_pending_object_lives_under_pending(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)

    await storage.put(f"pending/{KEY}", chunks_of(b"data"))

    assert (tmp_path / "pending" / KEY[:2] / KEY).read_bytes() == b"data"


@pytest.mark.error_path
async def test_a_root_that_is_a_file_stops_start_up(tmp_path: Path) -> None:
    root = tmp_path / "uploads"
    root.write_bytes(b"")

    with pytest.raises(FileExistsError):
        LocalStorage(root)
