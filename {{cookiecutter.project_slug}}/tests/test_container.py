"""The image: its Python is the project's, its command serves the app, and uvicorn reads each of
its ``UVICORN_<OPTION>`` variables as that option."""

import importlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from uvicorn.main import main as uvicorn_command

from {{ cookiecutter.package_name }} import server

from .support import image_environment

# uvicorn's command line reads every option from UVICORN_ and the option's name.
UVICORN_OPTIONS = {f"UVICORN_{option.name.upper()}": option for option in uvicorn_command.params}


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


def image_command(project_root: Path) -> list[str]:
    """The Dockerfile's CMD, as the list of words it runs."""
    dockerfile = (project_root / "Dockerfile").read_text().replace("\\\n", " ")
    command = re.search(r"^CMD (\[.*?\])$", dockerfile, flags=re.MULTILINE)
    assert command is not None
    words: list[str] = json.loads(command.group(1))
    return words


def test_the_image_runs_the_python_of_python_version(project_root: Path) -> None:
    """The Dockerfile names its Python once, as a build argument's default."""
    dockerfile = (project_root / "Dockerfile").read_text()
    python_version = (project_root / ".python-version").read_text().strip()

    assert re.findall(r"^ARG PYTHON_VERSION=(.+)$", dockerfile, flags=re.MULTILINE) == [
        python_version
    ]


def test_the_images_command_is_the_projects_server(project_root: Path) -> None:
    scripts = tomllib.loads((project_root / "pyproject.toml").read_text())["project"]["scripts"]

    assert image_command(project_root)[0] == "serve"
    assert scripts["serve"] == f"{server.__name__}:main"


def test_the_server_serves_the_app_factory_with_the_images_flags_and_limits(
    project_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve`` is uvicorn's command line: the CMD's flags and the image's UVICORN_* both count."""
    served: dict[str, Any] = {}
    # The module (the package's ``uvicorn.main`` attribute is the command it defines).
    uvicorn_module = importlib.import_module("uvicorn.main")
    monkeypatch.setattr(uvicorn_module, "run", lambda app, **kw: served.update(kw, app=app))
    limits = uvicorn_settings(project_root)
    for name, value in limits.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(SystemExit) as exited:
        server.main(image_command(project_root)[1:])

    assert exited.value.code == 0
    assert (served["app"], served["factory"]) == (f"{server.__package__}.main:create_app", True)
    assert (served["host"], served["port"]) == ("0.0.0.0", 8000)  # noqa: S104 - in the container
    assert (served["proxy_headers"], served["access_log"]) == (True, False)
    assert served["lifespan"] == "on"
    assert served["limit_concurrency"] == int(limits["UVICORN_LIMIT_CONCURRENCY"])
    assert served["timeout_keep_alive"] == int(limits["UVICORN_TIMEOUT_KEEP_ALIVE"])


def test_the_command_leaves_the_server_settings_to_the_environment(project_root: Path) -> None:
    """A flag on the command line would override its variable, set at run time or not."""
    flags = {
        flag
        for name in uvicorn_settings(project_root)
        for flag in UVICORN_OPTIONS[name].opts + UVICORN_OPTIONS[name].secondary_opts
    }

    assert not flags & set(image_command(project_root))
