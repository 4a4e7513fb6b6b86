"""Hooks of every test process. The fixtures live in tests/fixtures.py (and the packs' in their
plugin modules), loaded by each process that collects tests (below)."""

import gc
import os
from urllib.parse import urlsplit

import pytest

# The plugin modules of fixtures, loaded by each process that collects tests (below).
FIXTURE_PLUGINS = [
    "tests.fixtures",
{%- if cookiecutter.use_redis %}
    "tests.redis.plugin",
{%- endif %}
{%- if cookiecutter.use_file_uploads %}
    "tests.files.plugin",
{%- endif %}
]


def pytest_configure(config: pytest.Config) -> None:
    # Every app this process builds reconfigures logging, and structlog's loggers bound for
    # good would keep the first one's (capture_logs would miss them): settings made anywhere
    # here (a tool's, a module's at collection) read this and leave them unbound.
    os.environ["LOG_CACHE_LOGGERS"] = "false"
    server = os.environ.get("TEST_DATABASE_URL")
    if server and urlsplit(server).scheme.split("+")[0] != "postgresql":
        raise pytest.UsageError(
            "TEST_DATABASE_URL names a PostgreSQL server; without it, tests run on SQLite"
        )


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Load the fixtures when this process starts collecting (the first collector under tests/
    loads them; later ones find them loaded): only a process that collects needs them.
    pytest-xdist's controller, which hands the tests out to its workers, collects none, so it
    starts them without importing the app."""
    plugins = collector.config.pluginmanager
    for name in FIXTURE_PLUGINS:
        plugins.import_plugin(name)


def pytest_collection_finish(session: pytest.Session) -> None:
    """Tune this process's collector the way core/runtime.py tunes the service's: what the
    imports and the collection built stays, so no collection walks it again, and young objects
    are collected less often. The apps the tests build leave the collector alone (fixtures.py)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


# How many tests ran, and how many of them are marked error_path: the workers' reports reach the
# controlling process too, so this counts the whole run wherever pytest-xdist ran each test. A
# report, not a node id: Schemathesis gives its tests of each operation the same id.
_ran = {"tests": 0, "error paths": 0}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "setup":
        _ran["tests"] += 1
        _ran["error paths"] += "error_path" in report.keywords


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The share of error-path tests, at the end of every run (the house rule: at least 40 %)."""
    tests, errors = _ran["tests"], _ran["error paths"]
    if tests:
        terminalreporter.write_line(
            f"error paths: {errors} of {tests} tests ({errors / tests:.1%}; at least 40 %)"
        )
