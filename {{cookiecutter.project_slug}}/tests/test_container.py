"""The image's server settings: uvicorn reads each ``UVICORN_<OPTION>`` variable as its option."""

import re
import shlex
from pathlib import Path

import pytest
from uvicorn.main import main as uvicorn_command

# uvicorn's command line reads every option from UVICORN_ and the option's name.
UVICORN_OPTIONS = {f"UVICORN_{option.name.upper()}": option for option in uvicorn_command.params}


def image_environment(project_root: Path) -> dict[str, str]:
    """The variables the Dockerfile's ENV instructions set."""
    dockerfile = (project_root / "Dockerfile").read_text().replace("\\\n", " ")
    environment: dict[str, str] = {}
    for line in re.findall(r"^ENV (.+)$", dockerfile, flags=re.MULTILINE):
        environment |= dict(word.split("=", 1) for word in shlex.split(line))
    return environment


def uvicorn_settings(project_root: Path) -> dict[str, str]:
    return {
        name: value
        for name, value in image_environment(project_root).items()
        if name.startswith("UVICORN_")
    }


def test_the_image_sets_the_servers_limits(project_root: Path) -> None:
    assert {
        "UVICORN_TIMEOUT_KEEP_ALIVE",
        "UVICORN_LIMIT_CONCURRENCY",
        "UVICORN_TIMEOUT_GRACEFUL_SHUTDOWN",
        "UVICORN_H11_MAX_INCOMPLETE_EVENT_SIZE",
    } <= uvicorn_settings(project_root).keys()


def test_each_server_setting_names_a_uvicorn_option(project_root: Path) -> None:
    """A misspelt variable would be ignored without a word."""
    assert uvicorn_settings(project_root).keys() <= UVICORN_OPTIONS.keys()


def test_uvicorn_reads_the_images_values(
    project_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = uvicorn_settings(project_root)
    for name, value in settings.items():
        monkeypatch.setenv(name, value)

    params = uvicorn_command.make_context("uvicorn", ["app:app"]).params

    for name, value in settings.items():
        assert str(params[UVICORN_OPTIONS[name].name]).lower() == value.lower()


def test_the_command_leaves_the_server_settings_to_the_environment(project_root: Path) -> None:
    """A flag on the command line would override its variable, set at run time or not."""
    dockerfile = (project_root / "Dockerfile").read_text()
    command = re.search(r"^CMD (\[.*?\])$", dockerfile, flags=re.MULTILINE | re.DOTALL)
    assert command is not None
    flags = {
        flag
        for name in uvicorn_settings(project_root)
        for flag in UVICORN_OPTIONS[name].opts + UVICORN_OPTIONS[name].secondary_opts
    }

    assert not flags & set(re.findall(r'"(--[a-z0-9-]+)"', command.group(1)))
