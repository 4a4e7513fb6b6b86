"""`make profile` (scripts/profile_requests.py): one command profiles a path in-process and
writes a report that names the route's own code; a path or a number it cannot use stops it with
one line and exit code 2, not a traceback. The tests sample every 0.5 ms over 30 requests: a
request is short beside pyinstrument's default interval of 1 ms, which over a few could miss the
route. Sampling much faster costs more than it finds: under pytest every sample walks its deep
stack, and the report holds every sample."""

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "profile_requests.py"


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("profile_requests", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


script = load_script()


def run_script(directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """The script as `make profile` runs it, in *directory* (away from the project's .env)."""
    return subprocess.run(  # noqa: S603 - the project's own script, with the test's arguments
        [sys.executable, str(SCRIPT), *arguments],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_command_writes_an_html_report_that_names_the_routes_code(tmp_path: Path) -> None:
    result = run_script(tmp_path, "--requests", "30", "--interval", "0.0005")

    assert result.returncode == 0, result.stderr
    assert "profiled 30 x GET /api/v1/items: report in profile.html" in result.stdout
    html = (tmp_path / "profile.html").read_text(encoding="utf-8")
    assert "list_items" in html
    assert "features/items/router.py" in html


async def test_an_item_path_is_profiled_on_one_of_the_users_items(tmp_path: Path) -> None:
    profiler, path = await script.profile(
        "/api/v1/items/{item}", 30, tmp_path / "profile.db", interval=0.0005
    )

    assert path.startswith("/api/v1/items/")
    assert "{item}" not in path
    text = profiler.output_text()
    assert "read_item" in text
    assert "features/items/router.py" in text


@pytest.mark.error_path
def test_a_path_that_does_not_answer_2xx_exits_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "profile.html"
    arguments = ["--path", "/api/v1/nothing-here", "--requests", "3", "--output", str(output)]

    exit_code = script.main(arguments)

    assert exit_code == 2
    stderr = capsys.readouterr().err
    assert stderr.startswith("profile: GET /api/v1/nothing-here answered 404 Not Found")
    assert len(stderr.splitlines()) == 1
    assert not output.exists()


@pytest.mark.error_path
async def test_a_path_that_needs_what_the_user_lacks_is_refused(tmp_path: Path) -> None:
    """An admin-only path answers 403 to the signed-in user: nothing is profiled."""
    with pytest.raises(script.ProfileError, match="GET /api/v1/users answered 403 Forbidden"):
        await script.profile("/api/v1/users", 3, tmp_path / "profile.db")


@pytest.mark.error_path
@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--requests", "0"], "0 is not at least 1"),
        (["--requests", "many"], "'many' is not a whole number"),
        (["--path", "api/v1/items"], "--path must start with '/'"),
        (["--interval", "0"], "0.0 is not over 0 and at most 1 second"),
        (["--interval", "often"], "'often' is not a number of seconds"),
    ],
)
def test_bad_arguments_are_refused_before_anything_runs(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        script.main(arguments)

    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
