"""A baked project releases and audits as its README says: a version tag builds the image once
and pushes it with provenance and an SBOM, after CI's checks; CI fails on a known vulnerability
in the locked dependencies; and the template's nightly audits every lock a bake can get the
same way (scripts/audit_locks.py)."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from scripts import audit_locks
from scripts.variants import TEMPLATE_DIR

BAKED = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
BAKED_WORKFLOWS = BAKED / ".github" / "workflows"


def workflow(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as True
    return data


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [step for step in job.get("steps", []) if step.get("uses", "").startswith(action + "@")]


RELEASE = workflow(BAKED_WORKFLOWS / "release.yml")
CI = workflow(BAKED_WORKFLOWS / "ci.yml")


def test_a_version_tag_and_nothing_else_releases() -> None:
    assert RELEASE["on"] == {"push": {"tags": ["v*"]}}
    assert RELEASE["concurrency"]["cancel-in-progress"] is False
    # Not CI's group (`<workflow>-<ref>`), which the called checks take: one would wait on the
    # other.
    assert RELEASE["concurrency"]["group"].lower() != CI["concurrency"]["group"].lower()


def test_the_release_waits_for_cis_checks_of_the_tagged_commit() -> None:
    jobs = RELEASE["jobs"]

    assert jobs["checks"]["uses"] == "./.github/workflows/ci.yml"
    assert "workflow_call" in CI["on"]
    assert jobs["image"]["needs"] == "checks"
    # The called jobs get at most what the caller grants: CI's jobs read the code, no more.
    assert jobs["checks"]["permissions"] == {"contents": "read"}
    assert {
        permission
        for job in CI["jobs"].values()
        for permission, level in job["permissions"].items()
        if level != "none"
    } == {"contents"}


def test_the_image_is_built_once_and_pushed_with_provenance_and_an_sbom() -> None:
    builds = [
        step
        for job in RELEASE["jobs"].values()
        for step in steps_using(job, "docker/build-push-action")
    ]

    assert len(builds) == 1
    (build,) = builds
    assert build["with"]["push"] is True
    assert build["with"]["provenance"] == "mode=max"
    assert build["with"]["sbom"] is True
    assert build["with"]["tags"] == "${{ steps.meta.outputs.tags }}"
    assert not {"cache-from", "cache-to"} & set(build["with"]), "a release builds from no cache"


def test_the_image_is_tagged_with_the_version_and_the_commit_in_this_repositorys_registry() -> None:
    image = RELEASE["jobs"]["image"]
    (name,) = [step for step in image["steps"] if step.get("id") == "name"]
    (meta,) = steps_using(image, "docker/metadata-action")
    (login,) = steps_using(image, "docker/login-action")
    tags = meta["with"]["tags"].split()

    assert "image=ghcr.io/${GITHUB_REPOSITORY,,}" in name["run"]
    assert meta["with"]["images"] == "${{ steps.name.outputs.image }}"
    assert "type=match,pattern=^v(.+)$,group=1" in tags  # v1.2.0 -> 1.2.0
    assert "type=sha,format=long" in tags
    assert meta["with"]["flavor"] == "latest=false"
    assert login["with"] == {
        "registry": "ghcr.io",
        "username": "${{ github.actor }}",
        "password": "${{ secrets.GITHUB_TOKEN }}",
    }


def test_the_pushed_image_gets_a_signed_provenance_attestation() -> None:
    image = RELEASE["jobs"]["image"]
    (attest,) = steps_using(image, "actions/attest-build-provenance")

    assert attest["with"]["subject-digest"] == "${{ steps.build.outputs.digest }}"
    assert attest["with"]["subject-name"] == "${{ steps.name.outputs.image }}"
    assert attest["with"]["push-to-registry"] is True


def test_each_release_job_asks_for_what_it_uses_and_no_more() -> None:
    jobs = RELEASE["jobs"]

    assert RELEASE["permissions"] == {}
    assert jobs["image"]["permissions"] == {
        "contents": "read",
        "packages": "write",
        "id-token": "write",
        "attestations": "write",
    }
    checkouts = [
        step
        for path in BAKED_WORKFLOWS.glob("*.yml")
        for job in workflow(path)["jobs"].values()
        for step in steps_using(job, "actions/checkout")
    ]
    assert checkouts
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_ci_audits_the_locked_dependencies() -> None:
    runs = [step.get("run", "") for job in CI["jobs"].values() for step in job["steps"]]

    assert "make audit" in runs


def test_the_nightly_audits_every_lock() -> None:
    nightly = workflow(TEMPLATE_DIR / ".github" / "workflows" / "nightly.yml")
    runs = [step.get("run", "") for step in nightly["jobs"]["audit"]["steps"]]

    assert "uv run --locked python -m scripts.audit_locks" in runs


@pytest.mark.parametrize("lock", sorted(audit_locks.LOCKS.glob("*.lock")), ids=lambda p: p.stem)
def test_a_locks_pins_are_its_index_packages_without_the_project(lock: Path) -> None:
    pins = audit_locks.locked_pins(lock)

    assert pins
    assert all("==" in pin and "cookiecutter" not in pin for pin in pins)
    assert len({pin.split("==")[0] for pin in pins}) == len(pins)  # one version per package
    assert any(pin.startswith("fastapi==") for pin in pins)


def test_the_pins_are_what_uv_exports_from_a_bakes_lock(default_project: Path) -> None:
    """The nightly's pins of a lock equal what `make audit` exports in a bake: the same set,
    audited with the same pip-audit and options."""
    exported = subprocess.run(
        [  # noqa: S607 - uv, the test's own command
            "uv",
            "export",
            "--format",
            "requirements-txt",
            "--locked",
            "--no-hashes",
            "--no-emit-project",
            "--quiet",
        ],
        cwd=default_project,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requirements = sorted(
        line.split(" ;")[0] for line in exported.splitlines() if line[:1].isalnum()
    )

    assert requirements == audit_locks.locked_pins(default_project / "uv.lock")
    makefile = (default_project / "Makefile").read_text(encoding="utf-8")
    assert f"uvx $(PIP_AUDIT) {' '.join(audit_locks.PIP_AUDIT_OPTIONS)}" in makefile


def test_a_lock_that_is_not_there_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nothing.lock"

    assert audit_locks.main([str(missing)]) == 2
    assert f"no such lock file: {missing}" in capsys.readouterr().err
