"""The `openapi` command writes the document the service serves, without a server: what client
generators read and the drift check compares with the committed openapi.json."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from httpx import AsyncClient

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.config import Settings


async def test_the_written_document_is_the_served_one(
    client: AsyncClient, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    output = tmp_path / "openapi.json"

    cli.main(["openapi", "--output", str(output)])

    served = (await client.get("/openapi.json")).json()
    # Text, not just equal dicts: the same keys in the same order, and one trailing newline.
    expected = json.dumps(served, indent=2, ensure_ascii=False) + "\n"
    assert output.read_text(encoding="utf-8") == expected


def test_every_process_writes_the_same_bytes(tmp_path: Path) -> None:
    """The order comes from the code, not from a process's hash seed or its imports: a process
    with a fixed seed writes what this one (with its own, random seed) builds."""
    output = tmp_path / "openapi.json"
    other_seed = "2" if os.environ.get("PYTHONHASHSEED") == "1" else "1"
    subprocess.run(  # noqa: S603 - our own module, with fixed arguments
        [sys.executable, "-m", cli.__name__, "openapi", "--output", str(output)],
        cwd=tmp_path,  # away from the project's .env
        env={**os.environ, "PYTHONHASHSEED": other_seed},
        check=True,
        capture_output=True,
    )

    assert output.read_bytes() == cli.openapi_json(Settings(_env_file=None)).encode()


def test_the_committed_document_is_the_one_the_code_serves() -> None:
    """The drift check: openapi.json, committed for client generators, is what the code serves.
    After changing the API, `make openapi` and commit openapi.json with the change."""
    committed = (Path(__file__).resolve().parents[1] / "openapi.json").read_text(encoding="utf-8")
    name = Settings.model_fields["app_name"].default  # the project's, whatever APP_NAME says

    current = cli.openapi_json(Settings(_env_file=None, app_name=name))

    assert committed == current, "openapi.json is out of date: run `make openapi`, commit it"
