"""The audit of error-path markers (tests/error_paths.py) finds the tests that do not earn one."""

from pathlib import Path

from .error_paths import ErrorPathAudit

HEADER = "import pytest\n\n"


def audit(tmp_path: Path, **modules: str) -> list[str]:
    for name, source in modules.items():
        (tmp_path / f"{name}.py").write_text(HEADER + source)
    return ErrorPathAudit(tmp_path).unearned()


def test_a_marked_test_that_asserts_only_success_is_found(tmp_path: Path) -> None:
    found = audit(
        tmp_path,
        test_a="""
@pytest.mark.error_path
def test_claims_a_refusal(client):
    assert client.get("/items").status_code == 200
""",
    )

    assert found == ["test_a.py::test_claims_a_refusal"]


def test_a_module_wide_marker_covers_every_test_in_it(tmp_path: Path) -> None:
    found = audit(
        tmp_path,
        test_a="""
pytestmark = pytest.mark.error_path

def test_refused(client):
    assert client.get("/admin").status_code == 403

def test_served(client):
    assert client.get("/health").status_code == 200
""",
    )

    assert found == ["test_a.py::test_served"]


def test_unmarked_tests_are_not_audited(tmp_path: Path) -> None:
    assert audit(tmp_path, test_a="def test_served(client):\n    assert client.ok\n") == []


def test_each_way_of_earning_the_marker_is_accepted(tmp_path: Path) -> None:
    found = audit(
        tmp_path,
        support="""
def expect_refused(response):
    assert response.status_code == 401

def refused_twice(first, second):
    expect_refused(first)
    expect_refused(second)
""",
        test_a="""
from http import HTTPStatus
from fastapi import status

POLICY_VIOLATION = 1008

@pytest.mark.error_path
def test_literal(r):
    assert r.status_code == 422

@pytest.mark.error_path
def test_status_name(r):
    assert r.status_code == status.HTTP_409_CONFLICT

@pytest.mark.error_path
def test_http_status(r):
    assert r.status_code == HTTPStatus.NOT_FOUND

@pytest.mark.error_path
def test_close_code_constant(ws):
    assert ws.close_code == POLICY_VIOLATION

@pytest.mark.error_path
def test_envelope(r):
    assert r.json()["error"]["code"] == "CONFLICT"

@pytest.mark.error_path
def test_raises(codec):
    with pytest.raises(ValueError):
        codec.decode("x")

@pytest.mark.error_path
def test_exception_type(results):
    assert [type(r) for r in results] == [RuntimeError]

@pytest.mark.error_path
def test_exit(result):
    assert result.returncode != 0

@pytest.mark.error_path
def test_helper_of_a_helper(a, b):
    refused_twice(a, b)

@pytest.mark.error_path
def test_fault(proxy, cache):
    proxy.cut()
    assert cache.get("k") is None

@pytest.mark.error_path
def test_stand_in_that_raises(bus):
    def failing(_):
        raise RuntimeError("boom")
    bus.subscribe(failing)
    assert bus.publish(b"x") == 1
""",
    )

    assert found == []


def test_a_success_status_name_does_not_earn_it(tmp_path: Path) -> None:
    found = audit(
        tmp_path,
        test_a="""
from http import HTTPStatus

@pytest.mark.error_path
def test_ok(r):
    assert r.status_code == HTTPStatus.OK

@pytest.mark.error_path
def test_normal_close(ws):
    assert ws.close_code == 1000
""",
    )

    assert found == ["test_a.py::test_ok", "test_a.py::test_normal_close"]
