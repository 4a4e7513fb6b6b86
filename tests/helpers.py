"""Running commands in baked projects, with output that explains a failure."""

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

# Variables that would point a baked project's tools at the template's own environment.
_LEAKING_VARIABLES = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "DATABASE_URL", "TEST_DATABASE_URL")


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKING_VARIABLES}
    env.update(extra or {})
    return env


def run(
    command: Sequence[str],
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess[str]:
    """Run *command* in *cwd*; on failure, raise with its whole output."""
    result = subprocess.run(  # noqa: S603 - commands are the test's own
        list(command),
        cwd=cwd,
        env=clean_environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"`{' '.join(command)}` failed in {cwd} with exit code {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-20000:]}\n--- stderr ---\n{result.stderr[-20000:]}"
        )
    return result
