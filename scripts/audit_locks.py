"""Audit every baked lock file for known vulnerabilities: ``uv run python -m scripts.audit_locks
[LOCK ...]`` (the nightly workflow runs it; by default every ``uv-locks/*.lock``).

A bake's ``make audit`` runs pip-audit on ``uv export --locked`` of its own lock. The template's
locks cannot be exported as they are: the project's own entry holds the template's placeholders
(``{{ cookiecutter.project_slug }}``), so uv would read no project. What the export lists is the
lock's packages from the package index, the project itself left out; this script writes exactly
those pins, every group's, and hands them to the same pinned pip-audit with the same options,
one lock at a time. It leaves out the export's environment markers, so every platform's
packages are audited (pip-audit skips a pin whose marker excludes the machine it runs on, as
``make audit`` on Linux does with Windows-only ones). pip-audit asks PyPI's vulnerability data
(its default service) about each pin; ``--strict`` fails a lock whose pins could not all be
checked.

Exits 1 when any lock has a known vulnerability or could not be audited, naming the locks.
"""

import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from scripts.variants import TEMPLATE_DIR

LOCKS = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "uv-locks"
# The same pin as the baked Makefile's PIP_AUDIT (tests/test_pins.py keeps them equal).
PIP_AUDIT = "pip-audit==2.10.1"
# What the baked Makefile's `audit` target passes: the pins are the whole set (no resolution,
# no pip), and a pin that could not be checked fails the audit.
PIP_AUDIT_OPTIONS = ["--strict", "--disable-pip", "--no-deps", "--progress-spinner", "off"]


def locked_pins(lock: Path) -> list[str]:
    """``name==version`` for every package of *lock* that comes from a package index, sorted:
    what ``uv export --locked --no-emit-project`` lists (the project itself is ``editable``)."""
    packages = tomllib.loads(lock.read_text(encoding="utf-8"))["package"]
    return sorted(
        f"{package['name']}=={package['version']}"
        for package in packages
        if "registry" in package.get("source", {})
    )


def audit(lock: Path) -> bool:
    """Run pip-audit on *lock*'s pins; whether it found nothing and checked every pin."""
    pins = locked_pins(lock)
    sys.stdout.write(f"== {lock.name}: {len(pins)} packages\n")
    sys.stdout.flush()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as requirements:
        requirements.write("\n".join(pins) + "\n")
        requirements.flush()
        result = subprocess.run(  # noqa: S603 - a pinned tool on a file this script wrote
            ["uvx", PIP_AUDIT, *PIP_AUDIT_OPTIONS, "--requirement", requirements.name],  # noqa: S607
            check=False,
        )
    return result.returncode == 0


def main(argv: list[str]) -> int:
    locks = [Path(name) for name in argv] or sorted(LOCKS.glob("*.lock"))
    if not locks:
        sys.stderr.write(f"no lock files in {LOCKS}\n")
        return 2
    missing = [str(lock) for lock in locks if not lock.is_file()]
    if missing:
        sys.stderr.write(f"no such lock file: {', '.join(missing)}\n")
        return 2
    failed = [lock.name for lock in locks if not audit(lock)]
    if failed:
        sys.stderr.write(
            f"{len(failed)} of {len(locks)} locks have known vulnerabilities or could not be "
            f"audited: {', '.join(failed)}\n"
        )
        return 1
    sys.stdout.write(f"{len(locks)} locks audited: no known vulnerabilities\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
